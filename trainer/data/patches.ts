/**
 * Defect patches (paper §3.5, §4.1): large images are cut into patch x patch crops with a stride;
 * with a mask, a crop is an anomaly when its share of defect pixels exceeds a threshold.
 * Decoding works per source image: each photo is decoded once at full resolution and all of its
 * crops are cut from that, instead of decoding the file again for every crop.
 */
import type { Catalog, CatalogItem, DecodeRequest, DecodeResult } from './catalog';
import { decodeFull } from './decode';
import { cutTile, workingImage } from '../../scorer/preprocess';
import { DECODE_CONCURRENCY, forEachLimit, packDecoded } from './decode-files';
import { MemoryImageSet } from './image-set';
import { InputError } from './types';

export interface PatchOptions {
  size: number;
  stride: number;
}

/** Crop origins along one axis covering [0, length): stride steps, plus a last crop flush with
 * the far edge so no border strip is left uncovered. Shorter sides give one crop of the side. */
export function gridPositions(length: number, patch: number, stride: number): { start: number; len: number }[] {
  if (length <= patch) return [{ start: 0, len: length }];
  const out: { start: number; len: number }[] = [];
  let s = 0;
  for (; s + patch <= length; s += stride) out.push({ start: s, len: patch });
  const last = length - patch;
  if (out[out.length - 1].start !== last) out.push({ start: last, len: patch });
  return out;
}

/** Summed-area table of a 0/1 mask, for O(1) defect-pixel counts per crop. */
export function integralMask(mask: Uint8Array, w: number, h: number): Float64Array {
  const I = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += mask[y * w + x] >= 128 ? 1 : 0;
      I[(y + 1) * (w + 1) + x + 1] = I[y * (w + 1) + x + 1] + row;
    }
  }
  return I;
}

export function maskSum(I: Float64Array, w: number, x: number, y: number, cw: number, ch: number): number {
  const W = w + 1;
  return I[(y + ch) * W + x + cw] - I[y * W + x + cw] - I[(y + ch) * W + x] + I[y * W + x];
}

/** Reads a mask as 0/255 at the image's size (nearest-neighbour if the sizes differ). */
export async function readMask(maskPath: string, width: number, height: number, maxPixels?: number): Promise<Uint8Array> {
  const m = await decodeFull(maskPath, { channels: 1, maxPixels });
  if (m.width === width && m.height === height) return m.data;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(m.height - 1, Math.floor(((y + 0.5) * m.height) / height));
    for (let x = 0; x < width; x++) out[y * width + x] = m.data[sy * m.width + Math.min(m.width - 1, Math.floor(((x + 0.5) * m.width) / width))];
  }
  return out;
}

/**
 * Where a photo-space crop lies in the scorer's working image (scorer/preprocess.ts
 * workingImage, mode 'tile'): its origin scaled, kept inside the image. Crops on the patch
 * stride land exactly on the scorer's tiles at stride × scale; the last crop, flush with the
 * photo's edge, lands on the scorer's last tile, flush with the working image's edge.
 */
export function cropTileOrigin(pos: number, f: number, workLen: number, tile: number): number {
  return Math.min(Math.max(0, Math.round(pos * f)), Math.max(0, workLen - tile));
}

/**
 * Decodes items that are crops (grouped by source image) or whole images, into one set.
 * A crop's pixels are the model-size tile the scorer cuts at that place of the photo: the photo
 * is scaled by size / patchSize as a whole (the scorer's working image), then the tile cut; not
 * the crop cut and then resized, which filters differently at its borders. A whole image is
 * resized as the scorer's 'resize' mode does.
 */
export async function decodeCrops(items: CatalogItem[], req: DecodeRequest, patchSize?: number): Promise<DecodeResult> {
  const bySource = new Map<string, number[]>();
  items.forEach((it, i) => bySource.set(it.source, [...(bySource.get(it.source) ?? []), i]));
  const sources = [...bySource.keys()];
  const out: (Uint8Array | null)[] = new Array(items.length).fill(null);
  const grey: boolean[] = new Array(items.length).fill(true);
  const skipped: { path: string; reason: string }[] = [];
  const size = req.size;
  await forEachLimit(sources.length, DECODE_CONCURRENCY, async (s) => {
    const src = sources[s];
    let img: Awaited<ReturnType<typeof decodeFull>>;
    try {
      img = await decodeFull(src, { channels: req.channels, maxPixels: req.maxPixels });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      skipped.push({ path: src, reason: err.message.replace(`${src}: `, '') });
      return;
    }
    const model = { width: size, height: size, channels: img.channels };
    const idx = bySource.get(src)!;
    const firstCrop = idx.map((i) => items[i].crop).find((c) => c !== undefined);
    const tiled = firstCrop
      ? workingImage(img.data, img.width, img.height, img.channels, model, { mode: 'tile', scale: size / (patchSize ?? Math.max(firstCrop.w, firstCrop.h)), standardize: req.standardize })
      : null;
    for (const i of idx) {
      const c = items[i].crop;
      if (c && tiled) {
        const px = new Uint8Array(size * size * img.channels);
        cutTile(tiled.work, tiled.ww, cropTileOrigin(c.x, tiled.fx, tiled.ww, size), cropTileOrigin(c.y, tiled.fy, tiled.wh, size), size, size, img.channels, px);
        out[i] = px;
      } else {
        out[i] = workingImage(img.data, img.width, img.height, img.channels, model, { mode: 'resize', scale: 1, standardize: req.standardize }).work;
      }
      grey[i] = img.grey;
    }
  });
  const { kept, channels, data } = packDecoded(out, grey, req.size, req.channels);
  // A source that failed fails all its crops; report it once per crop so the 1% rule counts items.
  const failed = new Set(skipped.map((s) => s.path));
  const perItem = items.filter((it) => failed.has(it.source)).map((it) => ({ path: it.source, reason: skipped.find((s) => s.path === it.source)!.reason }));
  return { images: new MemoryImageSet(data, kept.length, req.size, req.size, channels), kept, skipped: perItem };
}

/** A catalog view whose decode understands crops. */
export function withCropDecoding(cat: Catalog, patchSize?: number): Catalog {
  return { ...cat, decode: (items, req) => decodeCrops(items, req, patchSize) };
}
