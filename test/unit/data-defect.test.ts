import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadTrainingData, planDataset, readCatalog, InputError } from '../../trainer/data/index';
import { inspectDataset } from '../../trainer/data/cli-datasets';
import { gridPositions } from '../../trainer/data/patches';
import { writeImage } from '../../trainer/data/synth';
import type { CatalogItem } from '../../trainer/data/catalog';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flawscope-data-defect-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A 100x60 greyscale mask, white inside `rect`. */
async function writeMask(file: string, rect: { x: number; y: number; w: number; h: number } | null): Promise<void> {
  const px = Buffer.alloc(100 * 60);
  if (rect) for (let y = rect.y; y < rect.y + rect.h; y++) px.fill(255, y * 100 + rect.x, y * 100 + rect.x + rect.w);
  await sharp(px, { raw: { width: 100, height: 60, channels: 1 } }).toColourspace('b-w').png().toFile(file);
}

const RECT = { x: 40, y: 20, w: 20, h: 20 };

/** MT-style: CLASS/Imgs/NAME.jpg + NAME.png. good: 10 images; scratch: 6 (defect at RECT);
 * dent: 4 (defect at RECT, one with an empty mask). */
async function writeMaskSet(root: string): Promise<void> {
  const classes: [string, number][] = [['MT_Free', 10], ['MT_Scratch', 6], ['MT_Dent', 4]];
  for (const [cls, n] of classes) {
    const dir = path.join(root, cls, 'Imgs');
    await fs.mkdir(dir, { recursive: true });
    for (let i = 0; i < n; i++) {
      await writeImage(path.join(dir, `img${i}.jpg`), { width: 100, height: 60, value: 80 + 20 * i, seed: i, format: 'jpeg' });
      const empty = cls === 'MT_Free' || (cls === 'MT_Dent' && i === 0);
      await writeMask(path.join(dir, `img${i}.png`), empty ? null : RECT);
    }
  }
}

test('grid positions cover the image, last crop flush with the edge', () => {
  assert.deepEqual(gridPositions(100, 40, 20).map((p) => p.start), [0, 20, 40, 60]);
  assert.deepEqual(gridPositions(90, 40, 40).map((p) => p.start), [0, 40, 50]);
  assert.deepEqual(gridPositions(30, 40, 20), [{ start: 0, len: 30 }]);
});

test('sibling masks: detected, paired, orphans and missing masks warned', async () => {
  const root = path.join(tmp, 'mt');
  await writeMaskSet(root);
  await writeImage(path.join(root, 'MT_Dent', 'Imgs', 'lonely.jpg'), { width: 100, height: 60, format: 'jpeg' });
  await writeMask(path.join(root, 'MT_Dent', 'Imgs', 'orphan.png'), RECT);
  await fs.writeFile(path.join(root, 'MT_Dent', 'Imgs', 'Thumbs.db'), 'x');
  const cat = await readCatalog(root);
  assert.equal(cat.layout, 'masks');
  assert.equal(cat.items.length, 21);
  assert.deepEqual(cat.masks, { found: 20, imagesWithoutMask: 1, masksWithoutImage: 1 });
  assert.ok(cat.warnings.some((w) => w.includes('lonely.jpg') && /without its mask/.test(w)));
  assert.ok(cat.warnings.some((w) => w.includes('orphan.png') && /mask without its image/.test(w)));
  assert.equal(cat.ignoredFiles, 1);
  const r = await inspectDataset(root);
  assert.equal(r.normalClass, 'MT_Free');
  assert.equal(r.masks?.found, 20);
  assert.equal(r.classes.find((c) => c.name === 'MT_Dent')?.count, 5);
  await fs.rm(path.join(root, 'MT_Dent', 'Imgs', 'lonely.jpg'));
  await fs.rm(path.join(root, 'MT_Dent', 'Imgs', 'orphan.png'));
  // A custom rule: NAME_mask.png.
  const alt = path.join(tmp, 'alt');
  await writeImage(path.join(alt, 'ok', 'a.png'), { width: 100, height: 60 });
  await writeMask(path.join(alt, 'ok', 'a_mask.png'), null);
  await writeImage(path.join(alt, 'bad', 'b.png'), { width: 100, height: 60 });
  await writeMask(path.join(alt, 'bad', 'b_mask.png'), RECT);
  const c2 = await readCatalog(alt, { maskSuffix: '_mask.png' });
  assert.equal(c2.layout, 'masks');
  assert.deepEqual(c2.items.map((i) => path.basename(i.maskPath!)), ['b_mask.png', 'a_mask.png']);
  await assert.rejects(inspectDataset(alt, { maskSuffix: '_mask' }), /--mask-suffix _mask: expected a file-name ending with an image extension/);
});

