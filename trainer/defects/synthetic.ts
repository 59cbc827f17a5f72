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

/**
 * One irregular blob in a w x h box: smooth multi-octave value noise pulled towards the box's
 * centre, thresholded at the quantile that sets exactly round(coverage*w*h) pixels (at least
 * one), so callers get the area they asked for rather than whatever a fixed threshold yields.
 */
export function noiseRegion(w: number, h: number, rng: Rng, coverage: number): Uint8Array {
  if (!(Number.isInteger(w) && Number.isInteger(h) && w >= 1 && h >= 1)) throw new RangeError(`noiseRegion: bad size ${w}x${h}`);
  if (!(coverage > 0 && coverage <= 1)) throw new RangeError(`noiseRegion: coverage must be in (0, 1]; got ${coverage}`);
  const n = w * h;
  const k = Math.min(n, Math.max(1, Math.round(coverage * n)));
  const field = valueNoise2d(w, h, rng, Math.max(w, h) / 2.5, 4);
  // The pull keeps one main blob instead of noise speckled over the whole box; the jittered
  // centre and the noise weight keep it from reading as an ellipse.
  const cx = (w - 1) / 2 + (rng.next() - 0.5) * 0.2 * w;
  const cy = (h - 1) / 2 + (rng.next() - 0.5) * 0.2 * h;
  const pull = 0.9 + 0.5 * rng.next();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = (x - cx) / Math.max(1, w / 2);
      const dy = (y - cy) / Math.max(1, h / 2);
      field[y * w + x] -= pull * (dx * dx + dy * dy);
    }
  }
  return topK(field, k);
}

// ---------------------------------------------------------------------------------------------

interface Ctx {
  img: PixelBuf;
  rng: Rng;
  donor: PixelBuf | undefined;
  minPix: number;
  maxPix: number;
}

