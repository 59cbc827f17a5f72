import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, probeImage, InputError } from '../../trainer/data/index';
import { pngHeaderOnly, writeImage } from '../../trainer/data/synth';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flawscope-data-decode-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const mean = (px: Uint8Array) => px.reduce((s, v) => s + v, 0) / px.length;

test('grey, 16-bit grey, grey+alpha, RGB, RGBA: channel count and values', async () => {
  const cases: { kind: 'grey' | 'grey16' | 'grey-alpha' | 'rgb' | 'rgba'; fileChannels: number; grey: boolean }[] = [
    { kind: 'grey', fileChannels: 1, grey: true },
    { kind: 'grey16', fileChannels: 1, grey: true },
    { kind: 'grey-alpha', fileChannels: 2, grey: true },
    { kind: 'rgb', fileChannels: 3, grey: false },
    { kind: 'rgba', fileChannels: 4, grey: false },
  ];
  for (const c of cases) {
    const f = path.join(tmp, `${c.kind}.png`);
    await writeImage(f, { width: 30, height: 20, kind: c.kind, value: 150 });
    const info = await probeImage(f);
    assert.equal(info.fileChannels, c.fileChannels, `${c.kind}: fixture has the intended channels`);
    if (c.kind === 'grey16') assert.equal(info.depth, 'ushort');
    const native = await decodeImage(f, { size: 10 });
    assert.equal(native.grey, c.grey, c.kind);
    assert.equal(native.channels, c.grey ? 1 : 3);
    assert.equal(native.data.length, 100 * native.channels);
    assert.equal(native.width, 30);
    assert.equal(native.height, 20);
    // RGBA with random alpha is flattened on black, so it is darker; everything else keeps ~150.
    if (c.kind === 'rgba') assert.ok(mean(native.data) < 120, `${c.kind}: ${mean(native.data)}`);
    else assert.ok(Math.abs(mean(native.data) - 150) < 6, `${c.kind}: mean ${mean(native.data)}`);
    for (const ch of [1, 3] as const) {
      const d = await decodeImage(f, { size: 10, channels: ch });
      assert.equal(d.channels, ch);
      assert.equal(d.data.length, 100 * ch);
    }
  }
});

test('EXIF orientation is applied', async () => {
  // 20 wide x 10 high, left half white. Orientation 6 = display rotated 90° clockwise, so the
  // left half ends up on top.
  const w = 20, h = 10;
  const px = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w / 2; x++) px[y * w + x] = 255;
  const f = path.join(tmp, 'rotated.jpg');
  await sharp(px, { raw: { width: w, height: h, channels: 1 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(f);
  const d = await decodeImage(f, { size: 8, channels: 1 });
  assert.equal(d.width, 10);
  assert.equal(d.height, 20);
  assert.ok(mean(d.data.subarray(0, 24)) > 200, 'top rows white');
  assert.ok(mean(d.data.subarray(40, 64)) < 50, 'bottom rows black');
});

test('pixel limit is enforced from the header, before decoding', async () => {
  const bomb = path.join(tmp, 'bomb.png');
  await fs.writeFile(bomb, pngHeaderOnly(100000, 100000));
  const t0 = Date.now();
  await assert.rejects(decodeImage(bomb, { size: 8 }), (e: Error) => e instanceof InputError && /100000x100000 pixels exceeds the limit of 50000000/.test(e.message) && e.message.includes(bomb));
  assert.ok(Date.now() - t0 < 1000);
  const small = path.join(tmp, 'small.png');
  await writeImage(small, { width: 10, height: 10 });
  await assert.rejects(decodeImage(small, { size: 8, maxPixels: 99 }), /exceeds the limit of 99/);
  assert.equal((await decodeImage(small, { size: 8, maxPixels: 100 })).data.length, 64);
});

test('corrupt files: clear InputError naming the file', async () => {
  const good = path.join(tmp, 'ok.jpg');
  await writeImage(good, { width: 64, height: 64, kind: 'rgb', format: 'jpeg' });
  const bytes = await fs.readFile(good);
  const cases: [string, Buffer][] = [
    ['zero.png', Buffer.alloc(0)],
    ['text.png', Buffer.from('hello, I am not an image')],
    ['truncated.jpg', bytes.subarray(0, bytes.length >> 1)],
  ];
  const png = path.join(tmp, 'ok.png');
  await writeImage(png, { width: 64, height: 64, kind: 'rgb' });
  const pbytes = await fs.readFile(png);
  cases.push(['truncated.png', pbytes.subarray(0, pbytes.length - 40)]);
  for (const [name, buf] of cases) {
    const f = path.join(tmp, name);
    await fs.writeFile(f, buf);
    await assert.rejects(decodeImage(f, { size: 8 }), (e: Error) => e instanceof InputError && e.message.startsWith(f), name);
  }
});

test('CMYK JPEG, paths with spaces and non-ASCII names, GIF ignored as a non-image', async () => {
  const { loadTrainingData } = await import('../../trainer/data/index');
  const root = path.join(tmp, 'dätä set');
  const good = path.join(root, 'gööd class');
  await fs.mkdir(good, { recursive: true });
  for (let i = 0; i < 3; i++) await writeImage(path.join(good, `ïmage ${i}.png`), { width: 12, height: 12, kind: 'rgb', value: 100 });
  const cmyk = path.join(root, 'défaut', 'cmyk file.jpg');
  await fs.mkdir(path.dirname(cmyk), { recursive: true });
  await sharp({ create: { width: 12, height: 12, channels: 3, background: { r: 220, g: 30, b: 30 } } }).toColourspace('cmyk').jpeg().toFile(cmyk);
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk', 'fixture is CMYK');
  const d = await decodeImage(cmyk, { size: 4 });
  assert.equal(d.channels, 3);
  assert.ok(d.data[0] > 150 && d.data[1] < 90, `CMYK red decodes as red: ${[...d.data.subarray(0, 3)]}`);
  await sharp({ create: { width: 4, height: 4, channels: 3, background: '#888' } }).gif().toFile(path.join(good, 'anim.gif'));
  const t = await loadTrainingData({ root, size: 8, seed: 1, normalClass: 'gööd class', validationFraction: 0 });
  assert.equal(t.normal.count, 3);
  assert.equal(t.anomaly!.count, 1);
  assert.equal(t.normal.channels, 3);
  assert.ok(t.summary.skipped.length === 0);
});
