/**
 * Image-labelled defect photos as multiple-instance bags (docs/defect-map.md "photo bags"): a
 * photo's crops grouped, and the crops that cover it once, which the map's sampler
 * (map-data.ts MapSampler) draws as one bag.
 */
import type { CatalogItem } from './catalog';

/** A training defect photo without a mask, as the crops cut from it: a multiple-instance bag. */
export interface PhotoBag {
  source: string;
  /** Indices into training.anomaly. */
  tiles: Int32Array;
  /** Each crop's origin in photo pixels, aligned with tiles. */
  x: Int32Array;
  y: Int32Array;
  /** Crop side in photo pixels. */
  patch: number;
}

/** Groups crops (aligned with training.anomaly) by their photo, in first-seen order. */
export function photoBags(items: CatalogItem[], patch: number): PhotoBag[] {
  const by = new Map<string, number[]>();
  items.forEach((it, i) => by.set(it.source, [...(by.get(it.source) ?? []), i]));
  return [...by].map(([source, idx]) => ({
    source, patch, tiles: Int32Array.from(idx), x: Int32Array.from(idx, (i) => items[i].crop?.x ?? 0), y: Int32Array.from(idx, (i) => items[i].crop?.y ?? 0),
  }));
}

/**
 * Crop origins along one axis (sorted, from 0) that cover it: the crop at 0, then each next the
 * farthest one that leaves no gap, starting `shift` (1..patch) pixels in. shift = patch gives
 * crops side by side; a smaller one moves the cover's seams, so a defect cut by a seam in one
 * draw is whole in another. A grid gap wider than a crop is stepped over, not filled.
 */
export function coverAxis(xs: number[], patch: number, shift: number): number[] {
  const end = xs[xs.length - 1] + patch;
  const out = [xs[0]];
  let c = xs[0] + Math.max(1, Math.min(patch, shift));
  let j = 0;
  while (c < end) {
    let k = j;
    while (k + 1 < xs.length && xs[k + 1] <= c) k++;
    if (k === j) k = j + 1; // no crop starts inside the covered part: take the next one
    if (k >= xs.length) break;
    out.push(xs[k]);
    j = k;
    c = xs[k] + patch;
  }
  return out;
}

/** The bag's tiles that cover its photo once (coverAxis on each axis), as indices into training.anomaly. */
export function bagCover(b: PhotoBag, shiftX: number, shiftY: number): number[] {
  const ux = [...new Set(b.x)].sort((a, c) => a - c), uy = [...new Set(b.y)].sort((a, c) => a - c);
  const cx = new Set(coverAxis(ux, b.patch, shiftX)), cy = new Set(coverAxis(uy, b.patch, shiftY));
  const out: number[] = [];
  for (let i = 0; i < b.tiles.length; i++) if (cx.has(b.x[i]) && cy.has(b.y[i])) out.push(b.tiles[i]);
  return out;
}

/** Defect photos (bags) a batch holds when the defect data is image-labelled photos. */
export const BAGS_PER_BATCH = 1;
/**
 * Most crops a bag holds. A cover of a Magnetic-tile photo (about 250 x 370 px) by 64 px crops
 * is 20-35 crops, so most bags are whole photos; a larger cover is cut to a random subset of
 * this many (the bag may then miss its defect: a noisy label, rare on photos under ~0.13 MP).
 */
export const MAX_BAG_TILES = 32;

/** Bags a batch and most tiles a bag: the preset's constants, or another shape for an equal-update comparison (scripts/mil-bag-shapes.ts). */
export interface BagShape { bags: number; bagTiles: number }
