/**
 * Pixel preprocessing shared by training and scoring, so both see identical inputs.
 * Images arrive as uint8 NHWC (already at model size and channel count); the generator ends in
 * tanh, so pixels are mapped to [-1, 1].
 */
import * as tf from '@tensorflow/tfjs-core';

export const NORMALIZATION = { scale: 1 / 127.5, offset: -1 } as const;

/** uint8 NHWC → float32 tensor in [-1, 1] (or with the model's own {scale, offset} from flawscope.json). */
export function toInputTensor(
  pixels: Uint8Array, n: number, h: number, w: number, c: number,
  norm: { scale: number; offset: number } = NORMALIZATION,
): tf.Tensor4D {
  const f = new Float32Array(pixels.length);
  const { scale, offset } = norm;
  for (let i = 0; i < pixels.length; i++) f[i] = pixels[i] * scale + offset;
  return tf.tensor4d(f, [n, h, w, c]);
}

/**
 * Photo standardisation (`preprocess.standardize` in flawscope.json): the whole photo is shifted
 * and stretched to a set mean and standard deviation before it is cut into patches, in training
 * and in scoring alike. Photos of one surface differ in exposure and contrast far more than a
 * crack or a blowhole changes them; per-photo (not per-patch) keeps a defect's contrast against
 * its own surroundings. In place; returns the photo's own statistics, to map reconstructions back.
 */
export interface Standardize { mean: number; std: number }

/** The target of `--standardize photo`: mid-grey, with room for ±3 std before clipping. */
export const PHOTO_STANDARD: Standardize = { mean: 128, std: 40 };

export function standardizePhoto(px: Uint8Array, to: Standardize): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < px.length; i++) { const v = px[i]; s += v; s2 += v * v; }
  const n = Math.max(1, px.length);
  const mean = s / n;
  const std = Math.sqrt(Math.max(0, s2 / n - mean * mean));
  const gain = to.std / Math.max(std, 1); // a flat photo is shifted, not blown up
  for (let i = 0; i < px.length; i++) {
    const v = Math.round(to.mean + (px[i] - mean) * gain);
    px[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { mean, std: Math.max(std, 1) };
}

/** Converts interleaved pixels with `from` channels (1, 2 = grey+alpha, 3, 4 = RGBA) to `to` channels (1 or 3). */
export function convertChannels(src: ArrayLike<number>, count: number, from: number, to: 1 | 3): Uint8Array {
  if (from === to) return Uint8Array.from(src as ArrayLike<number>);
  const out = new Uint8Array(count * to);
  for (let i = 0; i < count; i++) {
    let r: number, g: number, b: number;
    if (from === 1 || from === 2) r = g = b = src[i * from];
    else { r = src[i * from]; g = src[i * from + 1]; b = src[i * from + 2]; }
    if (to === 1) out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b); // ITU-R BT.601 luma, as sharp/libvips
    else { out[i * 3] = r; out[i * 3 + 1] = g; out[i * 3 + 2] = b; }
  }
  return out;
}

/** Inverse of the normalisation: model output in [-1, 1] → uint8 pixel (rounded, clamped). */
export function toPixelValue(v: number, norm: { scale: number; offset: number } = NORMALIZATION): number {
  const p = Math.round((v - norm.offset) / norm.scale);
  return p < 0 ? 0 : p > 255 ? 255 : p;
}

interface Taps { start: Int32Array; count: Int32Array; weights: Float32Array; maxTaps: number }

/** Filter taps of a triangle (bilinear) filter widened by the scale when shrinking (as Pillow's BILINEAR, antialiased). */
function computeTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize), count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let sum = 0, k = 0;
    for (let j = lo; j < hi && k < maxTaps; j++, k++) {
      const d = Math.abs((j + 0.5 - center) / support);
      const wgt = d < 1 ? 1 - d : 0;
      weights[i * maxTaps + k] = wgt;
      sum += wgt;
    }
    if (sum === 0) { weights[i * maxTaps] = 1; sum = 1; k = Math.max(k, 1); }
    for (let t = 0; t < k; t++) weights[i * maxTaps + t] /= sum;
    // Zero taps dropped (the triangle's weights are one run): adding 0 × pixel changes no sum,
    // and enlarging (augmentation crops, records) has a zero tap in most windows.
    let f = 0, l = k - 1;
    while (f < l && weights[i * maxTaps + f] === 0) f++;
    while (l > f && weights[i * maxTaps + l] === 0) l--;
    if (f > 0) weights.copyWithin(i * maxTaps, i * maxTaps + f, i * maxTaps + l + 1);
    start[i] = lo + f; count[i] = l - f + 1;
  }
  return { start, count, weights, maxTaps };
}

