#!/usr/bin/env node
/**
 * Generates the bad-input corpus test/fixtures/bad/** (hostile and broken inputs every tool must
 * refuse cleanly). Deterministic: running it again rewrites the same bytes (no timestamps, fixed
 * pixel patterns). Run: node scripts/make-bad-corpus.mjs
 *
 *   images/       single image files, each one odd or broken in one way
 *   datasets/     dataset folders (IDX, CIFAR, image folders) with one problem each
 *   models/       model folders: `ok` (a tiny valid 16x16x1 model) and damaged variants of it
 *   checkpoints/  damaged training checkpoints (for `train --resume`)
 *
 * What git cannot hold well is made by the tests at run time: symlink loops, FIFOs, device links.
 * The expected outcome of every case, per tool, is the table in test/integration/reliability-corpus.test.ts.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'test/fixtures/bad');

sharp.cache(false);
sharp.concurrency(1);

const put = (rel, data) => {
  const p = join(OUT, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
};

/** A deterministic w x h x c pattern: a soft gradient with a bright square. */
function pattern(w, h, c, seed = 0) {
  const px = Buffer.alloc(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        const sq = x > w / 4 && x < w / 2 && y > h / 4 && y < h / 2;
        px[(y * w + x) * c + k] = sq ? 230 : (x * 7 + y * 3 + k * 40 + seed * 13) % 120;
      }
  return px;
}
const raw = (w, h, c, seed) => {
  const img = sharp(pattern(w, h, c, seed), { raw: { width: w, height: h, channels: c } });
  return c <= 2 ? img.toColourspace('b-w') : img; // keep grey (and grey+alpha) files grey
};

// ---- CRC32 for hand-made PNG chunks ----
const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

async function images() {
  const png = await raw(24, 24, 3).png().toBuffer();
  const jpg = await raw(24, 24, 3).jpeg({ quality: 90 }).toBuffer();
  put('images/zero-bytes.png', Buffer.alloc(0));
  put('images/truncated.png', png.subarray(0, Math.floor(png.length / 2)));
  put('images/truncated.jpg', jpg.subarray(0, Math.floor(jpg.length / 2)));
  // Decompression bomb: a valid PNG header claiming 100000 x 100000 RGB pixels, with a few bytes of data.
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100000, 0);
  ihdr.writeUInt32BE(100000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  put(
    'images/bomb-100000x100000.png',
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1])), chunk('IEND', Buffer.alloc(0))]),
  );
  put('images/text-file.png', 'This is a text file with a .png name, not an image.\n');
  // 16 bits per sample: grey and RGB.
  const g16 = Buffer.alloc(24 * 24 * 2);
  for (let i = 0; i < 24 * 24; i++) g16.writeUInt16LE((i * 97) % 65536, i * 2);
  put('images/grey-16bit.png', await sharp(g16, { raw: { width: 24, height: 24, channels: 1, premultiplied: false } }).toColourspace('grey16').png().toBuffer().catch(() => raw(24, 24, 1).png().toBuffer()));
  put('images/rgb-16bit.png', await raw(24, 24, 3).toColourspace('rgb16').png().toBuffer());
  put('images/cmyk.jpg', await raw(24, 24, 3).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer());
  // Animated GIF: three 24x24 frames.
  const frames = await Promise.all([0, 1, 2].map((s) => raw(24, 24, 3, s).png().toBuffer()));
  put('images/animated.gif', await sharp(frames, { join: { animated: true } }).gif({ delay: [100, 100, 100], loop: 0 }).toBuffer());
  // EXIF orientation 6 (rotate 90° clockwise to display): stored 32 wide x 16 high, shown 16 x 32.
  put('images/exif-rotated.jpg', await raw(32, 16, 3).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer());
  put('images/grey-alpha.png', await raw(24, 24, 2).png().toBuffer());
  put('images/rgba.png', await raw(24, 24, 4).png().toBuffer());
  put('images/palette.png', await raw(24, 24, 3).png({ palette: true, colours: 16 }).toBuffer());
  put('images/one-pixel.png', await raw(1, 1, 1).png().toBuffer());
  put('images/tall-strip-1x2000.png', await raw(1, 2000, 1).png().toBuffer());
  put('images/jpeg-named.png', jpg);
  // Corrupt image data under valid chunk framing: the IDAT payload is garbage (CRC fixed up).
  const bad = Buffer.from(png);
  const idat = bad.indexOf(Buffer.from('IDAT'));
  for (let i = idat + 6; i < idat + 30; i++) bad[i] ^= 0x5a;
  const idatLen = bad.readUInt32BE(idat - 4);
  bad.writeUInt32BE(crc32(bad.subarray(idat, idat + 4 + idatLen)), idat + 4 + idatLen);
  put('images/corrupt-idat.png', bad);
  // A PNG header with width 0.
  const ihdr0 = Buffer.from(ihdr);
  ihdr0.writeUInt32BE(0, 0);
  ihdr0.writeUInt32BE(16, 4);
  put('images/zero-width.png', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr0), chunk('IEND', Buffer.alloc(0))]));
  // A minimal uncompressed 24-bit BMP (4x4): BMP is in the extension lists.
  const bmpPx = Buffer.alloc(4 * 4 * 3, 128);
  const bmpHdr = Buffer.alloc(54);
  bmpHdr.write('BM', 0, 'ascii');
  bmpHdr.writeUInt32LE(54 + bmpPx.length, 2);
  bmpHdr.writeUInt32LE(54, 10);
  bmpHdr.writeUInt32LE(40, 14);
  bmpHdr.writeInt32LE(4, 18);
  bmpHdr.writeInt32LE(4, 22);
  bmpHdr.writeUInt16LE(1, 26);
  bmpHdr.writeUInt16LE(24, 28);
  bmpHdr.writeUInt32LE(bmpPx.length, 34);
  put('images/plain.bmp', Buffer.concat([bmpHdr, bmpPx]));
  // An SVG file under an image name: no SVG decoding is wanted for training/scoring data.
  put('images/svg-named.png', '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="red"/></svg>\n');
  // Spaces and non-ASCII characters in the file name.
  put('images/ünïcødé name ✓.png', await raw(24, 24, 1, 5).png().toBuffer());
}

