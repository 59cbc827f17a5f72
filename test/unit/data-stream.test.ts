import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DiskImageSet, loadTrainingData } from '../../trainer/data/index';
import { DiskImageWriter } from '../../trainer/data/disk-set';
import { writeClassFolder } from '../../trainer/data/synth';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flawscope-data-stream-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

test('DiskImageSet: chunked writes, random/duplicate/consecutive reads, close removes the cache', async () => {
  const w = await DiskImageWriter.create(2, 2, 3, tmp);
  const img = (i: number) => new Uint8Array(12).fill(i);
  w.append(Uint8Array.from([...img(0), ...img(1), ...img(2)]));
  w.append(Uint8Array.from([...img(3), ...img(4)]));
  const set = w.finish();
  assert.ok(set instanceof DiskImageSet);
  assert.equal(set.count, 5);
  const got = await set.readBatch([4, 1, 2, 3, 3, 0]);
  assert.deepEqual([...got].filter((_, k) => k % 12 === 0), [4, 1, 2, 3, 3, 0]);
  await assert.rejects(set.readBatch([5]), RangeError);
  await fs.access(set.file);
  await set.close();
  await assert.rejects(fs.access(set.file));
});

test('streamed loading gives the same pixels as in-memory loading', async () => {
  const root = path.join(tmp, 'data');
  await writeClassFolder(root, { good: 30, bad: 12 }, { width: 20, height: 20 });
  const mem = await loadTrainingData({ root, size: 16, seed: 2 });
  const disk = await loadTrainingData({ root, size: 16, seed: 2, memoryLimitMb: '0', cacheDir: tmp });
  assert.ok(disk.summary.warnings.some((w) => /streaming them from a cache file/.test(w)));
  assert.ok(!mem.summary.warnings.some((w) => /streaming/.test(w)));
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  assert.deepEqual(await disk.normal.readBatch(all(disk.normal.count)), await mem.normal.readBatch(all(mem.normal.count)));
  assert.deepEqual(await disk.anomaly!.readBatch([3, 0]), await mem.anomaly!.readBatch([3, 0]));
  assert.deepEqual(await disk.validation.images.readBatch(all(disk.validation.images.count)), await mem.validation.images.readBatch(all(mem.validation.images.count)));
  assert.deepEqual(disk.validation.isAnomaly, mem.validation.isAnomaly);
  assert.equal(disk.normal.channels, 1);
  const caches = (await fs.readdir(tmp)).filter((n) => n.startsWith('flawscope-cache-'));
  assert.equal(caches.length, 1);
});
