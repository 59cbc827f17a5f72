/**
 * Shared by the container formats (IDX, CIFAR binary): images stored as fixed-size records in a
 * few big files, read fully into memory once (MNIST is 47 MB, CIFAR-10 180 MB) and cut into
 * records on demand. Resizing is a small bilinear in JS: records are tiny, so one sharp call per
 * record would cost more in overhead than the arithmetic.
 */
import type { CatalogItem, DecodeRequest, DecodeResult } from './catalog';
import { MemoryImageSet } from './image-set';

export interface RecordSource {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Writes record `record` of `file` as HWC uint8 into `out` (width*height*channels bytes). */
  read(file: string, record: number, out: Uint8Array): void;
}

export function decodeRecords(src: RecordSource, items: CatalogItem[], req: DecodeRequest): DecodeResult {
  const channels: 1 | 3 = req.channels ?? src.channels;
  const per = req.size * req.size * channels;
  const data = new Uint8Array(items.length * per);
  const raw = new Uint8Array(src.width * src.height * src.channels);
  const conv = new Uint8Array(src.width * src.height * channels);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const file = it.source.slice(0, it.source.lastIndexOf('#'));
    src.read(file, it.record!, raw);
    const c = convertChannels(raw, src.channels, channels, conv);
    resizeImage(c, src.width, src.height, channels, req.size, req.size, data.subarray(i * per, (i + 1) * per));
  }
  return {
    images: new MemoryImageSet(data, items.length, req.size, req.size, channels),
    kept: items.map((_, i) => i),
    skipped: [],
  };
}

function convertChannels(src: Uint8Array, from: 1 | 3, to: 1 | 3, out: Uint8Array): Uint8Array {
  if (from === to) return src;
  const n = src.length / from;
  if (to === 3) {
    for (let p = 0; p < n; p++) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = src[p];
  } else {
    // ITU-R BT.601 luma, the weights libvips uses for the image files.
    for (let p = 0; p < n; p++) out[p] = Math.round(0.299 * src[p * 3] + 0.587 * src[p * 3 + 1] + 0.114 * src[p * 3 + 2]);
  }
  return out;
}

/** Resize for crops and records: box average when shrinking by 2x or more (bilinear alone would
 * alias, skipping most source pixels), bilinear otherwise. */
export function resizeImage(src: Uint8Array, sw: number, sh: number, c: number, dw: number, dh: number, out: Uint8Array): void {
  const fx = Math.floor(sw / dw);
  const fy = Math.floor(sh / dh);
  if (fx < 2 && fy < 2) return resizeBilinear(src, sw, sh, c, dw, dh, out);
  // Box-filter down by the integer factors, then bilinear for the rest.
  const bx = Math.max(1, fx);
  const by = Math.max(1, fy);
  const mw = Math.floor(sw / bx);
  const mh = Math.floor(sh / by);
  const mid = new Uint8Array(mw * mh * c);
  const area = bx * by;
  for (let y = 0; y < mh; y++) {
    for (let x = 0; x < mw; x++) {
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let yy = 0; yy < by; yy++) {
          const row = ((y * by + yy) * sw + x * bx) * c + k;
          for (let xx = 0; xx < bx; xx++) s += src[row + xx * c];
        }
        mid[(y * mw + x) * c + k] = Math.round(s / area);
      }
    }
  }
  resizeBilinear(mid, mw, mh, c, dw, dh, out);
}

/** Bilinear resize with half-pixel centres (as sharp/TF), HWC uint8. Identity when sizes match.
 * Hot path (every crop and every augmented crop goes through it): the per-column source indices
 * and weights are computed once per call, and weights are 8-bit fixed point. */
export function resizeBilinear(src: Uint8Array, sw: number, sh: number, c: number, dw: number, dh: number, out: Uint8Array): void {
  if (sw === dw && sh === dh) {
    out.set(src.subarray(0, sw * sh * c));
    return;
  }
  const xo0 = new Int32Array(dw);
  const xo1 = new Int32Array(dw);
  const xw = new Int32Array(dw);
  const sx = sw / dw;
  for (let x = 0; x < dw; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
    const x0 = Math.floor(fx);
    xo0[x] = x0 * c;
    xo1[x] = Math.min(x0 + 1, sw - 1) * c;
    xw[x] = Math.round((fx - x0) * 256);
  }
  const sy = sh / dh;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const r0 = y0 * sw * c;
    const r1 = Math.min(y0 + 1, sh - 1) * sw * c;
    const wy = Math.round((fy - y0) * 256);
    const iwy = 256 - wy;
    let o = y * dw * c;
    if (c === 1) {
      for (let x = 0; x < dw; x++) {
        const wx = xw[x], iwx = 256 - wx;
        const top = src[r0 + xo0[x]] * iwx + src[r0 + xo1[x]] * wx;
        const bot = src[r1 + xo0[x]] * iwx + src[r1 + xo1[x]] * wx;
        out[o++] = (top * iwy + bot * wy + 32768) >> 16;
      }
      continue;
    }
    for (let x = 0; x < dw; x++) {
      const a0 = r0 + xo0[x], a1 = r0 + xo1[x], b0 = r1 + xo0[x], b1 = r1 + xo1[x];
      const wx = xw[x], iwx = 256 - wx;
      for (let k = 0; k < c; k++) {
        const top = src[a0 + k] * iwx + src[a1 + k] * wx;
        const bot = src[b0 + k] * iwx + src[b1 + k] * wx;
        out[o++] = (top * iwy + bot * wy + 32768) >> 16;
      }
    }
  }
}
