// The Train wizard's input checks: the CLI's own schema and messages, word for word.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settingProblem, settingValue, untrainableReason, type WizardSetting } from '../../extension/train-input';
import { flagsToOptions, parseTrainOptions, flagOf } from '../../trainer/train-options';

/** What `flawscope train --<flag> <text>` says about the value (its flag parsing path), or null. */
function cliMessage(key: WizardSetting, text: string): string | null {
  try {
    parseTrainOptions(flagsToOptions(new Map([[flagOf(key), text]])), { kind: 'flag' });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const CASES: [WizardSetting, string, boolean][] = [
  ['size', '30', false], ['size', '32', true], ['size', '2048', false], ['size', 'abc', false], ['size', '', false],
  ['epochs', '0', false], ['epochs', '2.5', false], ['epochs', '20', true],
  ['batch', '0', false], ['batch', '64', true],
  ['lr', '0', false], ['lr', '1.5', false], ['lr', '0.001', true], ['lr', '1e-4', true],
  ['weights', 'foo=1', false], ['weights', 'recon=1.5,patch=2', true], ['weights', 'recon=-1', false], ['weights', 'recon', false], ['weights', 'recon=1,recon=2', false],
];

test('each wizard value is refused exactly when the CLI refuses it, with the CLI message', () => {
  for (const [key, text, ok] of CASES) {
    const mine = settingProblem(key, text);
    assert.equal(mine, cliMessage(key, text), `${key} ${JSON.stringify(text)}`);
    assert.equal(mine === null, ok, `${key} ${JSON.stringify(text)} → ${mine}`);
  }
  assert.equal(settingProblem('size', '30'), '--size 30: expected an integer from 16 to 1024, a multiple of 16 (the generator halves it four times)');
  assert.match(settingProblem('weights', 'foo=1')!, /^--weights foo=1: expected loss weights NAME=VALUE,… with NAME among recon, abc/);
});

test('empty weights mean the paper defaults; values are read as the CLI reads them', () => {
  assert.equal(settingProblem('weights', ''), null);
  assert.equal(settingValue('lr', '1e-4'), 0.0001);
  assert.equal(settingValue('size', ' 64 '), 64);
});

test('a dataset whose inspection failed or found nothing cannot be trained on, and says why', () => {
  assert.equal(untrainableReason(undefined), null);
  assert.equal(untrainableReason({ error: 'no images under /d' }), 'inspecting it failed: no images under /d');
  assert.equal(untrainableReason({ total: 0, classes: [] }), 'inspecting it found no images');
  assert.equal(untrainableReason({ total: 5, classes: [{ name: 'good', count: 5 }] }), null);
});
