/**
 * The shared machinery of the synthetic defects (synthetic.ts): the drawing context, seeded
 * noise fields and region shapes, area fitting, and the local statistics and pixel edits every
 * kind uses.
 */
import type { Rng } from '../rng';
import type { PixelBuf } from './synthetic';
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

export interface Ctx {
  img: PixelBuf;
  rng: Rng;
  donor: PixelBuf | undefined;
  minPix: number;
  maxPix: number;
}

export interface Box {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

export function checkBuf(b: PixelBuf, what: string): void {
  if (!(Number.isInteger(b.width) && Number.isInteger(b.height) && b.width >= 1 && b.height >= 1)) {
    throw new RangeError(`synthesizeDefect: ${what} has a bad size ${b.width}x${b.height}`);
  }
  if (b.channels !== 1 && b.channels !== 3) throw new RangeError(`synthesizeDefect: ${what} must have 1 or 3 channels`);
  if (b.data.length !== b.width * b.height * b.channels) {
    throw new RangeError(`synthesizeDefect: ${what} data has ${b.data.length} bytes, expected ${b.width * b.height * b.channels}`);
  }
}

export function copyBuf(b: PixelBuf): PixelBuf {
  return { data: new Uint8Array(b.data), width: b.width, height: b.height, channels: b.channels };
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Small defects are more common than large ones in real sets, so sizes are log-uniform. */
export function logUniform(rng: Rng, lo: number, hi: number): number {
  return lo * Math.pow(hi / lo, rng.next());
}

/** A pixel count in the kind's own natural range, but the caller's area bounds win a conflict. */
export function pickArea(ctx: Ctx, natLo: number, natHi: number): number {
  let lo = Math.max(ctx.minPix, natLo);
  let hi = Math.min(ctx.maxPix, natHi);
  if (lo > hi) {
    lo = hi = natLo > ctx.maxPix ? ctx.maxPix : ctx.minPix;
  }
  return logUniform(ctx.rng, lo, hi);
}

export function topK(field: Float32Array, k: number): Uint8Array {
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
export function valueNoise2d(w: number, h: number, rng: Rng, baseCell: number, octaves: number): Float32Array {
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

export function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** 1-D periodic value noise with `k` knots, ~[0, 1], cosine-interpolated. */
export function noise1d(rng: Rng, k: number): (t: number) => number {
  const knots = Array.from({ length: k }, () => rng.next());
  return (t: number) => {
    const f = (((t % 1) + 1) % 1) * k;
    const i = Math.floor(f);
    const u = (1 - Math.cos(Math.PI * (f - i))) / 2;
    return knots[i % k] * (1 - u) + knots[(i + 1) % k] * u;
  };
}

export function countMask(mask: Uint8Array): number {
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
export function fitArea(mask: Uint8Array, w: number, h: number, minPix: number, maxPix: number): void {
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
export function maskBox(mask: Uint8Array, w: number, h: number, margin: number): Box {
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
export function localStats(img: PixelBuf, box: Box): { mean: number; std: number } {
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
export function surroundStats(img: PixelBuf, mask: Uint8Array): { mean: number; std: number } {
  const b = maskBox(mask, img.width, img.height, 0);
  return localStats(img, maskBox(mask, img.width, img.height, Math.max(4, Math.round(Math.max(b.w, b.h) / 2))));
}

/**
 * Darker or lighter, whichever the coin says, unless the pixels have no room that way: a
 * brightening clipped at 255 would leave the mask's pixels unchanged and the label a lie.
 */
export function pickSign(rng: Rng, mean: number, amp: number, pDark = 0.5): 1 | -1 {
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
export function softAlpha(mask: Uint8Array, w: number, h: number, feather: number): Float32Array {
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
export function meanAbsDelta(orig: PixelBuf, out: PixelBuf, mask: Uint8Array): number {
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
export function shiftMasked(orig: PixelBuf, out: PixelBuf, mask: Uint8Array, delta: (i: number, v: number) => number): void {
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
export function placeBox(ctx: Ctx, area: number, coverage: number, aspectSpread: number): Box {
  const { width: W, height: H } = ctx.img;
  const boxArea = area / coverage;
  const aspect = logUniform(ctx.rng, 1 / aspectSpread, aspectSpread);
  const w = clamp(Math.round(Math.sqrt(boxArea * aspect)), 1, W);
  const h = clamp(Math.round(boxArea / w), 1, H);
  return { x0: ctx.rng.int(W - w + 1), y0: ctx.rng.int(H - h + 1), w, h };
}

/** An irregular region of about `area` pixels in the whole image's frame. */
export function irregularRegion(ctx: Ctx, area: number): Uint8Array {
  const { width: W, height: H } = ctx.img;
  const box = placeBox(ctx, area, 0.55, 2);
  const cov = clamp(area / (box.w * box.h), 1 / (box.w * box.h), 1);
  const local = noiseRegion(box.w, box.h, ctx.rng, cov);
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < box.h; y++) for (let x = 0; x < box.w; x++) mask[(box.y0 + y) * W + box.x0 + x] = local[y * box.w + x];
  fitArea(mask, W, H, ctx.minPix, ctx.maxPix);
  return mask;
}

