// Extension-side training plumbing and Score Folder math, without vscode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fractionDone, trainArgs, describeEvent, formatEta, PRESETS as EXT_PRESETS, presetSpec } from '../../extension/training';
import { LineSplitter, checkNode, parseNodeMajor, parseProgressLine } from '../../extension/cli-client';
import { BUDGETS, budget } from '../../trainer/eval/bench';
import { presetTrainFlags, presetTrainSettings, PRESETS } from '../../trainer/presets';
import { folderRoc, labelFor, toCsv } from '../../shared/folder-math';
import { auroc as trainerAuroc, rocCurve } from '../../trainer/metrics';
import { TrainingRun } from '../../extension/runs';

test('trainArgs builds the CLI contract', () => {
  assert.deepEqual(trainArgs('/x/cli.js', { data: '/d', normal: '1', out: '/o', size: 16, epochs: 1, batch: 8, seed: 3, backend: 'fast' }), [
    '/x/cli.js', 'train', '--data', '/d', '--normal', '1', '--out', '/o', '--json', '--size', '16', '--epochs', '1', '--batch', '8', '--seed', '3', '--backend', 'fast',
  ]);
  assert.deepEqual(trainArgs('c', { data: 'd', normal: 'n', out: 'o', backend: 'auto', resume: '/ck' }), ['c', 'train', '--resume', '/ck', '--json']);
  assert.deepEqual(trainArgs('c', { data: 'd', normal: 'n', out: 'o', resume: '/ck', epochs: 9 }).slice(-2), ['--epochs', '9']);
  assert.deepEqual(trainArgs('c', { data: 'd', normal: 'n', out: 'o', weights: 'recon=2', config: '/c.json' }).slice(-4), ['--config', '/c.json', '--weights', 'recon=2']);
});

test('the wizard\'s paper preset trains as Table 3: lr 1e-4 at batch 1, halved every 50 epochs', () => {
  const paper = presetSpec('paper');
  assert.deepEqual([paper.size, paper.batch, paper.lr, paper.lrDecayEvery], [128, 1, 1e-4, 50]);
  const argv = trainArgs('c', { data: 'd', normal: 'n', out: 'o', ...paper });
  // The epochs come with --preset paper (300, no time budget: presetTrainSettings), not a fixed --epochs flag.
  assert.equal(argv[argv.indexOf('--preset') + 1], 'paper');
  assert.ok(!argv.includes('--epochs'));
  assert.equal(presetTrainSettings(PRESETS.paper).epochs, 300);
  assert.deepEqual(argv.slice(argv.indexOf('--lr'), argv.indexOf('--lr') + 4), ['--lr', '0.0001', '--lr-decay-every', '50']);
  assert.ok(!argv.includes('--augment'), 'the paper keeps the §4.2 augmentation (the trainer default)');
});

test('the wizard\'s presets are the CLI budgets: the same objects, and the same train flags', () => {
  assert.deepEqual(Object.keys(EXT_PRESETS), [...BUDGETS]);
  for (const name of BUDGETS) {
    assert.equal(EXT_PRESETS[name], budget(name), name);
    // Every flag reproduce gives train for this budget, the extension gives it too, same values.
    const argv = trainArgs('c', { data: 'd', normal: 'n', out: 'o', ...presetSpec(name) });
    // Every flag but --epochs: the wizard trains by the preset's budget (--preset NAME), reproduce by its fixed epochs.
    const flags = presetTrainFlags(budget(name));
    assert.equal(argv[argv.indexOf('--preset') + 1], name);
    assert.ok(!argv.includes('--epochs'), `${name}: no --epochs: it would replace the budget`);
    for (let i = 0; i < flags.length; i += 2) {
      if (flags[i] === '--epochs') continue;
      const at = argv.indexOf(flags[i]);
      assert.ok(at > 0 && argv[at + 1] === flags[i + 1], `${name}: ${flags[i]} ${flags[i + 1]} in ${argv.join(' ')}`);
    }
    assert.equal(argv[argv.indexOf('--size') + 1], String(budget(name).size));
  }
  // The extension setting lists the same presets (plus custom).
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
  assert.deepEqual(pkg.contributes.configuration.properties['flawscope.defaultPreset'].enum, [...BUDGETS, 'custom']);
});

test('parseNodeMajor', () => {
  assert.equal(parseNodeMajor('v20.11.1\n'), 20);
  assert.equal(parseNodeMajor('v8.0.0'), 8);
  assert.equal(parseNodeMajor('Python 3.11.2'), null);
  assert.equal(parseNodeMajor(''), null);
});

