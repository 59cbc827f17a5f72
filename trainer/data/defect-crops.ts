/**
 * Defect crops cut afresh at a random offset (the defect map's crop jitter, map-data.ts).
 *
 * The defect protocol cuts each defect photo on a fixed grid (trainer/data/defect.ts, stride half
 * a crop), so without this the map would see each real defect at the same two or three places in
 * a tile for the whole training. Here the training defect photos are kept whole (their working
 * images, as the scorer cuts tiles from them: patches.ts decodeCrops, and their masks the same
 * way: build.ts decodeMasks), and a crop is cut at its grid origin moved by (dx, dy), kept inside
 * the photo; image and mask are cut at the same origin, so they stay aligned. An offset of (0, 0)
 * gives exactly the stored crop and mask.
 */
import type { CatalogItem } from './catalog';
import { decodeFull, probeImage } from './decode';
import { DECODE_CONCURRENCY, forEachLimit } from './decode-files';
import { cropTileOrigin, readMask } from './patches';
import { cutTile, workingImage, type Standardize } from '../../scorer/preprocess';

export interface DefectPhoto {
  /** The working image (uint8, ww x wh x channels) and its 0/1 mask (ww x wh). */
  work: Uint8Array;
  mask: Uint8Array;
  ww: number;
  wh: number;
}

export interface DefectCropStore {
  size: number;
  channels: 1 | 3;
  photos: DefectPhoto[];
  /** Per training defect item: its photo's index in `photos` (-1: not jitterable, e.g. no mask), and its tile origin there. */
  photoOf: Int32Array;
  x0: Int32Array;
  y0: Int32Array;
}

/**
 * Reads the photos of the training defect crops that have a mask. `items` are the defect
 * protocol's training defect items, aligned with the training anomaly set.
 */
export async function loadDefectCrops(
  items: CatalogItem[], o: { size: number; channels: 1 | 3; patchSize: number; maxPixels?: number; standardize?: Standardize },
): Promise<DefectCropStore> {
  const photoOf = new Int32Array(items.length).fill(-1);
  const x0 = new Int32Array(items.length), y0 = new Int32Array(items.length);
  const bySource = new Map<string, number[]>();
  items.forEach((it, i) => {
    if (it.maskPath && it.crop) bySource.set(it.source, [...(bySource.get(it.source) ?? []), i]);
  });
  const sources = [...bySource.keys()];
  const photos: (DefectPhoto | null)[] = new Array(sources.length).fill(null);
  const model = { width: o.size, height: o.size, channels: o.channels };
  const scale = o.size / o.patchSize;
  await forEachLimit(sources.length, DECODE_CONCURRENCY, async (k) => {
    const idx = bySource.get(sources[k])!;
    const first = items[idx[0]];
    const img = await decodeFull(first.source, { channels: o.channels, maxPixels: o.maxPixels });
    const info = await probeImage(first.source);
    const tiled = workingImage(img.data, img.width, img.height, img.channels, model, { mode: 'tile', scale, standardize: o.standardize });
    const m = await readMask(first.maskPath!, info.width, info.height, o.maxPixels);
    const mw = workingImage(m, info.width, info.height, 1, { ...model, channels: 1 }, { mode: 'tile', scale }).work;
    photos[k] = { work: tiled.work, mask: Uint8Array.from(mw, (v) => (v >= 128 ? 1 : 0)), ww: tiled.ww, wh: tiled.wh };
    for (const i of idx) {
      const c = items[i].crop!;
      photoOf[i] = k;
      x0[i] = cropTileOrigin(c.x, tiled.fx, tiled.ww, o.size);
      y0[i] = cropTileOrigin(c.y, tiled.fy, tiled.wh, o.size);
    }
  });
  return { size: o.size, channels: o.channels, photos: photos.map((p) => p ?? { work: new Uint8Array(0), mask: new Uint8Array(0), ww: 0, wh: 0 }), photoOf, x0, y0 };
}

/** An offset in [-radius, radius], uniform over the integers, from one draw of `rng`. */
export function jitterOffset(rng: () => number, radius: number): number {
  return Math.floor(rng() * (2 * radius + 1)) - radius;
}

/**
 * Cuts defect item `d`'s crop moved by (dx, dy), kept inside its photo, into `pixels` (size x
 * size x channels) and `mask` (size x size, 0/1). Returns false (nothing written) when the item
 * has no stored photo.
 */
export function cutJittered(s: DefectCropStore, d: number, dx: number, dy: number, pixels: Uint8Array, mask: Uint8Array): boolean {
  const k = s.photoOf[d];
  if (k < 0) return false;
  const p = s.photos[k];
  const x = Math.min(Math.max(0, s.x0[d] + dx), Math.max(0, p.ww - s.size));
  const y = Math.min(Math.max(0, s.y0[d] + dy), Math.max(0, p.wh - s.size));
  cutTile(p.work, p.ww, x, y, s.size, s.size, s.channels, pixels);
  cutTile(p.mask, p.ww, x, y, s.size, s.size, 1, mask);
  return true;
}
