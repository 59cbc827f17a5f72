import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { batchComposition, dihedral, IndexCycle, MapSampler } from '../../trainer/data/map-data';
import { MemoryImageSet } from '../../trainer/data/image-set';
import type { TrainingData } from '../../trainer/data/types';
import { imageScore, PixelRoc, IMAGE_SCORE_RULES } from '../../trainer/defect-map/evaluate';
import { auroc } from '../../trainer/metrics';
import { Rng } from '../../trainer/rng';

before(() => tf.setBackend('cpu'));

test('sampling rule: half of each batch normal (rounded down), the other half defect; real and synthetic split the defect half evenly', () => {
  assert.deepEqual(batchComposition(32, { real: true, synthetic: false }), { normal: 16, real: 16, synthetic: 0 });
  assert.deepEqual(batchComposition(33, { real: true, synthetic: false }), { normal: 16, real: 17, synthetic: 0 });
  assert.deepEqual(batchComposition(32, { real: false, synthetic: true }), { normal: 16, real: 0, synthetic: 16 });
  assert.deepEqual(batchComposition(32, { real: true, synthetic: true }), { normal: 16, real: 8, synthetic: 8 });
  assert.deepEqual(batchComposition(6, { real: true, synthetic: true }), { normal: 3, real: 2, synthetic: 1 });
  assert.throws(() => batchComposition(1, { real: true, synthetic: false }), /--batch 1: the defect map needs at least 2/);
});

function tinyTraining(nNormal: number, nDefect: number, S = 8) {
  const normal = new MemoryImageSet(new Uint8Array(nNormal * S * S).fill(10), nNormal, S, S, 1);
  const px = new Uint8Array(nDefect * S * S);
  const masks = new Uint8Array(nDefect * S * S);
  for (let i = 0; i < nDefect; i++) for (let p = 0; p < S * 2; p++) { px[i * S * S + p] = 200; masks[i * S * S + p] = 255; } // top two rows
  const anomaly = new MemoryImageSet(px, nDefect, S, S, 1);
  return { training: { normal, anomaly } as unknown as TrainingData, anomalyMasks: new MemoryImageSet(masks, nDefect, S, S, 1) };
}

test('sampler: every batch holds exactly the rule\'s share of defect tiles, whatever the set sizes (3 defect vs 500 normal); masks follow their tiles through flips and turns', async () => {
  const { training, anomalyMasks } = tinyTraining(500, 3);
  const hasMask = Uint8Array.from([1, 1, 0]); // the third: image label only
  const r = new Rng(1);
  const s = new MapSampler({ training, anomalyMasks, anomalyHasMask: hasMask }, 10, () => r.next());
  let imageOnly = 0;
  for (let k = 0; k < 20; k++) {
    const b = await s.next();
    assert.equal(b.count, 10);
    assert.equal(b.label.reduce((a, v) => a + v, 0), 5, 'half the batch is defect tiles');
    for (let i = 0; i < 10; i++) {
      const tile = b.pixels.subarray(i * 64, (i + 1) * 64), m = b.mask.subarray(i * 64, (i + 1) * 64);
      if (i < 5) { assert.equal(b.hasMask[i], 1); assert.ok(m.every((v) => v === 0)); assert.ok(tile.every((v) => v === 10)); continue; }
      if (b.imageOnly[i]) { imageOnly++; assert.equal(b.hasMask[i], 0); assert.ok(m.every((v) => v === 0)); continue; }
      // A masked defect tile: its bright pixels are exactly its mask's pixels, whichever symmetry it got.
      assert.equal(m.reduce((a, v) => a + v, 0), 16);
      for (let p = 0; p < 64; p++) assert.equal(tile[p] === 200 ? 1 : 0, m[p]);
    }
  }
  assert.ok(imageOnly > 0 && imageOnly < 100);
});

test('IndexCycle draws each index once per pass; dihedral maps are the 8 symmetries (t = 4|1 twice = identity)', () => {
  const c = new IndexCycle(5, new Rng(3).next.bind(new Rng(3)));
  assert.deepEqual(c.take(5).sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(c.take(5).sort(), [0, 1, 2, 3, 4]);
  const a = Uint8Array.from({ length: 9 }, (_, i) => i);
  const seen = new Set<string>();
  for (let t = 0; t < 8; t++) { const b = a.slice(); dihedral(b, 3, 1, t); seen.add(b.join()); }
  assert.equal(seen.size, 8);
  const b = a.slice(); dihedral(b, 3, 1, 2); dihedral(b, 3, 1, 2);
  assert.deepEqual(b, a);
});

test('image-score rules are the scorers\' (windows wholly inside the map, round(f · n) pixels): exact values', () => {
  // 3x3 map, one hot pixel 0.9 in the centre, 0.1 elsewhere.
  const m = Float32Array.from([0.1, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1]);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  close(imageScore(m, 3, 3, { kind: 'max', smooth: 1 }), 0.9);
  close(imageScore(m, 3, 3, { kind: 'max', smooth: 3 }), (0.9 + 0.1 * 8) / 9); // the one 3x3 window
  close(imageScore(m, 3, 3, { kind: 'max', smooth: 9 }), (0.9 + 0.1 * 8) / 9); // k shrinks to the map
  close(imageScore(m, 3, 3, { kind: 'topMean', fraction: 0.2 }), (0.9 + 0.1) / 2); // round(0.2·9) = 2 pixels
  close(imageScore(m, 3, 3, { kind: 'topMean', fraction: 1 }), 1.7 / 9);
  assert.equal(IMAGE_SCORE_RULES.length, 8);
});

test('pixel AUROC from histograms equals the exact AUROC when scores fall in distinct bins, and counts ties half', () => {
  const r = new Rng(5);
  const s = Array.from({ length: 400 }, () => Math.round(r.next() * 1000) / 1000);
  const y = s.map((v) => (r.next() < v ? 1 : 0));
  const roc = new PixelRoc();
  roc.add(s, y);
  assert.ok(Math.abs(roc.auroc() - auroc(s, y)) < 1e-9);
  const t = new PixelRoc();
  t.add([0.5, 0.5], [1, 0]);
  assert.equal(t.auroc(), 0.5);
});

test('loadMapData reads the reader flags through the data schema first: a mistyped or out-of-range flag is refused naming it', async () => {
  const { loadMapData } = await import('../../trainer/data/map-data');
  const base = { root: '/nonexistent-flawscope-dir', size: 32, seed: 0 };
  await assert.rejects(loadMapData({ ...base, patchSzie: 64 }), /Unknown option --patch-szie/);
  await assert.rejects(loadMapData({ ...base, patchSize: 2 }), /--patch-size/);
});
