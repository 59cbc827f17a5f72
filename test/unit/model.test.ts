import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildDiscriminator, buildEncoder, buildGenerator } from '../../trainer/model';

before(() => tf.setBackend('cpu'));

test('generator has exactly 97,587 weights at 32x32x3 (paper: 97.75K)', () => {
  assert.equal(buildGenerator({ height: 32, width: 32, channels: 3 }).countParams(), 97587);
});

test('discriminator has 76,312 weights at 32x32x3 (paper: 76.39K)', () => {
  assert.equal(buildDiscriminator({ height: 32, width: 32, channels: 3 }, 0, 'd').countParams(), 76312);
});

test('encoder G_E shares the generator weights and ends in a 2x2x64 bottleneck at 32x32', () => {
  const g = buildGenerator({ height: 32, width: 32, channels: 3 });
  const e = buildEncoder(g);
  assert.deepEqual(e.outputs[0].shape, [null, 2, 2, 64]);
  assert.equal(e.countParams(), 392 + 2064 + 8224 + 32832);
  assert.ok(e.weights.every((w) => g.weights.includes(w)), 'encoder weights are the generator\'s own');
});

test('generator maps HxWxC to HxWxC in [-1, 1], greyscale and non-square too', () => {
  for (const s of [{ height: 32, width: 32, channels: 1 as const }, { height: 16, width: 48, channels: 3 as const }]) {
    const g = buildGenerator(s);
    const y = g.predict(tf.randomUniform([2, s.height, s.width, s.channels], -1, 1)) as tf.Tensor;
    assert.deepEqual(y.shape, [2, s.height, s.width, s.channels]);
    const v = y.dataSync();
    assert.ok(v.every((a) => a >= -1 && a <= 1));
  }
});

test('sizes that are not multiples of 16 and bad channel counts are refused', () => {
  assert.throws(() => buildGenerator({ height: 28, width: 28, channels: 1 }), /multiples of 16/);
  assert.throws(() => buildGenerator({ height: 32, width: 32, channels: 2 as 1 }), /channels must be 1 or 3/);
});

test('the same seed builds the same weights; another seed does not', () => {
  const w = (seed: number) => buildGenerator({ height: 16, width: 16, channels: 1 }, seed).getWeights()[0].dataSync();
  assert.deepEqual(w(3), w(3));
  assert.notDeepEqual(w(3), w(4));
});
