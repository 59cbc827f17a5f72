import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadTrainingData, planDataset, readCatalog, InputError } from '../../trainer/data/index';
import { parseIdx } from '../../trainer/data/idx';
import { CIFAR100_SUPERCLASSES } from '../../trainer/data/cifar';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flawscope-data-formats-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** An IDX ubyte file: magic 0x0000 08 ndim, big-endian dims, data. */
function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** n 4x4 images where image i is filled with value 10*label + i%10, labels cycling 0..2. */
async function writeIdxSet(dir: string, prefix: string, n: number, gz: boolean): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const px = new Uint8Array(n * 16);
  const lb = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    lb[i] = i % 3;
    px.fill(10 * lb[i] + (i % 10), i * 16, i * 16 + 16);
  }
  const w = (name: string, b: Buffer) => fs.writeFile(path.join(dir, name + (gz ? '.gz' : '')), gz ? zlib.gzipSync(b) : b);
  await w(`${prefix}-images-idx3-ubyte`, idx([n, 4, 4], px));
  await w(`${prefix}-labels-idx1-ubyte`, idx([n], lb));
}

test('IDX: gz and raw, train/test split, labels and pixels', async () => {
  for (const gz of [true, false]) {
    const dir = path.join(tmp, gz ? 'idx-gz' : 'idx-raw');
    await writeIdxSet(dir, 'train', 30, gz);
    await writeIdxSet(dir, 't10k', 9, gz);
    const cat = await readCatalog(dir);
    assert.equal(cat.layout, 'idx');
    assert.deepEqual(cat.classNames, ['0', '1', '2']);
    assert.equal(cat.items.filter((i) => i.split === 'train').length, 30);
    assert.equal(cat.items.filter((i) => i.split === 'test').length, 9);
    const d = await loadTrainingData({ root: dir, size: 4, seed: 3, normalClass: '1', validationFraction: 0, augment: 'none' });
    assert.equal(d.normal.count, 10);
    assert.equal(d.anomaly!.count, 20);
    assert.equal(d.test!.images.count, 9);
    assert.equal(d.normal.channels, 1);
    const px = await d.normal.readBatch([0, 1]);
    assert.equal(px[0], 11); // image 1 (label 1)
    assert.equal(px[16], 14); // image 4
    assert.deepEqual([...d.test!.isAnomaly], [1, 0, 1, 1, 0, 1, 1, 0, 1].sort((a, b) => a - b));
    // Resizing to 8x8 RGB keeps a flat image flat.
    const big = await loadTrainingData({ root: dir, size: 8, channels: 3, seed: 3, normalClass: '1' });
    const b = await big.test!.images.readBatch([0]);
    assert.equal(b.length, 8 * 8 * 3);
    assert.ok(b.every((v) => v === b[0]));
  }
});

test('IDX: wrong magic, truncated, trailing bytes, count mismatch, corrupt gzip', async () => {
  const good = idx([2, 4, 4], new Uint8Array(32));
  assert.throws(() => parseIdx(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), 'x'), /wrong magic number 0x1f8b0800/);
  assert.throws(() => parseIdx(good.subarray(0, good.length - 5), 'f.idx'), (e: Error) => e instanceof InputError && /f\.idx: truncated/.test(e.message));
  assert.throws(() => parseIdx(good.subarray(0, 10), 'f.idx'), /cut short inside the IDX header/);
  assert.throws(() => parseIdx(Buffer.concat([good, Buffer.alloc(3)]), 'f.idx'), /3 bytes of trailing data/);
  assert.throws(() => parseIdx(Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'f.idx'), /element type 0xd/);

  const dir = path.join(tmp, 'idx-bad');
  await writeIdxSet(dir, 'train', 10, false);
  const img = path.join(dir, 'train-images-idx3-ubyte');
  const full = await fs.readFile(img);
  await fs.writeFile(img, full.subarray(0, full.length - 7));
  await assert.rejects(readCatalog(dir), (e: Error) => e instanceof InputError && e.message.startsWith(img) && /truncated/.test(e.message));
  await writeIdxSet(dir, 'train', 10, false);
  await fs.writeFile(path.join(dir, 'train-labels-idx1-ubyte'), idx([9], new Uint8Array(9)));
  await assert.rejects(readCatalog(dir), /has 10 images but .* has 9 labels/);
  await fs.rm(path.join(dir, 'train-labels-idx1-ubyte'));
  await assert.rejects(readCatalog(dir), /labels file with the same prefix is missing/);
  const gzDir = path.join(tmp, 'idx-badgz');
  await writeIdxSet(gzDir, 'train', 10, true);
  const gzf = path.join(gzDir, 'train-images-idx3-ubyte.gz');
  const gzb = await fs.readFile(gzf);
  await fs.writeFile(gzf, gzb.subarray(0, gzb.length - 20));
  await assert.rejects(readCatalog(gzDir), /gzip data is corrupt or cut short/);
});

/** CIFAR record: label byte(s) then planar R, G, B planes of 32x32. Pixel (p) of plane c = c*50 + label. */
function cifarRecords(labels: number[][]): Buffer {
  const recs = labels.map((ls) => {
    const px = Buffer.alloc(3072);
    for (let c = 0; c < 3; c++) px.fill(c * 50 + ls[0], c * 1024, (c + 1) * 1024);
    return Buffer.concat([Buffer.from(ls), px]);
  });
  return Buffer.concat(recs);
}

