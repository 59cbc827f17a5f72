import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { dihedral, loadJitterStore, loadMapData, MapSampler, type MapData } from '../../trainer/data/map-data';
import { cutJittered, jitterOffset } from '../../trainer/data/defect-crops';
import { mapLearningRate, setLearningRate } from '../../trainer/defect-map/schedule';
import { jitterRadius, MAP_RECIPE } from '../../trainer/defect-map/recipe';
import { Rng } from '../../trainer/rng';
import { tempDir } from '../helpers/cli';

before(async () => { await tf.setBackend('cpu'); });

test('warmup: the rate rises linearly to the base over `warmup` updates, then stays; 0 means none', () => {
  assert.equal(mapLearningRate(3e-3, 100, 1), 3e-5);
  assert.equal(mapLearningRate(3e-3, 100, 50), 1.5e-3);
  assert.equal(mapLearningRate(3e-3, 100, 100), 3e-3);
  assert.equal(mapLearningRate(3e-3, 100, 5000), 3e-3);
  assert.equal(mapLearningRate(3e-3, 0, 1), 3e-3);
});

test('setLearningRate changes the step Adam takes next (tfjs reads the rate at each update)', () => {
  const v = tf.variable(tf.scalar(0));
  const opt = tf.train.adam(1, 0.9, 0.999);
  setLearningRate(opt, 0.01);
  opt.minimize(() => tf.mul(v, 1) as tf.Scalar);
  // Adam's first step is the rate times sign(gradient).
  assert.ok(Math.abs(v.dataSync()[0] + 0.01) < 1e-4, `moved by ${v.dataSync()[0]}`);
  opt.dispose(); v.dispose();
});

test('the recipe\'s jitter radius scales with the tile', () => {
  assert.equal(jitterRadius({ cropJitter: 0.25 }, 64), 16);
  assert.equal(jitterRadius({ cropJitter: 0 }, 64), 0);
  assert.ok(MAP_RECIPE.warmup >= 0 && MAP_RECIPE.lrFactor > 0);
});

/** Defect photos whose defect pixels are exactly the bright ones (255 blobs on a 40–120 texture), masks beside them; TIFF so no compression blurs the edge. */
async function brightDefects(): Promise<string> {
  const root = join(tempDir('flawscope-jitter-'), 'data');
  const W = 150, H = 110;
  for (const [cls, n] of [['good', 2], ['defect', 2]] as const) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let k = 0; k < n; k++) {
      const img = new Uint8Array(W * H), mask = new Uint8Array(W * H);
      for (let i = 0; i < img.length; i++) img[i] = 40 + ((i * 7 + k * 13) % 80);
      if (cls === 'defect') {
        for (const [cx, cy, r] of [[30 + 40 * k, 40, 9], [100, 70 + 10 * k, 6]]) {
          for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) { img[y * W + x] = 255; mask[y * W + x] = 255; }
        }
      }
      await sharp(Buffer.from(img), { raw: { width: W, height: H, channels: 1 } }).tiff({ compression: 'lzw' }).toFile(join(root, cls, `${cls}${k}.tiff`));
      await sharp(Buffer.from(mask), { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(root, cls, `${cls}${k}.png`));
    }
  }
  return root;
}

let data: MapData;
before(async () => {
  data = await loadMapData({ root: await brightDefects(), size: 32, channels: 1, seed: 0, validationFraction: 0, testFraction: 0, protocol: 'defect', balance: 'false', augment: 'none' });
});

test('crop jitter: offset (0, 0) re-cuts exactly the stored crop and its mask; any offset keeps the mask on the defect pixels', async () => {
  const a = data.training.anomaly!;
  assert.ok(a.count >= 4, `${a.count} defect crops`);
  const store = (await loadJitterStore(data))!;
  assert.ok(store);
  const crops = await Promise.all(Array.from({ length: a.count }, (_, d) => a.readBatch([d])));
  const px = new Uint8Array(32 * 32), m = new Uint8Array(32 * 32);
  let moved = 0;
  const rng = new Rng(5);
  for (let d = 0; d < a.count; d++) {
    assert.ok(cutJittered(store, d, 0, 0, px, m));
    assert.deepEqual(px, crops[d]);
    assert.deepEqual(m, Uint8Array.from(data.anomalyMasks!.image(d), (v) => (v >= 128 ? 1 : 0)));
    for (let t = 0; t < 20; t++) {
      const dx = jitterOffset(() => rng.next(), 8), dy = jitterOffset(() => rng.next(), 8);
      assert.ok(dx >= -8 && dx <= 8 && dy >= -8 && dy <= 8);
      cutJittered(store, d, dx, dy, px, m);
      for (let p = 0; p < px.length; p++) assert.equal(px[p] === 255 ? 1 : 0, m[p], `crop ${d} moved (${dx}, ${dy}), pixel ${p}`);
      if (px.some((v, p) => v !== crops[d][p])) moved++;
    }
  }
  assert.ok(moved > 0, 'jitter moves the crop');
});

test('sampler with crop jitter: defect tiles are cut at new places (not only the grid crops, in any symmetry), masks still aligned', async () => {
  const a = data.training.anomaly!;
  const store = (await loadJitterStore(data))!;
  const seen = new Set<string>();
  for (let d = 0; d < a.count; d++) for (let t = 0; t < 8; t++) { const q = await a.readBatch([d]); dihedral(q, 32, 1, t); seen.add(q.join(',')); }
  const r = new Rng(2);
  const s = new MapSampler(data, 8, () => r.next(), undefined, { store, radius: 8 });
  let fresh = 0;
  for (let k = 0; k < 10; k++) {
    const b = await s.next();
    for (let i = 0; i < b.count; i++) {
      if (!b.label[i]) continue;
      const tile = b.pixels.subarray(i * 1024, (i + 1) * 1024), m = b.mask.subarray(i * 1024, (i + 1) * 1024);
      for (let p = 0; p < 1024; p++) assert.equal(tile[p] === 255 ? 1 : 0, m[p]);
      if (!seen.has(Array.from(tile).join(','))) fresh++;
    }
  }
  assert.ok(fresh > 0, 'some defect tiles are off the grid');
});

test('sampler with crop jitter resumes exactly: tile orders plus the random state give the same jittered batches', async () => {
  const store = (await loadJitterStore(data))!;
  const r1 = new Rng(9);
  const a = new MapSampler(data, 8, () => r1.next(), undefined, { store, radius: 8 });
  for (let k = 0; k < 3; k++) await a.next();
  const saved = a.save(), state = (r1 as unknown as { state: number }).state;
  const next = [await a.next(), await a.next()];
  // As map-loop.ts resumes: the sampler is made (its constructor shuffles), then its orders and the random state are restored.
  const r2 = new Rng(1);
  const b = new MapSampler(data, 8, () => r2.next(), undefined, { store, radius: 8 });
  b.restore(saved);
  (r2 as unknown as { state: number }).state = state;
  for (const want of next) {
    const got = await b.next();
    assert.deepEqual(got.pixels, want.pixels);
    assert.deepEqual(got.mask, want.mask);
  }
});
