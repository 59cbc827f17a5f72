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