test('checkNode: this Node passes; a missing one and a too-old one give the fix', async () => {
  const ok = await checkNode(process.execPath);
  assert.equal(ok.ok, true);
  const missing = await checkNode('/nonexistent/node-xyz');
  assert.equal(missing.ok, false);
  if (!missing.ok) assert.match(missing.message, /not found.*flawscope\.nodePath/s);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-node-'));
  const old = path.join(dir, 'node');
  fs.writeFileSync(old, '#!/bin/sh\necho v16.20.0\n', { mode: 0o755 });
  const r = await checkNode(old);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /too old.*20 or newer/s);
  const notNode = path.join(dir, 'python');
  fs.writeFileSync(notNode, '#!/bin/sh\necho Python 3.11\n', { mode: 0o755 });
  const r2 = await checkNode(notNode);
  assert.equal(r2.ok, false);
  if (!r2.ok) assert.match(r2.message, /does not look like Node/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('parseProgressLine keeps events, drops log text', () => {
  assert.deepEqual(parseProgressLine('{"type":"warning","message":"m"}'), { type: 'warning', message: 'm' });
  assert.equal(parseProgressLine('epoch 1/3 loss 0.5'), null);
  assert.equal(parseProgressLine('{"type":"nonsense"}'), null);
  assert.equal(parseProgressLine('{not json}'), null);
  assert.equal(parseProgressLine('[1,2]'), null);
});

test('LineSplitter handles chunks split mid-line and CRLF', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push('{"a":');
  s.push('1}\r\nsecond');
  s.push(' line\nthird');
  s.end();
  assert.deepEqual(lines, ['{"a":1}', 'second line', 'third']);
});

test('fractionDone and texts', () => {
  assert.equal(fractionDone({ type: 'step', epoch: 2, step: 5, stepsPerEpoch: 10, losses: {}, imgPerSec: 1, etaSec: 1 }, 4), 0.375);
  assert.equal(fractionDone({ type: 'epoch', epoch: 4, epochs: 4, losses: {}, valAuroc: 0.9, bestValAuroc: 0.9, imgPerSec: 1, etaSec: 0, seconds: 1 }, 4), 1);
  assert.equal(fractionDone({ type: 'epoch', epoch: 3, epochs: 4, losses: {}, valAuroc: 0.9, bestValAuroc: 0.9, imgPerSec: 1, etaSec: 0, seconds: 1 }, 4, 2), 0.5);
  assert.equal(fractionDone({ type: 'warning', message: '' }, 4), null);
  assert.equal(formatEta(3725), '1 h 2 min');
  assert.match(describeEvent({ type: 'cancelled', checkpoint: '/c', epoch: 2 }), /resumable checkpoint: \/c/);
  assert.equal(describeEvent({ type: 'cancelled', checkpoint: '/c', epoch: 2 }), 'cancelled after epoch 2; resumable checkpoint: /c');
  assert.equal(describeEvent({ type: 'cancelled', checkpoint: '/c', epoch: 2, step: 7 }), 'cancelled at step 7 of epoch 3; resumable checkpoint: /c');
  assert.match(describeEvent({ type: 'start', backend: 'cpu', backendReason: 'r', epochs: 5, stepsPerEpoch: 9, out: 'o', summary: null, resumedFromEpoch: 0, resumedAtStep: 4 }), /, resumed at step 4 of epoch 1$/);
});

test('TrainingRun: a fake trainer (events, SIGTERM → cancelled with checkpoint)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-run-'));
  const cli = path.join(dir, 'fake-cli.js');
  fs.writeFileSync(cli, `
    const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
    out({ type: 'start', backend: 'cpu', backendReason: 'test', epochs: 100, stepsPerEpoch: 2, out: 'o', summary: null });
    console.log('plain log line');
    let e = 0;
    const t = setInterval(() => { e++; out({ type: 'epoch', epoch: e, epochs: 100, losses: { recon: 1 / e }, valAuroc: 0.5, bestValAuroc: 0.5, imgPerSec: 10, etaSec: 5, seconds: 0.1 }); }, 20);
    process.on('SIGTERM', () => { clearInterval(t); out({ type: 'cancelled', checkpoint: '${dir}/ck', epoch: e }); process.exit(0); });
  `);
  const run = new TrainingRun({ id: 'r', title: 't', spec: { data: 'd', normal: 'n', out: 'o', epochs: 100 }, state: 'starting', startedAt: Date.now(), endedAt: null, checkpoint: null, error: null, lastEpoch: 0, metrics: null, preset: null, epochs: null, resumedFrom: null, resumedBy: null });
  const logs: string[] = [];
  run.start(process.execPath, cli, dir, (l) => logs.push(l));
  await new Promise<void>((r) => run.on('event', (e) => e.type === 'epoch' && e.epoch >= 2 && r()));
  assert.equal(run.record.state, 'running');
  run.cancel();
  const rec = await run.finished;
  assert.equal(rec.state, 'cancelled');
  assert.equal(rec.checkpoint, `${dir}/ck`);
  assert.ok(rec.lastEpoch >= 2);
  assert.ok(logs.includes('plain log line'));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('TrainingRun: trainer error message is kept; crash without event is reported', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-run-'));
  const a = path.join(dir, 'a.js');
  fs.writeFileSync(a, `process.stdout.write(JSON.stringify({ type: 'error', message: 'unknown class "7x"', code: 2 }) + '\\n'); process.exit(2);`);
  const b = path.join(dir, 'b.js');
  fs.writeFileSync(b, `console.error('boom: out of memory'); process.exit(3);`);
  const mk = () => new TrainingRun({ id: 'r', title: 't', spec: { data: 'd', normal: 'n', out: 'o' }, state: 'starting', startedAt: 0, endedAt: null, checkpoint: null, error: null, lastEpoch: 0, metrics: null, preset: null, epochs: null, resumedFrom: null, resumedBy: null });
  const r1 = mk();
  r1.start(process.execPath, a, dir, () => undefined);
  const rec1 = await r1.finished;
  assert.equal(rec1.state, 'failed');
  assert.equal(rec1.error, 'unknown class "7x"');
  const r2 = mk();
  r2.start(process.execPath, b, dir, () => undefined);
  const rec2 = await r2.finished;
  assert.equal(rec2.state, 'failed');
  assert.match(rec2.error!, /code 3.*boom: out of memory/);
  const r3 = mk();
  r3.start('/nonexistent/node', b, dir, () => undefined);
  assert.equal((await r3.finished).state, 'failed');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('labelFor: the model\'s normal class, else good/normal/ok/free', () => {
  assert.equal(labelFor('1/a.png', '1', ['1', '7']), 0);
  assert.equal(labelFor('7/a.png', '1', ['1', '7']), 1);
  assert.equal(labelFor('good/x.png', null, ['good', 'crack']), 0);
  assert.equal(labelFor('crack/deep/x.png', null, ['good', 'crack']), 1);
  assert.equal(labelFor('x.png', '1', ['1']), null);
  assert.equal(labelFor('a/x.png', null, ['a', 'b']), null);
});

/** Rows for folderRoc from parallel score / label arrays. */
const rowsOf = (s: readonly number[], l: readonly (0 | 1 | null)[]) => s.map((score, i) => ({ score, label: l[i] }));
const roc = (s: readonly number[], l: readonly (0 | 1 | null)[]) => folderRoc(rowsOf(s, l));

test('folderRoc/AUROC: perfect, inverted, ties, one class', () => {
  assert.equal(roc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])!.auroc, 1);
  assert.equal(roc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0])!.auroc, 0);
  assert.equal(roc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])!.auroc, 0.5);
  // Mann–Whitney by brute force on random data
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const s = Array.from({ length: 300 }, () => Math.round(rnd() * 50) / 50);
  const l = s.map((v) => (rnd() < 0.3 + 0.4 * v ? 1 : 0) as 0 | 1);
  let num = 0, den = 0;
  for (let i = 0; i < s.length; i++) for (let j = 0; j < s.length; j++) if (l[i] === 1 && l[j] === 0) { den++; num += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0; }
  assert.ok(Math.abs(roc(s, l)!.auroc - num / den) < 1e-12);
  const pts = roc(s, l)!.points;
  assert.deepEqual([pts[0].fpr, pts[0].tpr], [0, 0]);
  assert.deepEqual([pts.at(-1)!.fpr, pts.at(-1)!.tpr], [1, 1]);
  assert.equal(roc([1, 2], [1, 1]), null);
});

