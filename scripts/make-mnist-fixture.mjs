// Derives the small committed MNIST fixture (test/fixtures/mnist-small) from ../shared/data/mnist:
// train/<digit>/ (120 of digit 1, 20 of each other digit) and test/<digit>/ (30 of each digit),
// the first images of each digit in the official order. Usage: node scripts/make-mnist-fixture.mjs [MNIST_DIR]
import { gunzipSync } from 'node:zlib';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = process.argv[2] ?? join(root, '../shared/data/mnist');
const out = join(root, 'test/fixtures/mnist-small');
const read = (f) => gunzipSync(readFileSync(join(src, f)));
rmSync(out, { recursive: true, force: true });
for (const [split, imgs, labels, perDigit] of [
  ['train', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', (d) => (d === 1 ? 120 : 20)],
  ['test', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', () => 30],
]) {
  const X = read(imgs), Y = read(labels);
  const taken = new Array(10).fill(0);
  for (let i = 0; i < Y.length - 8; i++) {
    const d = Y[8 + i];
    if (taken[d] >= perDigit(d)) continue;
    const dir = join(out, split, String(d));
    mkdirSync(dir, { recursive: true });
    const px = X.subarray(16 + i * 784, 16 + (i + 1) * 784);
    await sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, `${String(i).padStart(5, '0')}.png`));
    taken[d]++;
  }
}
console.log(`wrote ${out}`);