// Training resizes every record and augmented crop with the same few size pairs; the taps are
// the same each time. Bounded, as photos of a folder come in many sizes.
const tapsCache = new Map<number, Taps>();
function taps(inSize: number, outSize: number): Taps {
  const key = inSize * 65536 + outSize;
  let t = tapsCache.get(key);
  if (!t) {
    if (tapsCache.size >= 256) tapsCache.clear();
    t = computeTaps(inSize, outSize);
    tapsCache.set(key, t);
  }
  return t;
}

/** The horizontal pass of resampleFloat: (w x h x c) → (nw x h x c), float32 like the vertical pass reads it. */
function resampleRows(src: ArrayLike<number>, w: number, h: number, c: number, nw: number, scratch?: Float32Array): Float32Array {
  const tx = taps(w, nw);
  const mid = scratch && scratch.length >= nw * h * c ? scratch : new Float32Array(nw * h * c);
  if (c === 1) {
    for (let y = 0; y < h; y++) {
      const row = y * w, orow = y * nw;
      for (let x = 0; x < nw; x++) {
        const s = row + tx.start[x], n = tx.count[x], wo = x * tx.maxTaps;
        let acc = 0;
        for (let k = 0; k < n; k++) acc += tx.weights[wo + k] * src[s + k];
        mid[orow + x] = acc;
      }
    }
    return mid;
  }
  const { start, count, weights, maxTaps } = tx;
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    let o = y * nw * c;
    for (let x = 0; x < nw; x++) {
      const s = row + start[x] * c, n = count[x], wo = x * maxTaps;
      if (n === 2) {
        // As the loop below sums them (0 + a + b), unrolled: most columns when enlarging.
        const w0 = weights[wo], w1 = weights[wo + 1];
        for (let ch = 0; ch < c; ch++) mid[o++] = w0 * src[s + ch] + w1 * src[s + c + ch];
        continue;
      }
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += weights[wo + k] * src[s + k * c + ch];
        mid[o++] = acc;
      }
    }
  }
  return mid;
}

/**
 * Resamples interleaved float pixels (w x h x c) to (nw x nh x c): bilinear when enlarging, the
 * triangle filter widened by the scale when shrinking (antialiased, as Pillow's BILINEAR). Separable; pure JS, so training
 * and every scorer backend resize identically.
 */
export function resampleFloat(src: ArrayLike<number>, w: number, h: number, c: number, nw: number, nh: number): Float32Array {
  if (nw === w && nh === h) return Float32Array.from(src);
  const mid = resampleRows(src, w, h, c, nw);
  const ty = taps(h, nh);
  const out = new Float32Array(nw * nh * c); // vertical pass
  const rowLen = nw * c;
  for (let y = 0; y < nh; y++) {
    const s = ty.start[y], n = ty.count[y], wo = y * ty.maxTaps, o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += ty.weights[wo + k] * mid[(s + k) * rowLen + i];
      out[o + i] = acc;
    }
  }
  return out;
}

// The horizontal pass's buffer, reused: training resizes an augmentation crop every draw, and
// nothing runs between the two passes (no await).
let scratch = new Float32Array(0);

/**
 * THE resize of uint8 pixels: the scorer's whole images and photos, and every training image
 * (files, IDX/CIFAR records, defect crops, augmentation crops) go through it, so validation —
 * which picks the epoch, the score kind and the threshold — sees the pixels the deployed scorer
 * makes. resampleFloat rounded and clamped, written into `out` (nw*nh*c).
 */
