/**
 * Decodes a plan's items once, in one call (so the channel decision covers every role), and
 * assembles the TrainingData views. Unreadable files are skipped and reported; more than 1%
 * unreadable means something is wrong with the data, so it stops.
 */
import os from 'node:os';
import { cutTile, workingImage, type Standardize } from '../../scorer/preprocess';
import type { Catalog, CatalogItem, DecodeRequest } from './catalog';
import { probeImage } from './decode';
import { DECODE_CONCURRENCY, forEachLimit } from './decode-files';
import { DiskImageWriter } from './disk-set';
import { countByClass } from './catalog';
import { ConcatImageSet, MemoryImageSet, SubsetImageSet } from './image-set';
import { cropTileOrigin, readMask } from './patches';
import type { Plan } from './plan';
import type { DatasetSummary, ImageSet, LabeledSet, TrainingData } from './types';
import { InputError } from './types';

export const MAX_UNREADABLE_FRACTION = 0.01;

type Role = 'trainNormal' | 'trainAnomaly' | 'valNormal' | 'valAnomaly' | 'testNormal' | 'testAnomaly';
const ROLES: Role[] = ['trainNormal', 'trainAnomaly', 'valNormal', 'valAnomaly', 'testNormal', 'testAnomaly'];

export interface BuildOptions {
  size: number;
  channels?: 1 | 3;
  maxPixels?: number;
  normalClass: string;
  /** Above this many bytes of decoded pixels, stream from a disk cache instead of memory. */
  memoryLimitBytes?: number;
  /** Where the disk cache goes (default: the OS temp folder). */
  cacheDir?: string;
  /** Photos standardised before cropping (defect protocol). */
  standardize?: Standardize;
  /** Crops' side in photo pixels (defect protocol with --patch-size): masks are tiled at size / patchSize. */
  patchSize?: number;
}

/** Default: 40% of RAM, at most 4 GiB — leaves room for tfjs tensors and the model. */
export function defaultMemoryLimitBytes(): number {
  return Math.min(4 * 2 ** 30, 0.4 * os.totalmem());
}

export const STREAM_CHUNK = 2048;

