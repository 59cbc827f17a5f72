/**
 * Training-time augmentation (paper §4.2), per data family, applied when a batch is drawn: the
 * trainer reads `normal`/`anomaly` through AugmentedImageSet and sees a fresh variant each time,
 * while validation and test stay untouched.
 *   mnist:   random 0-2 px crop of each border, resized back.
 *   fashion: mnist + horizontal/vertical flips + rotation by 0/90/180/270.
 *   cifar:   fashion + hue, saturation, brightness and contrast jitter.
 *   defect:  flips + 0/90/180/270 rotations (texture has no up or left).
 */
import { AUGMENT_FAMILIES, FLIP_MODES, type AugmentFamily, type DataOptions, type FlipMode } from './options';
import { createRng, subSeed } from '../rng';
import { resizePixelsInto } from '../../scorer/preprocess';
import type { ImageSet } from './types';

export { AUGMENT_FAMILIES, FLIP_MODES, type AugmentFamily, type FlipMode };

export interface AugmentConfig {
  /** Up to this many pixels cut from each border independently, then resized back. */
  crop: number;
  /** `both`: left-right and up-down, each with probability 1/2. */
  flip: FlipMode;
  rotate90: boolean;
  /** Relative jitter strength for brightness, contrast and saturation (0.2 = ±20%); hue shifts
   * by up to jitter/4 of a turn. 0 = off. Colour parts only apply to RGB. */
  jitter: number;
}

export const FAMILY_DEFAULTS: Record<AugmentFamily, AugmentConfig> = {
  none: { crop: 0, flip: 'none', rotate90: false, jitter: 0 },
  mnist: { crop: 2, flip: 'none', rotate90: false, jitter: 0 },
  fashion: { crop: 2, flip: 'both', rotate90: true, jitter: 0 },
  cifar: { crop: 2, flip: 'both', rotate90: true, jitter: 0.2 },
  defect: { crop: 0, flip: 'both', rotate90: true, jitter: 0 },
};

/** The family a layout gets by default (`--augment auto`). Plain folders get none: we cannot
 * know whether flips or rotations keep their images normal. */
export function autoFamily(layout: string, root: string, protocol: string): AugmentFamily {
  if (protocol === 'defect' || layout === 'masks' || layout === 'mvtec') return 'defect';
  if (layout === 'idx') return /fashion/i.test(root) ? 'fashion' : 'mnist';
  if (layout === 'cifar10' || layout === 'cifar100') return 'cifar';
  return 'none';
}

/** `--augment FAMILY|auto|none` plus per-part overrides `--augment-crop N`,
 * `--augment-flip none|horizontal|both` (true = both, false = none), `--augment-rotate`,
 * `--augment-jitter X`. */
export function augmentConfig(opts: DataOptions, auto: AugmentFamily): { family: AugmentFamily; config: AugmentConfig } {
  const name = opts.augment ?? 'auto';
  const family: AugmentFamily = name === 'auto' ? auto : name;
  const d = FAMILY_DEFAULTS[family];
  return {
    family,
    config: { crop: opts.augmentCrop ?? d.crop, flip: opts.augmentFlip ?? d.flip, rotate90: opts.augmentRotate ?? d.rotate90, jitter: opts.augmentJitter ?? d.jitter },
  };
}

export function isIdentity(c: AugmentConfig): boolean {
  return c.crop === 0 && c.flip === 'none' && !c.rotate90 && c.jitter === 0;
}

/** Augments one HWC image (square when rotating) in place, drawing from `rng`. */
export function augmentImage(px: Uint8Array, h: number, w: number, c: number, cfg: AugmentConfig, rng: () => number): void {
  if (cfg.crop > 0) {
    const r = () => Math.floor(rng() * (cfg.crop + 1));
    const t = r(), b = r(), l = r(), rr = r();
    const ch = h - t - b;
    const cw = w - l - rr;
    if ((t || b || l || rr) && ch > 1 && cw > 1) {
      const crop = new Uint8Array(ch * cw * c);
      for (let y = 0; y < ch; y++) crop.set(px.subarray(((y + t) * w + l) * c, ((y + t) * w + l + cw) * c), y * cw * c);
      resizePixelsInto(crop, cw, ch, c, w, h, px);
    }
  }
  if (cfg.flip !== 'none') {
    if (rng() < 0.5) flipH(px, h, w, c);
    if (cfg.flip === 'both' && rng() < 0.5) flipV(px, h, w, c);
  }
  if (cfg.rotate90 && h === w) {
    const k = Math.floor(rng() * 4);
    if (k > 0) rotate90(px, w, c, k);
  }
  if (cfg.jitter > 0) jitter(px, c, cfg.jitter, rng);
}

