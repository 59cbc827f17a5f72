/** Training and scoring preprocess an image identically: one module (scorer/preprocess.ts), one resize. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import sharp from 'sharp';
import { decodeImage } from '../../trainer/data/decode';
import { decodeImageFile } from '../../scorer/node';
import { convertChannels, cutTile, PHOTO_STANDARD, resampleFloat, resizePixels, resizePixelsInto, workingImage } from '../../scorer/preprocess';
import { tileStarts } from '../../scorer/scorer';
import { cropTileOrigin, decodeCrops, gridPositions } from '../../trainer/data/patches';
import { decodeRecords } from '../../trainer/data/records';
import { augmentImage } from '../../trainer/data/augment';
import type { CatalogItem } from '../../trainer/data/catalog';

test('the trainer decode equals the scorer decode + convertChannels + resizePixels, byte for byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-pre-'));
  const cases: [string, number, number, 1 | 3 | 4][] = [['rgb.png', 50, 40, 3], ['grey.png', 28, 28, 1], ['rgba.png', 70, 33, 4]];
  for (const [name, w, h, c] of cases) {
    const px = Buffer.alloc(w * h * c);
    for (let i = 0; i < px.length; i++) px[i] = (i * 37 + (i % 7) * 11) % 256;
    const img = sharp(px, { raw: { width: w, height: h, channels: c } });
    await (c === 1 ? img.toColourspace('b-w') : img).png().toFile(join(dir, name));
    for (const channels of [1, 3] as const) {
      const t = await decodeImage(join(dir, name), { size: 32, channels });
      const s = await decodeImageFile(join(dir, name));
      const want = resizePixels(convertChannels(s.data, s.width * s.height, s.channels, channels), s.width, s.height, channels, 32, 32);
      assert.deepEqual(Buffer.from(t.data), Buffer.from(want), `${name} → ${channels} channel(s)`);
    }
  }
});

/** A photo with structure at every scale, so a different filter or a shifted tile changes bytes. */
function photoPixels(w: number, h: number, c: number): Buffer {
  const px = Buffer.alloc(w * h * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++)
    px[(y * w + x) * c + k] = (x * 7 + y * 13 + ((x * y) % 17) * 5 + k * 40 + (((x >> 3) + (y >> 3)) & 1) * 60) % 256;
  return px;
}

