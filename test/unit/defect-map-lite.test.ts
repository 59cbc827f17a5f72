import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { bilinearUpsampleKernel, bnName, buildDefectMap, LITE_UPSAMPLE_LAYER } from '../../trainer/defect-map/network';
import { foldBatchNorm } from '../../trainer/defect-map/fold-bn';
import { Rng } from '../../trainer/rng';

before(() => tf.setBackend('cpu'));

const shape = { height: 64, width: 64, channels: 1 as const };
const stats = { inputStats: { mean: [0.1, -0.2, 0.05], std: [0.5, 0.4, 0.02] }, prior: 0.2 };
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** Weights of a conv (k x k, cin → cout, with bias). */
const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + cout;

test('the lite map: full-resolution output, no full-resolution hidden layer, the weight count of its layer list', () => {
  const m = buildDefectMap(shape, 0, { ...stats, architecture: 'lite' });
  assert.deepEqual(m.outputShape, [null, 64, 64, 1]);
  // enc1..4 (4x4 stride 2), context 3x3, dec1..3 (transposed 4x4) with skips from enc3..1, the output conv at 32², the fixed upsampler (no bias), the input standardisation (1x1, 3 → 3).
  const expected = conv(1, 3, 3) + conv(4, 3, 16) + conv(4, 16, 32) + conv(4, 32, 48) + conv(4, 48, 64) + conv(3, 64, 64)
    + conv(4, 64, 32) + conv(4, 32 + 48, 16) + conv(4, 16 + 32, 8) + conv(3, 8 + 16, 1) + 16;
  assert.equal(m.countParams(), expected);
  assert.ok(m.countParams() < buildDefectMap(shape, 0, stats).countParams());
  // Every hidden layer runs at half resolution or below: the two 64² stages of the U-Net are gone.
  for (const l of m.layers) {
    const s = l.outputShape as number[];
    if (!['InputLayer', 'Conv2DTranspose', 'Activation'].includes(l.getClassName()) && l.name !== 'map_input_norm') assert.ok(s[1] <= 32, `${l.name} at ${s[1]}²`);
  }
  assert.deepEqual(m.getLayer('map_out').outputShape, [null, 32, 32, 1]);
  // Only layer kinds every scorer loads.
  assert.deepEqual([...new Set(m.layers.map((l) => l.getClassName()))].sort(), ['Activation', 'Concatenate', 'Conv2D', 'Conv2DTranspose', 'InputLayer', 'LeakyReLU']);
});

test('the default architecture is still the U-Net older model folders hold', () => {
  const m = buildDefectMap(shape, 0, stats);
  assert.ok(m.layers.some((l) => l.name === 'map_stem'));
  assert.ok(!m.layers.some((l) => l.name === LITE_UPSAMPLE_LAYER));
  assert.deepEqual(m.getLayer('map_out').outputShape, [null, 64, 64, 1]);
});

/** Bilinear 2x upsampling with half-pixel centres of one [h, w] map, the outside taken as 0. */
function bilinearZeroPadded(v: Float32Array, h: number, w: number): Float32Array {
  const at = (i: number, j: number) => (i < 0 || j < 0 || i >= h || j >= w ? 0 : v[i * w + j]);
  const out = new Float32Array(4 * h * w);
  for (let y = 0; y < 2 * h; y++) for (let x = 0; x < 2 * w; x++) {
    // Output 2i + a sits at input coordinate i - 1/4 (a = 0) or i + 1/4 (a = 1): 3/4 of row i, 1/4 of its neighbour on that side.
    const i = y >> 1, j = x >> 1, di = y & 1 ? 1 : -1, dj = x & 1 ? 1 : -1;
    out[y * 2 * w + x] = 0.5625 * at(i, j) + 0.1875 * (at(i + di, j) + at(i, j + dj)) + 0.0625 * at(i + di, j + dj);
  }
  return out;
}

