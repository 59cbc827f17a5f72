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
function taps(inSize: number, outSize: number): Taps {
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
    start[i] = lo; count[i] = k;
  }
  return { start, count, weights, maxTaps };
}

/**
 * Resamples interleaved float pixels (w x h x c) to (nw x nh x c): bilinear when enlarging, the
 * triangle filter widened by the scale when shrinking (antialiased, as Pillow's BILINEAR). Separable; pure JS, so training
 * and every scorer backend resize identically.
 */
export function resampleFloat(src: ArrayLike<number>, w: number, h: number, c: number, nw: number, nh: number): Float32Array {
  if (nw === w && nh === h) return Float32Array.from(src);
  const tx = taps(w, nw), ty = taps(h, nh);
  const mid = new Float32Array(nw * h * c); // horizontal pass
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < nw; x++) {
      const s = tx.start[x], n = tx.count[x], wo = x * tx.maxTaps;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += tx.weights[wo + k] * src[((y * w) + s + k) * c + ch];
        mid[(y * nw + x) * c + ch] = acc;
      }
    }
  }
  const out = new Float32Array(nw * nh * c); // vertical pass
  for (let y = 0; y < nh; y++) {
    const s = ty.start[y], n = ty.count[y], wo = y * ty.maxTaps;
    for (let x = 0; x < nw; x++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += ty.weights[wo + k] * mid[((s + k) * nw + x) * c + ch];
        out[(y * nw + x) * c + ch] = acc;
      }
    }
  }
  return out;
}

/** resampleFloat for uint8 pixels (rounded, clamped). */
export function resizePixels(src: ArrayLike<number>, w: number, h: number, c: number, nw: number, nh: number): Uint8Array {
  if (nw === w && nh === h) return Uint8Array.from(src);
  const f = resampleFloat(src, w, h, c, nw, nh);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = f[i] < 0 ? 0 : f[i] > 255 ? 255 : Math.round(f[i]);
  return out;
}
