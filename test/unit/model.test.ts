import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildDiscriminator, buildEncoder, buildGenerator } from '../../trainer/model';

before(() => tf.setBackend('cpu'));

test('generator has exactly 97,587 weights at 32x32x3 (paper: 97.75K)', () => {
  assert.equal(buildGenerator({ height: 32, width: 32, channels: 3 }).countParams(), 97587);
});

test('skip options: no-outer drops the enc1 skip (−384 weights: dec4 sees 8 channels, not 16), none drops all three (−10,624)', () => {
  const shape = { height: 32, width: 32, channels: 3 } as const;
  const skipsOf = (m: 'all' | 'no-outer' | 'none') => buildGenerator(shape, 0, m).layers.filter((l) => l.name.startsWith('skip')).map((l) => l.name);
  assert.deepEqual(skipsOf('all'), ['skip3', 'skip2', 'skip1']);
  assert.deepEqual(skipsOf('no-outer'), ['skip3', 'skip2']);
  assert.deepEqual(skipsOf('none'), []);
  // By hand: dec4 kernel 4·4·16·3 → 4·4·8·3; none also shrinks dec2 (4·4·64·16 → 4·4·32·16) and dec3 (4·4·32·8 → 4·4·16·8).
  assert.equal(buildGenerator(shape, 0, 'no-outer').countParams(), 97587 - (768 - 384));
  assert.equal(buildGenerator(shape, 0, 'none').countParams(), 97587 - (16384 - 8192) - (4096 - 2048) - (768 - 384));
  const g = buildGenerator(shape, 0, 'none');
  const y = tf.tidy(() => (g.predict(tf.zeros([2, 32, 32, 3])) as tf.Tensor).shape);
  assert.deepEqual(y, [2, 32, 32, 3]);
  assert.throws(() => buildGenerator(shape, 0, 'some' as 'all'), /skips "some": use all, no-outer, none/);
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
