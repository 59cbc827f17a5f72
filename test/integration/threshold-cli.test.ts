/**
 * The deployment threshold end to end through the built CLI: `train` records the rule it used and
 * its threshold keeps the promise on the validation normals (re-scored by the scorer, as `eval`
 * does); `calibrate` re-picks it on a folder with a known 5 % defect rate, the threshold is the one
 * the rule promises (recomputed here from `flawscope score --json`), the old one is kept, the write
 * is atomic; bad input exits 2 with flawscope.json untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, runCli, tempDir } from '../helpers/cli';
import { tinyData } from '../helpers/tiny-data';
import { asUser, giveToUser, permDir } from '../helpers/unprivileged';
import { runCalibrateCommand, writeInfoAtomically, type WriteIo } from '../../trainer/calibrate';

const TINY = ['--size', '16', '--batch', '4', '--epochs', '1'];
const MNIST = join(ROOT, 'test/fixtures/mnist-small');
const MODEL_FILES = ['flawscope.json', 'model.json', 'weights.bin'];

function trainTiny(extra: string[] = []): { model: string; data: string; info: any; events: any[] } {
  const data = tinyData();
  const model = join(dirname(data), 'model');
  const r = runCli(['train', '--data', data, '--out', model, ...TINY, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return { model, data, info: JSON.parse(readFileSync(join(model, 'flawscope.json'), 'utf8')), events: r.events };
}

/** 38 normal digit-1 images (none of tinyData's 40 training ones) and 2 anomalies: a 5 % defect rate. */
function calibrationFolder(): string {
  const d = join(tempDir('flawscope-calib-'), 'cal');
  mkdirSync(join(d, 'good'), { recursive: true });
  mkdirSync(join(d, 'defect'));
  readdirSync(join(MNIST, 'test/1')).slice(0, 30).forEach((f) => cpSync(join(MNIST, 'test/1', f), join(d, 'good', `t-${f}`)));
  readdirSync(join(MNIST, 'train/1')).slice(100, 108).forEach((f) => cpSync(join(MNIST, 'train/1', f), join(d, 'good', `r-${f}`)));
  readdirSync(join(MNIST, 'test/8')).slice(0, 2).forEach((f) => cpSync(join(MNIST, 'test/8', f), join(d, 'defect', f)));
  return d;
}

