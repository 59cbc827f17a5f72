import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildDefectMap, MAP_MAX_WEIGHTS } from '../../trainer/defect-map/network';
import { focalLoss, mapLoss, milLoss, softDiceLoss, tileDiceLoss, topKMean, EPS } from '../../trainer/defect-map/loss';

before(() => tf.setBackend('cpu'));

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('defect map: [N,H,W,3C] in, [N,H,W,1] probabilities out; 240,313 weights for grey 64 px tiles (under the browser budget)', () => {
  const m = buildDefectMap({ height: 64, width: 64, channels: 1 });
  assert.deepEqual(m.inputs[0].shape, [null, 64, 64, 3]);
  assert.deepEqual(m.outputs[0].shape, [null, 64, 64, 1]);
  assert.equal(m.countParams(), 240313);
  assert.ok(m.countParams() <= MAP_MAX_WEIGHTS);
  const c = buildDefectMap({ height: 32, width: 48, channels: 3 });
  assert.deepEqual(c.inputs[0].shape, [null, 32, 48, 9]);
  const y = tf.tidy(() => c.predict(tf.randomUniform([2, 32, 48, 9], -1, 1)) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 32, 48, 1]);
  assert.ok(y.dataSync().every((v) => v > 0 && v < 1));
  // Only the generator's layer types (what the scorers' tfjs-layers loader and the fast kernels run).
  const kinds = new Set(m.layers.map((l) => l.getClassName()));
  assert.deepEqual([...kinds].sort(), ['Concatenate', 'Conv2D', 'Conv2DTranspose', 'InputLayer', 'LeakyReLU']);
  assert.throws(() => buildDefectMap({ height: 40, width: 40, channels: 1 }), /multiples of 16/);
});

test('defect map: the same seed builds the same weights', () => {
  const w = (s: number) => buildDefectMap({ height: 16, width: 16, channels: 1 }, s).getWeights()[0].dataSync();
  assert.deepEqual(w(1), w(1));
  assert.notDeepEqual(w(1), w(2));
});

// Two tiles of 2x2 pixels. Tile 0: p = [0.9, 0.2, 0.5, 0.1], mask [1, 0, 1, 0]; tile 1: p = [0.3, 0.3, 0.8, 0.05], mask zero.
const P = () => tf.tensor4d([0.9, 0.2, 0.5, 0.1, 0.3, 0.3, 0.8, 0.05], [2, 2, 2, 1]);
const Y = () => tf.tensor4d([1, 0, 1, 0, 0, 0, 0, 0], [2, 2, 2, 1]);

function focalRef(p: number[], y: number[], g: number, a: number) {
  return p.map((q, i) => (y[i] ? -a * (1 - q) ** g * Math.log(q) : -(1 - a) * q ** g * Math.log(1 - q)));
}

test('focal loss: exact values, γ = 2, α = 0.75, per weighted tile', () => {
  const t0 = focalRef([0.9, 0.2, 0.5, 0.1], [1, 0, 1, 0], 2, 0.75);
  const t1 = focalRef([0.3, 0.3, 0.8, 0.05], [0, 0, 0, 0], 2, 0.75);
  const m0 = t0.reduce((a, b) => a + b) / 4, m1 = t1.reduce((a, b) => a + b) / 4;
  // By hand, tile 0: 0.75·0.01·0.10536 + 0.25·0.04·0.22314 + 0.75·0.25·0.69315 + 0.25·0.01·0.10536 = 0.13318…
  close(m0, (0.75 * 0.01 * -Math.log(0.9) + 0.25 * 0.04 * -Math.log(0.8) + 0.75 * 0.25 * -Math.log(0.5) + 0.25 * 0.01 * -Math.log(0.9)) / 4);
  const A = { gamma: 2, alpha: 0.75 };
  close(focalLoss(P(), Y(), tf.tensor1d([1, 1]), A).dataSync()[0], (m0 + m1) / 2);
  close(focalLoss(P(), Y(), tf.tensor1d([1, 0]), A).dataSync()[0], m0);
  assert.equal(focalLoss(P(), Y(), tf.tensor1d([0, 0])).dataSync()[0], 0);
  // γ = 0, α = 0.5: half the plain binary cross-entropy.
  const bce = [0.9, 0.2, 0.5, 0.1].map((q, i) => ([1, 0, 1, 0][i] ? -Math.log(q) : -Math.log(1 - q))).reduce((a, b) => a + b) / 4;
  close(focalLoss(P(), Y(), tf.tensor1d([1, 0]), { gamma: 0, alpha: 0.5 }).dataSync()[0], bce / 2);
});

