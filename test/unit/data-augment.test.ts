import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AugmentedImageSet, FAMILY_DEFAULTS, MemoryImageSet, loadTrainingData, parseDataOptions } from '../../trainer/data/index';
import { augmentConfig, augmentImage, rotate90 } from '../../trainer/data/augment';
import { createRng } from '../../trainer/rng';
import { writeClassFolder } from '../../trainer/data/synth';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flawscope-data-augment-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** 4x4 grey image with distinct values 0..15 (every symmetry gives a different image). */
const base = () => Uint8Array.from({ length: 16 }, (_, i) => i * 10);

test('rotate90 turns clockwise', () => {
  const px = Uint8Array.from([1, 2, 3, 4]); // [1 2; 3 4]
  rotate90(px, 2, 1, 1);
  assert.deepEqual([...px], [3, 1, 4, 2]);
  const rgb = Uint8Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
  rotate90(rgb, 2, 3, 2);
  assert.deepEqual([...rgb], [4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1]);
});

test('defect family: flips and quarter turns reach all 8 orientations, pixels only permuted', () => {
  const rng = createRng(5);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const px = base();
    augmentImage(px, 4, 4, 1, FAMILY_DEFAULTS.defect, rng);
    assert.deepEqual([...px].sort((a, b) => a - b), [...base()], 'a permutation of the pixels');
    seen.add(px.join(','));
  }
  assert.equal(seen.size, 8);
});

test('horizontal flips: only the left-right mirror, both orientations reached', () => {
  const rng = createRng(7);
  const mirrored = Uint8Array.from({ length: 16 }, (_, i) => (4 * (i >> 2) + 3 - (i & 3)) * 10);
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const px = base();
    augmentImage(px, 4, 4, 1, { ...FAMILY_DEFAULTS.none, flip: 'horizontal' }, rng);
    seen.add(px.join(','));
  }
  assert.deepEqual([...seen].sort(), [base().join(','), mirrored.join(',')].sort());
});

test('--augment-flip: modes by name, the old switch spellings, a clear error otherwise', () => {
  assert.equal(augmentConfig({ augment: 'cifar' }, 'none').config.flip, 'both');
  assert.equal(augmentConfig({ augment: 'cifar', augmentFlip: 'horizontal' }, 'none').config.flip, 'horizontal');
  // The old switch spellings are read by the options schema (parseDataOptions), before augmentConfig.
  assert.equal(augmentConfig(parseDataOptions({ augment: 'mnist', augmentFlip: true }), 'none').config.flip, 'both');
  assert.equal(augmentConfig(parseDataOptions({ augment: 'fashion', augmentFlip: 'false' }), 'none').config.flip, 'none');
  assert.equal(augmentConfig(parseDataOptions({ augmentFlip: 'Horizontal' }), 'none').config.flip, 'horizontal');
  assert.throws(() => parseDataOptions({ augmentFlip: 'sideways' }), /--augment-flip sideways: expected none, horizontal or both \(or true = both, false = none\)/);
});

test('mnist family: border crop only (no flips or turns); none: identity', () => {
  const rng = createRng(1);
  // Left half bright: a flip or turn would move the brightness, a 0-2 px crop on 16 px cannot.
  const img = new Uint8Array(16 * 16);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 8; x++) img[y * 16 + x] = 255;
  let changed = 0;
  for (let i = 0; i < 50; i++) {
    const px = img.slice();
    augmentImage(px, 16, 16, 1, FAMILY_DEFAULTS.mnist, rng);
    if (px.join() !== img.join()) changed++;
    let left = 0, right = 0;
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) (x < 8 ? (left += px[y * 16 + x]) : (right += px[y * 16 + x]));
    assert.ok(left > 3 * right, 'bright side stays left');
  }
  assert.ok(changed > 30, `crop changed ${changed}/50`);
  const px = base();
  augmentImage(px, 4, 4, 1, FAMILY_DEFAULTS.none, rng);
  assert.deepEqual(px, base());
});

test('cifar family: colour jitter changes colours but stays in range and keeps structure', () => {
  const rng = createRng(3);
  const img = new Uint8Array(8 * 8 * 3);
  for (let p = 0; p < 64; p++) img.set([200, 60, 30], p * 3);
  let diff = 0;
  for (let i = 0; i < 20; i++) {
    const px = img.slice();
    augmentImage(px, 8, 8, 3, { ...FAMILY_DEFAULTS.cifar, crop: 0, flip: 'none', rotate90: false }, rng);
    for (let p = 0; p < 64; p++) assert.deepEqual([...px.subarray(p * 3, p * 3 + 3)], [...px.subarray(0, 3)], 'flat image stays flat');
    diff += Math.abs(px[0] - 200) + Math.abs(px[1] - 60) + Math.abs(px[2] - 30);
    assert.ok(px[0] > px[2], 'red stays redder than blue');
  }
  assert.ok(diff / 20 > 5, `mean colour change ${diff / 20}`);
});

test('AugmentedImageSet: seeded per call, fresh variants each call, base untouched', async () => {
  const data = new Uint8Array(3 * 16);
  for (let i = 0; i < 3; i++) data.set(base(), i * 16);
  const mem = new MemoryImageSet(data, 3, 4, 4, 1);
  const a = new AugmentedImageSet(mem, FAMILY_DEFAULTS.defect, 9);
  const b = new AugmentedImageSet(mem, FAMILY_DEFAULTS.defect, 9);
  const a1 = await a.readBatch([0, 1, 2]);
  const a2 = await a.readBatch([0, 1, 2]);
  assert.deepEqual(await b.readBatch([0, 1, 2]), a1);
  assert.deepEqual(await b.readBatch([0, 1, 2]), a2);
  assert.notDeepEqual(a1, a2);
  assert.deepEqual(data.subarray(0, 16), base());
});

test('loadTrainingData: training sets augmented, validation not; flags validated', async () => {
  const root = path.join(tmp, 'aug');
  await writeClassFolder(root, { good: 12, bad: 6 }, { width: 16, height: 16 });
  const d = await loadTrainingData({ root, size: 16, seed: 1, augment: 'defect' });
  assert.equal(d.summary.augmentation?.family, 'defect');
  const all = Array.from({ length: d.normal.count }, (_, i) => i);
  assert.notDeepEqual(await d.normal.readBatch(all), await d.normal.readBatch(all));
  const v = Array.from({ length: d.validation.images.count }, (_, i) => i);
  assert.deepEqual(await d.validation.images.readBatch(v), await d.validation.images.readBatch(v));
  const plain = await loadTrainingData({ root, size: 16, seed: 1 });
  assert.equal(plain.summary.augmentation?.family, 'none'); // plain folders: off unless asked
  await assert.rejects(loadTrainingData({ root, size: 16, seed: 1, augment: 'sparkle' }), /--augment sparkle: expected auto, none, mnist, fashion, cifar or defect/);
  await assert.rejects(loadTrainingData({ root, size: 16, seed: 1, augment: 'mnist', augmentCrop: 'x' }), /--augment-crop x: expected an integer from 0 to 64/);
});
