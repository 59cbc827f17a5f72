/**
 * Image-labelled defect photos (no masks) as multiple-instance bags: the bag loss, the cover of
 * a photo by its crops, the sampler's bags, and the data reader cutting mask-free defect photos
 * into native crops grouped by photo (trainer/data/map-data.ts, trainer/defect-map/loss.ts).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { bagCover, coverAxis, loadMapData, MapSampler, photoBags, type PhotoBag } from '../../trainer/data/map-data';
import { MemoryImageSet } from '../../trainer/data/image-set';
import type { CatalogItem } from '../../trainer/data/catalog';
import type { TrainingData } from '../../trainer/data/types';
import { bagMilLoss, mapLoss, DEFAULT_MAP_LOSS } from '../../trainer/defect-map/loss';
import { Rng } from '../../trainer/rng';
import { paintedDefects } from '../helpers/painted-defects';

before(() => tf.setBackend('cpu'));

test('bag loss: the gradient reaches only the top-k pixels of each bag\'s highest tile, defect bags pushed up, normal bags pushed down; a normal tile in no bag is its own bag', () => {
  const S = 4, k = 2, T = S * S;
  // Tiles 0-2: a defect bag (label 1); tiles 3-4: a normal bag (label 0); tile 5: a normal tile in no bag.
  const v = new Float32Array(6 * T).fill(0.1);
  v[1 * T + 5] = 0.9; v[1 * T + 6] = 0.8; // tile 1 is the defect bag's highest
  v[2 * T + 0] = 0.7; // tile 2 second
  v[4 * T + 3] = 0.6; v[4 * T + 9] = 0.4; // tile 4 is the normal bag's highest
  const p = tf.tensor4d(v, [6, S, S, 1]);
  const bag = tf.tensor1d([0, 0, 0, 1, 1, -1], 'int32');
  const label = tf.tensor1d([1, 1, 1, 0, 0, 0]);
  const g = tf.grad((x: tf.Tensor) => bagMilLoss(x as tf.Tensor4D, bag, label, k))(p).dataSync();
  const nonzero = [...g.keys()].filter((i) => g[i] !== 0);
  assert.deepEqual(nonzero.filter((i) => i < 3 * T), [1 * T + 5, 1 * T + 6], 'defect bag: only its top tile\'s top-k pixels');
  assert.ok([1 * T + 5, 1 * T + 6].every((i) => g[i] < 0), 'pushed up');
  assert.deepEqual(nonzero.filter((i) => i >= 3 * T && i < 5 * T), [4 * T + 3, 4 * T + 9], 'normal bag: only its top tile\'s top-k pixels');
  assert.ok([4 * T + 3, 4 * T + 9].every((i) => g[i] > 0), 'pushed down');
  // The lone normal tile (all ties at 0.1: its top-k mean is every pixel) is pushed down everywhere.
  assert.ok([...g.subarray(5 * T)].every((x) => x > 0));
  // Value: (−log mean(0.9, 0.8) + mean(−log(1 − mean(0.6, 0.4)), −log(1 − 0.1))) / 2.
  const l = bagMilLoss(p, bag, label, k).dataSync()[0];
  const want = (-Math.log(0.85) + (-Math.log(0.5) - Math.log(0.9)) / 2) / 2;
  assert.ok(Math.abs(l - want) < 1e-5, `${l} vs ${want}`);
});

test('bag loss: a normal bag saturated at 1 is still pulled down (the clip bounds the value, not the gradient)', () => {
  const S = 2;
  const p = tf.tensor4d([0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1], [2, S, S, 1]);
  const bag = tf.tensor1d([0, 1], 'int32');
  const label = tf.tensor1d([1, 0]);
  const l = bagMilLoss(p, bag, label, 4).dataSync()[0];
  assert.ok(Number.isFinite(l) && l > 6, String(l));
  const g = tf.grad((x: tf.Tensor) => bagMilLoss(x as tf.Tensor4D, bag, label, 4))(p).dataSync();
  assert.ok([...g.subarray(4)].every((x) => x > 0), `${[...g]}`);
});

test('mapLoss: with bag ids the multiple-instance term is the bag loss; without them it is as before', () => {
  const S = 4;
  const p = tf.tensor4d(new Float32Array(3 * S * S).fill(0.2), [3, S, S, 1]);
  const base = { mask: tf.zeros([3, S, S, 1]) as tf.Tensor4D, hasMask: tf.tensor1d([1, 0, 0]), label: tf.tensor1d([0, 1, 1]), imageOnly: tf.tensor1d([0, 0, 0]) };
  assert.equal(mapLoss(p, base, DEFAULT_MAP_LOSS).mil.dataSync()[0], 0);
  // Tile 0: a normal tile in no bag; tiles 1-2: one defect bag.
  const withBags = mapLoss(p, { ...base, bag: tf.tensor1d([-1, 0, 0], 'int32') }, DEFAULT_MAP_LOSS).mil.dataSync()[0];
  assert.ok(Math.abs(withBags - (-Math.log(0.2) - Math.log(0.8)) / 2) < 1e-5, String(withBags));
});

test('coverAxis: crops that cover the axis once, seams moved by the shift', () => {
  const xs = [0, 32, 64, 96, 128, 160, 184]; // a 248 px side, 64 px crops 32 apart, the last flush
  assert.deepEqual(coverAxis(xs, 64, 64), [0, 64, 128, 184]);
  assert.deepEqual(coverAxis(xs, 64, 40), [0, 32, 96, 160, 184]);
  for (let shift = 1; shift <= 64; shift++) {
    const c = coverAxis(xs, 64, shift);
    assert.equal(c[0], 0);
    for (let i = 1; i < c.length; i++) assert.ok(c[i] > c[i - 1] && c[i] <= c[i - 1] + 64, `shift ${shift}: ${c}`);
    assert.equal(c[c.length - 1], 184);
  }
  assert.deepEqual(coverAxis([0], 64, 64), [0]);
});

/** Crops of photo p at grid (x, y), each tile's pixels all equal to its photo's value (defect photo p: 10 (p + 1); normal photo q: 200 + q): the photo can be read back after flips and turns. */
function bagData(photos: number, normalPhotos: number, grid: number, S = 8) {
  const crops = (prefix: string, n: number): CatalogItem[] => {
    const out: CatalogItem[] = [];
    for (let p = 0; p < n; p++) for (let gy = 0; gy < grid; gy++) for (let gx = 0; gx < grid; gx++)
      out.push({ className: prefix, source: `${prefix}${p}.jpg`, crop: { x: gx * 32, y: gy * 32, w: 64, h: 64 } });
    return out;
  };
  const items = crops('d', photos), normals = crops('n', normalPhotos);
  const fill = (list: CatalogItem[], value: (p: number) => number) => {
    const px = new Uint8Array(list.length * S * S);
    list.forEach((it, i) => px.fill(value(Number(it.source.slice(1, -4))), i * S * S, (i + 1) * S * S));
    return new MemoryImageSet(px, list.length, S, S, 1);
  };
  const training = { normal: fill(normals, (q) => 200 + q), anomaly: fill(items, (p) => 10 * (p + 1)) } as unknown as TrainingData;
  return { training, anomalyMasks: null, anomalyHasMask: new Uint8Array(items.length), bags: photoBags(items, 64), normalBags: photoBags(normals, 64) };
}

