/**
 * `npm run bench:data [-- --files N --stream N --batch B --size S]`: throughput of the input
 * pipeline and peak memory.
 *   decode-files:  synthetic greyscale JPEGs (256x192, like Magnetic-tile photos) → size² uint8
 *   decode-idx:    all 70,000 MNIST records (if ../shared/data/mnist is there) → 32x32
 *   patches:       defect protocol cutting 64x64 crops from the synthetic photos → size²
 *   draw-memory:   random training batches from memory, with defect augmentation (what the
 *                  trainer sees each step)
 *   draw-stream:   random batches from a disk cache of N images at size²x3 (100,000 at 128
 *                  = 4.9 GB is the scale; default 20,000 to keep the run short)
 * Peak RSS is sampled during each phase: streaming must not hold the data set in memory.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AugmentedImageSet, FAMILY_DEFAULTS, MemoryImageSet, loadTrainingData, readCatalog } from '../../trainer/data/index';
import { DiskImageWriter } from '../../trainer/data/disk-set';
import { createRng } from '../../trainer/rng';
import { writeImage } from '../../trainer/data/synth';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const FILES = arg('files', 2000);
const STREAM = arg('stream', 20000);
const BATCH = arg('batch', 32);
const SIZE = arg('size', 128);
const MNIST = path.resolve(__dirname, '../../../shared/data/mnist');

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
const results: Record<string, unknown>[] = [];

async function phase(name: string, imagesIn: number, fn: () => Promise<number | void>, note = ''): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  peak = process.memoryUsage().rss;
  const t = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  // fn may return the image count when it is only known afterwards (crops).
  const images = (await fn()) ?? imagesIn;
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  // CPU seconds of this process (JS + libvips threads): less sensitive to a busy machine than
  // wall time, so the two together tell pipeline cost from contention.
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  const row = { phase: name, images, seconds: +s.toFixed(2), cpuSeconds: +cpu.toFixed(2), imagesPerSec: Math.round(images / s), imagesPerCpuSec: Math.round(images / cpu), peakRss: mb(peak), note };
  results.push(row);
  console.log(`${name.padEnd(13)} ${String(row.imagesPerSec).padStart(8)} img/s (${row.imagesPerCpuSec} per CPU-s)  ${String(images).padStart(7)} images in ${row.seconds}s  peak RSS ${row.peakRss}  ${note}`);
}

async function main(): Promise<void> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'flawscope-bench-data-'));
  try {
    console.log(`bench:data  ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}, node ${process.version}, size ${SIZE}, batch ${BATCH}`);
    const root = path.join(tmp, 'photos');
    const per = Math.ceil(FILES / 2);
    for (const cls of ['good', 'defect']) {
      for (let i = 0; i < per; i++) {
        await writeImage(path.join(root, cls, `${i}.jpg`), { width: 256, height: 192, value: cls === 'good' ? 90 : 140, seed: i, format: 'jpeg' });
      }
    }
    let data: Awaited<ReturnType<typeof loadTrainingData>> | null = null;
    await phase('decode-files', per * 2, async () => {
      data = await loadTrainingData({ root, size: SIZE, seed: 1, augment: 'none' });
    }, 'JPEG 256x192 grey, sharp');

    if (fs.existsSync(MNIST)) {
      await phase('decode-idx', 70000, async () => {
        const cat = await readCatalog(MNIST);
        await cat.decode(cat.items, { size: 32 });
      }, 'MNIST gz → 32x32');
    }

    // Patch pipeline: masks beside the photos so the defect protocol cuts crops.
    const mroot = path.join(tmp, 'masked');
    const nm = Math.min(200, per);
    const mask = Buffer.alloc(256 * 192);
    for (let y = 60; y < 120; y++) mask.fill(255, y * 256 + 100, y * 256 + 160);
    const sharp = (await import('sharp')).default;
    const maskPng = await sharp(mask, { raw: { width: 256, height: 192, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    const emptyPng = await sharp(Buffer.alloc(256 * 192), { raw: { width: 256, height: 192, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    for (const cls of ['MT_Free', 'MT_Crack']) {
      await fsp.mkdir(path.join(mroot, cls), { recursive: true });
      for (let i = 0; i < nm; i++) {
        await fsp.copyFile(path.join(root, cls === 'MT_Free' ? 'good' : 'defect', `${i}.jpg`), path.join(mroot, cls, `${i}.jpg`));
        await fsp.writeFile(path.join(mroot, cls, `${i}.png`), cls === 'MT_Free' ? emptyPng : maskPng);
      }
    }
    await phase('patches', 0, async () => {
      const d = await loadTrainingData({ root: mroot, size: SIZE, seed: 1, protocol: 'defect', patchSize: '64', patchStride: '32', balance: 'false', augment: 'none' });
      return d.summary.counts.trainNormal + d.summary.counts.trainAnomaly + d.summary.counts.validation + d.summary.counts.test;
    }, `64x64 crops (stride 32) of ${nm * 2} masked photos, incl. planning`);

    // Drawing batches from memory with augmentation, as the trainer does every step.
    const n = 5000;
    const mem = new MemoryImageSet(new Uint8Array(n * SIZE * SIZE * 3).map((_, i) => i & 255), n, SIZE, SIZE, 3);
    const aug = new AugmentedImageSet(mem, FAMILY_DEFAULTS.defect, 1);
    const rng = createRng(1);
    const draws = 200;
    await phase('draw-memory', draws * BATCH, async () => {
      for (let i = 0; i < draws; i++) await aug.readBatch(Array.from({ length: BATCH }, () => Math.floor(rng() * n)));
    }, `${SIZE}x${SIZE}x3, flips+rotations`);
    const cj = new AugmentedImageSet(mem, FAMILY_DEFAULTS.cifar, 1);
    await phase('draw-cifar', draws * BATCH, async () => {
      for (let i = 0; i < draws; i++) await cj.readBatch(Array.from({ length: BATCH }, () => Math.floor(rng() * n)));
    }, `${SIZE}x${SIZE}x3, crop+flips+rotations+colour jitter`);

    // Streaming: write STREAM images to a cache file, then draw random batches from it.
    const w = await DiskImageWriter.create(SIZE, SIZE, 3, tmp);
    const chunk = new Uint8Array(1000 * SIZE * SIZE * 3).map((_, i) => (i * 7) & 255);
    await phase('stream-write', STREAM, async () => {
      for (let i = 0; i < STREAM; i += 1000) w.append(chunk.subarray(0, Math.min(1000, STREAM - i) * SIZE * SIZE * 3));
    }, `cache file ${mb(STREAM * SIZE * SIZE * 3)}`);
    const disk = w.finish();
    const sdraws = 300;
    await phase('draw-stream', sdraws * BATCH, async () => {
      for (let i = 0; i < sdraws; i++) await disk.readBatch(Array.from({ length: BATCH }, () => Math.floor(rng() * STREAM)));
    }, `random batches from ${mb(STREAM * SIZE * SIZE * 3)} on disk`);
    await disk.close();
    void data;
    clearInterval(sampler);
    console.log(`peak RSS over the run: ${mb(process.resourceUsage().maxRSS * 1024)}`);
    if (process.argv.includes('--json')) console.log(JSON.stringify(results));
  } finally {
    clearInterval(sampler);
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
