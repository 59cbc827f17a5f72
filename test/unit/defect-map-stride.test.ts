/**
 * The rule that chooses a defect-map model's tile stride on the validation photos
 * (trainer/defect-map/stride-choice.ts): the coarsest stride within one bootstrap standard error
 * of the paired AUROC difference from the best.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseTileStride, pairedDifferenceSe, STRIDE_BOOTSTRAP } from '../../trainer/defect-map/stride-choice';
import { strideCandidates } from '../../trainer/defect-map/photo-scoring';
import { Rng } from '../../trainer/rng';
import { auroc } from '../../trainer/metrics';
import { join } from 'node:path';

/** n normal then n defect photos; defects score `gap` higher on average, plus seeded noise. */
function photos(n: number, gap: number, seed: number): { scores: number[]; labels: number[] } {
  const rng = new Rng(seed);
  const labels = [...Array(n).fill(0), ...Array(n).fill(1)];
  return { scores: labels.map((y) => y * gap + rng.next()), labels };
}

test('the candidates: the whole tile and half of it, coarsest first', () => {
  assert.deepEqual(strideCandidates(64), [64, 32]);
  assert.deepEqual(strideCandidates(1), [1]);
});

test('the same ranking at both strides keeps the coarser (cheaper) one', () => {
  const { scores, labels } = photos(50, 0.5, 1);
  const c = chooseTileStride([{ stride: 32, scores }, { stride: 64, scores: scores.map((s) => s * 0.9) }], labels);
  assert.equal(c.stride, 64);
  assert.deepEqual(c.candidates.map((x) => x.stride), [64, 32]);
  assert.equal(c.candidates[0].auroc, c.candidates[1].auroc);
  assert.match(c.text, /tile stride 64 px.*the best and the cheapest/);
});

test('a finer stride slightly better on validation (one photo pair) is within one SE: the coarser is kept', () => {
  const { scores: fine, labels } = photos(50, 0.4, 2);
  // The coarse stride ranks one defect photo below one more normal photo than the fine one does.
  const coarse = [...fine];
  const defects = labels.map((y, i) => (y ? i : -1)).filter((i) => i >= 0).sort((a, b) => fine[a] - fine[b]);
  coarse[defects[Math.floor(defects.length / 2)]] -= 0.05;
  const aFine = auroc(fine, labels), aCoarse = auroc(coarse, labels);
  assert.ok(aFine > aCoarse, `${aFine} > ${aCoarse}`);
  const c = chooseTileStride([{ stride: 32, scores: fine }, { stride: 64, scores: coarse }], labels);
  assert.equal(c.stride, 64);
  const [c64, c32] = c.candidates;
  assert.equal(c32.shortfall, 0);
  assert.ok(c64.shortfall! > 0 && c64.shortfall! <= c64.margin!, JSON.stringify(c64));
  assert.match(c.text, /within one SE of the best \(32 px\).*4x fewer tiles/);
});

test('a finer stride clearly better on validation wins', () => {
  const { scores: fine, labels } = photos(60, 1.2, 3);
  const coarse = photos(60, 0.2, 4).scores;
  const c = chooseTileStride([{ stride: 64, scores: coarse }, { stride: 32, scores: fine }], labels);
  assert.equal(c.stride, 32);
  const c64 = c.candidates.find((x) => x.stride === 64)!;
  assert.ok(c64.shortfall! > c64.margin!, JSON.stringify(c64));
  assert.match(c.text, /tile stride 32 px.*the best; 64 px is .* below it, more than one SE/);
});

test('the coarser stride better on validation: kept', () => {
  const { scores: coarse, labels } = photos(40, 1, 5);
  const fine = photos(40, 0.3, 6).scores;
  assert.equal(chooseTileStride([{ stride: 32, scores: fine }, { stride: 64, scores: coarse }], labels).stride, 64);
});

test('the margin follows the validation set, not a constant: the same AUROC difference on the same photos 16 times over becomes decisive', () => {
  // 20 photos; at the fine stride every score moves by its own noise and defect photos gain 0.15 on average.
  const { scores: coarse, labels } = photos(10, 0.3, 7);
  const rng = new Rng(70);
  const fine = coarse.map((s, i) => s + (labels[i] ? 0.15 : 0) + 0.4 * (rng.next() - 0.5));
  // Repeating every photo k times leaves both AUROCs as they are and shrinks the SE about sqrt(k) times.
  const rep = (a: number[], k: number) => Array.from({ length: k }, () => a).flat();
  const pick = (k: number) => chooseTileStride([{ stride: 32, scores: rep(fine, k) }, { stride: 64, scores: rep(coarse, k) }], rep(labels, k));
  const small = pick(1), large = pick(16);
  assert.equal(small.candidates[0].shortfall, large.candidates[0].shortfall);
  assert.ok(small.candidates[0].shortfall! > 0.04, JSON.stringify(small.candidates));
  assert.ok(large.candidates[0].margin! < small.candidates[0].margin! / 3, `SE ${large.candidates[0].margin} (320 photos) < ${small.candidates[0].margin} (20 photos) / 3`);
  assert.equal(small.stride, 64);
  assert.equal(large.stride, 32);
});