test('defect protocol with patches: labels follow the masks, split by source, balanced', async () => {
  const root = path.join(tmp, 'mt');
  const opts = { root, size: 16, seed: 4, protocol: 'defect', patchSize: '20', patchStride: '20', validationFraction: 0.2, testFraction: 0.2 };
  const p = await planDataset(opts);
  const all = [...p.plan.trainNormal, ...p.plan.trainAnomaly, ...p.plan.valNormal, ...p.plan.valAnomaly, ...(p.plan.testNormal ?? []), ...(p.plan.testAnomaly ?? [])];
  // Anomaly patches: only crops overlapping the defect by more than 1% (RECT covers 4 of the 15 crops fully).
  for (const it of all.filter((i) => i.className !== 'MT_Free')) {
    const c = it.crop!;
    const ox = Math.max(0, Math.min(c.x + c.w, RECT.x + RECT.w) - Math.max(c.x, RECT.x));
    const oy = Math.max(0, Math.min(c.y + c.h, RECT.y + RECT.h) - Math.max(c.y, RECT.y));
    assert.ok((ox * oy) / (c.w * c.h) > 0.01, `${it.source} crop ${JSON.stringify(c)} overlaps the defect`);
    assert.equal(it.maskFraction, 1);
    assert.notEqual(path.basename(it.source) === 'img0.jpg' && it.className === 'MT_Dent', true, 'empty-mask image gives no patches');
  }
  assert.ok(p.plan.warnings.some((w) => /MT_Dent\/Imgs\/img0\.png: mask is empty/.test(w)));
  // Every normal crop is one of the 15 grid cells of a 100x60 image.
  for (const it of all.filter((i) => i.className === 'MT_Free')) assert.ok(it.crop!.x % 20 === 0 && it.crop!.y % 20 === 0 && it.crop!.w === 20);
  // No source image on two sides.
  const sideOf = new Map<string, string>();
  const mark = (items: CatalogItem[] | null, s: string) => (items ?? []).forEach((i) => {
    assert.ok(!sideOf.has(i.source) || sideOf.get(i.source) === s, `${i.source} on ${sideOf.get(i.source)} and ${s}`);
    sideOf.set(i.source, s);
  });
  mark([...p.plan.trainNormal, ...p.plan.trainAnomaly], 'train');
  mark([...p.plan.valNormal, ...p.plan.valAnomaly], 'val');
  mark([...(p.plan.testNormal ?? []), ...(p.plan.testAnomaly ?? [])], 'test');
  // Balanced on the training side: each type as many as the rarest, normals = defect total.
  const perType = new Map<string, number>();
  for (const it of p.plan.trainAnomaly) perType.set(it.className, (perType.get(it.className) ?? 0) + 1);
  assert.equal(perType.size, 2);
  const [n1, n2] = [...perType.values()];
  assert.equal(n1, n2);
  assert.equal(p.plan.trainNormal.length, p.plan.trainAnomaly.length);
  // Seeded: same seed same plan.
  const again = await planDataset(opts);
  assert.deepEqual(again.plan.trainAnomaly.map((i) => i.source + JSON.stringify(i.crop)), p.plan.trainAnomaly.map((i) => i.source + JSON.stringify(i.crop)));
  // Decoding crops: the defect crop of a scratch image is the image's pixels there.
  const d = await loadTrainingData({ ...opts, augment: 'none' });
  assert.equal(d.normal.count, p.plan.trainNormal.length);
  assert.equal(d.normal.height, 16);
  assert.equal(d.summary.augmentation?.family, 'none');
  // Evaluation masks line up with the items: defect crops here lie wholly inside RECT (all 255),
  // normal crops are all 0.
  for (const set of [d.validation, d.test!]) {
    assert.ok(set.masks, 'masks present');
    assert.equal(set.masks!.count, set.images.count);
    const m = await set.masks!.readBatch(Array.from({ length: set.masks!.count }, (_, i) => i));
    for (let i = 0; i < set.masks!.count; i++) {
      const px = m.subarray(i * 256, (i + 1) * 256);
      assert.ok(px.every((v) => v === (set.isAnomaly[i] ? 255 : 0)), `mask of item ${i} (${set.className![i]})`);
    }
  }
  const withAug = await loadTrainingData(opts);
  assert.equal(withAug.summary.augmentation?.family, 'defect');
  await assert.rejects(planDataset({ ...opts, patchSize: 'big' }), /--patch-size big: expected an integer from 4 to 8192/);
  await assert.rejects(planDataset({ ...opts, patchSize: undefined }), /--patch-stride needs --patch-size/);
});