interface Box {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

function checkBuf(b: PixelBuf, what: string): void {
  if (!(Number.isInteger(b.width) && Number.isInteger(b.height) && b.width >= 1 && b.height >= 1)) {
    throw new RangeError(`synthesizeDefect: ${what} has a bad size ${b.width}x${b.height}`);
  }
  if (b.channels !== 1 && b.channels !== 3) throw new RangeError(`synthesizeDefect: ${what} must have 1 or 3 channels`);
  if (b.data.length !== b.width * b.height * b.channels) {
    throw new RangeError(`synthesizeDefect: ${what} data has ${b.data.length} bytes, expected ${b.width * b.height * b.channels}`);
  }
}

function copyBuf(b: PixelBuf): PixelBuf {
  return { data: new Uint8Array(b.data), width: b.width, height: b.height, channels: b.channels };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Small defects are more common than large ones in real sets, so sizes are log-uniform. */
function logUniform(rng: Rng, lo: number, hi: number): number {
  return lo * Math.pow(hi / lo, rng.next());
}

/** A pixel count in the kind's own natural range, but the caller's area bounds win a conflict. */
function pickArea(ctx: Ctx, natLo: number, natHi: number): number {
  let lo = Math.max(ctx.minPix, natLo);
  let hi = Math.min(ctx.maxPix, natHi);
  if (lo > hi) {
    lo = hi = natLo > ctx.maxPix ? ctx.maxPix : ctx.minPix;
  }
  return logUniform(ctx.rng, lo, hi);
}

function topK(field: Float32Array, k: number): Uint8Array {
  const n = field.length;
  const mask = new Uint8Array(n);
  if (k >= n) return mask.fill(255);
  const sorted = Float32Array.from(field).sort();
  const thr = sorted[n - k];
  let taken = 0;
  for (let i = 0; i < n; i++) {
    if (field[i] > thr) {
      mask[i] = 255;
      taken++;
    }
  }
  // Ties at the threshold go in index order: deterministic, and the count exact.
  for (let i = 0; i < n && taken < k; i++) {
    if (field[i] === thr && mask[i] === 0) {
      mask[i] = 255;
      taken++;
    }
  }
  return mask;
}

/** Seeded value noise (smoothstep-interpolated lattices), octaves summed with halving weight; ~[0, 1]. */
function valueNoise2d(w: number, h: number, rng: Rng, baseCell: number, octaves: number): Float32Array {
  const out = new Float32Array(w * h);
  let cell = Math.max(1, baseCell);
  let amp = 1;
  let total = 0;
  for (let o = 0; o < octaves; o++) {
    const gw = Math.ceil(w / cell) + 2;
    const gh = Math.ceil(h / cell) + 2;
    const lat = new Float32Array(gw * gh);
    for (let i = 0; i < lat.length; i++) lat[i] = rng.next();
    // A random lattice phase so octaves do not all align on the box's corner.
    const ox = rng.next();
    const oy = rng.next();
    for (let y = 0; y < h; y++) {
      const fy = y / cell + oy;
      const iy = Math.floor(fy);
      const ty = smooth(fy - iy);
      for (let x = 0; x < w; x++) {
        const fx = x / cell + ox;
        const ix = Math.floor(fx);
        const tx = smooth(fx - ix);
        const a = lat[iy * gw + ix];
        const b = lat[iy * gw + ix + 1];
        const c = lat[(iy + 1) * gw + ix];
        const d = lat[(iy + 1) * gw + ix + 1];
        out[y * w + x] += amp * (a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty);
      }
    }
    total += amp;
    amp *= 0.5;
    cell = Math.max(1, cell / 2);
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** 1-D periodic value noise with `k` knots, ~[0, 1], cosine-interpolated. */
function noise1d(rng: Rng, k: number): (t: number) => number {
  const knots = Array.from({ length: k }, () => rng.next());
  return (t: number) => {
    const f = (((t % 1) + 1) % 1) * k;
    const i = Math.floor(f);
    const u = (1 - Math.cos(Math.PI * (f - i))) / 2;
    return knots[i % k] * (1 - u) + knots[(i + 1) % k] * u;
  };
}

function countMask(mask: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) c++;
  return c;
}

/**
 * Brings the mask's pixel count into [minPix, maxPix]: grows by 4-neighbour dilation (the
 * shape thickens, it does not jump elsewhere), trims the pixels farthest from the centroid (a
 * long stroke gets shorter, a blob rounder). Rounding of drawn shapes makes this necessary for
 * the area contract to hold exactly.
 */
function fitArea(mask: Uint8Array, w: number, h: number, minPix: number, maxPix: number): void {
  let count = countMask(mask);
  if (count === 0) {
    mask[((h >> 1) * w + (w >> 1))] = 255;
    count = 1;
  }
  while (count < minPix) {
    const grow: number[] = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (mask[i]) continue;
        if ((x > 0 && mask[i - 1]) || (x < w - 1 && mask[i + 1]) || (y > 0 && mask[i - w]) || (y < h - 1 && mask[i + w])) grow.push(i);
      }
    }
    for (const i of grow) mask[i] = 255;
    count += grow.length;
  }
  if (count > maxPix) {
    let sx = 0;
    let sy = 0;
    const idx: number[] = [];
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      idx.push(i);
      sx += i % w;
      sy += Math.floor(i / w);
    }
    const cx = sx / idx.length;
    const cy = sy / idx.length;
    const d = (i: number) => ((i % w) - cx) ** 2 + (Math.floor(i / w) - cy) ** 2;
    idx.sort((a, b) => d(b) - d(a) || a - b);
    for (let j = 0; j < count - maxPix; j++) mask[idx[j]] = 0;
  }
}

/** Bounding box of the mask, grown by `margin` and cut to the image. */
function maskBox(mask: Uint8Array, w: number, h: number, margin: number): Box {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  x0 = Math.max(0, x0 - margin);
  y0 = Math.max(0, y0 - margin);
  x1 = Math.min(w - 1, x1 + margin);
  y1 = Math.min(h - 1, y1 + margin);
  return { x0, y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** Mean and standard deviation of brightness (channel mean) around the defect. */
function localStats(img: PixelBuf, box: Box): { mean: number; std: number } {
  const { width: W, channels: C, data } = img;
  let s = 0;
  let s2 = 0;
  for (let y = box.y0; y < box.y0 + box.h; y++) {
    for (let x = box.x0; x < box.x0 + box.w; x++) {
      const p = (y * W + x) * C;
      const v = C === 1 ? data[p] : (data[p] + data[p + 1] + data[p + 2]) / 3;
      s += v;
      s2 += v * v;
    }
  }
  const n = box.w * box.h;
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)) };
}