/** `flawscope score --json` on files or folders: each image's score and verdict, and the model event. */
function scoreWithCli(model: string, paths: string[]): { model: any; results: { score: number; isAnomaly: boolean }[] } {
  const r = runCli(['score', '--model', model, ...paths, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return { model: r.events.find((e) => e.event === 'model'), results: r.events.filter((e) => e.event === 'result') };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

test('train records its threshold rule; the threshold flags at most the promised share of the validation normals', () => {
  const { model, info, events } = trainTiny();
  const rule = info.thresholdRule;
  assert.equal(rule.method, 'false-alarm-rate');
  assert.equal(rule.target, 0.01);
  assert.equal(rule.source, 'validation');
  assert.equal(rule.validationNormals, info.normalStats.count);
  assert.equal(rule.validationNormals + rule.validationAnomalies, info.dataset.counts.validation);
  assert.ok(rule.validationAnomalies > 0);
  assert.equal(rule.expectedFalseAlarmRate, 0, '4 validation normals at 1 %: none may score above');
  assert.ok(rule.expectedDetectionRate >= 0 && rule.expectedDetectionRate <= 1);
  assert.equal(info.thresholdHistory, undefined, 'nothing replaced yet');
  const done = events.find((e) => e.type === 'done');
  assert.deepEqual(done.threshold, { value: info.threshold, rule });
  // Train's default is the tolerance bound (trainer/threshold.ts): 4 normals → log-normal, 90 % confidence.
  assert.equal(rule.confidence, 0.9);
  assert.equal(rule.bound, 'log-normal');
  assert.ok(!events.some((e) => e.type === 'warning' && /^threshold: 4 normal images \(the validation split\) are too few/.test(e.message)), 'the bound accounts for the small set; no plain-rule warning');
  // The validation split re-scored by the scorer (eval's path): at most floor(0.01 × 4) = 0 above.
  // The trainer scored on its own backend; 1e-5 covers float differences, not a wrong rule.
  const out = join(dirname(model), 'val');
  const r = runCli(['eval', '--model', model, '--split', 'validation', '--report', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = readFileSync(join(out, 'scores.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const normals = rows.filter((c) => c[2] === '0').map((c) => Number(c[3]));
  assert.equal(normals.length, rule.validationNormals);
  assert.equal(normals.filter((s) => s > info.threshold * (1 + 1e-5)).length, 0);
  assert.ok(Math.max(...normals) <= info.threshold * (1 + 1e-5), 'the bound is never below the plain rule (here the highest validation normal score)');
  // `score --json` shows the rule once, in its model line.
  const s = scoreWithCli(model, [join(MNIST, 'test/1', readdirSync(join(MNIST, 'test/1'))[0])]);
  assert.deepEqual(s.model.thresholdRule, rule);
});

test('train --defect-rate records that rule; both rates exit 2 naming both flags, nothing written', () => {
  const { info } = trainTiny(['--defect-rate', '0.05']);
  assert.equal(info.thresholdRule.method, 'defect-rate');
  assert.equal(info.thresholdRule.target, 0.05);
  assert.equal(info.config.falseAlarmRate, null);
  const data = tinyData();
  const out = join(dirname(data), 'both');
  const r = runCli(['train', '--data', data, '--out', out, ...TINY, '--false-alarm-rate', '0.05', '--defect-rate', '0.05']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--false-alarm-rate 0.05 and --defect-rate 0.05: give one of the two threshold rules/);
  assert.ok(!existsSync(out));
  const bad = runCli(['train', '--data', data, '--out', out, ...TINY, '--false-alarm-rate', '0.7']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--false-alarm-rate 0.7: expected a number above 0 and at most 0.5/);
});

test('calibrate: a 5 % defect folder at --false-alarm-rate 0.05 gives the rule\'s threshold; the old one is kept; no temp file; score uses it', () => {
  const { model, info: before } = trainTiny();
  const cal = calibrationFolder();
  const r = runCli(['calibrate', '--model', model, '--data', cal, '--false-alarm-rate', '0.05', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = lastJson(r.stdout);
  const info = JSON.parse(readFileSync(join(model, 'flawscope.json'), 'utf8'));
  // The rule recomputed from the scorer's own scores: floor(0.05 × 38) = 1 normal may be above,
  // so the threshold is the second highest normal score.
  const normals = scoreWithCli(model, [join(cal, 'good')]).results.map((x) => x.score).sort((a, b) => b - a);
  assert.equal(normals.length, 38);
  assert.ok(Math.abs(info.threshold - normals[1]) <= 1e-5 * Math.abs(normals[1]), `threshold ${info.threshold} vs the 2nd highest normal ${normals[1]}`);
  assert.notEqual(normals[0], normals[1], 'distinct top scores, so the check above can tell k = 0, 1, 2 apart');
  assert.equal(res.new.threshold, info.threshold);
  assert.deepEqual(info.thresholdRule, res.new.rule);
  assert.equal(info.thresholdRule.method, 'false-alarm-rate');
  assert.equal(info.thresholdRule.target, 0.05);
  assert.equal(info.thresholdRule.validationNormals, 38);
  assert.equal(info.thresholdRule.validationAnomalies, 2);
  assert.equal(info.thresholdRule.expectedFalseAlarmRate, 1 / 38);
  assert.equal(info.thresholdRule.source, cal);
  // The old threshold, with its rule and the date it was replaced.
  assert.equal(info.thresholdHistory.length, 1);
  assert.equal(info.thresholdHistory[0].threshold, before.threshold);
  assert.deepEqual(info.thresholdHistory[0].rule, before.thresholdRule);
  assert.ok(!Number.isNaN(Date.parse(info.thresholdHistory[0].replacedAt)));
  // Everything else is as it was.
  const { threshold: _a, thresholdRule: _b, thresholdHistory: _c, ...rest } = info;
  const { threshold: _d, thresholdRule: _e, ...restBefore } = before;
  assert.deepEqual(rest, restBefore);
  assert.deepEqual(readdirSync(model).sort(), MODEL_FILES, 'no temp file left');
  assert.ok(!existsSync(`${model}.lock`), 'lock released');
  // `score` verdicts on the same normal images keep the promise exactly (same scorer, same backend).
  assert.ok(scoreWithCli(model, [join(cal, 'good')]).results.filter((x) => x.isAnomaly).length <= 1);
  // A second calibration appends to the history.
  const again = runCli(['calibrate', '--model', model, '--data', cal, '--defect-rate', '0.05']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^old threshold .*\(--false-alarm-rate 0.05 on .*\)\nnew threshold .*\(--defect-rate 0.05\)\nwritten to /);
  const info2 = JSON.parse(readFileSync(join(model, 'flawscope.json'), 'utf8'));
  assert.equal(info2.thresholdHistory.length, 2);
  assert.equal(info2.thresholdHistory[1].threshold, info.threshold);
  assert.equal(info2.thresholdRule.method, 'defect-rate');
});

test('calibrate: an older model folder (no rule recorded) still scores and calibrates; its history entry has rule null', () => {
  const { model } = trainTiny();
  const f = join(model, 'flawscope.json');
  const { thresholdRule: _r, ...old } = JSON.parse(readFileSync(f, 'utf8'));
  writeFileSync(f, JSON.stringify(old, null, 2));
  const s = scoreWithCli(model, [join(MNIST, 'test/1')]);
  assert.equal(s.model.thresholdRule, undefined);
  const r = runCli(['calibrate', '--model', model, '--data', calibrationFolder()]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(F1-optimal on validation \(rule not recorded\)\)/);
  const info = JSON.parse(readFileSync(f, 'utf8'));
  assert.deepEqual(info.thresholdHistory.map((h: any) => [h.threshold, h.rule]), [[old.threshold, null]]);
  assert.equal(info.thresholdRule.target, 0.01, 'the default rate');
});

test('calibrate: a failed write leaves flawscope.json byte-identical and no temp file', async () => {
  const { model } = trainTiny();
  const f = join(model, 'flawscope.json');
  const bytes = readFileSync(f);
  const real: WriteIo = {
    writeFile: (p, d) => import('node:fs/promises').then((m) => m.writeFile(p, d)),
    rename: (a, b) => import('node:fs/promises').then((m) => m.rename(a, b)),
    rm: (p) => import('node:fs/promises').then((m) => m.rm(p, { force: true })),
  };
  const enospc = () => Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  // The rename fails after the temp file is complete; then the write itself fails half way.
  const failRename: WriteIo = { ...real, rename: async () => { throw enospc(); } };
  const failWrite: WriteIo = { ...real, writeFile: async (p, d) => { await real.writeFile(p, d.slice(0, 10)); throw enospc(); } };
  for (const io of [failRename, failWrite]) {
    await assert.rejects(writeInfoAtomically(model, { threshold: 1 }, io), /cannot write .*flawscope\.json: no space left on device \(ENOSPC\); it is unchanged/);
    assert.deepEqual(readFileSync(f), bytes);
    assert.deepEqual(readdirSync(model).sort(), MODEL_FILES);
  }
  // The whole command, scoring included, with the rename failing: exit 1, nothing changed.
  const code = await runCalibrateCommand(['--model', model, '--data', calibrationFolder(), '--backend', 'cpu'], failRename);
  assert.equal(code, 1);
  assert.deepEqual(readFileSync(f), bytes);
  assert.deepEqual(readdirSync(model).sort(), MODEL_FILES);
  assert.ok(!existsSync(`${model}.lock`));
});

test('calibrate: a read-only model folder fails cleanly, flawscope.json unchanged (run as an unprivileged user)', () => {
  const { model } = trainTiny();
  const f = join(model, 'flawscope.json');
  const bytes = readFileSync(f);
  // The test user owns the model's parent (the lock goes there) and reads the calibration images;
  // only the model folder itself is read-only.
  const parent = permDir('flawscope-calib-ro-');
  const ro = join(parent, 'model');
  cpSync(model, ro, { recursive: true });
  const cal = join(parent, 'cal');
  cpSync(calibrationFolder(), cal, { recursive: true });
  giveToUser(parent);
  chmodSync(ro, 0o555);
  const r = asUser(['calibrate', '--model', ro, '--data', cal, '--backend', 'cpu']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot write .*flawscope\.json: .*it is unchanged/);
  assert.deepEqual(readFileSync(join(ro, 'flawscope.json')), bytes);
  assert.deepEqual(readdirSync(ro).sort(), MODEL_FILES);
  assert.ok(!existsSync(`${ro}.lock`), 'the lock is released');
  assert.deepEqual(readFileSync(f), bytes);
});

test('calibrate: bad input exits 2 naming the flag or path; nothing written', () => {
  const { model } = trainTiny();
  const f = join(model, 'flawscope.json');
  const bytes = readFileSync(f);
  const cal = calibrationFolder();
  const onlyDefects = join(tempDir('flawscope-calib-'), 'cal');
  cpSync(join(cal, 'defect'), join(onlyDefects, 'defect'), { recursive: true });
  const onlyNormals = join(tempDir('flawscope-calib-'), 'cal');
  cpSync(join(cal, 'good'), join(onlyNormals, 'good'), { recursive: true });
  const notAModel = tempDir('flawscope-not-model-');
  const cases: [string, string[], RegExp][] = [
    ['missing model', ['--model', join(notAModel, 'nope'), '--data', cal], /--model .*nope: no such folder/],
    ['no flawscope.json', ['--model', notAModel, '--data', cal], /--model .*: no flawscope\.json there/],
    ['no --model', ['--data', cal], /--model DIR is required/],
    ['missing data', ['--model', model, '--data', join(notAModel, 'x')], /--data .*x: no such folder/],
    ['no normal images', ['--model', model, '--data', onlyDefects], /--data .*: no normal images: the folder .*good does not exist \(normal class "good", the model's\); class folders found: defect \(2\)/],
    ['both rates', ['--model', model, '--data', cal, '--false-alarm-rate', '0.05', '--defect-rate', '0.1'], /--false-alarm-rate 0.05 and --defect-rate 0.1: give one of the two/],
    ['rate too high', ['--model', model, '--data', cal, '--false-alarm-rate', '0.6'], /--false-alarm-rate 0.6: expected a number above 0 and at most 0.5/],
    ['rate zero', ['--model', model, '--data', cal, '--defect-rate', '0'], /--defect-rate 0: expected a number above 0/],
    ['defect rate without anomalies', ['--model', model, '--data', onlyNormals, '--defect-rate', '0.05'], /--defect-rate 0.05: .* holds no anomaly images/],
    ['unknown flag', ['--model', model, '--data', cal, '--rate', '0.1'], /--rate: not a calibrate option/],
  ];
  for (const [name, args, msg] of cases) {
    const r = runCli(['calibrate', ...args]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, msg, name);
    assert.deepEqual(readFileSync(f), bytes, `${name}: flawscope.json untouched`);
  }
  assert.deepEqual(readdirSync(model).sort(), MODEL_FILES);
  const help = runCli(['calibrate', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: flawscope calibrate --model DIR --data DIR/);
});
