/**
 * Synthetic defects made of texture from elsewhere (synthetic.ts kinds "texture" and "cutpaste"):
 * a region filled from another place of the image or a donor image, moved, scaled, turned and
 * re-lit, so the defect's texture is real but out of place.
 */
import type { Rng } from '../rng';
import type { PixelBuf } from './synthetic';
import { Box, Ctx, clamp, fitArea, irregularRegion, logUniform, maskBox, meanAbsDelta, pickArea, pickSign, placeBox, shiftMasked, softAlpha, surroundStats, uniform } from './synthetic-core';
/** Reads a source pixel with mirrored borders and channel conversion, so any donor fits. */
export function sampler(src: PixelBuf, C: 1 | 3): (x: number, y: number, c: number) => number {
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
export interface Placement {
  flip: number;
  scale: number;
  sx: number;
  sy: number;
}

export function randomPlacement(rng: Rng, src: PixelBuf, box: Box, scaleRange: [number, number]): Placement {
  const flip = rng.int(8);
  const scale = scaleRange[0] === scaleRange[1] ? scaleRange[0] : logUniform(rng, scaleRange[0], scaleRange[1]);
  const swap = (flip & 4) !== 0;
  const needW = Math.ceil((swap ? box.h : box.w) * scale);
  const needH = Math.ceil((swap ? box.w : box.h) * scale);
  return { flip, scale, sx: rng.int(Math.max(1, src.width - needW + 1)), sy: rng.int(Math.max(1, src.height - needH + 1)) };
}

/** Source coordinates of box-local pixel (u, v) under the placement. */
export function sourceXY(p: Placement, box: Box, u: number, v: number): [number, number] {
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
export function fillFromSource(
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

export function texture(ctx: Ctx, out: PixelBuf): Uint8Array {
  const { width: W, height: H } = ctx.img;
  const area = pickArea(ctx, 1, Infinity);
  const mask = irregularRegion(ctx, area);
  const box = maskBox(mask, W, H, 0);
  const alpha = softAlpha(mask, W, H, Math.max(1, Math.sqrt(area) * 0.2));
  fillFromSource(ctx, out, mask, alpha, box, [0.5, 2], [0.9, 1.8], 0.15, false);
  return mask;
}

export function cutpaste(ctx: Ctx, out: PixelBuf): Uint8Array {
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