function idxImages(n, rows, cols, magic = [0, 0, 8, 3]) {
  const b = Buffer.alloc(16 + n * rows * cols);
  Buffer.from(magic).copy(b, 0);
  b.writeUInt32BE(n, 4);
  b.writeUInt32BE(rows, 8);
  b.writeUInt32BE(cols, 12);
  for (let i = 16; i < b.length; i++) b[i] = (i * 31) % 256;
  return b;
}
function idxLabels(labels) {
  const b = Buffer.alloc(8 + labels.length);
  Buffer.from([0, 0, 8, 1]).copy(b, 0);
  b.writeUInt32BE(labels.length, 4);
  Buffer.from(labels).copy(b, 8);
  return b;
}

async function datasets() {
  const labels = [0, 1, 2, 1, 0, 1, 2, 1];
  put('datasets/idx-wrong-magic/train-images-idx3-ubyte', idxImages(8, 8, 8, [0x12, 0x34, 8, 3]));
  put('datasets/idx-wrong-magic/train-labels-idx1-ubyte', idxLabels(labels));
  const full = idxImages(8, 8, 8);
  put('datasets/idx-cut-short/train-images-idx3-ubyte', full.subarray(0, 16 + 5 * 64 + 10));
  put('datasets/idx-cut-short/train-labels-idx1-ubyte', idxLabels(labels));
  const gz = gzipSync(full);
  put('datasets/idx-gzip-cut/train-images-idx3-ubyte.gz', gz.subarray(0, Math.floor(gz.length / 2)));
  put('datasets/idx-gzip-cut/train-labels-idx1-ubyte', idxLabels(labels));
  const rec = (label, seed) => {
    const r = Buffer.alloc(1 + 3072);
    r[0] = label;
    for (let i = 1; i < r.length; i++) r[i] = (i * 13 + seed * 7) % 256;
    return r;
  };
  put('datasets/cifar-cut-mid-record/data_batch_1.bin', Buffer.concat([rec(0, 1), rec(1, 2), rec(2, 3).subarray(0, 1000)]));
  put('datasets/cifar-bad-label/data_batch_1.bin', Buffer.concat([rec(0, 1), rec(200, 2)]));
  // Image folders. Normal images are small patterns; the case's problem is in the folder layout.
  for (let i = 0; i < 6; i++) put(`datasets/empty-class/good/${i}.png`, await raw(16, 16, 1, i).png().toBuffer());
  put('datasets/empty-class/defect/.gitkeep', ''); // dot files are ignored: the class folder is empty
  for (let i = 0; i < 3; i++) put(`datasets/no-class-folders/loose-${i}.png`, await raw(16, 16, 1, i).png().toBuffer());
  put('datasets/only-non-images/good/notes.txt', 'no images here\n');
  put('datasets/only-non-images/defect/data.csv', 'a,b\n1,2\n');
  for (let i = 0; i < 6; i++) put(`datasets/symlink-loop/good/${i}.png`, await raw(16, 16, 1, i).png().toBuffer());
  for (let i = 0; i < 2; i++) put(`datasets/symlink-loop/defect/${i}.png`, await raw(16, 16, 1, 20 + i).png().toBuffer());
  for (let i = 0; i < 8; i++) put(`datasets/spaces and ünïcødé/gööd images ✓/ïmage ${i} (copy).png`, await raw(16, 16, 1, i).png().toBuffer());
  for (let i = 0; i < 2; i++) put(`datasets/spaces and ünïcødé/défaut №${i}/Fehler ${i}.png`, await raw(16, 16, 1, 30 + i).png().toBuffer());
  for (let i = 0; i < 6; i++) put(`datasets/all-anomalies-unreadable/good/${i}.png`, await raw(16, 16, 1, i).png().toBuffer());
  for (let i = 0; i < 3; i++) put(`datasets/all-anomalies-unreadable/defect/broken-${i}.png`, `not an image ${i}\n`);
}

