import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as L from '../../trainer/losses';

before(() => tf.setBackend('cpu'));
const val = (t: tf.Tensor) => t.dataSync()[0];
const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} ≉ ${b}`);

test('Eq. 1 LSGAN discriminator loss: mean (D(x)−1)² + mean D(G(x))²', () => {
  // real [0.5, 1] → (0.25 + 0)/2 = 0.125; fake [0, 0.5] → (0 + 0.25)/2 = 0.125
  close(val(L.discriminatorLoss(tf.tensor([0.5, 1]), tf.tensor([0, 0.5]))), 0.25);
});

test('Eq. 2 reconstruction loss is the mean absolute error', () => {
  const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const y = tf.tensor4d([1, 1, 1, 1], [1, 2, 2, 1]);
  close(val(L.reconstructionLoss(x, y)), 1.5);
});

test('Eq. 3 patch loss: channel-mean error map, patch means, mean of the top n', () => {
  // error map (per pixel, channel mean of (2m, 0) = m):
  // 1 1 0 0
  // 1 1 0 0
  // 0 0 4 0
  // 0 0 0 0   → 2x2 patches, stride 2: TL 1, TR 0, BL 0, BR 1
  const m = [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0];
  const x = tf.tensor4d(m.flatMap((v) => [2 * v, 0]), [1, 4, 4, 2]);
  const y = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
  close(val(L.patchLoss(x, y, { size: 2, stride: 2, topN: 1 })), 1);
  close(val(L.patchLoss(x, y, { size: 2, stride: 2, topN: 2 })), 1);
  close(val(L.patchLoss(x, y, { size: 2, stride: 2, topN: 3 })), 2 / 3);
  // stride 1: 9 windows; the largest, rows 1–2 x cols 1–2, holds 1 + 0 + 0 + 4 → 1.25.
  close(val(L.patchLoss(x, y, { size: 2, stride: 1, topN: 1 })), 1.25);
});

test('Eq. 3 patch loss gradient flows only into the selected patches', () => {
  const x = tf.tensor4d([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0], [1, 4, 4, 1]);
  const y = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
  const g = tf.grad((a: tf.Tensor) => L.patchLoss(a as tf.Tensor4D, y, { size: 2, stride: 2, topN: 1 }))(x).dataSync();
  // Top patch = top-left (mean 1): d/dx = sign(x−y)/(k · area) = 1/4 there, 0 elsewhere.
  const expect = [0.25, 0.25, 0, 0, 0.25, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  expect.forEach((e, i) => close(g[i], e));
});

test('Eq. 4 latent loss is the mean absolute difference of the codes', () => {
  close(val(L.latentLoss(tf.tensor([0, 1, 2]), tf.tensor([1, 1, 0]))), 1);
});

test('Eq. 6 normal adversarial: mean (D(G(x)) − 1)²', () => {
  close(val(L.normalAdversarialLoss(tf.tensor([0, 1, 2]))), 2 / 3);
});

test('Eq. 7 anomaly adversarial: mean D(G(x))²', () => {
  close(val(L.anomalyAdversarialLoss(tf.tensor([1, 2]))), 2.5);
});

test('Eq. 8 ABC: −log(1 − exp(−L1)) per image, batch mean', () => {
  // image 1: L1 = 1 → 0.4586751453870819; image 2: L1 = 2 → −log(1 − e^−2) = 0.1454134578
  const x = tf.concat([tf.ones([1, 2, 2, 1]), tf.fill([1, 2, 2, 1], 2)]) as tf.Tensor4D;
  const y = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
  close(val(L.abcLoss(x, y)), (0.4586751453870819 + 0.1454134578) / 2, 1e-5);
});

test('Eq. 8 ABC stays finite as L1 → 0 and for large L1, values and gradients', () => {
  const l = tf.tensor1d([0, 1e-9, 1e-5, 1e-3, 1, 30, 100, 1e4]);
  const v = L.abcOfL1(l).dataSync();
  const g = tf.grad((t: tf.Tensor) => tf.sum(L.abcOfL1(t as tf.Tensor1D)))(l).dataSync();
  for (let i = 0; i < v.length; i++) {
    assert.ok(Number.isFinite(v[i]), `value ${i} = ${v[i]}`);
    assert.ok(Number.isFinite(g[i]), `grad ${i} = ${g[i]}`);
    assert.ok(v[i] >= 0);
  }
  close(v[0], -Math.log(1e-6), 1e-3); // floored at 1e-6
  close(v[2], -Math.log(-Math.expm1(-1e-5)), 1e-4); // small-L1 series is accurate
  close(v[4], 0.4586751453870819, 1e-6);
  close(v[7], 0, 1e-12);
  close(g[4], -1 / Math.expm1(1), 1e-6); // f'(l) = −1/(e^l − 1)
  assert.ok(g[3] < g[4] && g[4] < 0, 'the gradient pushes L1 up, harder when L1 is small');
});

test('weighted sum uses Table 2 defaults and any configured weights', () => {
  assert.deepEqual(L.PAPER_WEIGHTS, { recon: 1.5, abc: 0.5, normalAdv: 0.5, patch: 1.5, latent: 0.5, anomalyAdv: 1.0 });
  const parts = { recon: tf.scalar(2), abc: tf.scalar(3) };
  close(val(L.weightedSum(parts, L.PAPER_WEIGHTS)), 1.5 * 2 + 0.5 * 3);
  close(val(L.weightedSum(parts, { ...L.PAPER_WEIGHTS, abc: 0 })), 3);
});