test('without defect (or normal) photos in validation nothing is compared: the coarsest stride, AUROC null, and the text says why', () => {
  const scores = [0.1, 0.2, 0.3];
  const c = chooseTileStride([{ stride: 32, scores }, { stride: 64, scores }], [0, 0, 0]);
  assert.equal(c.stride, 64);
  assert.ok(c.candidates.every((x) => x.auroc === null && x.margin === null));
  assert.match(c.text, /hold no defect photos, so the strides cannot be compared/);
  assert.match(chooseTileStride([{ stride: 32, scores }], [1, 1, 1]).text, /no normal photos/);
});

test('deterministic (fixed seed) and independent of the candidates\' order; the paired SE is 0 for identical rankings', () => {
  const { scores: a, labels } = photos(30, 0.5, 8);
  const b = photos(30, 0.5, 9).scores;
  const x = chooseTileStride([{ stride: 32, scores: a }, { stride: 64, scores: b }], labels);
  const y = chooseTileStride([{ stride: 64, scores: b }, { stride: 32, scores: a }], labels);
  assert.deepEqual(x, y);
  assert.equal(pairedDifferenceSe(a, a.map((s) => 2 * s), labels, STRIDE_BOOTSTRAP), 0);
  const se = pairedDifferenceSe(a, b, labels, STRIDE_BOOTSTRAP);
  assert.ok(se > 0.02 && se < 0.2, `${se}`);
});

test('a score list of the wrong length is a bug, refused', () => {
  assert.throws(() => chooseTileStride([{ stride: 32, scores: [1, 2] }], [0, 1, 1]), /stride 32 has 2 scores for 3 photos/);
  assert.throws(() => chooseTileStride([], [0, 1]), /no candidate/);
});

test('photoMapsAt: both strides\' maps from one pass over the distinct tiles, each equal to photoMap at that stride', async () => {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  const tfl = await import('@tensorflow/tfjs-layers');
  const sharp = (await import('sharp')).default;
  const { photoMap, photoMapsAt } = await import('../../trainer/defect-map/evaluate');
  const { tempDir } = await import('../helpers/cli');
  const S = 16;
  // Any networks of the contract's shapes: a 3x3 conv as the generator, a 3x3 conv + sigmoid as the map.
  const gen = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [S, S, 1], filters: 1, kernelSize: 3, padding: 'same', kernelInitializer: 'glorotUniform', seed: 1 } as never)] });
  const net = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [S, S, 3], filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid', kernelInitializer: 'glorotUniform', seed: 2 } as never)] });
  let tilesRun = 0;
  const predict = net.predict.bind(net);
  net.predict = ((x: import('@tensorflow/tfjs-core').Tensor) => { tilesRun += x.shape[0]; return predict(x); }) as typeof net.predict;
  const rng = new Rng(11);
  const w = 70, h = 45;
  const file = join(tempDir(), 'p.png');
  await sharp(Buffer.from(Uint8Array.from({ length: w * h }, () => Math.floor(rng.next() * 256))), { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
  const model = { width: S, height: S, channels: 1 as const };
  const prep = { mode: 'tile' as const, scale: 1 };
  const both = await photoMapsAt(gen, net, { source: file }, model, prep, [16, 8]);
  // Grids: x 0,16,32,48,54 / y 0,16,29 (stride 16) and x 0,8,…,48,54 / y 0,8,16,24,29 (stride 8), the first a subset of the second.
  assert.equal(tilesRun, 8 * 5);
  for (const [k, stride] of [16, 8].entries()) {
    const one = await photoMap(gen, net, { source: file }, model, { ...prep, tileStride: stride });
    assert.equal(one.map.length, both.maps[k].length);
    let worst = 0;
    for (let i = 0; i < one.map.length; i++) worst = Math.max(worst, Math.abs(one.map[i] - both.maps[k][i]));
    assert.ok(worst < 1e-6, `stride ${stride}: max difference ${worst}`);
  }
  assert.ok(both.maps[0].some((v, i) => Math.abs(v - both.maps[1][i]) > 1e-4), 'the two strides average different tiles');
});
