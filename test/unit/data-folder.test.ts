import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadTrainingData, InputError, MemoryImageSet } from '../../trainer/data/index';
import { writeClassFolder, writeImage } from '../../trainer/data/synth';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flawscope-data-folder-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function mk(name: string, counts: Record<string, number>, opts?: Parameters<typeof writeClassFolder>[2]): Promise<string> {
  const root = path.join(tmp, name);
  await writeClassFolder(root, counts, opts);
  return root;
}

test('plain folder: roles, counts, greyscale detection, labelled validation with both labels', async () => {
  const root = await mk('basic', { good: 40, scratch: 20 });
  const d = await loadTrainingData({ root, size: 8, seed: 1 });
  assert.equal(d.summary.normalClass, 'good');
  assert.equal(d.summary.layout, 'image-folder');
  assert.equal(d.normal.channels, 1);
  assert.equal(d.normal.height, 8);
  assert.equal(d.summary.counts.trainNormal, 36);
  assert.equal(d.summary.counts.trainAnomaly, 18);
  assert.equal(d.summary.counts.validation, 6);
  assert.equal(d.normal.count, 36);
  assert.equal(d.anomaly?.count, 18);
  assert.deepEqual([...d.validation.isAnomaly].sort(), [0, 0, 0, 0, 1, 1]);
  assert.equal(d.test, null);
  // Class brightness survives decoding: normals ~60, anomalies ~110.
  const mean = (px: Uint8Array) => px.reduce((s, v) => s + v, 0) / px.length;
  assert.ok(Math.abs(mean(await d.normal.readBatch([0, 1, 2])) - 60) < 8);
  assert.ok(Math.abs(mean(await d.anomaly!.readBatch([0, 1])) - 110) < 8);
  const v = await d.validation.images.readBatch(Array.from({ length: d.validation.images.count }, (_, i) => i));
  for (let i = 0; i < d.validation.images.count; i++) {
    const m = mean(v.subarray(i * 64, (i + 1) * 64));
    assert.equal(d.validation.isAnomaly[i], m > 85 ? 1 : 0, `validation item ${i} label matches its pixels`);
    assert.equal(d.validation.className![i], m > 85 ? 'scratch' : 'good');
  }
});

test('split is seeded: same seed same validation, other seed differs', async () => {
  const root = await mk('seeded', { ok: 50, bad: 30 });
  const a = await loadTrainingData({ root, size: 8, seed: 7 });
  const b = await loadTrainingData({ root, size: 8, seed: 7 });
  const c = await loadTrainingData({ root, size: 8, seed: 8 });
  assert.deepEqual(a.validation.source, b.validation.source);
  assert.notDeepEqual(a.validation.source, c.validation.source);
  assert.equal(a.summary.normalClass, 'ok');
  const fr = await loadTrainingData({ root, size: 8, seed: 7, validationFraction: '0.5' as unknown as number });
  assert.equal(fr.summary.counts.validation, 40);
});

test('channels: any colour image makes the set RGB; --channels forces', async () => {
  const root = await mk('mixed', { normal: 10, defect: 5 });
  await writeImage(path.join(root, 'defect', 'colour.png'), { width: 30, height: 12, kind: 'rgb', value: 200 });
  const d = await loadTrainingData({ root, size: 8, seed: 1, validationFraction: 0 });
  assert.equal(d.normal.channels, 3);
  const px = await d.normal.readBatch([0]);
  assert.equal(px.length, 8 * 8 * 3);
  assert.equal(px[0], px[1]); // grey replicated into R, G, B
  const g = await loadTrainingData({ root, size: 8, seed: 1, channels: 1 });
  assert.equal(g.normal.channels, 1);
  const rgb = await loadTrainingData({ root: await mk('grey3', { good: 4, x: 2 }), size: 8, seed: 1, channels: 3 });
  assert.equal(rgb.normal.channels, 3);
});

test('no anomalies: anomaly is null and a warning says so', async () => {
  const root = await mk('onlygood', { good: 10 });
  const d = await loadTrainingData({ root, size: 8, seed: 1 });
  assert.equal(d.anomaly, null);
  assert.ok(d.summary.warnings.some((w) => /No anomaly images/.test(w)));
  assert.ok(d.validation.images.count >= 1);
});

