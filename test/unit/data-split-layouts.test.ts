/** A fixed train/test split (ROOT/train + ROOT/test) in every folder layout; mask files are never images. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { planDataset, readCatalog } from '../../trainer/data/index';
import { writeImage } from '../../trainer/data/synth';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flawscope-split-layouts-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const W = 64, H = 32;
const RECT = { x: 8, y: 8, w: 16, h: 16 };

async function writeMask(file: string, defect: boolean): Promise<void> {
  const px = Buffer.alloc(W * H);
  if (defect) for (let y = RECT.y; y < RECT.y + RECT.h; y++) px.fill(255, y * W + RECT.x, y * W + RECT.x + RECT.w);
  await sharp(px, { raw: { width: W, height: H, channels: 1 } }).png().toFile(file);
}

/**
 * ROOT/{train,test}/{good,crack}/NAME.jpg, each with NAME.png beside it when `masks` (empty for
 * good, a square for crack). train: 6 good + 4 crack; test: 3 good + 2 crack.
 */
async function writeSplitSet(root: string, masks: boolean, normal = 'good'): Promise<void> {
  for (const [split, counts] of [['train', [6, 4]], ['test', [3, 2]]] as const) {
    for (const [cls, n] of [[normal, counts[0]], ['crack', counts[1]]] as const) {
      const dir = path.join(root, split, cls);
      await fs.mkdir(dir, { recursive: true });
      for (let i = 0; i < n; i++) {
        await writeImage(path.join(dir, `${split}${i}.jpg`), { width: W, height: H, value: 60 + 10 * i, seed: i, format: 'jpeg' });
        if (masks) await writeMask(path.join(dir, `${split}${i}.png`), cls === 'crack');
      }
    }
  }
}

const splits = (items: { split?: string }[]) => items.reduce((m, i) => m.set(i.split ?? 'none', (m.get(i.split ?? 'none') ?? 0) + 1), new Map<string, number>());
const noMaskAsImage = (items: { source: string }[]) => assert.ok(items.every((i) => i.source.endsWith('.jpg')), 'a mask file was read as an image');

test('class folders with sibling masks under train/ + test/: the masks layout keeps the split; masks are not images', async () => {
  const root = path.join(tmp, 'masks-split');
  await writeSplitSet(root, true);
  // Auto detection: before, train/good + test/ made this MVTec and counted each mask as an image.
  for (const format of [undefined, 'masks'] as const) {
    const cat = await readCatalog(root, format ? { format } : {});
    assert.equal(cat.layout, 'masks', `--format ${format ?? 'auto'}`);
    assert.deepEqual(cat.classNames, ['crack', 'good']);
    assert.equal(cat.items.length, 15);
    noMaskAsImage(cat.items);
    assert.deepEqual(Object.fromEntries(splits(cat.items)), { train: 10, test: 5 });
    assert.deepEqual(cat.masks, { found: 15, imagesWithoutMask: 0, masksWithoutImage: 0 });
    assert.ok(!cat.warnings.some((w) => /without its mask/.test(w)), cat.warnings.join('\n'));
  }
  // The defect protocol keeps the given test side: every test crop comes from test/, none from train/.
  const p = await planDataset({ root, size: 16, seed: 2, protocol: 'defect', patchSize: '16', patchStride: '16', validationFraction: 0.2 });
  const test = [...p.plan.testNormal!, ...p.plan.testAnomaly!];
  assert.ok(test.length > 0 && test.every((i) => i.source.includes(`${path.sep}test${path.sep}`)));
  assert.equal(new Set(test.map((i) => i.source)).size, 5);
  const trainSide = [...p.plan.trainNormal, ...p.plan.trainAnomaly, ...p.plan.valNormal, ...p.plan.valAnomaly];
  assert.ok(trainSide.every((i) => i.source.includes(`${path.sep}train${path.sep}`)));
});

test('a split with masks whose normal class is not "good" is detected the same way', async () => {
  const root = path.join(tmp, 'masks-split-ok');
  await writeSplitSet(root, true, 'ok');
  const cat = await readCatalog(root);
  assert.equal(cat.layout, 'masks');
  assert.deepEqual(cat.classNames, ['crack', 'ok']);
  noMaskAsImage(cat.items);
});

test('plain class folders under train/ + test/: the split is kept; a stray sibling mask is not an image', async () => {
  const root = path.join(tmp, 'folder-split');
  await writeSplitSet(root, false, 'ok');
  // One mask beside one image: too few for the masks layout, and still not an image.
  await writeMask(path.join(root, 'train', 'crack', 'train0.png'), true);
  const cat = await readCatalog(root);
  assert.equal(cat.layout, 'image-folder-split');
  assert.deepEqual(cat.classNames, ['crack', 'ok']);
  assert.equal(cat.items.length, 15);
  noMaskAsImage(cat.items);
  assert.ok(cat.warnings.some((w) => /1 files are masks beside their images/.test(w) && /--format masks/.test(w)), cat.warnings.join('\n'));
  const p = await planDataset({ root, size: 16, seed: 1 });
  assert.equal(p.plan.testNormal!.length, 3);
  assert.equal(p.plan.testAnomaly!.length, 2);
  assert.ok([...p.plan.trainNormal, ...p.plan.valNormal].every((i) => i.split === 'train'));
});

test('one masked defect class beside an unmasked normal class is the masks layout (one line about the unmasked folder)', async () => {
  const root = path.join(tmp, 'masks-defect-only');
  for (let i = 0; i < 6; i++) await writeImage(path.join(root, 'good', `g${i}.jpg`), { width: W, height: H, seed: i, format: 'jpeg' });
  for (let i = 0; i < 2; i++) {
    await writeImage(path.join(root, 'crack', `c${i}.jpg`), { width: W, height: H, seed: i, format: 'jpeg' });
    await writeMask(path.join(root, 'crack', `c${i}.png`), true);
  }
  const cat = await readCatalog(root);
  assert.equal(cat.layout, 'masks');
  assert.equal(cat.items.length, 8);
  noMaskAsImage(cat.items);
  assert.equal(cat.warnings.filter((w) => /good/.test(w)).length, 1);
});

test('MVTec AD: the official split; a mask beside its image is used as the mask, never as an image', async () => {
  const root = path.join(tmp, 'mvtec-sibling');
  for (let i = 0; i < 4; i++) await writeImage(path.join(root, 'train', 'good', `00${i}.png`), { width: W, height: H, seed: i });
  for (let i = 0; i < 2; i++) await writeImage(path.join(root, 'test', 'good', `00${i}.png`), { width: W, height: H, seed: i });
  for (let i = 0; i < 2; i++) {
    await writeImage(path.join(root, 'test', 'crack', `00${i}.jpg`), { width: W, height: H, seed: i, format: 'jpeg' });
    await writeMask(path.join(root, 'test', 'crack', `00${i}.png`), true);
  }
  const cat = await readCatalog(root, { format: 'mvtec' });
  assert.equal(cat.layout, 'mvtec');
  assert.equal(cat.items.length, 8);
  assert.deepEqual(Object.fromEntries(splits(cat.items)), { train: 4, test: 4 });
  const crack = cat.items.filter((i) => i.className === 'crack');
  assert.deepEqual(crack.map((i) => path.basename(i.maskPath ?? '')), ['000.png', '001.png']);
  assert.deepEqual(cat.masks, { found: 2, imagesWithoutMask: 0, masksWithoutImage: 0 });
});