test('--standardize photo: every photo at mean 128 before cutting, recorded for the scorer; refused outside the defect protocol', async () => {
  const root = path.join(tmp, 'mt');
  const opts = { root, size: 20, seed: 4, protocol: 'defect', patchSize: '20', patchStride: '20', validationFraction: 0.2, testFraction: 0.2, augment: 'none' };
  const meansOf = async (d: Awaited<ReturnType<typeof loadTrainingData>>, sources: CatalogItem[]) => {
    const px = await d.normal.readBatch(Array.from({ length: d.normal.count }, (_, i) => i));
    const per = d.normal.height * d.normal.width * d.normal.channels;
    // A 100x60 photo is cut into 15 crops of 20 px (no resize at size 20): average each photo's crops.
    const bySource = new Map<string, number[]>();
    sources.forEach((it, i) => {
      let s = 0;
      for (let k = i * per; k < (i + 1) * per; k++) s += px[k];
      bySource.set(it.source, [...(bySource.get(it.source) ?? []), s / per]);
    });
    return [...bySource.values()].filter((v) => v.length === 15).map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  };
  const all = { ...opts, balance: 'false' }; // every crop of every normal training photo
  const plain = await loadTrainingData(all);
  const std = await loadTrainingData({ ...all, standardize: 'photo' });
  const plan = (await planDataset(all)).plan.trainNormal;
  const before = await meansOf(plain, plan), after = await meansOf(std, plan);
  assert.ok(before.length >= 3, `${before.length} whole photos on the training side`);
  assert.ok(Math.max(...before) - Math.min(...before) > 40, `the photos differ in brightness: ${before.map((m) => m.toFixed(0))}`);
  for (const m of after) assert.ok(Math.abs(m - 128) < 2, `photo mean after standardising: ${m}`);
  assert.deepEqual(std.preprocess, { mode: 'tile', scale: 1, standardize: { mean: 128, std: 40 } });
  assert.equal(plain.preprocess?.standardize, undefined);
  await assert.rejects(planDataset({ ...opts, protocol: 'one-vs-rest', standardize: 'photo' }), /--standardize photo needs --protocol defect/);
  await assert.rejects(planDataset({ ...opts, standardize: 'image' }), /--standardize image: expected none or photo/);
});

test('defect protocol, whole images: types balanced to the rarest, normals equal the total', async () => {
  const root = path.join(tmp, 'mt');
  const p = await planDataset({ root, size: 16, seed: 1, protocol: 'defect', validationFraction: 0, testFraction: 0, sampling: 'random' });
  assert.equal(p.plan.trainAnomaly.filter((i) => i.className === 'MT_Dent').length, 4);
  assert.equal(p.plan.trainAnomaly.filter((i) => i.className === 'MT_Scratch').length, 4);
  assert.equal(p.plan.trainNormal.length, 8);
  assert.equal(p.plan.testNormal, null);
});