test('a defect crop the trainer makes is, byte for byte, the tile the scorer feeds the generator at that place of the photo', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-tiles-'));
  const size = 32, patch = 64, stride = 32; // the Magnetic-tile protocol: scale 1/2, scorer tiles 16 px apart
  // Odd sides: the last crop, flush with the photo's edge, lands between the stride's steps.
  const cases: [string, number, number, 1 | 3, boolean][] = [['grey.png', 203, 151, 1, true], ['rgb.png', 160, 97, 3, false], ['small.png', 50, 120, 1, true]];
  for (const [name, w, h, c, standardize] of cases) {
    const img = sharp(photoPixels(w, h, c), { raw: { width: w, height: h, channels: c } });
    await (c === 1 ? img.toColourspace('b-w') : img).png().toFile(join(dir, name));
    const file = join(dir, name);
    const sd = standardize ? PHOTO_STANDARD : undefined;

    // The trainer: the defect protocol's crop grid, decoded as training/validation data.
    const items: CatalogItem[] = [];
    for (const gy of gridPositions(h, patch, stride)) for (const gx of gridPositions(w, patch, stride)) items.push({ className: 'good', source: file, crop: { x: gx.start, y: gy.start, w: gx.len, h: gy.len } });
    const trainer = await decodeCrops(items, { size, channels: c, standardize: sd }, patch);
    assert.equal(trainer.kept.length, items.length);

    // The scorer: its decode, working image and tiles (what Scorer.prepare and score run) for a
    // model trained on those crops: preprocess {mode 'tile', scale size/patch}, tile stride
    // stride*scale.
    const s = await decodeImageFile(file);
    const wi = workingImage(s.data, s.width, s.height, s.channels, { width: size, height: size, channels: c }, { mode: 'tile', scale: size / patch, standardize: sd });
    const tiles = new Map<string, Uint8Array>();
    for (const ty of tileStarts(wi.wh, size, (stride * size) / patch)) for (const tx of tileStarts(wi.ww, size, (stride * size) / patch)) {
      const t = new Uint8Array(size * size * c);
      cutTile(wi.work, wi.ww, tx, ty, size, size, c, t);
      tiles.set(`${tx},${ty}`, t);
    }

    const per = size * size * c;
    const at = new Set<string>();
    items.forEach((it, i) => {
      const tx = cropTileOrigin(it.crop!.x, wi.fx, wi.ww, size), ty = cropTileOrigin(it.crop!.y, wi.fy, wi.wh, size);
      const key = `${tx},${ty}`;
      at.add(key);
      let want = tiles.get(key);
      // A photo narrower than a patch is enlarged to a tile's width first (the scorer's rule); its
      // crops then fall between the scorer's stride steps, so compare with the tile cut there.
      if (!want && (w < patch || h < patch)) cutTile(wi.work, wi.ww, tx, ty, size, size, c, (want = new Uint8Array(size * size * c)));
      assert.ok(want, `${name}: crop at ${it.crop!.x},${it.crop!.y} has no scorer tile (${key})`);
      assert.deepEqual(Buffer.from(trainer.images.data.subarray(i * per, (i + 1) * per)), Buffer.from(want), `${name}: crop at ${it.crop!.x},${it.crop!.y} vs tile ${key}`);
    });
    if (w >= patch && h >= patch) assert.deepEqual([...at].sort(), [...tiles.keys()].sort(), `${name}: every scorer tile is a training crop and back`);

    // Defect photos scored whole (no --patch-size): the scorer's 'resize' mode.
    const whole = await decodeCrops([{ className: 'good', source: file }], { size, channels: c, standardize: sd });
    const want = workingImage(s.data, s.width, s.height, s.channels, { width: size, height: size, channels: c }, { mode: 'resize', scale: 1, standardize: sd }).work;
    assert.deepEqual(Buffer.from(whole.images.data), Buffer.from(want), `${name}: whole photo`);
  }
});

test('IDX/CIFAR records and augmentation crops are resized by the scorer\'s resize too', () => {
  for (const [w, c, size] of [[28, 1, 32], [32, 3, 16], [32, 3, 20]] as const) {
    const raw = Uint8Array.from(photoPixels(w, w, c));
    const src = { width: w, height: w, channels: c, read: (_f: string, _r: number, out: Uint8Array) => out.set(raw) };
    const rec = decodeRecords(src, [{ className: '0', source: 'x#0', record: 0 }], { size, channels: c });
    assert.deepEqual(Buffer.from(rec.images.data), Buffer.from(resizePixels(raw, w, w, c, size, size)), `record ${w} → ${size}`);
  }

  // rng 0.99 cuts the most from every border: 2 px each side, then back to 30x30.
  const n = 30;
  const px = Uint8Array.from(photoPixels(n, n, 3));
  const cut = new Uint8Array((n - 4) * (n - 4) * 3);
  for (let y = 0; y < n - 4; y++) cut.set(px.subarray(((y + 2) * n + 2) * 3, ((y + 2) * n + n - 2) * 3), y * (n - 4) * 3);
  augmentImage(px, n, n, 3, { crop: 2, flip: 'none', rotate90: false, jitter: 0 }, () => 0.99);
  assert.deepEqual(Buffer.from(px), Buffer.from(resizePixels(cut, n - 4, n - 4, 3, n, n)), `augmentation crop ${n - 4} → ${n}`);
});

test('resizePixelsInto (the cached, uint8 path) gives resampleFloat\'s bytes', () => {
  for (const [w, h, c, nw, nh] of [[203, 151, 1, 102, 76], [64, 64, 3, 32, 32], [28, 28, 1, 32, 32], [7, 5, 3, 13, 2]]) {
    const src = photoPixels(w, h, c);
    const f = resampleFloat(src, w, h, c, nw, nh);
    const want = Uint8Array.from(f, (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v)));
    const got = new Uint8Array(nw * nh * c);
    for (let rep = 0; rep < 2; rep++) { // second time from the taps cache
      resizePixelsInto(src, w, h, c, nw, nh, got);
      assert.deepEqual(Buffer.from(got), Buffer.from(want), `${w}x${h}x${c} → ${nw}x${nh}`);
    }
  }
});