/**
 * Statistics over the defect's surroundings: the region a person compares the defect against.
 * The margin is half the defect's size (at least 4 px) so a thin scratch is measured against
 * more than its own line.
 */
function surroundStats(img: PixelBuf, mask: Uint8Array): { mean: number; std: number } {
  const b = maskBox(mask, img.width, img.height, 0);
  return localStats(img, maskBox(mask, img.width, img.height, Math.max(4, Math.round(Math.max(b.w, b.h) / 2))));
}

/**
 * Darker or lighter, whichever the coin says, unless the pixels have no room that way: a
 * brightening clipped at 255 would leave the mask's pixels unchanged and the label a lie.
 */
function pickSign(rng: Rng, mean: number, amp: number, pDark = 0.5): 1 | -1 {
  const s: 1 | -1 = rng.next() < pDark ? -1 : 1;
  const room = s > 0 ? 255 - mean : mean;
  const other = s > 0 ? mean : 255 - mean;
  return room < amp && other > room ? (-s as 1 | -1) : s;
}

/**
 * Soft-edge weights in (0, 1] for mask pixels (0 outside): chamfer distance to the nearest
 * non-mask pixel over `feather` pixels. The blend ramps up inside the mask, never outside, so
 * the mask stays exact. The image border is not an edge: a defect running off the picture
 * continues beyond it.
 */
function softAlpha(mask: Uint8Array, w: number, h: number, feather: number): Float32Array {
  const INF = 1e9;
  const d = new Float32Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = mask[i] ? INF : 0;
  const box = maskBox(mask, w, h, 1);
  const D = Math.SQRT2;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? INF : d[y * w + x]);
  for (let y = box.y0; y < box.y0 + box.h; y++) {
    for (let x = box.x0; x < box.x0 + box.w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      d[i] = Math.min(d[i], at(x - 1, y) + 1, at(x, y - 1) + 1, at(x - 1, y - 1) + D, at(x + 1, y - 1) + D);
    }
  }
  for (let y = box.y0 + box.h - 1; y >= box.y0; y--) {
    for (let x = box.x0 + box.w - 1; x >= box.x0; x--) {
      const i = y * w + x;
      if (!mask[i]) continue;
      d[i] = Math.min(d[i], at(x + 1, y) + 1, at(x, y + 1) + 1, at(x + 1, y + 1) + D, at(x - 1, y + 1) + D);
    }
  }
  const a = new Float32Array(w * h);
  for (let i = 0; i < a.length; i++) if (mask[i]) a[i] = Math.min(1, d[i] / Math.max(1, feather));
  return a;
}

/** Mean |out - in| over the mask's pixels and channels. */
function meanAbsDelta(orig: PixelBuf, out: PixelBuf, mask: Uint8Array): number {
  const C = orig.channels;
  let s = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    for (let c = 0; c < C; c++) s += Math.abs(out.data[i * C + c] - orig.data[i * C + c]);
    n += C;
  }
  return n ? s / n : 0;
}

/** Adds `delta(pixel index, old value)` to every channel of the mask's pixels, clamped to bytes. */
function shiftMasked(orig: PixelBuf, out: PixelBuf, mask: Uint8Array, delta: (i: number, v: number) => number): void {
  const C = orig.channels;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    for (let c = 0; c < C; c++) {
      const v = orig.data[i * C + c];
      out.data[i * C + c] = clamp(Math.round(v + delta(i, v)), 0, 255);
    }
  }
}

/** A box of about `area / coverage` pixels with a random aspect, placed at random inside the image. */
function placeBox(ctx: Ctx, area: number, coverage: number, aspectSpread: number): Box {
  const { width: W, height: H } = ctx.img;
  const boxArea = area / coverage;
  const aspect = logUniform(ctx.rng, 1 / aspectSpread, aspectSpread);
  const w = clamp(Math.round(Math.sqrt(boxArea * aspect)), 1, W);
  const h = clamp(Math.round(boxArea / w), 1, H);
  return { x0: ctx.rng.int(W - w + 1), y0: ctx.rng.int(H - h + 1), w, h };
}