test('sampler with bags: a batch is one normal photo\'s cover (a negative bag, pixel-labelled 0) and one defect photo\'s cover (label 1, no mask), every bag\'s tiles from its one photo', async () => {
  const d = bagData(5, 7, 4); // 5 defect and 7 normal photos, 4 x 4 crops each (a 160 px square, crops 32 apart)
  assert.equal(d.bags.length, 5);
  assert.ok(d.bags.every((b) => b.tiles.length === 16));
  const r = new Rng(3);
  const s = new MapSampler(d, 32, () => r.next());
  assert.deepEqual(s.composition, { normal: 0, real: 0, synthetic: 0, bags: 1, bagTiles: 32, normalBags: 1 });
  const seenDefect = new Set<number>(), seenNormal = new Set<number>();
  for (let k = 0; k < 14; k++) {
    const b = await s.next();
    assert.ok(b.bag, 'bag ids');
    assert.ok([...b.bag!].every((id) => id === 0 || id === 1), 'every tile in a bag');
    for (const [id, seen, lab, masked] of [[0, seenDefect, 1, 0], [1, seenNormal, 0, 1]] as const) {
      const tiles: number[] = [...b.bag!.keys()].filter((i) => b.bag![i] === id);
      // A 160 px side is covered by 3 or 4 crops of 64: 9 to 16 tiles.
      assert.ok(tiles.length >= 9 && tiles.length <= 16, String(tiles.length));
      const values = new Set<number>(tiles.map((i) => b.pixels[i * 64]));
      assert.equal(values.size, 1, 'one photo per bag');
      seen.add([...values][0]);
      for (const i of tiles) { assert.equal(b.label[i], lab); assert.equal(b.hasMask[i], masked); assert.equal(b.imageOnly[i], 0); }
    }
  }
  assert.equal(seenDefect.size, 5, 'every defect photo drawn in a pass');
  assert.equal(seenNormal.size, 7, 'every normal photo drawn in a pass');
  assert.ok([...seenNormal].every((v) => v >= 200) && [...seenDefect].every((v) => v < 200));
});

