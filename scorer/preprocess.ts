/**
 * Pixel preprocessing shared by training and scoring, so both see identical inputs.
 * Images arrive as uint8 NHWC (already at model size and channel count); the generator ends in
 * tanh, so pixels are mapped to [-1, 1].
 */
import * as tf from '@tensorflow/tfjs-core';

export const NORMALIZATION = { scale: 1 / 127.5, offset: -1 } as const;

/** uint8 NHWC → float32 tensor in [-1, 1]. */
export function toInputTensor(pixels: Uint8Array, n: number, h: number, w: number, c: number): tf.Tensor4D {
  const f = new Float32Array(pixels.length);
  const { scale, offset } = NORMALIZATION;
  for (let i = 0; i < pixels.length; i++) f[i] = pixels[i] * scale + offset;
  return tf.tensor4d(f, [n, h, w, c]);
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