/** Decodes `all`, into memory when it fits, else chunk by chunk into a disk cache. */
export async function decodeAll(
  cat: Catalog,
  all: CatalogItem[],
  req: DecodeRequest,
  limitBytes: number,
  cacheDir?: string,
): Promise<{ images: ImageSet; kept: number[]; skipped: { path: string; reason: string }[]; streamed: boolean }> {
  const estimate = all.length * req.size * req.size * (req.channels ?? cat.recordShape?.channels ?? 3);
  if (estimate <= limitBytes) return { ...(await cat.decode(all, req)), streamed: false };
  // Chunks must agree on channels, so settle it first from the headers.
  let channels = req.channels ?? cat.recordShape?.channels;
  if (!channels) {
    let colour = false;
    await forEachLimit(all.length, DECODE_CONCURRENCY, async (i) => {
      if (colour) return;
      const info = await probeImage(all[i].source).catch(() => null);
      if (info && !info.grey) colour = true;
    });
    channels = colour ? 3 : 1;
  }
  const writer = await DiskImageWriter.create(req.size, req.size, channels, cacheDir);
  const kept: number[] = [];
  const skipped: { path: string; reason: string }[] = [];
  try {
    for (let start = 0; start < all.length; start += STREAM_CHUNK) {
      const chunk = all.slice(start, start + STREAM_CHUNK);
      const res = await cat.decode(chunk, { ...req, channels });
      writer.append(res.images.data.subarray(0, res.images.count * res.images.imageBytes));
      for (const k of res.kept) kept.push(start + k);
      skipped.push(...res.skipped);
    }
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { images: writer.finish(), kept, skipped, streamed: true };
}

export async function buildTrainingData(cat: Catalog, plan: Plan, opts: BuildOptions): Promise<TrainingData> {
  const all: CatalogItem[] = [];
  const roleOf: Role[] = [];
  for (const r of ROLES) {
    for (const it of plan[r] ?? []) {
      all.push(it);
      roleOf.push(r);
    }
  }
  const res = await decodeAll(
    cat,
    all,
    { size: opts.size, channels: opts.channels, maxPixels: opts.maxPixels, standardize: opts.standardize },
    opts.memoryLimitBytes ?? defaultMemoryLimitBytes(),
    opts.cacheDir,
  );
  // Crops of one unreadable photo each report it; list the file once.
  const seen = new Set<string>();
  const skipped = [...cat.skipped, ...res.skipped].filter((k) => !seen.has(k.path + '\0' + k.reason) && seen.add(k.path + '\0' + k.reason));
  if (res.skipped.length > MAX_UNREADABLE_FRACTION * all.length) {
    await res.images.close?.();
    const list = res.skipped.slice(0, 10).map((s) => `  ${s.path}: ${s.reason}`).join('\n');
    throw new InputError(
      `${res.skipped.length} of ${all.length} images in ${cat.root} are unreadable (more than ${MAX_UNREADABLE_FRACTION * 100}%). ` +
        `Fix or remove them:\n${list}${res.skipped.length > 10 ? `\n  ... and ${res.skipped.length - 10} more` : ''}`,
    );
  }
  const idx: Record<Role, number[]> = { trainNormal: [], trainAnomaly: [], valNormal: [], valAnomaly: [], testNormal: [], testAnomaly: [] };
  const itemsOf: Record<Role, CatalogItem[]> = { trainNormal: [], trainAnomaly: [], valNormal: [], valAnomaly: [], testNormal: [], testAnomaly: [] };
  res.kept.forEach((reqIndex, setIndex) => {
    const r = roleOf[reqIndex];
    idx[r].push(setIndex);
    itemsOf[r].push(all[reqIndex]);
  });
  if (idx.trainNormal.length === 0) {
    await res.images.close?.();
    throw new InputError(`No normal images: every image of class "${opts.normalClass}" in ${cat.root} was unreadable.`);
  }
  const images = res.images;
  const sub = (r: Role): ImageSet => new SubsetImageSet(images, idx[r]);
  const limit = opts.memoryLimitBytes ?? defaultMemoryLimitBytes();
  const labeled = async (n: Role, a: Role): Promise<LabeledSet> => {
    const parts = [sub(n), sub(a)];
    const items = [...itemsOf[n], ...itemsOf[a]];
    const isAnomaly = new Uint8Array(items.length);
    isAnomaly.fill(1, itemsOf[n].length);
    const set: LabeledSet = {
      images: new ConcatImageSet(parts),
      isAnomaly,
      className: items.map((i) => i.className),
      source: items.map((i) => i.source),
    };
    // Pixel masks for evaluation (pixel-level scores, heat-map checks), when the layout has them
    // and they fit comfortably in memory.
    if (items.some((i) => i.maskPath) && items.length * opts.size * opts.size <= limit / 4) {
      set.masks = await decodeMasks(items, opts.size, opts.maxPixels, opts.patchSize);
    }
    return set;
  };
  const warnings = [...cat.warnings, ...plan.warnings];
  if (res.streamed) warnings.push(`Decoded images exceed the memory limit; streaming them from a cache file (${(res.images as { file?: string }).file}).`);
  if (res.skipped.length > 0) warnings.push(`${res.skipped.length} unreadable image(s) skipped; see summary.skipped.`);
  const hasTest = plan.testNormal !== null || plan.testAnomaly !== null;
  const counts = countByClass(cat);
  const summary: DatasetSummary = {
    root: cat.root,
    layout: cat.layout,
    normalClass: opts.normalClass,
    classes: cat.classNames.map((name) => ({ name, count: counts.get(name) ?? 0, anomaly: name !== opts.normalClass })),
    skipped,
    warnings,
    counts: {
      trainNormal: idx.trainNormal.length,
      trainAnomaly: idx.trainAnomaly.length,
      validation: idx.valNormal.length + idx.valAnomaly.length,
      test: idx.testNormal.length + idx.testAnomaly.length,
    },
  };
  return {
    normal: sub('trainNormal'),
    anomaly: idx.trainAnomaly.length > 0 ? sub('trainAnomaly') : null,
    validation: await labeled('valNormal', 'valAnomaly'),
    test: hasTest ? await labeled('testNormal', 'testAnomaly') : null,
    summary,
  };
}

/** Masks (1 channel, 0/255, model size) aligned with `items`; items without a mask get zeros.
 * A crop's mask is cut from the mask as its pixels are from the photo (patches.ts decodeCrops:
 * the scorer's working image, then the tile), so a pixel's label is the pixel's own. An
 * unreadable mask gives zeros and is not fatal: the image label still holds. */
export async function decodeMasks(items: CatalogItem[], size: number, maxPixels?: number, patchSize?: number): Promise<MemoryImageSet> {
  const per = size * size;
  const data = new Uint8Array(items.length * per);
  const bySource = new Map<string, number[]>();
  items.forEach((it, i) => {
    if (it.maskPath) bySource.set(it.source, [...(bySource.get(it.source) ?? []), i]);
  });
  const sources = [...bySource.keys()];
  const model = { width: size, height: size, channels: 1 as const };
  await forEachLimit(sources.length, DECODE_CONCURRENCY, async (k) => {
    const idx = bySource.get(sources[k])!;
    const first = items[idx[0]];
    let mask: Uint8Array;
    let w: number;
    let h: number;
    try {
      const info = await probeImage(first.source);
      w = info.width;
      h = info.height;
      mask = await readMask(first.maskPath!, w, h, maxPixels);
    } catch (err) {
      if (err instanceof InputError) return;
      throw err;
    }
    const firstCrop = idx.map((i) => items[i].crop).find((c) => c !== undefined);
    const tiled = firstCrop ? workingImage(mask, w, h, 1, model, { mode: 'tile', scale: size / (patchSize ?? Math.max(firstCrop.w, firstCrop.h)) }) : null;
    for (const i of idx) {
      const c = items[i].crop;
      const out = data.subarray(i * per, (i + 1) * per);
      if (c && tiled) cutTile(tiled.work, tiled.ww, cropTileOrigin(c.x, tiled.fx, tiled.ww, size), cropTileOrigin(c.y, tiled.fy, tiled.wh, size), size, size, 1, out);
      else out.set(workingImage(mask, w, h, 1, model, { mode: 'resize', scale: 1 }).work);
      for (let p = 0; p < per; p++) out[p] = out[p] >= 128 ? 255 : 0;
    }
  });
  return new MemoryImageSet(data, items.length, size, size, 1);
}