test('MVTec AD layout: official split, good is normal, ground-truth masks; several categories need --category', async () => {
  const root = path.join(tmp, 'mvtec');
  const cat = path.join(root, 'bottle');
  for (let i = 0; i < 4; i++) await writeImage(path.join(cat, 'train', 'good', `00${i}.png`), { width: 100, height: 60, kind: 'rgb', seed: i });
  for (let i = 0; i < 2; i++) await writeImage(path.join(cat, 'test', 'good', `00${i}.png`), { width: 100, height: 60, kind: 'rgb' });
  for (let i = 0; i < 2; i++) await writeImage(path.join(cat, 'test', 'crack', `00${i}.png`), { width: 100, height: 60, kind: 'rgb' });
  await fs.mkdir(path.join(cat, 'ground_truth', 'crack'), { recursive: true });
  await writeMask(path.join(cat, 'ground_truth', 'crack', '000_mask.png'), RECT);
  await writeMask(path.join(cat, 'ground_truth', 'crack', '007_mask.png'), RECT);
  await fs.mkdir(path.join(root, 'screw', 'train', 'good'), { recursive: true });
  await fs.mkdir(path.join(root, 'screw', 'test'), { recursive: true });
  const c = await readCatalog(cat);
  assert.equal(c.layout, 'mvtec');
  assert.deepEqual(c.classNames, ['good', 'crack']);
  assert.deepEqual(c.masks, { found: 1, imagesWithoutMask: 1, masksWithoutImage: 1 });
  const d = await loadTrainingData({ root: cat, size: 16, seed: 1, validationFraction: 0.25, augment: 'none' });
  assert.equal(d.summary.normalClass, 'good');
  assert.equal(d.normal.count, 3);
  assert.equal(d.anomaly, null);
  assert.equal(d.test!.images.count, 4);
  assert.deepEqual([...d.test!.isAnomaly], [0, 0, 1, 1]);
  const tm = await d.test!.masks!.readBatch([0, 1, 2, 3]);
  const white = (i: number) => tm.subarray(i * 256, (i + 1) * 256).filter((v) => v === 255).length;
  // 000 has a mask (RECT is 1/15 of the image, ~17 of 256 pixels after resizing), 001 has none.
  assert.deepEqual([0, 1, 3].map(white), [0, 0, 0]);
  assert.ok(Math.abs(white(2) - 256 / 15) <= 3, `mask pixels ${white(2)}`);
  assert.equal(d.normal.channels, 3);
  await assert.rejects(readCatalog(root), (e: Error) => e instanceof InputError && /--category \(bottle, screw\)/.test(e.message));
  assert.equal((await readCatalog(root, { category: 'bottle' })).items.length, 8);
  await assert.rejects(readCatalog(root, { category: 'screw' }), /No normal images/);
});

test('symlink loops and broken links are reported, not followed forever', async () => {
  const root = path.join(tmp, 'loop');
  await fs.mkdir(path.join(root, 'good', 'sub'), { recursive: true });
  await fs.mkdir(path.join(root, 'bad'), { recursive: true });
  for (let i = 0; i < 3; i++) await writeImage(path.join(root, 'good', 'sub', `${i}.png`), { width: 8, height: 8 });
  await writeImage(path.join(root, 'bad', 'x.png'), { width: 8, height: 8, value: 200 });
  await fs.symlink('..', path.join(root, 'good', 'sub', 'up'));
  await fs.symlink('/nonexistent/file.png', path.join(root, 'good', 'gone.png'));
  const d = await loadTrainingData({ root, size: 8, seed: 1, validationFraction: 0 });
  assert.equal(d.normal.count, 3);
  assert.ok(d.summary.skipped.some((s) => s.path.endsWith('up') && /symlink loop/.test(s.reason)));
  assert.ok(d.summary.skipped.some((s) => s.path.endsWith('gone.png') && /broken symlink/.test(s.reason)));
});