/** A tiny valid model (16x16x1 → 16x16x1, two 1x1 convolutions, 7 weights) and its files. */
async function tinyModel() {
  await tf.setBackend('cpu');
  const input = tfl.input({ shape: [16, 16, 1], name: 'image' });
  const h = tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu', name: 'c1' }).apply(input);
  const y = tfl.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'tanh', name: 'out' }).apply(h);
  const model = tfl.model({ inputs: input, outputs: y, name: 'tiny_generator' });
  model.setWeights([tf.tensor4d([0.9, 0.4], [1, 1, 1, 2]), tf.tensor1d([0.05, 0]), tf.tensor4d([0.8, 0.3], [1, 1, 2, 1]), tf.tensor1d([-0.05])]);
  let art;
  await model.save(tf.io.withSaveHandler(async (a) => { art = a; return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } }; }));
  const modelJson = { format: 'layers-model', generatedBy: 'scripts/make-bad-corpus.mjs', convertedBy: null, modelTopology: art.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }] };
  const weights = Buffer.from(art.weightData);
  const info = {
    formatVersion: 1,
    input: { height: 16, width: 16, channels: 1 },
    normalization: { scale: 1 / 127.5, offset: -1 },
    score: { kind: 'mean', patch: { size: 2, stride: 1, topN: 3 } },
    threshold: 0.2,
    normalStats: { mean: 0.1, std: 0.02, p95: 0.15, p99: 0.18, count: 10 },
    dataset: { note: 'tiny test model from scripts/make-bad-corpus.mjs' },
    config: {},
    metrics: {},
    backend: 'cpu',
    createdAt: '2020-01-01T00:00:00.000Z',
    trainingSeconds: 0,
  };
  model.dispose();
  return { modelJson, weights, info };
}