/** An irregular region of about `area` pixels in the whole image's frame. */
function irregularRegion(ctx: Ctx, area: number): Uint8Array {
  const { width: W, height: H } = ctx.img;
  const box = placeBox(ctx, area, 0.55, 2);
  const cov = clamp(area / (box.w * box.h), 1 / (box.w * box.h), 1);
  const local = noiseRegion(box.w, box.h, ctx.rng, cov);
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < box.h; y++) for (let x = 0; x < box.w; x++) mask[(box.y0 + y) * W + box.x0 + x] = local[y * box.w + x];
  fitArea(mask, W, H, ctx.minPix, ctx.maxPix);
  return mask;
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

/** Reads a source pixel with mirrored borders and channel conversion, so any donor fits. */
function sampler(src: PixelBuf, C: 1 | 3): (x: number, y: number, c: number) => number {
  const { width: W, height: H, channels: SC, data } = src;
  const mirror = (v: number, n: number) => {
    if (n === 1) return 0;
    const p = 2 * (n - 1);
    const m = ((v % p) + p) % p;
    return m < n ? m : p - m;
  };
  return (x, y, c) => {
    const i = (mirror(y, H) * W + mirror(x, W)) * SC;
    if (SC === C) return data[i + c];
    if (SC === 3) return 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    return data[i];
  };
}

/**
 * A placement of source pixels onto the defect's box: one of the 8 rotations/flips, a scale
 * and an offset into the source. Texture seen turned or resized is what makes "another place of
 * the same image" look foreign on an oriented surface such as ground tiles.
 */
interface Placement {
  flip: number;
  scale: number;
  sx: number;
  sy: number;
}

function randomPlacement(rng: Rng, src: PixelBuf, box: Box, scaleRange: [number, number]): Placement {
  const flip = rng.int(8);
  const scale = scaleRange[0] === scaleRange[1] ? scaleRange[0] : logUniform(rng, scaleRange[0], scaleRange[1]);
  const swap = (flip & 4) !== 0;
  const needW = Math.ceil((swap ? box.h : box.w) * scale);
  const needH = Math.ceil((swap ? box.w : box.h) * scale);
  return { flip, scale, sx: rng.int(Math.max(1, src.width - needW + 1)), sy: rng.int(Math.max(1, src.height - needH + 1)) };
}

/** Source coordinates of box-local pixel (u, v) under the placement. */
function sourceXY(p: Placement, box: Box, u: number, v: number): [number, number] {
  let a = u;
  let b = v;
  let bw = box.w;
  let bh = box.h;
  if (p.flip & 4) {
    [a, b] = [b, a];
    [bw, bh] = [bh, bw];
  }
  if (p.flip & 1) a = bw - 1 - a;
  if (p.flip & 2) b = bh - 1 - b;
  return [p.sx + Math.floor((a + 0.5) * p.scale), p.sy + Math.floor((b + 0.5) * p.scale)];
}

/**
 * Fills the mask from a source: several random placements are tried and the one most unlike
 * what it covers is kept, since pasting a look-alike patch would label an unchanged area as a
 * defect. If even that is too faint (a flat or periodic surface), a brightness shift tops it up.
 */