test('CIFAR-10 binary: batches, class names, planar to interleaved', async () => {
  const dir = path.join(tmp, 'c10', 'cifar-10-batches-bin');
  await fs.mkdir(dir, { recursive: true });
  for (let b = 1; b <= 5; b++) await fs.writeFile(path.join(dir, `data_batch_${b}.bin`), cifarRecords([[0], [1], [2], [b % 10]]));
  await fs.writeFile(path.join(dir, 'test_batch.bin'), cifarRecords([[0], [9]]));
  const cat = await readCatalog(path.join(tmp, 'c10'));
  assert.equal(cat.layout, 'cifar10');
  assert.equal(cat.classNames[9], 'truck');
  assert.equal(cat.items.length, 22);
  const d = await loadTrainingData({ root: path.join(tmp, 'c10'), size: 32, seed: 1, normalClass: 'automobile', validationFraction: 0, augment: 'none' });
  assert.equal(d.normal.count, 6); // 5 batches x label 1, plus data_batch_1's extra label 1
  assert.equal(d.normal.channels, 3);
  const px = await d.normal.readBatch([0]);
  assert.deepEqual([...px.subarray(0, 6)], [1, 51, 101, 1, 51, 101]);
  assert.equal(d.test!.images.count, 2);
  assert.deepEqual([...d.test!.isAnomaly], [1, 1]); // neither airplane nor truck is the normal class
});

test('CIFAR-100 binary: coarse labels become the 20 superclasses', async () => {
  const dir = path.join(tmp, 'c100');
  await fs.mkdir(dir, { recursive: true });
  // [coarse, fine]: fine labels deliberately differ from coarse, to prove the coarse one is used.
  await fs.writeFile(path.join(dir, 'train.bin'), cifarRecords([[0, 99], [19, 3], [19, 4], [7, 50]]));
  await fs.writeFile(path.join(dir, 'test.bin'), cifarRecords([[19, 0], [3, 1]]));
  const cat = await readCatalog(dir);
  assert.equal(cat.layout, 'cifar100');
  assert.equal(cat.classNames.length, 20);
  const names = (split: string) => cat.items.filter((i) => i.split === split).map((i) => i.className);
  assert.deepEqual(names('train'), ['aquatic_mammals', 'vehicles_2', 'vehicles_2', 'insects']);
  assert.deepEqual(names('test'), ['vehicles_2', 'food_containers']);
  assert.equal(CIFAR100_SUPERCLASSES[19], 'vehicles_2');
  const d = await loadTrainingData({ root: dir, size: 16, seed: 1, normalClass: 'vehicles_2', validationFraction: 0, augment: 'none' });
  assert.equal(d.normal.count, 2);
  const px = await d.normal.readBatch([0]);
  assert.deepEqual([...px.subarray(0, 3)], [19, 69, 119]); // resized flat image keeps its colour
  assert.equal(px.length, 16 * 16 * 3);
});

test('CIFAR: file size not a whole number of records; bad label', async () => {
  const dir = path.join(tmp, 'c10bad');
  await fs.mkdir(dir, { recursive: true });
  const f = path.join(dir, 'data_batch_1.bin');
  await fs.writeFile(f, cifarRecords([[0], [1], [2]]).subarray(0, 3073 * 2 + 100));
  await assert.rejects(readCatalog(dir), (e: Error) => e instanceof InputError && e.message.startsWith(f) && /2 records \+ 100 bytes/.test(e.message));
  await fs.writeFile(f, cifarRecords([[0], [12]]));
  await assert.rejects(readCatalog(dir), /record 1 has label 12/);
  await assert.rejects(planDataset({ root: dir, size: 4, seed: 1, format: 'mvtec-nope' }), /--format mvtec-nope: expected auto, image-folder, masks, mvtec, idx or cifar/);
});

test('one-vs-rest on IDX: equal anomalies per class totalling the mean class size; whole test set', async () => {
  const dir = path.join(tmp, 'idx-ovr');
  await writeIdxSet(dir, 'train', 300, true); // 100 per class
  await writeIdxSet(dir, 't10k', 30, true);
  const p = await planDataset({ root: dir, size: 4, seed: 1, normalClass: '0', protocol: 'one-vs-rest', validationFraction: 0 });
  assert.equal(p.plan.trainNormal.length, 100);
  assert.equal(p.plan.trainAnomaly.length, 100);
  assert.equal(p.plan.trainAnomaly.filter((i) => i.className === '1').length, 50);
  assert.equal(p.plan.testNormal!.length + p.plan.testAnomaly!.length, 30);
  await assert.rejects(planDataset({ root: dir, size: 4, seed: 1, normalClass: '0', protocol: 'one-vs-all' }), /--protocol one-vs-all: expected default, one-vs-rest or defect/);
  await assert.rejects(planDataset({ root: dir, size: 4, seed: 1, normalClass: '7' }), /Unknown class "7".*0 \(110\), 1 \(110\), 2 \(110\)/);
});
