import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { buildDefectMap, INPUT_NORM_LAYER } from '../../trainer/defect-map/network';
import { measureMapInit } from '../../trainer/defect-map/input-stats';
import type { MapBatch } from '../../trainer/data/map-data';

before(() => tf.setBackend('cpu'));

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('defect map: inputStats standardise each input channel in the model itself (a fixed 1x1 conv a scorer runs too)', () => {
  const stats = { mean: [0.1, -0.2, 0.03], std: [0.5, 0.25, 0.04] };
  const m = buildDefectMap({ height: 16, width: 16, channels: 1 }, 0, { inputStats: stats });
  const norm = m.getLayer(INPUT_NORM_LAYER);
  assert.equal(norm.trainable, false);
  const x = tf.tensor4d(Array.from({ length: 3 * 4 }, (_, i) => (i % 3) * 0.1 + 0.01 * i), [1, 2, 2, 3]);
  const y = (norm.apply(x) as tf.Tensor).dataSync();
  const xs = x.dataSync();
  for (let i = 0; i < xs.length; i++) close(y[i], (xs[i] - stats.mean[i % 3]) / stats.std[i % 3]);
  // Not among the trained weights: training cannot move the standardisation.
  assert.ok(!m.trainableWeights.some((w) => w.name.includes(INPUT_NORM_LAYER)));
});

test('defect map: the output starts at the given defect prior (bias logit(prior)), and He init keeps activations from shrinking', () => {
  const m = buildDefectMap({ height: 16, width: 16, channels: 1 }, 0, { prior: 0.25 });
  close(m.getLayer('map_out').getWeights()[1].dataSync()[0], Math.log(0.25 / 0.75));
  const zero = (m.predict(tf.zeros([1, 16, 16, 3])) as tf.Tensor).dataSync();
  close(zero[0], 0.25);
  // The stem's output scale on unit-variance input: He (gain² 2/1.04) against PyTorch's 1/3.
  const scale = (init: 'he' | 'torch') => {
    const net = buildDefectMap({ height: 16, width: 16, channels: 1 }, 0, { init });
    const stem = tfl.model({ inputs: net.inputs, outputs: net.getLayer('map_enc2_act').output as tfl.SymbolicTensor });
    const v = (stem.predict(tf.randomNormal([4, 16, 16, 3], 0, 1, 'float32', 1)) as tf.Tensor).dataSync();
    return Math.sqrt(Array.from(v).reduce((s, q) => s + q * q, 0) / v.length);
  };
  assert.ok(scale('he') > 2 * scale('torch'), `${scale('he')} vs ${scale('torch')}`);
});

test('measureMapInit: per-channel mean and std of (x, r, |x - r|) and the share of defect pixels over the batches', async () => {
  // A "generator" that reconstructs every pixel as 0 (normalised): r = 0, |x - r| = |x|.
  const gen = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [2, 2, 1], filters: 1, kernelSize: 1, kernelInitializer: 'zeros', biasInitializer: 'zeros' })] });
  // uint8 0 and 255 → -1 and +1 in the generator's normalisation.
  const batch: MapBatch = { pixels: Uint8Array.from([0, 255, 255, 255]), mask: Uint8Array.from([1, 0, 0, 0]), hasMask: Float32Array.of(1), label: Float32Array.of(1), imageOnly: Float32Array.of(0), count: 1 };
  const init = await measureMapInit(gen, [batch], 2, 2, 1);
  close(init.inputStats.mean[0], 0.5);
  close(init.inputStats.std[0], Math.sqrt(0.75));
  close(init.inputStats.mean[1], 0);
  close(init.inputStats.std[1], 0);
  close(init.inputStats.mean[2], 1);
  close(init.inputStats.std[2], 0);
  close(init.prior, 0.25);
});