async function models() {
  const { modelJson, weights, info } = await tinyModel();
  const folder = (name, files) => {
    const all = { 'model.json': JSON.stringify(modelJson), 'weights.bin': weights, 'flawscope.json': JSON.stringify(info, null, 1), ...files };
    for (const [f, d] of Object.entries(all)) if (d !== null) put(`models/${name}/${f}`, d);
  };
  const clone = (o) => JSON.parse(JSON.stringify(o));
  folder('ok', {});
  folder('model-json-not-json', { 'model.json': '{"format": "layers-model", "modelTopology": {"class_name": "Model", ' });
  folder('model-json-empty', { 'model.json': '' });
  folder('model-json-no-topology', { 'model.json': JSON.stringify({ hello: 'world' }) });
  const missing = clone(modelJson);
  missing.modelTopology.config.layers = missing.modelTopology.config.layers.filter((l) => l.name !== 'c1');
  missing.weightsManifest[0].weights = missing.weightsManifest[0].weights.filter((w) => !w.name.startsWith('c1/'));
  folder('model-missing-layer', { 'model.json': JSON.stringify(missing), 'weights.bin': weights.subarray(16) });
  folder('weights-cut-short', { 'weights.bin': weights.subarray(0, 10) });
  folder('weights-missing', { 'weights.bin': null });
  const wrongShape = clone(modelJson);
  for (const w of wrongShape.weightsManifest[0].weights) {
    if (w.name === 'c1/kernel') w.shape = [1, 1, 2, 1];
    if (w.name === 'out/kernel') w.shape = [1, 1, 1, 2];
  }
  folder('weights-wrong-shape', { 'model.json': JSON.stringify(wrongShape) });
  folder('weights-too-long', { 'weights.bin': Buffer.concat([weights, weights]) });
  const traversal = clone(modelJson);
  traversal.weightsManifest[0].paths = ['../../../../../../etc/passwd'];
  folder('weights-path-traversal', { 'model.json': JSON.stringify(traversal) });
  folder('info-future-version', { 'flawscope.json': JSON.stringify({ ...info, formatVersion: 99 }, null, 1) });
  folder('info-not-json', { 'flawscope.json': 'formatVersion = 1\n' });
  folder('info-missing', { 'flawscope.json': null });
  folder('info-input-mismatch', { 'flawscope.json': JSON.stringify({ ...info, input: { height: 32, width: 32, channels: 1 } }, null, 1) });
  folder('info-bad-threshold', { 'flawscope.json': JSON.stringify({ ...info, threshold: 'high' }, null, 1) });
  // Fields in range by type but not by value, each once.
  const withInfo = (name, over) => folder(name, { 'flawscope.json': JSON.stringify({ ...info, ...over }, null, 1) });
  withInfo('info-patch-strings', { score: { kind: 'mean', patch: { size: '2', stride: '1', topN: '3' } } });
  withInfo('info-patch-fraction', { score: { kind: 'topPatch', patch: { size: 2.5, stride: 1, topN: 3 } } });
  withInfo('info-normalization-zero', { normalization: { scale: 0, offset: -1 } });
  withInfo('info-normalization-huge', { normalization: { scale: 1e308, offset: -1 } });
  withInfo('info-input-huge', { input: { height: 8192, width: 8192, channels: 1 } });
  // Valid, but scoring even a 16x16 image would run 1009^2 tiles: refused before any work.
  withInfo('info-scale-64-stride-1', { formatVersion: 5, preprocess: { mode: 'tile', scale: 64, tileStride: 1 } });
  // Weights that are all NaN: the score is NaN, which must be an error, never "normal".
  folder('weights-nan', { 'weights.bin': Buffer.from(new Float32Array(weights.length / 4).fill(NaN).buffer) });
  const manifest = (name, paths) => {
    const m = clone(modelJson);
    m.weightsManifest[0].paths = paths;
    folder(name, { 'model.json': JSON.stringify(m) });
  };
  manifest('weights-path-encoded', ['%2e%2e/%2e%2e/%2e%2e/etc/passwd']);
  manifest('weights-path-unc', ['\\\\host\\share\\w.bin']);
  const many = clone(modelJson);
  many.weightsManifest = Array.from({ length: 100 }, () => clone(modelJson.weightsManifest[0]));
  folder('manifest-many-groups', { 'model.json': JSON.stringify(many) });
}

