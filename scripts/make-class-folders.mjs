// Writes an IDX image set (MNIST, Fashion-MNIST) as PNG class folders, the way a user would hand
// their own images to Flawscope: OUT/train/<label>/ (the first N images of each label in the
// official order) and OUT/test/<label>/ (the first M of each label of the official test set; 0 = all).
// Usage: node scripts/make-class-folders.mjs IDX_DIR OUT_DIR [N=150] [M=0]
// e.g.   node scripts/make-class-folders.mjs ../shared/data/mnist /tmp/mnist-150 150
//        node scripts/make-class-folders.mjs /usr/share/datasets/fashion-mnist /tmp/fashion-150 150
import { gunzipSync } from 'node:zlib';
import { existsSync, readFileSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const [src, out, nText = '150', mText = '0'] = process.argv.slice(2);
const perTrain = Number(nText), perTest = Number(mText);
if (!src || !out || !Number.isInteger(perTrain) || perTrain < 1 || !Number.isInteger(perTest) || perTest < 0) {
  console.error('usage: node scripts/make-class-folders.mjs IDX_DIR OUT_DIR [TRAIN_PER_CLASS=150] [TEST_PER_CLASS=0 (all)]');
  process.exit(2);
}
// Only a new or empty folder, or one this script wrote before (train/ and test/ only), is replaced.
if (existsSync(out) && readdirSync(out).some((f) => f !== 'train' && f !== 'test')) {
  console.error(`${out}: holds other files; name a new folder`);
  process.exit(2);
}
const read = (f) => {
  const b = readFileSync(join(src, f));
  return b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
};
rmSync(out, { recursive: true, force: true });
for (const [split, imgs, labels, quota] of [
  ['train', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', perTrain],
  ['test', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', perTest || Infinity],
]) {
  const X = read(imgs), Y = read(labels);
  const h = X.readUInt32BE(8), w = X.readUInt32BE(12);
  const taken = new Map();
  for (let i = 0; i < Y.length - 8; i++) {
    const d = Y[8 + i];
    if ((taken.get(d) ?? 0) >= quota) continue;
    const dir = join(out, split, String(d));
    mkdirSync(dir, { recursive: true });
    const px = X.subarray(16 + i * h * w, 16 + (i + 1) * h * w);
    await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, `${String(i).padStart(5, '0')}.png`));
    taken.set(d, (taken.get(d) ?? 0) + 1);
  }
}
console.log(`wrote ${out}`);