test('bad input: missing, not a folder, empty, no classes', async () => {
  await assert.rejects(loadTrainingData({ root: path.join(tmp, 'nope'), size: 8, seed: 1 }), (e: Error) => e instanceof InputError && /does not exist/.test(e.message));
  const f = path.join(tmp, 'file.txt');
  await fs.writeFile(f, 'x');
  await assert.rejects(loadTrainingData({ root: f, size: 8, seed: 1 }), (e: Error) => e instanceof InputError && /is not a folder/.test(e.message));
  const empty = path.join(tmp, 'empty');
  await fs.mkdir(empty);
  await assert.rejects(loadTrainingData({ root: empty, size: 8, seed: 1 }), (e: Error) => e instanceof InputError && /is empty/.test(e.message) && e.message.includes(empty));
  const flat = path.join(tmp, 'flat');
  await writeImage(path.join(flat, 'a.png'), { width: 8, height: 8 });
  await assert.rejects(loadTrainingData({ root: flat, size: 8, seed: 1 }), (e: Error) => e instanceof InputError && /no class sub-folders/.test(e.message));
});

test('bad input: unknown class lists classes; undetectable normal asks for --normal; empty normal class', async () => {
  const root = await mk('classes', { cats: 3, dogs: 2 });
  await assert.rejects(
    loadTrainingData({ root, size: 8, seed: 1, normalClass: 'birds' }),
    (e: Error) => e instanceof InputError && /Unknown class "birds"/.test(e.message) && /cats \(3\), dogs \(2\)/.test(e.message),
  );
  await assert.rejects(loadTrainingData({ root, size: 8, seed: 1 }), (e: Error) => e instanceof InputError && /--normal/.test(e.message));
  const d = await loadTrainingData({ root, size: 8, seed: 1, normalClass: 'dogs' });
  assert.equal(d.summary.counts.trainNormal + d.summary.counts.trainAnomaly + d.validation.images.count, 5);
  assert.equal(d.summary.counts.trainNormal, 1);
  await fs.mkdir(path.join(root, 'good'));
  await assert.rejects(loadTrainingData({ root, size: 8, seed: 1 }), (e: Error) => e instanceof InputError && /No normal images/.test(e.message));
  const w = await loadTrainingData({ root, size: 8, seed: 1, normalClass: 'cats' });
  assert.ok(w.summary.warnings.some((s) => s.includes('good') && /has no images/.test(s)));
});

test('unreadable images: skipped and listed up to 1%, refused above', async () => {
  const root = await mk('corrupt', { good: 150, bad: 60 });
  await fs.writeFile(path.join(root, 'good', 'broken.png'), 'not a png');
  await fs.writeFile(path.join(root, 'good', 'notes.txt'), 'ignored, not an image');
  const d = await loadTrainingData({ root, size: 8, seed: 1 });
  assert.equal(d.summary.skipped.length, 1);
  assert.match(d.summary.skipped[0].path, /broken\.png$/);
  assert.equal(d.normal.count + d.anomaly!.count + d.validation.images.count, 210);
  await fs.writeFile(path.join(root, 'bad', 'broken2.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
  await fs.writeFile(path.join(root, 'bad', 'broken3.jpg'), Buffer.alloc(0));
  await assert.rejects(
    loadTrainingData({ root, size: 8, seed: 1 }),
    (e: Error) => e instanceof InputError && /3 of 213 images/.test(e.message) && /broken2\.jpg/.test(e.message),
  );
});

test('option validation names the flag', async () => {
  const root = await mk('opts', { good: 3, bad: 2 });
  await assert.rejects(loadTrainingData({ root, size: 8, seed: 1, validationFraction: 'lots' as unknown as number }), /--validation-fraction lots: expected a number from 0 to 0.9/);
  await assert.rejects(loadTrainingData({ root, size: 7.5, seed: 1 }), /--size 7.5: expected an integer from 4 to 4096/);
  await assert.rejects(loadTrainingData({ root, size: 8, seed: 1, channels: 2 as 1 }), /--channels 2: expected 1 or 3/);
});

test('MemoryImageSet returns copies in the order asked and rejects bad indices', async () => {
  const data = Uint8Array.from({ length: 3 * 4 }, (_, i) => i);
  const s = new MemoryImageSet(data, 3, 2, 2, 1);
  assert.deepEqual([...(await s.readBatch([2, 0]))], [8, 9, 10, 11, 0, 1, 2, 3]);
  await assert.rejects(s.readBatch([3]), RangeError);
  const b = await s.readBatch([1]);
  b[0] = 99;
  assert.equal(data[4], 4);
});

test('a mistyped data flag is refused, naming it', async () => {
  const root = await mk('typo', { good: 3, bad: 2 });
  await assert.rejects(loadTrainingData({ root, size: 8, seed: 1, protocl: 'one-vs-rest' }), (e: Error) => e instanceof InputError && /Unknown option --protocl\. Data options: --format --protocol/.test(e.message));
});