export function resizePixelsInto(src: ArrayLike<number>, w: number, h: number, c: number, nw: number, nh: number, out: Uint8Array): void {
  if (nw === w && nh === h) {
    for (let i = 0; i < nw * nh * c; i++) out[i] = src[i];
    return;
  }
  if (scratch.length < nw * h * c) scratch = new Float32Array(nw * h * c);
  const mid = resampleRows(src, w, h, c, nw, scratch);
  const ty = taps(h, nh);
  const rowLen = nw * c;
  for (let y = 0; y < nh; y++) {
    const s = ty.start[y] * rowLen, n = ty.count[y], wo = y * ty.maxTaps, o = y * rowLen;
    if (n === 2) {
      // The common case when enlarging, unrolled; the same sum, in the same order, as the loop.
      const w0 = ty.weights[wo], w1 = ty.weights[wo + 1], s1 = s + rowLen;
      for (let i = 0; i < rowLen; i++) {
        const v = Math.fround(w0 * mid[s + i] + w1 * mid[s1 + i]);
        out[o + i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
      continue;
    }
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += ty.weights[wo + k] * mid[s + k * rowLen + i];
      // Through float32 first, as resampleFloat stores it: the bytes must not depend on the path.
      const v = Math.fround(acc);
      out[o + i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
}

/** resizePixelsInto into a new array. */
export function resizePixels(src: ArrayLike<number>, w: number, h: number, c: number, nw: number, nh: number): Uint8Array {
  const out = new Uint8Array(nw * nh * c);
  resizePixelsInto(src, w, h, c, nw, nh, out);
  return out;
}

/**
 * The working image a photo is tiled in (preprocess mode 'tile'): the photo scaled by the
 * model's `scale` (model size / training patch size), so tiles show a defect at the scale
 * training patches had; a photo smaller than a tile is enlarged, aspect kept, until a tile fits.
 * `fx`, `fy`: working pixels per photo pixel, to place a photo-space crop in the working image.
 */
export function tileWorkingSize(w: number, h: number, W: number, H: number, scale: number): { ww: number; wh: number; fx: number; fy: number } {
  let ww = Math.max(1, Math.round(w * scale));
  let wh = Math.max(1, Math.round(h * scale));
  if (ww >= W && wh >= H) return { ww, wh, fx: scale, fy: scale };
  const s = Math.max(W / ww, H / wh);
  ww = Math.max(W, Math.round(ww * s));
  wh = Math.max(H, Math.round(wh * s));
  return { ww, wh, fx: ww / w, fy: wh / h };
}

/** Copies the W x H tile at (x, y) of a (ww x ? x c) working image into `out` at `offset`. */
export function cutTile(work: Uint8Array, ww: number, x: number, y: number, W: number, H: number, c: number, out: Uint8Array, offset = 0): void {
  for (let r = 0; r < H; r++) out.set(work.subarray(((y + r) * ww + x) * c, ((y + r) * ww + x + W) * c), offset + r * W * c);
}

/**
 * A photo as the generator's tiles are cut from it, in the scorer and in the trainer's defect
 * crops alike: converted to the model's channels, standardised (when the model does), then
 * squeezed to the model size ('resize') or scaled to its tile working size ('tile').
 * `data` is not modified.
 */
export function workingImage(
  data: ArrayLike<number>, w: number, h: number, channels: number,
  model: { width: number; height: number; channels: 1 | 3 },
  prep: { mode: 'resize' | 'tile'; scale: number; standardize?: Standardize },
): { work: Uint8Array; ww: number; wh: number; fx: number; fy: number; photo: { mean: number; std: number } | null } {
  const { width: W, height: H, channels: C } = model;
  let work = convertChannels(data, w * h, channels, C);
  const photo = prep.standardize ? standardizePhoto(work, prep.standardize) : null;
  const t = prep.mode === 'resize' ? { ww: W, wh: H, fx: W / w, fy: H / h } : tileWorkingSize(w, h, W, H, prep.scale);
  if (t.ww !== w || t.wh !== h) work = resizePixels(work, w, h, C, t.ww, t.wh);
  return { work, ...t, photo };
}
