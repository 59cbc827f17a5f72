/**
 * What `train` may write and replace, through the built CLI: --force never deletes data or a
 * non-model folder; --resume writes beside its checkpoint or to an explicit --out, never where an
 * edited state.json says; bad settings (flags, --config) exit 2 before any work; a training whose
 * numbers diverge stops with a clear message and leaves no lock. Trainings are tiny (16 px, batch 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli';
import { tinyData } from '../helpers/tiny-data';
import '@tensorflow/tfjs-backend-cpu';
import { loadTrainingData } from '../../trainer/data';
import { InputError } from '../../trainer/data/types';
import { DEFAULT_CONFIG, train } from '../../trainer/train';
import { auroc, f1OptimalThreshold, NonFiniteScoreError, quantile, rocCurve } from '../../trainer/metrics';

const FLAGS = ['--normal', 'good', '--size', '16', '--batch', '4', '--epochs', '1', '--json'];
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

/** Every file under `dir` with its bytes, to prove a folder was not touched. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
      else out[`${rel}${e.name}`] = readFileSync(p).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

function refused(r: ReturnType<typeof runCli>, msg: RegExp): void {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}${r.stdout}`);
  // With --json the message is in the error event (JSON-escaped in stdout).
  const text = r.stderr + r.events.filter((e) => e.type === 'error').map((e) => e.message).join('\n');
  assert.match(text, msg);
  assert.doesNotMatch(text, STACK, 'no stack trace');
}

test('--force never replaces the data, a folder holding it, one inside it, a file or a non-model folder', () => {
  const data = tinyData('flawscope-safety-data-');
  const parent = join(data, '..');
  const before = tree(data);
  writeFileSync(join(parent, 'notes.txt'), 'keep me');
  const thesis = join(parent, 'thesis');
  mkdirSync(thesis);
  writeFileSync(join(thesis, 'thesis.tex'), '\\documentclass{article}');
  const cases: [string, RegExp][] = [
    [data, /is the data folder/],
    [parent, /holds the data folder/],
    [join(data, 'good'), /inside the data folder/],
    [join(data, 'good', 'model'), /inside the data folder/],
    [thesis, /holds files that are not a Flawscope model \(thesis\.tex…\).*replaces only a model folder/],
    [join(parent, 'notes.txt'), /is a file, not a model folder/],
  ];
  for (const [out, msg] of cases) {
    for (const force of [['--force'], []]) refused(runCli(['train', '--data', data, '--out', out, ...force, ...FLAGS]), msg);
  }
  assert.deepEqual(tree(data), before, 'the data untouched');
  assert.equal(readFileSync(join(thesis, 'thesis.tex'), 'utf8'), '\\documentclass{article}');
  assert.equal(readFileSync(join(parent, 'notes.txt'), 'utf8'), 'keep me');
  assert.deepEqual(readdirSync(parent).sort(), ['data', 'notes.txt', 'thesis'], 'no model, lock or checkpoint written anywhere');

  // What --force may replace: a model folder, or an empty folder.
  const model = join(parent, 'model');
  assert.equal(runCli(['train', '--data', data, '--out', model, ...FLAGS]).code, 0);
  refused(runCli(['train', '--data', data, '--out', model, ...FLAGS]), /already exists; choose another --out or pass --force/);
  const again = runCli(['train', '--data', data, '--out', model, '--force', ...FLAGS]);
  assert.equal(again.code, 0, again.stderr);
  const empty = join(parent, 'empty');
  mkdirSync(empty);
  assert.equal(runCli(['train', '--data', data, '--out', empty, '--force', ...FLAGS]).code, 0);
  assert.ok(existsSync(join(empty, 'flawscope.json')));
});

test('--resume writes beside the checkpoint or to --out, never where an edited state.json points; it says what it ignores', () => {
  const data = tinyData('flawscope-safety-resume-');
  const parent = tempDir('flawscope-safety-ckpt-');
  const out = join(parent, 'model');
  const first = runCli(['train', '--data', data, '--out', out, '--keep-checkpoint', ...FLAGS]);
  assert.equal(first.code, 0, first.stderr);
  const ckpt = `${out}.checkpoint`;

  // A state.json edited to point at someone's thesis: the thesis is never touched.
  const thesis = tempDir('flawscope-safety-thesis-');
  writeFileSync(join(thesis, 'thesis.tex'), 'chapter 1');
  const copy = join(tempDir('flawscope-safety-copy-'), 'moved.checkpoint');
  cpSync(ckpt, copy, { recursive: true });
  const st = join(copy, 'state.json');
  const state = JSON.parse(readFileSync(st, 'utf8'));
  state.config.out = thesis;
  writeFileSync(st, JSON.stringify(state));
  const r = runCli(['train', '--resume', copy, '--epochs', '2', '--lr', '0.5', '--data', '/elsewhere', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.events.filter((e) => e.type === 'warning').map((e) => e.message).join('\n');
  assert.match(warnings, /ignoring --lr, --data: a resumed training keeps its checkpoint's settings/);
  assert.match(warnings, new RegExp(`the checkpoint was written for ${thesis}; it continues the model beside it`));
  assert.deepEqual(readdirSync(thesis), ['thesis.tex']);
  assert.ok(existsSync(join(copy.replace(/\.checkpoint$/, ''), 'flawscope.json')), 'the model is written beside the checkpoint');

  // A checkpoint folder not named OUT.checkpoint has nowhere implicit to go.
  const renamed = join(tempDir('flawscope-safety-renamed-'), 'my-run');
  cpSync(ckpt, renamed, { recursive: true });
  refused(runCli(['train', '--resume', renamed, '--json']), /is named OUT\.checkpoint .* pass --out DIR/);
  assert.deepEqual(readdirSync(join(renamed, '..')), ['my-run']);

  // An explicit --out is checked like any other: never a non-model folder.
  refused(runCli(['train', '--resume', renamed, '--out', thesis, '--json']), /holds files that are not a Flawscope model/);
  assert.deepEqual(readdirSync(thesis), ['thesis.tex']);
  const elsewhere = join(tempDir('flawscope-safety-else-'), 'model');
  const ok = runCli(['train', '--resume', renamed, '--out', elsewhere, '--epochs', '2', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(existsSync(join(elsewhere, 'flawscope.json')));

  // A state.json whose settings are out of range is refused by the same schema as the flags.
  state.config.batch = 0;
  writeFileSync(st, JSON.stringify(state));
  refused(runCli(['train', '--resume', copy, '--json']), /state\.json "config": "batch" 0: expected an integer from 1 to 4096/);
});

test('bad settings exit 2 naming the flag or the --config key, before any work: no lock, no model', () => {
  const data = tinyData('flawscope-safety-cfg-');
  const parent = tempDir('flawscope-safety-cfg-out-');
  const out = join(parent, 'model');
  const cfgDir = tempDir('flawscope-safety-cfg-files-');
  let n = 0;
  const cfg = (json: string) => { const f = join(cfgDir, `c${n++}.json`); writeFileSync(f, json); return f; };
  const cases: [string[], RegExp][] = [
    [['--validation-fraction', '0'], /--validation-fraction 0: expected a number above 0/],
    [['--lr', '1e30'], /--lr 1e30: expected a number above 0 and at most 1/],
    [['--epochs', '3', '--epochs', '4'], /--epochs is given twice/],
    [['--weights', 'toString=1'], /--weights toString=1: expected loss weights/],
    [['--config', cfg('{"batch":0}')], new RegExp(`--config ${join(cfgDir, 'c0.json')}: "batch" 0`)],
    [['--config', cfg('{"epochs":-1}')], /"epochs" -1: expected an integer/],
    [['--config', cfg('null')], /expected a JSON object of settings/],
    [['--config', cfg('[1,2]')], /got an array/],
    [['--config', cfg('{"lr":"abc"}')], /"lr" abc: expected a number/],
    [['--config', join(parent, 'missing.json')], /missing\.json: no such file/],
  ];
  for (const [flags, msg] of cases) {
    const r = runCli(['train', '--data', data, '--out', out, '--normal', 'good', '--size', '16', ...flags]);
    refused(r, msg);
    assert.deepEqual(readdirSync(parent), [], `${flags.join(' ')}: nothing written`);
  }
  // The partial weights object keeps the other losses (it used to wipe them: "every loss weight is zero").
  const part = runCli(['train', '--data', data, '--out', out, ...FLAGS, '--config', cfg('{"weights":{"abc":0}}')]);
  assert.equal(part.code, 0, part.stderr);
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.deepEqual(info.config.weights, { recon: 1.5, abc: 0, normalAdv: 0.5, patch: 1.5, latent: 0.5, anomalyAdv: 1 });
});

test('grid refuses --parallel 0 even on a dry run', () => {
  refused(runCli(['grid', '--data', '.', '--normal', 'x', '--out', tempDir(), '--parallel', '0', '--dry-run']), /--parallel 0: expected an integer from 1 to 64/);
});

test('metrics refuse non-finite scores at once: no endless tie loop, no made-up AUROC', () => {
  const labels = [0, 1, 0, 1];
  for (const bad of [NaN, Infinity, -Infinity]) {
    const scores = [0.1, bad, 0.3, 0.4];
    for (const f of [() => auroc(scores, labels), () => rocCurve(scores, labels), () => f1OptimalThreshold(scores, labels), () => quantile(scores, 0.5)])
      assert.throws(f, (e: Error) => e instanceof NonFiniteScoreError && /score 1 is (NaN|-?Infinity)/.test(e.message));
  }
  assert.equal(auroc([0.1, 0.9, 0.2, 0.8], labels), 1);
});

test('a training whose losses turn non-finite stops with "diverged", writes no model and leaves no lock', async () => {
  const data = tinyData('flawscope-safety-nan-');
  const out = join(tempDir('flawscope-safety-nan-out-'), 'model');
  // lr 1e30 (what the red team tried; the CLI now refuses it up front) drives the weights to NaN within a step or two.
  const events: string[] = [];
  await assert.rejects(
    train({ ...DEFAULT_CONFIG, data, out, normal: 'good', size: 16, batch: 4, epochs: 2, lr: 1e30 }, {
      emit: (e) => events.push(e.type),
      shouldStop: () => false,
      loadData: (c) => loadTrainingData({ root: c.data, normalClass: c.normal, size: c.size, seed: c.seed, validationFraction: c.validationFraction }),
    }),
    (e: Error) => e instanceof InputError && /training diverged at epoch 1(, step \d+)?: the .* is (NaN|-?Infinity)\. The learning rate \(--lr 1e\+30\) is likely too high/.test(e.message),
  );
  assert.ok(!events.includes('epoch'), 'no epoch was reported as if it had a result');
  assert.ok(!existsSync(out), 'no model');
  assert.ok(!existsSync(`${out}.lock`), 'no lock left');
  renameSync(data, `${data}-done`);
});
