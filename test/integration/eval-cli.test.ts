/**
 * eval, reproduce and grid end to end through the built CLI on the committed MNIST fixture, with
 * tiny budgets (16 px, 1 epoch): the numbers are meaningless, the plumbing is what is tested —
 * scores come from the scorer and agree with the trainer's, reports and configs are written,
 * finished runs are skipped on a rerun, the grid ranks on validation, bad input exits 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from '../helpers/cli';

const MNIST = join(ROOT, 'test/fixtures/mnist-small');
const TINY = ['--size', '16', '--epochs', '1', '--batch', '64'];

test('eval: measures a trained model with the scorer, agrees with the trainer, writes the report', () => {
  const dir = tempDir();
  const model = join(dir, 'model');
  const t = runCli(['train', '--data', MNIST, '--normal', '1', '--out', model, ...TINY, '--seed', '3', '--json']);
  assert.equal(t.code, 0, t.stderr);
  const trainerTest = t.events.find((e) => e.type === 'done').metrics.testAuroc;
  const r = runCli(['eval', '--model', model, '--json', '--report', join(dir, 'report')]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(res.split, 'test');
  assert.equal(res.count, 300);
  assert.equal(res.normals, 30);
  // The trainer scores on its training backend, eval on the scorer's WASM backend: float-level
  // differences can flip a near-tie, so agreement is to a few pairs out of 8,100.
  assert.ok(Math.abs(res.auroc - trainerTest) < 2e-3, `eval ${res.auroc} vs trainer ${trainerTest}`);
  assert.equal(res.perClass.filter((c: any) => c.anomaly).length, 9);
  assert.equal(res.pixelAuroc, null);
  // Per-image scores for the extension's report: one per test image, on the files themselves.
  assert.equal(res.images.length, 300);
  assert.equal(res.images.filter((i: any) => !i.anomaly).length, 30);
  assert.ok(res.images.every((i: any) => existsSync(i.path) && typeof i.score === 'number' && typeof i.className === 'string'), 'every image entry names an existing file');
  assert.deepEqual(res.images.filter((i: any) => !i.anomaly).map((i: any) => i.className), Array(30).fill('1'));
  for (const f of ['report.md', 'report.html', 'roc.svg', 'eval.json', 'scores.csv']) assert.ok(existsSync(join(dir, 'report', f)), f);
  const svg = readFileSync(join(dir, 'report', 'roc.svg'), 'utf8');
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<path d="M/);
  assert.match(readFileSync(join(dir, 'report', 'report.md'), 'utf8'), /image AUROC/);
  assert.equal(readFileSync(join(dir, 'report', 'scores.csv'), 'utf8').trim().split('\n').length, 301);
  // the validation split is the trainer's own held-out set
  const v = runCli(['eval', '--model', model, '--split', 'validation', '--json']);
  assert.equal(v.code, 0, v.stderr);
  const vres = JSON.parse(v.stdout.trim().split('\n').pop()!);
  const info = JSON.parse(readFileSync(join(model, 'flawscope.json'), 'utf8'));
  assert.equal(vres.count, info.dataset.counts.validation);
  assert.ok(Math.abs(vres.auroc - info.metrics.valAuroc) < 0.06, `validation ${vres.auroc} vs ${info.metrics.valAuroc}`);
});

test('mirrored and shifted scores: train --score-flip/--score-shift record them, eval agrees with the trainer; eval overrides measure any model each way', () => {
  const dir = tempDir();
  const model = join(dir, 'model');
  const t = runCli(['train', '--data', MNIST, '--normal', '1', '--out', model, ...TINY, '--seed', '3', '--score-flip', 'horizontal', '--score-shift', 'pixel', '--json']);
  assert.equal(t.code, 0, t.stderr);
  const info = JSON.parse(readFileSync(join(model, 'flawscope.json'), 'utf8'));
  assert.equal(info.score.flip, 'horizontal');
  assert.equal(info.score.shift, 'pixel');
  assert.equal(info.formatVersion, 4);
  const trainerTest = t.events.find((e) => e.type === 'done').metrics.testAuroc;
  const evalOf = (extra: string[]) => {
    const r = runCli(['eval', '--model', model, '--json', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const own = evalOf(['--report', join(dir, 'own')]);
  assert.deepEqual([own.flip, own.shift], ['horizontal', 'pixel']);
  assert.ok(Math.abs(own.auroc - trainerTest) < 2e-3, `eval ${own.auroc} vs trainer ${trainerTest}: the trainer's test figure used the same views`);
  const noFlip = evalOf(['--score-flip', 'none', '--report', join(dir, 'no-flip')]);
  assert.deepEqual([noFlip.flip, noFlip.shift], ['none', 'pixel']);
  const plain = evalOf(['--score-flip', 'none', '--score-shift', 'none', '--report', join(dir, 'plain')]);
  assert.deepEqual([plain.flip, plain.shift], ['none', 'none']);
  const scores = (d: string) => readFileSync(join(dir, d, 'scores.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[3]));
  const [a, b, c] = [scores('own'), scores('no-flip'), scores('plain')];
  assert.equal(a.length, 300);
  const changed = (x: number[], y: number[]) => x.filter((v, i) => Math.abs(v - y[i]) > 1e-6 * v).length;
  assert.ok(changed(a, b) > 250, 'the flip override changes the scores');
  assert.ok(changed(b, c) > 250, 'the shift override changes the scores');
  assert.match(readFileSync(join(dir, 'own', 'report.md'), 'utf8'), /averaged with the mirror image and the one-pixel shifts/);
  assert.match(readFileSync(join(dir, 'no-flip', 'report.md'), 'utf8'), /averaged with the one-pixel shifts\)/);
  assert.doesNotMatch(readFileSync(join(dir, 'plain', 'report.md'), 'utf8'), /averaged with/);
  const bad = runCli(['eval', '--model', model, '--score-flip', 'vertical']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--score-flip vertical: expected none or horizontal/);
  const badShift = runCli(['eval', '--model', model, '--score-shift', '2']);
  assert.equal(badShift.code, 2);
  assert.match(badShift.stderr, /--score-shift 2: expected none or pixel/);
  // photo tiles belong to crop-trained models: a whole-image model has none to overlap, in eval or in train
  const tiles = runCli(['eval', '--model', model, '--tile-stride', '8']);
  assert.equal(tiles.code, 2);
  assert.match(tiles.stderr, /--tile-stride 8: .* scores whole images, not tiles of photos/);
  const trainTiles = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(dir, 'tiles'), ...TINY, '--tile-stride', '8']);
  assert.equal(trainTiles.code, 2, trainTiles.stderr);
  assert.match(trainTiles.stderr, /--tile-stride \(config "tileStride"\) 8: .* is read as whole images/);
  assert.ok(!existsSync(join(dir, 'tiles', 'flawscope.json')), 'no model written');
});

test('eval: bad input exits 2 naming the flag or folder', () => {
  const a = runCli(['eval']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--model/);
  const b = runCli(['eval', '--model', join(tempDir(), 'nope')]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /nope/);
  const c = runCli(['eval', '--model', MNIST, '--split', 'train']);
  assert.equal(c.code, 2);
});

test('reproduce: per-class runs, CSV and a Table-5 Markdown beside the paper, resumable', () => {
  const out = join(tempDir(), 'repro');
  const args = ['reproduce', '--dataset', 'mnist', '--data', MNIST, '--classes', '1,8', ...TINY, '--weights', 'recon=1.5,abc=0.5,patch=0,latent=0,normalAdv=0,anomalyAdv=0', '--out', out];
  const r = runCli(args);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /class 1\] epoch 1\/1/);
  assert.match(r.stdout, /class 8\] test AUROC/);
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 3);
  assert.match(csv[0], /^dataset,class_id,class,budget,test_auroc/);
  const md = readFileSync(join(out, 'results.md'), 'utf8');
  assert.match(md, /\| normal class \| ARNet \| Kim et al\. \(paper\) \| Flawscope/);
  assert.match(md, /\*\*avg\*\* \(2 of 10 classes\) \| 98\.3 \| 99\.7 \|/);
  assert.match(md, /command: `flawscope reproduce --dataset mnist/);
  // train flags beside the budget reach every run and are named in the report
  assert.match(md, /train flags: --size 16 --weights recon=1\.5,abc=0\.5,patch=0,latent=0,normalAdv=0,anomalyAdv=0/);
  for (const f of ['auroc-vs-epoch.svg', 'roc.svg', 'results.html', 'runs/1/model/flawscope.json', 'runs/8/result.json']) assert.ok(existsSync(join(out, f)), f);
  const res = JSON.parse(readFileSync(join(out, 'runs/1/result.json'), 'utf8'));
  assert.equal(res.status, 'done');
  assert.deepEqual(res.weights, { recon: 1.5, abc: 0.5, patch: 0, latent: 0, normalAdv: 0, anomalyAdv: 0 });
  assert.ok(Math.abs(res.eval.auroc - res.trainerTestAuroc) < 2e-3, 'the scorer and the trainer agree');
  // the quick budget trains like the PyTorch reference: no augmentation (MNIST's own family would crop)
  assert.match(res.command, /--augment none/);
  assert.equal(JSON.parse(readFileSync(join(out, 'runs/1/model/flawscope.json'), 'utf8')).dataset.augmentation.family, 'none');
  // finished classes are skipped
  const again = runCli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /\] training$|epoch 1\/1/m);
  assert.match(again.stdout, /class 1\] test AUROC/);
});

test('reproduce: unknown dataset, class or budget exits 2; CIFAR-100 says there is no data here', () => {
  const a = runCli(['reproduce', '--dataset', 'svhn']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--dataset svhn/);
  const b = runCli(['reproduce', '--dataset', 'mnist', '--data', MNIST, '--classes', '12', '--out', tempDir()]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--classes/);
  const c = runCli(['reproduce', '--dataset', 'mnist', '--budget', 'huge']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /--budget huge/);
  const d = runCli(['reproduce', '--dataset', 'cifar100']);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /CIFAR-100: no copy/);
  const e = runCli(['ablation', '--dataset', 'svhn']);
  assert.equal(e.code, 2);
});

test('grid: counts the §3.4 grid, runs combinations in parallel, ranks on validation, writes a usable best config', () => {
  const dry = runCli(['grid', '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  const d = JSON.parse(dry.stdout);
  assert.equal(d.total, 729);
  assert.equal(d.valid, 414);
  assert.equal(d.paper, 314);
  const strict = JSON.parse(runCli(['grid', '--dry-run', '--json', '--strict']).stdout);
  assert.equal(strict.valid, 315);

  const out = join(tempDir(), 'grid');
  const r = runCli(['grid', '--data', MNIST, '--normal', '1', '--out', out, '--values', '0.5,1.5', '--sample', '2', '--parallel', '2', ...TINY]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /64 combinations .* 39 satisfy .* running 2/);
  const csv = readFileSync(join(out, 'grid.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 3);
  assert.match(csv[0], /val_auroc/);
  assert.doesNotMatch(csv[0], /test/);
  const vals = csv.slice(1).map((l) => Number(l.split(',')[11]));
  assert.ok(vals[0] >= vals[1], 'ranked by validation AUROC, best first');
  const md = readFileSync(join(out, 'grid.md'), 'utf8');
  assert.match(md, /paper reports 314/);
  const best = JSON.parse(readFileSync(join(out, 'best-config.json'), 'utf8'));
  assert.ok(best.weights && typeof best.weights.recon === 'number');
  assert.equal(best.epochs, 1);
  // the best config trains as is
  const t = runCli(['train', '--config', join(out, 'best-config.json'), '--out', join(out, 'from-best'), '--json']);
  assert.equal(t.code, 0, t.stderr);
  const info = JSON.parse(readFileSync(join(out, 'from-best', 'flawscope.json'), 'utf8'));
  assert.deepEqual(info.config.weights, best.weights);
});

test('grid: bad input exits 2', () => {
  const a = runCli(['grid', '--data', MNIST, '--out', tempDir(), '--values', '0.5,abc']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--values/);
  const b = runCli(['grid', '--out', tempDir()]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--data/);
});
