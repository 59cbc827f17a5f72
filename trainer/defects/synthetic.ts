/**
 * Synthetic defects with exact masks, pasted into normal images, so the defect-map network
 * (docs/defect-map.md) has positives to learn from even when the user's set has no labelled
 * defect, and learns "something unlike the surroundings" rather than the look of a few known
 * kinds. Everything comes from the image itself, an optional donor image of the same set, and
 * seeded procedural noise: no external data.
 *
 * The contract every kind keeps, whatever the image: the mask is non-empty, its area lies within
 * [minArea, maxArea] of the image (rounded to whole pixels, at least one), and no pixel outside
 * the mask differs from the input. Pure functions: the input buffers are never written.
 *
 * Cheap enough to make fresh per batch rather than cache: about 2,000 to 6,000 defects per second
 * at 128x128 on one CPU core (blotch and texture slowest), so a training loop need not store them.
 */
import type { Rng } from '../rng';
import { Ctx, checkBuf, clamp, copyBuf, fitArea, irregularRegion, noise1d, pickArea, pickSign, shiftMasked, softAlpha, surroundStats, uniform } from './synthetic-core';
import { cutpaste, texture } from './synthetic-paste';

export { noiseRegion } from './synthetic-core';

export interface PixelBuf {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

export type SyntheticKind = 'blotch' | 'scratch' | 'texture' | 'cutpaste' | 'hole';

export const SYNTHETIC_KINDS: readonly SyntheticKind[] = ['blotch', 'scratch', 'texture', 'cutpaste', 'hole'];

export interface SynthesizeOptions {
  /** Kinds to draw from, uniformly; default all. */
  kinds?: SyntheticKind[];
  /** Another normal image to take texture from (texture, cutpaste); any size, 1 or 3 channels. */
  donor?: PixelBuf;
  /** Share of the image's pixels, default 0.002. */
  minArea?: number;
  /** Share of the image's pixels, default 0.08. */
  maxArea?: number;
}

export interface SyntheticDefect {
  image: PixelBuf;
  /** 0 or 255 per pixel, width*height. */
  mask: Uint8Array;
  kind: SyntheticKind;
}

const DEFAULT_MIN_AREA = 0.002;
const DEFAULT_MAX_AREA = 0.08;

export function synthesizeDefect(img: PixelBuf, rng: Rng, opts: SynthesizeOptions = {}): SyntheticDefect {
  checkBuf(img, 'image');
  if (opts.donor) checkBuf(opts.donor, 'donor');
  const kinds = opts.kinds ?? SYNTHETIC_KINDS;
  if (kinds.length === 0) throw new RangeError('synthesizeDefect: kinds is empty');
  for (const k of kinds) if (!SYNTHETIC_KINDS.includes(k)) throw new RangeError(`synthesizeDefect: unknown kind ${JSON.stringify(k)}`);
  // A caller that raises only one bound should not trip over the other's default.
  const maxArea = opts.maxArea ?? Math.max(DEFAULT_MAX_AREA, opts.minArea ?? 0);
  const minArea = opts.minArea ?? Math.min(DEFAULT_MIN_AREA, maxArea);
  if (!(minArea > 0 && minArea <= maxArea && maxArea <= 1)) {
    throw new RangeError(`synthesizeDefect: need 0 < minArea <= maxArea <= 1; got ${minArea}, ${maxArea}`);
  }
  const n = img.width * img.height;
  const minPix = Math.max(1, Math.ceil(minArea * n - 1e-9));
  const maxPix = Math.max(minPix, Math.floor(maxArea * n + 1e-9));
  const kind = kinds[rng.int(kinds.length)];
  const ctx: Ctx = { img, rng, donor: opts.donor, minPix, maxPix };
  const out = copyBuf(img);
  let mask: Uint8Array;
  switch (kind) {
    case 'blotch':
      mask = blotch(ctx, out);
      break;
    case 'scratch':
      mask = scratch(ctx, out);
      break;
    case 'texture':
      mask = texture(ctx, out);
      break;
    case 'cutpaste':
      mask = cutpaste(ctx, out);
      break;
    case 'hole':
      mask = hole(ctx, out);
      break;
  }
  return { image: out, mask, kind };
}

// --- kinds -----------------------------------------------------------------------------------

function blotch(ctx: Ctx, out: PixelBuf): Uint8Array {
  const { img, rng } = ctx;
  const { width: W, height: H } = img;
  const area = pickArea(ctx, 1, Infinity);
  const mask = irregularRegion(ctx, area);
  const st = surroundStats(img, mask);
  // At least one local standard deviation, and never less than a shift a person would notice
  // on a flat surface, where the standard deviation is near zero.
  const amp = Math.max(15, st.std) * uniform(rng, 1.5, 3);
  const sign = pickSign(rng, st.mean, amp);
  const gain = uniform(rng, 0.6, 1.4);
  const alpha = softAlpha(mask, W, H, Math.max(1, Math.sqrt(area) * 0.2));
  shiftMasked(img, out, mask, (i, v) => alpha[i] * (sign * amp + (gain - 1) * (v - st.mean)));
  return mask;
}

function scratch(ctx: Ctx, out: PixelBuf): Uint8Array {
  const { img, rng } = ctx;
  const { width: W, height: H } = img;
  const side = Math.min(W, H);
  const width = 1 + rng.int(3);
  const len = pickArea(ctx, 0.1 * side * width, 0.6 * side * width) / width;
  const theta0 = rng.next() * 2 * Math.PI;
  // Gentle: at most ±35° of total bend, plus a small jag that makes hairline cracks less ruler-like.
  const bend = (rng.next() - 0.5) * 1.2;
  const jag = noise1d(rng, 6);
  const jagAmp = 0.25 * rng.next();
  const fade = noise1d(rng, 4);
  const step = 0.5;
  const steps = Math.max(1, Math.ceil(len / step));
  const xs = new Float64Array(steps + 1);
  const ys = new Float64Array(steps + 1);
  for (let k = 1; k <= steps; k++) {
    const t = k / steps;
    const th = theta0 + bend * t + jagAmp * (jag(t * 0.999) - 0.5) * 2;
    xs[k] = xs[k - 1] + step * Math.cos(th);
    ys[k] = ys[k - 1] + step * Math.sin(th);
  }
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let k = 0; k <= steps; k++) {
    minX = Math.min(minX, xs[k]);
    maxX = Math.max(maxX, xs[k]);
    minY = Math.min(minY, ys[k]);
    maxY = Math.max(maxY, ys[k]);
  }
  const r = width / 2;
  // A stroke longer than the image allows at this angle is shrunk as a whole, keeping its shape.
  const fit = Math.min(1, (W - 1 - 2 * (r - 0.5)) / Math.max(1e-9, maxX - minX), (H - 1 - 2 * (r - 0.5)) / Math.max(1e-9, maxY - minY));
  const s = Math.max(0, fit);
  const spanX = (maxX - minX) * s;
  const spanY = (maxY - minY) * s;
  const offX = (r - 0.5) + rng.next() * Math.max(0, W - 1 - 2 * (r - 0.5) - spanX) - minX * s;
  const offY = (r - 0.5) + rng.next() * Math.max(0, H - 1 - 2 * (r - 0.5) - spanY) - minY * s;
  const mask = new Uint8Array(W * H);
  const prof = new Float32Array(W * H);
  for (let k = 0; k <= steps; k++) {
    const px = xs[k] * s + offX;
    const py = ys[k] * s + offY;
    const strength = 0.55 + 0.45 * fade(k / (steps + 1));
    if (width === 1) {
      const x = clamp(Math.round(px), 0, W - 1);
      const y = clamp(Math.round(py), 0, H - 1);
      mark(y * W + x, strength);
      continue;
    }
    for (let y = Math.max(0, Math.floor(py - r)); y <= Math.min(H - 1, Math.ceil(py + r)); y++) {
      for (let x = Math.max(0, Math.floor(px - r)); x <= Math.min(W - 1, Math.ceil(px + r)); x++) {
        const dd = Math.hypot(x - px, y - py);
        if (dd > r + 1e-6) continue;
        // The core of a crack is deepest; its flanks change less but still change.
        mark(y * W + x, strength * (dd <= r - 0.5 ? 1 : 0.6));
      }
    }
  }
  function mark(i: number, v: number): void {
    mask[i] = 255;
    if (v > prof[i]) prof[i] = v;
  }
  fitArea(mask, W, H, ctx.minPix, ctx.maxPix);
  const st = surroundStats(img, mask);
  // Thin lines need more contrast than blotches to be seen at all.
  const amp = Math.max(20, 1.5 * st.std) * uniform(rng, 1, 2);
  const sign = pickSign(rng, st.mean, amp);
  shiftMasked(img, out, mask, (i) => sign * amp * (prof[i] || 0.6));
  return mask;
}