function fillFromSource(
  ctx: Ctx,
  out: PixelBuf,
  mask: Uint8Array,
  alpha: Float32Array | null,
  box: Box,
  scaleRange: [number, number],
  gainRange: [number, number],
  jitter: number,
  keepMean: boolean,
): void {
  const { img, rng } = ctx;
  const W = img.width;
  const C = img.channels;
  const src = ctx.donor ?? img;
  const read = sampler(src, C);
  const st = surroundStats(img, mask);
  const floor = Math.max(8, 0.75 * st.std);
  const tries = 6;
  const meanUnder = (p: Placement): number => {
    let s = 0;
    let n = 0;
    for (let v = 0; v < box.h; v++) {
      for (let u = 0; u < box.w; u++) {
        if (!mask[(box.y0 + v) * W + box.x0 + u]) continue;
        const [x, y] = sourceXY(p, box, u, v);
        for (let c = 0; c < C; c++) s += read(x, y, c);
        n += C;
      }
    }
    return n ? s / n : st.mean;
  };
  let best: Uint8Array | null = null;
  let bestScore = -1;
  for (let t = 0; t < tries; t++) {
    const p = randomPlacement(rng, src, box, scaleRange);
    // CutPaste-style colour jitter: a patch from a normal area is slightly off in brightness
    // and contrast from where it lands. Texture gets more contrast: resampled grain is softer
    // than the original and would otherwise read as a smudge, not as foreign material.
    const gain = uniform(rng, gainRange[0], gainRange[1]);
    const bias = (rng.next() - 0.5) * 2 * jitter * 64;
    // How much of the source's own brightness comes along: all of it makes a bright edge strip
    // pasted mid-tile a plain bright blob; none of it leaves only the structure to differ.
    const keep = keepMean ? 1 : rng.next();
    const srcMean = meanUnder(p);
    const cand = new Uint8Array(out.data);
    let s = 0;
    let n = 0;
    for (let v = 0; v < box.h; v++) {
      for (let u = 0; u < box.w; u++) {
        const i = (box.y0 + v) * W + box.x0 + u;
        if (!mask[i]) continue;
        const [x, y] = sourceXY(p, box, u, v);
        const a = alpha ? alpha[i] : 1;
        for (let c = 0; c < C; c++) {
          const o = img.data[i * C + c];
          const val = clamp((read(x, y, c) - srcMean) * gain + st.mean + keep * (srcMean - st.mean) + bias, 0, 255);
          const nv = Math.round(o + a * (val - o));
          cand[i * C + c] = nv;
          s += Math.abs(nv - o);
          n++;
        }
      }
    }
    const score = n ? s / n : 0;
    if (score > bestScore) {
      bestScore = score;
      best = cand;
    }
    // The first placement that is different enough, not the most different one: the maximum
    // would favour the image's brightest or darkest strip every time.
    if (score >= floor) break;
  }
  out.data.set(best!);
  if (bestScore >= floor) return;
  const filled = new Uint8Array(out.data);
  const sign = pickSign(rng, st.mean, floor);
  for (let amp = floor; amp < 1024; amp *= 1.5) {
    const base: PixelBuf = { ...out, data: filled };
    shiftMasked(base, out, mask, (i) => sign * amp * (alpha ? alpha[i] : 1));
    if (meanAbsDelta(img, out, mask) >= floor) return;
  }
}

function texture(ctx: Ctx, out: PixelBuf): Uint8Array {
  const { width: W, height: H } = ctx.img;
  const area = pickArea(ctx, 1, Infinity);
  const mask = irregularRegion(ctx, area);
  const box = maskBox(mask, W, H, 0);
  const alpha = softAlpha(mask, W, H, Math.max(1, Math.sqrt(area) * 0.2));
  fillFromSource(ctx, out, mask, alpha, box, [0.5, 2], [0.9, 1.8], 0.15, false);
  return mask;
}

function cutpaste(ctx: Ctx, out: PixelBuf): Uint8Array {
  const { img } = ctx;
  const { width: W, height: H } = img;
  const area = pickArea(ctx, 1, Infinity);
  const box = placeBox(ctx, area, 1, 3.3);
  // Rounding of the sides can step outside the area bounds; the rectangle is kept a rectangle.
  if (box.w * box.h > ctx.maxPix) box.h = Math.max(1, Math.floor(ctx.maxPix / box.w));
  if (box.w * box.h > ctx.maxPix) box.w = ctx.maxPix;
  if (box.w * box.h < ctx.minPix) box.h = Math.min(H, Math.ceil(ctx.minPix / box.w));
  if (box.w * box.h < ctx.minPix) box.w = Math.min(W, Math.ceil(ctx.minPix / box.h));
  box.x0 = Math.min(box.x0, W - box.w);
  box.y0 = Math.min(box.y0, H - box.h);
  const mask = new Uint8Array(W * H);
  for (let y = box.y0; y < box.y0 + box.h; y++) mask.fill(255, y * W + box.x0, y * W + box.x0 + box.w);
  fitArea(mask, W, H, ctx.minPix, ctx.maxPix);
  fillFromSource(ctx, out, mask, null, maskBox(mask, W, H, 0), [1, 1], [0.9, 1.1], 0.1, true);
  return mask;
}