test('folderRoc is the trainer\'s AUROC and ROC curve (trainer/metrics), not a second implementation', () => {
  const s = [0.3, 0.9, 0.1, 0.9, 0.5, 0.2, 0.7];
  const l: (0 | 1)[] = [0, 1, 0, 0, 1, 0, 1];
  const c = roc(s, l)!;
  assert.equal(c.auroc, trainerAuroc(s, l));
  assert.deepEqual(c.points, rocCurve(s, l));
  assert.deepEqual([c.labelled, c.normals], [7, 4]);
});

test('folderRoc leaves out unlabelled rows and scores that are not finite (images that could not be scored)', () => {
  const s = [0.9, 0.1, NaN, Infinity, -Infinity, 0.8, 0.2, 0.5];
  const l: (0 | 1 | null)[] = [1, 0, 1, 0, 1, 1, 0, null];
  const c = roc(s, l)!;
  assert.equal(c.auroc, 1);
  assert.deepEqual([c.labelled, c.normals], [4, 2]);
  assert.deepEqual(c.points, rocCurve([0.9, 0.1, 0.8, 0.2], [1, 0, 1, 0]));
  // Only the failed images were anomalies: one class is left, so there is no ROC (rather than a thrown NonFiniteScoreError).
  assert.equal(roc([NaN, 0.1, 0.2], [1, 0, 0]), null);
});

test('toCsv quotes and neutralises formulas', () => {
  const csv = toCsv([{ name: 'a,b.png', score: 0.5, isAnomaly: true, label: 1 }, { name: '=cmd|calc.png', score: 0.1, isAnomaly: false, label: null }], 0.3);
  assert.equal(csv, 'image,score,threshold,verdict,label\n"a,b.png",0.5,0.3,anomaly,anomaly\n\'=cmd|calc.png,0.1,0.3,normal,\n');
});