test('the fixed upsampler is exactly bilinear (tf.image.resizeBilinear inside the tile, zero-extended at its ring) and does not train', async () => {
  const m = buildDefectMap(shape, 0, { ...stats, architecture: 'lite' });
  const up = m.getLayer(LITE_UPSAMPLE_LAYER);
  assert.equal(up.trainable, false);
  assert.ok(!m.trainableWeights.some((w) => w.originalName.startsWith(LITE_UPSAMPLE_LAYER)));
  assert.deepEqual(Array.from(up.getWeights()[0].dataSync()), Array.from(bilinearUpsampleKernel()));
  const logit = tf.randomNormal([1, 8, 8, 1], 0, 3, 'float32', 4) as tf.Tensor4D;
  const y = up.apply(logit) as tf.Tensor4D;
  const ref = bilinearZeroPadded(logit.dataSync() as Float32Array, 8, 8);
  assert.ok(maxDiff(y, tf.tensor4d(ref, [1, 16, 16, 1])) <= 1e-5);
  const resized = tf.image.resizeBilinear(logit, [16, 16], false, true);
  const inner = (t: tf.Tensor4D) => tf.slice(t, [0, 1, 1, 0], [1, 14, 14, 1]);
  assert.ok(maxDiff(inner(y), inner(resized)) <= 1e-5);
  // A training step moves every trainable weight but not the upsampler's.
  const before = up.getWeights()[0].dataSync().slice();
  const outBefore = m.getLayer('map_out').getWeights()[0].dataSync().slice();
  const x = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 3);
  const target = tf.cast(tf.greater(tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 8), 0.5), 'float32');
  tf.train.adam(0.01).minimize(() => tf.losses.meanSquaredError(target, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  assert.deepEqual(Array.from(up.getWeights()[0].dataSync()), Array.from(before));
  assert.notDeepEqual(Array.from(m.getLayer('map_out').getWeights()[0].dataSync()), Array.from(outBefore));
});

test('a BN lite map folds into the plain lite map: the same inference output within 1e-4, the upsampler copied as it is', () => {
  const bnNet = buildDefectMap(shape, 3, { ...stats, batchNorm: true, architecture: 'lite' });
  const rng = new Rng(7);
  const u = (n: number, lo: number, hi: number) => tf.tensor1d(Array.from({ length: n }, () => lo + (hi - lo) * rng.next()));
  const bnLayers = bnNet.layers.filter((l) => l.getClassName() === 'MapBatchNorm');
  assert.deepEqual(bnLayers.map((l) => l.name), ['map_enc1', 'map_enc2', 'map_enc3', 'map_enc4', 'map_context', 'map_dec1', 'map_dec2', 'map_dec3'].map(bnName));
  for (const l of bnLayers) {
    const n = l.getWeights()[0].size;
    l.setWeights([u(n, 0.5, 2), u(n, -0.5, 0.5), u(n, -0.3, 0.3), u(n, 0.2, 3), tf.tensor1d([1000])]);
  }
  const plain = buildDefectMap(shape, 11, { ...stats, architecture: 'lite' });
  foldBatchNorm(bnNet, plain);
  assert.deepEqual(Array.from(plain.getLayer(LITE_UPSAMPLE_LAYER).getWeights()[0].dataSync()), Array.from(bilinearUpsampleKernel()));
  const x = tf.randomUniform([3, 64, 64, 3], -1, 1, 'float32', 5);
  // The logit (before the sigmoid hides errors in saturation) and the probability.
  const logit = (m: tfl.LayersModel) => tfl.model({ inputs: m.inputs, outputs: m.getLayer(LITE_UPSAMPLE_LAYER).output as tfl.SymbolicTensor }).predict(x) as tf.Tensor;
  const lb = logit(bnNet), lp = logit(plain);
  assert.ok(maxDiff(lb, lp) <= 1e-4 * Math.max(1, tf.max(tf.abs(lb)).dataSync()[0]), `logit max |diff| ${maxDiff(lb, lp)}`);
  assert.ok(maxDiff(bnNet.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor) <= 1e-4);
  assert.ok(maxDiff(bnNet.apply(x, { training: true }) as tf.Tensor, plain.predict(x) as tf.Tensor) > 1e-3);
});