function flipH(px: Uint8Array, h: number, w: number, c: number): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w >> 1; x++) {
      const a = (y * w + x) * c, b = (y * w + w - 1 - x) * c;
      for (let k = 0; k < c; k++) { const t = px[a + k]; px[a + k] = px[b + k]; px[b + k] = t; }
    }
  }
}

function flipV(px: Uint8Array, h: number, w: number, c: number): void {
  const row = w * c;
  const tmp = new Uint8Array(row);
  for (let y = 0; y < h >> 1; y++) {
    const a = y * row, b = (h - 1 - y) * row;
    tmp.set(px.subarray(a, a + row));
    px.copyWithin(a, b, b + row);
    px.set(tmp, b);
  }
}

/** Rotates a square n x n image clockwise by k quarter turns. */
export function rotate90(px: Uint8Array, n: number, c: number, k: number): void {
  const src = px.slice();
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let sx: number, sy: number;
      if (k === 1) { sx = y; sy = n - 1 - x; } // clockwise: dst(x,y) = src(y, n-1-x)
      else if (k === 2) { sx = n - 1 - x; sy = n - 1 - y; }
      else { sx = n - 1 - y; sy = x; }
      const d = (y * n + x) * c, s = (sy * n + sx) * c;
      for (let q = 0; q < c; q++) px[d + q] = src[s + q];
    }
  }
}

function jitter(px: Uint8Array, c: number, s: number, rng: () => number): void {
  const bright = 1 + (rng() * 2 - 1) * s;
  const contrast = 1 + (rng() * 2 - 1) * s;
  const sat = 1 + (rng() * 2 - 1) * s;
  const hue = (rng() * 2 - 1) * (s / 4) * 2 * Math.PI; // radians in the YIQ chroma plane
  const n = px.length / c;
  let mean = 0;
  for (let i = 0; i < px.length; i++) mean += px[i];
  mean /= px.length;
  const cosH = Math.cos(hue), sinH = Math.sin(hue);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let p = 0; p < n; p++) {
    if (c === 1) {
      px[p] = clamp(((px[p] - mean) * contrast + mean) * bright);
      continue;
    }
    const o = p * 3;
    let r = px[o], g = px[o + 1], b = px[o + 2];
    // Hue rotation and saturation in YIQ: Y is brightness, (I, Q) the colour.
    const Y = 0.299 * r + 0.587 * g + 0.114 * b;
    const I0 = 0.596 * r - 0.274 * g - 0.322 * b;
    const Q0 = 0.211 * r - 0.523 * g + 0.312 * b;
    const I = (I0 * cosH - Q0 * sinH) * sat;
    const Q = (I0 * sinH + Q0 * cosH) * sat;
    r = Y + 0.956 * I + 0.621 * Q;
    g = Y - 0.272 * I - 0.647 * Q;
    b = Y - 1.106 * I + 1.703 * Q;
    px[o] = clamp(((r - mean) * contrast + mean) * bright);
    px[o + 1] = clamp(((g - mean) * contrast + mean) * bright);
    px[o + 2] = clamp(((b - mean) * contrast + mean) * bright);
  }
}

/** An ImageSet that augments every image it returns. Each readBatch call gets its own RNG
 * stream, numbered in call order, so concurrent reads stay deterministic for a given seed; the
 * count is `readsDone`, which checkpoints save so a resumed training augments as before. */
export class AugmentedImageSet implements ImageSet {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readsDone = 0;

  constructor(readonly base: ImageSet, readonly config: AugmentConfig, readonly seed: number) {
    this.count = base.count;
    this.height = base.height;
    this.width = base.width;
    this.channels = base.channels;
  }

  async readBatch(indices: ArrayLike<number>): Promise<Uint8Array> {
    const rng = createRng(subSeed(this.seed, `batch-${this.readsDone++}`));
    const px = await this.base.readBatch(indices);
    const n = this.height * this.width * this.channels;
    for (let i = 0; i < indices.length; i++) augmentImage(px.subarray(i * n, (i + 1) * n), this.height, this.width, this.channels, this.config, rng);
    return px;
  }

  close(): Promise<void> {
    return this.base.close?.() ?? Promise.resolve();
  }
}