test('bagCover: each crop of the cover is one of the bag\'s, and together they reach every edge', () => {
  const bag: PhotoBag = photoBags(Array.from({ length: 12 }, (_, i) => ({ className: 'd', source: 's', crop: { x: (i % 4) * 32, y: Math.floor(i / 4) * 32, w: 64, h: 64 } })), 64)[0];
  const c = bagCover(bag, 64, 64);
  assert.deepEqual(c.map((t) => [bag.x[t], bag.y[t]]), [[0, 0], [64, 0], [96, 0], [0, 64], [64, 64], [96, 64]]);
});

test('loadMapData: class folders without masks are cut into native 64 px crops like the normal photos, the defect crops grouped by photo (bags), not squeezed whole', { timeout: 60_000 }, async () => {
  const root = await paintedDefects({ normal: 8, defect: 8, size: 128, masks: false });
  const d = await loadMapData({ root, size: 64, seed: 0, protocol: 'defect', balance: 'false', augment: 'none' });
  assert.equal(d.labels, 'image');
  assert.equal(d.patchSize, 64);
  assert.deepEqual(d.training.preprocess, { mode: 'tile', scale: 1 });
  assert.equal(d.anomalyMasks, null);
  const a = d.training.anomaly!;
  assert.equal(a.width, 64);
  assert.ok(d.bags && d.bags.length > 0);
  // 128 px photos, 64 px crops 32 apart: 3 x 3 crops each, every one of a photo in its bag.
  assert.equal(a.count, d.bags.length * 9);
  for (const b of d.bags) {
    assert.equal(b.tiles.length, 9);
    assert.ok([...b.tiles].every((t) => d.defectItems![t].source === b.source && d.defectItems![t].crop));
  }
  assert.equal(new Set(d.bags.map((b) => b.source)).size, d.bags.length);
  assert.equal(d.training.normal.count % 9, 0);
  // The normal photos' crops are grouped alike: the negative bags.
  assert.equal(d.normalBags!.length * 9, d.training.normal.count);
  // Validation and test stay whole photos for the photo-level figures.
  assert.ok(d.photos.validation.some((p) => p.isAnomaly) || d.photos.test.some((p) => p.isAnomaly));
});