function hole(ctx: Ctx, out: PixelBuf): Uint8Array {
  const { img, rng } = ctx;
  const { width: W, height: H } = img;
  const side = Math.min(W, H);
  const area = pickArea(ctx, Math.PI * (0.02 * side) ** 2, Math.PI * (0.08 * side) ** 2);
  const r = Math.max(0.5, Math.sqrt(area / Math.PI));
  const rough = noise1d(rng, 7);
  const roughAmp = 0.25 * rng.next();
  // Blowholes often catch the light on their rim: a thin band of the opposite sign, kept
  // inside the mask like everything else.
  const rim = rng.next() < 0.5 && r >= 3 ? 0.45 : 0;
  const reach = r * (1 + roughAmp);
  const cx = W - 1 <= 2 * reach ? (W - 1) / 2 : uniform(rng, reach, W - 1 - reach);
  const cy = H - 1 <= 2 * reach ? (H - 1) / 2 : uniform(rng, reach, H - 1 - reach);
  const mask = new Uint8Array(W * H);
  const prof = new Float32Array(W * H);
  for (let y = Math.max(0, Math.floor(cy - reach - 1)); y <= Math.min(H - 1, Math.ceil(cy + reach + 1)); y++) {
    for (let x = Math.max(0, Math.floor(cx - reach - 1)); x <= Math.min(W - 1, Math.ceil(cx + reach + 1)); x++) {
      const dx = x - cx;
      const dy = y - cy;
      const ang = (Math.atan2(dy, dx) / (2 * Math.PI) + 1) % 1;
      const rr = r * (1 + roughAmp * (rough(ang) - 0.5) * 2);
      const d = Math.hypot(dx, dy);
      if (d > rr) continue;
      mask[y * W + x] = 255;
      // A pit is deepest at its centre and shades towards its rim.
      const q = d / Math.max(rr, 1e-6);
      prof[y * W + x] = rim && q > 0.78 ? -rim : 1 - 0.5 * q * q;
    }
  }
  fitArea(mask, W, H, ctx.minPix, ctx.maxPix);
  const st = surroundStats(img, mask);
  const amp = Math.max(25, 2 * st.std) * uniform(rng, 1, 2);
  // Real pits are mostly darker than the surface; bright spots (inclusions, dust) still occur.
  const sign = pickSign(rng, st.mean, amp, 0.7);
  shiftMasked(img, out, mask, (i) => sign * amp * (prof[i] || 0.5));
  return mask;
}