function checkpoints() {
  // A resolved train config (as train.ts stores it). `data` is relative to the repo root; the
  // tests run the CLI there and rewrite `out` into a temp folder before resuming.
  const config = {
    data: 'test/fixtures/mnist-small', normal: '1', out: 'REPLACED-BY-TEST', size: 16, epochs: 2, batch: 32, seed: 0, lr: 0.001, lrDecayEvery: 50,
    beta1: 0.5, beta2: 0.999, weights: { recon: 1.5, abc: 0.5, normalAdv: 0.5, patch: 1.5, latent: 0.5, anomalyAdv: 1 }, patch: null, score: 'auto',
    backend: 'cpu', validationFraction: 0.1, force: false, dataOptions: {},
  };
  const state = (over = {}) => JSON.stringify({ version: 1, epoch: 1, rngState: 12345, bestValAuroc: 0.5, bestEpoch: 1, history: [], config, elapsedSeconds: 1, ...over }, null, 1);
  const f32 = (n) => Buffer.from(new Float32Array(n).fill(0.01).buffer);
  put('checkpoints/state-not-json/state.json', '{"version": 1, "epoch": ');
  put('checkpoints/state-not-json/tensors.json', '[]');
  put('checkpoints/state-not-json/tensors.bin', '');
  put('checkpoints/tensors-cut-short/state.json', state());
  put('checkpoints/tensors-cut-short/tensors.json', JSON.stringify([{ name: 'g/0', shape: [100], dtype: 'float32', offset: 0, length: 400 }]));
  put('checkpoints/tensors-cut-short/tensors.bin', f32(10));
  put('checkpoints/future-version/state.json', state({ version: 99 }));
  put('checkpoints/future-version/tensors.json', '[]');
  put('checkpoints/future-version/tensors.bin', '');
  put('checkpoints/missing-tensors-bin/state.json', state());
  put('checkpoints/missing-tensors-bin/tensors.json', '[]');
  // Well-formed, but its tensors belong to another model.
  put('checkpoints/wrong-model/state.json', state());
  put('checkpoints/wrong-model/tensors.json', JSON.stringify([{ name: 'g/0', shape: [2, 2], dtype: 'float32', offset: 0, length: 16 }]));
  put('checkpoints/wrong-model/tensors.bin', f32(4));
  // Well-formed, but the data it was trained on is gone.
  put('checkpoints/data-gone/state.json', state({ config: { ...config, data: 'test/fixtures/no-such-dataset' } }));
  put('checkpoints/data-gone/tensors.json', '[]');
  put('checkpoints/data-gone/tensors.bin', '');
  // Damaged checkpoint manifests and states: each refused naming the file and the field.
  const ok4 = [{ name: 'g/0', shape: [2, 2], dtype: 'float32', offset: 0, length: 16 }];
  const ckpt = (name, { st = state(), manifest = ok4, bin = f32(8) } = {}) => {
    put(`checkpoints/${name}/state.json`, st);
    put(`checkpoints/${name}/tensors.json`, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
    put(`checkpoints/${name}/tensors.bin`, bin);
  };
  ckpt('tensors-json-object', { manifest: '{}' });
  ckpt('tensor-wrong-length', { manifest: [{ ...ok4[0], length: 12 }] });
  ckpt('tensor-negative-offset', { manifest: [{ ...ok4[0], offset: -4 }] });
  ckpt('tensor-fractional-offset', { manifest: [{ ...ok4[0], offset: 1.5 }] });
  ckpt('tensor-unknown-dtype', { manifest: [{ ...ok4[0], dtype: 'float64' }] });
  ckpt('tensor-duplicate-name', { manifest: [ok4[0], { ...ok4[0], offset: 16 }] });
  ckpt('tensor-bad-shape', { manifest: [{ ...ok4[0], shape: [2, -2] }] });
  ckpt('state-bad-rngstate', { st: state({ rngState: -1 }) });
  ckpt('state-bad-step', { st: state({ version: 2, step: 1.5, cursors: {} }) });
  ckpt('state-bad-epoch', { st: state({ epoch: 'one' }) });
  ckpt('state-bad-bestepoch', { st: state({ bestEpoch: -1 }) });
  ckpt('state-bad-cursors', { st: state({ version: 2, step: 0, cursors: { normal: { pos: -3 } } }) });
  ckpt('state-config-not-object', { st: state({ config: 'REPLACED-BY-TEST' }) });
  ckpt('state-not-object', { st: '[1, 2]' });
}

rmSync(OUT, { recursive: true, force: true });
await images();
await datasets();
await models();
checkpoints();
// Sanity: the corpus stays small.
const { execSync } = await import('node:child_process');
const bytes = Number(execSync(`du -sb "${OUT}"`).toString().split('\t')[0]);
process.stdout.write(`bad-input corpus written to ${OUT} (${bytes} bytes on disk)\n`);