test('soft Dice: exact values over the weighted tiles together; 0 for a perfect map and for no weighted tile', () => {
  // Both tiles: Σpy = 1.4, Σp = 1.7 + 1.45 = 3.15, Σy = 2 → 1 - (2.8 + 1) / (5.15 + 1)
  close(softDiceLoss(P(), Y(), tf.tensor1d([1, 1])).dataSync()[0], 1 - 3.8 / 6.15);
  close(softDiceLoss(P(), Y(), tf.tensor1d([1, 0])).dataSync()[0], 1 - 3.8 / 4.7);
  close(softDiceLoss(Y(), Y(), tf.tensor1d([1, 1])).dataSync()[0], 0);
  assert.equal(softDiceLoss(P(), Y(), tf.tensor1d([0, 0])).dataSync()[0], 0);
});

test('per-tile Dice: exact values, only tiles with defect pixels count, a normal tile never enters', () => {
  // Tile 0 only (tile 1 has no defect pixel): 1 - (2·1.4 + 1) / (1.7 + 2 + 1)
  close(tileDiceLoss(P(), Y(), tf.tensor1d([1, 1])).dataSync()[0], 1 - 3.8 / 4.7);
  assert.equal(tileDiceLoss(P(), Y(), tf.tensor1d([0, 1])).dataSync()[0], 0);
  // Two defect tiles: the mean of their own ratios.
  const y2 = tf.tensor4d([1, 0, 1, 0, 0, 0, 1, 0], [2, 2, 2, 1]);
  close(tileDiceLoss(P(), y2, tf.tensor1d([1, 1])).dataSync()[0], ((1 - 3.8 / 4.7) + (1 - (2 * 0.8 + 1) / (1.45 + 1 + 1))) / 2);
  const g = tf.grad((p: tf.Tensor) => tileDiceLoss(p as tf.Tensor4D, Y(), tf.tensor1d([1, 1])))(P()).dataSync();
  assert.deepEqual(Array.from(g.slice(4)), [0, 0, 0, 0]);
});

test('top-k mean and the multiple-instance loss: exact values; the gradient reaches only the top k pixels', () => {
  assert.deepEqual(Array.from(topKMean(P(), 1).dataSync()).map((v) => +v.toFixed(6)), [0.9, 0.8]);
  const t2 = topKMean(P(), 2).dataSync();
  close(t2[0], 0.7); close(t2[1], 1.4 / 3); // tile 1: the two tied 0.3s are both kept
  close(topKMean(tf.tensor4d([0.3, 0.3, 0.8, 0.05], [1, 2, 2, 1]), 3).dataSync()[0], 1.4 / 3);
  const l = milLoss(P(), tf.tensor1d([1, 0]), tf.tensor1d([1, 1]), 2).dataSync()[0];
  close(l, (-Math.log(0.7) - Math.log(1 - 1.4 / 3)) / 2);
  close(milLoss(P(), tf.tensor1d([1, 0]), tf.tensor1d([0, 1]), 2).dataSync()[0], -Math.log(1 - 1.4 / 3));
  const g = tf.grad((p: tf.Tensor) => milLoss(p as tf.Tensor4D, tf.tensor1d([1, 0]), tf.tensor1d([1, 1]), 2))(P()).dataSync();
  // d/dp of -log(mean top2)/2 on tile 0: -1/(2·0.7·2) on the two top pixels (0.9, 0.5), 0 elsewhere.
  close(g[0], -1 / (2 * 0.7 * 2)); close(g[2], -1 / (2 * 0.7 * 2)); assert.equal(g[1], 0); assert.equal(g[3], 0);
  // tile 1, label 0: +1/((1 - 1.4/3)·3·2) on each of 0.8 and the two tied 0.3s, 0 on 0.05.
  for (const i of [4, 5, 6]) close(g[i], 1 / ((1 - 1.4 / 3) * 3 * 2));
  assert.equal(g[7], 0);
});

test('mapLoss adds focal + dice on masked tiles and MIL on image-only tiles; clipping keeps it finite at p = 0 and 1', () => {
  const t = { mask: Y(), hasMask: tf.tensor1d([1, 0]), label: tf.tensor1d([1, 1]), imageOnly: tf.tensor1d([0, 1]) };
  const parts = mapLoss(P(), t, { gamma: 2, alpha: 0.75, dice: 1, mil: 1, milTopK: 1, diceMode: 'batch' });
  close(parts.mil.dataSync()[0], -Math.log(0.8));
  close(parts.total.dataSync()[0], parts.focal.dataSync()[0] + parts.dice.dataSync()[0] + parts.mil.dataSync()[0]);
  const hard = tf.tensor4d([1, 0, 0, 1], [1, 2, 2, 1]);
  const f = focalLoss(hard, tf.tensor4d([0, 1, 0, 1], [1, 2, 2, 1]), tf.tensor1d([1]), { gamma: 2, alpha: 0.75 }).dataSync()[0];
  assert.ok(Number.isFinite(f) && f > 0);
  close(f, (0.25 * (1 - EPS) ** 2 * -Math.log(EPS) + 0.75 * (1 - EPS) ** 2 * -Math.log(EPS)) / 4, 1e-3);
});
