/** The rule that shares training steps between normal and anomaly batches (trainer/group-schedule.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupSchedule, MIN_AUTO_ANOMALY_SHARE, nextGroup, type AnomalyShareSetting } from '../../trainer/group-schedule';
import { Rng } from '../../trainer/rng';
import { DEFAULT_CONFIG, savedConfig } from '../../trainer/train-config';
import { parseTrainOptions } from '../../trainer/train-options';

const BOTH = { normal: true, anomaly: true };
/** The Magnetic-tile set with --balance false. */
const UNBALANCED = { normal: 109_020, anomaly: 541 };

/** Anomaly steps in one seeded epoch of the trainer's loop ((nN + nA) / batch steps, batch 64). */
function anomalySteps(setting: AnomalyShareSetting, sizes: { normal: number; anomaly: number }, seed = 0x5eed): { steps: number; anomaly: number } {
  const s = groupSchedule(setting, sizes, BOTH);
  const rng = new Rng(seed);
  const steps = Math.floor((sizes.normal + sizes.anomaly) / 64);
  let anomaly = 0;
  for (let i = 0; i < steps; i++) if (nextGroup(rng, s) === 'anomaly') anomaly++;
  return { steps, anomaly };
}

test('auto on an unbalanced set: a quarter of the steps are anomaly steps, not 0.5 %', () => {
  const s = groupSchedule('auto', UNBALANCED, BOTH);
  assert.equal(s.rule, 'auto-floor');
  assert.equal(s.anomalyShare, MIN_AUTO_ANOMALY_SHARE);
  assert.match(s.text, /25\.0 % of the steps on anomaly batches/);
  assert.match(s.text, /109020 normal, 541 anomaly images, 0\.49 % by size/);
  const { steps, anomaly } = anomalySteps('auto', UNBALANCED);
  assert.equal(steps, 1711);
  // Binomial(1711, 0.25): mean 428, sd 18; the set-size rule would give about 8.
  assert.ok(Math.abs(anomaly - 428) < 4 * 18, `anomaly steps ${anomaly}`);
  assert.ok(anomalySteps('size', UNBALANCED).anomaly < 25);
});

test('a fixed share is that share of a seeded epoch; size keeps the proportion', () => {
  const fixed = anomalySteps(0.5, UNBALANCED);
  assert.ok(Math.abs(fixed.anomaly - fixed.steps / 2) < 4 * Math.sqrt(fixed.steps / 4), `anomaly steps ${fixed.anomaly} of ${fixed.steps}`);
  const s = groupSchedule('size', UNBALANCED, BOTH);
  assert.equal(s.rule, 'size');
  assert.equal(s.anomalyShare, 541 / 109_561);
});

test('a balanced set (the paper\'s sampling) trains by size under auto, the same draws as before the rule existed', () => {
  const sizes = { normal: 1040, anomaly: 1040 };
  const s = groupSchedule('auto', sizes, BOTH);
  assert.equal(s.rule, 'auto-size');
  // The trainer's rule before: rng.next() < nN / (nN + nA) → normal.
  const a = new Rng(7), b = new Rng(7);
  for (let i = 0; i < 500; i++) assert.equal(nextGroup(a, s), b.next() < 1040 / 2080 ? 'normal' : 'anomaly');
});

test('groups that cannot train get no steps', () => {
  assert.equal(groupSchedule('auto', { normal: 10, anomaly: 0 }, BOTH).rule, 'normal-only');
  assert.equal(groupSchedule(0.5, { normal: 10, anomaly: 5 }, { normal: true, anomaly: false }).anomalyShare, 0);
  assert.equal(groupSchedule('auto', { normal: 10, anomaly: 5 }, { normal: false, anomaly: true }).normalShare, 0);
});

test('--anomaly-share: auto, size or a number in (0, 1); defaults auto, and size for a checkpoint from before the setting', () => {
  assert.equal(parseTrainOptions({ 'anomaly-share': '0.3' }, { kind: 'flag' }).anomalyShare, 0.3);
  assert.equal(parseTrainOptions({ 'anomaly-share': 'size' }, { kind: 'flag' }).anomalyShare, 'size');
  assert.throws(() => parseTrainOptions({ 'anomaly-share': '1' }, { kind: 'flag' }), /--anomaly-share 1: expected auto, size, or a number above 0 and below 1/);
  assert.equal(DEFAULT_CONFIG.anomalyShare, 'auto');
  assert.equal(savedConfig({ data: 'd', out: 'o' }, 'x.checkpoint').anomalyShare, 'size');
  assert.equal(savedConfig({ data: 'd', out: 'o', anomalyShare: 'auto' }, 'x.checkpoint').anomalyShare, 'auto');
});
