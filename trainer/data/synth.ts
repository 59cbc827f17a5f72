/**
 * Synthetic image files for tests and the data benchmark: small, deterministic, generated on the
 * fly so nothing large is committed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { createRng } from '../rng';

export type SynthKind = 'grey' | 'rgb' | 'rgba' | 'grey16' | 'grey-alpha';

/** A deterministic pattern image: `value` sets the mean brightness, plus seeded noise. */
export function patternPixels(width: number, height: number, channels: number, value: number, seed: number): Buffer {
  const rng = createRng(seed);
  const buf = Buffer.alloc(width * height * channels);
  for (let i = 0; i < buf.length; i++) buf[i] = Math.max(0, Math.min(255, Math.round(value + (rng() - 0.5) * 40)));
  return buf;
}

export async function writeImage(
  file: string,
  opts: { width: number; height: number; kind?: SynthKind; value?: number; seed?: number; format?: 'png' | 'jpeg' },
): Promise<void> {
  const { width, height } = opts;
  const kind = opts.kind ?? 'grey';
  const value = opts.value ?? 128;
  const seed = opts.seed ?? 1;
  await fs.mkdir(path.dirname(file), { recursive: true });
  let img: sharp.Sharp;
  switch (kind) {
    case 'grey':
      img = sharp(patternPixels(width, height, 1, value, seed), { raw: { width, height, channels: 1 } }).toColourspace('b-w');
      break;
    case 'rgb':
      img = sharp(patternPixels(width, height, 3, value, seed), { raw: { width, height, channels: 3 } });
      break;
    case 'rgba':
      img = sharp(patternPixels(width, height, 4, value, seed), { raw: { width, height, channels: 4 } });
      break;
    case 'grey16':
      img = sharp(patternPixels(width, height, 1, value, seed), { raw: { width, height, channels: 1 } }).toColourspace('grey16');
      break;
    case 'grey-alpha': {
      const px = patternPixels(width, height, 2, value, seed);
      for (let i = 1; i < px.length; i += 2) px[i] = 255; // opaque, so flattening keeps the value
      img = sharp(px, { raw: { width, height, channels: 2 } }).toColourspace('b-w');
      break;
    }
  }
  if ((opts.format ?? 'png') === 'jpeg' && kind !== 'rgba' && kind !== 'grey-alpha' && kind !== 'grey16') {
    await img.jpeg({ quality: 90 }).toFile(file);
  } else await img.png().toFile(file);
}

/** A PNG consisting of only a valid header claiming width x height (a decompression-bomb probe). */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (let i = 0; i < buf.length; i++) {
    c ^= buf[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** ROOT/<class>/<i>.png with `counts[class]` images each; class brightness differs. */
export async function writeClassFolder(
  root: string,
  counts: Record<string, number>,
  opts: { width?: number; height?: number; kind?: SynthKind } = {},
): Promise<void> {
  let c = 0;
  for (const [cls, n] of Object.entries(counts)) {
    await fs.mkdir(path.join(root, cls), { recursive: true });
    for (let i = 0; i < n; i++) {
      await writeImage(path.join(root, cls, `${String(i).padStart(4, '0')}.png`), {
        width: opts.width ?? 16,
        height: opts.height ?? 16,
        kind: opts.kind ?? 'grey',
        value: 60 + 50 * c,
        seed: c * 100000 + i,
      });
    }
    c++;
  }
}
