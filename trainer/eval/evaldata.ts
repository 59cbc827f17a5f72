/**
 * The images an evaluation runs on: the same reader, protocol and seed as the model's training
 * (so `--split validation` is exactly the held-out validation set), decoding only the split asked
 * for. Masks (layouts that have them) are decoded at the model size, the way the images are.
 */
import type { Standardize } from '../../scorer/preprocess';
import { planDataset } from '../data';
import { probeImage } from '../data/decode';
import { readMask } from '../data/patches';
import type { CatalogItem } from '../data/catalog';
import { InputError } from '../data/types';
import type { EvalSet } from './evaluate';

export type EvalSplit = 'test' | 'validation';

export interface EvalDataOptions {
  data: string;
  normal?: string;
  size: number;
  channels: 1 | 3;
  seed: number;
  validationFraction: number;
  split: EvalSplit;
  /** Reader options (protocol, format, sampling, ...), as `train` got them. */
  dataOptions: Record<string, unknown>;
  /** The model learnt defect photos without masks as bags of crops: cut them into crops again (trainer/data/defect.ts unmaskedCrops). */
  unmaskedDefectCrops?: boolean;
  /** The model's photo standardisation (flawscope.json preprocess.standardize): the model decides, not the flags. */
  standardize?: Standardize;
}

export interface LoadedEvalSet extends EvalSet {
  normalClass: string;
  layout: string;
  split: EvalSplit;
  skipped: { path: string; reason: string }[];
  /** Where each kept item comes from (a file, or `file#index` for records), for per-image results. */
  sources: string[];
}

/** Nearest-neighbour resize of a one-channel 0/255 mask (labels must stay binary). */
export function resizeMaskNearest(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / dh));
    for (let x = 0; x < dw; x++) out[y * dw + x] = src[sy * sw + Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / dw))];
  }
  return out;
}

/** The mask of an item (whole image or crop) at the model size; masks of one source are read once. */
async function itemMask(it: CatalogItem, size: number, cache: Map<string, Promise<{ m: Uint8Array; w: number; h: number }>>): Promise<Uint8Array> {
  let full = cache.get(it.maskPath!);
  if (!full) {
    full = (async () => {
      const info = await probeImage(it.source);
      return { m: await readMask(it.maskPath!, info.width, info.height), w: info.width, h: info.height };
    })();
    cache.set(it.maskPath!, full);
  }
  const { m, w, h } = await full;
  const c = it.crop ?? { x: 0, y: 0, w, h };
  const crop = new Uint8Array(c.w * c.h);
  for (let y = 0; y < c.h; y++) crop.set(m.subarray((c.y + y) * w + c.x, (c.y + y) * w + c.x + c.w), y * c.w);
  return resizeMaskNearest(crop, c.w, c.h, size, size);
}

export async function loadEvalSet(o: EvalDataOptions): Promise<LoadedEvalSet> {
  const { standardize: _flag, ...readerOptions } = o.dataOptions;
  const p = await planDataset({ ...readerOptions, root: o.data, normalClass: o.normal, size: o.size, channels: o.channels, seed: o.seed, validationFraction: o.validationFraction }, { unmaskedDefectCrops: o.unmaskedDefectCrops });
  let normals: CatalogItem[], anomalies: CatalogItem[];
  if (o.split === 'test') {
    if (!p.plan.testNormal && !p.plan.testAnomaly)
      throw new InputError(`${o.data} has no test split (layout ${p.catalog.layout}); use --split validation, or data with an official test set`);
    normals = p.plan.testNormal ?? [];
    anomalies = p.plan.testAnomaly ?? [];
  } else {
    normals = p.plan.valNormal;
    anomalies = p.plan.valAnomaly;
  }
  const items = [...normals, ...anomalies];
  if (!items.length) throw new InputError(`${o.data}: the ${o.split} split is empty`);
  const cat = p.plan.catalog ?? p.catalog;
  if (o.standardize && p.protocol !== 'defect') throw new InputError(`the model standardises photos (defect protocol); ${o.data} is read with --protocol ${p.protocol}: pass --protocol defect`);
  const res = await cat.decode(items, { size: o.size, channels: o.channels, maxPixels: p.maxPixels, standardize: o.standardize });
  if (res.skipped.length > 0.01 * items.length)
    throw new InputError(`${res.skipped.length} of ${items.length} ${o.split} images in ${o.data} are unreadable, e.g. ${res.skipped[0].path}: ${res.skipped[0].reason}`);
  const kept = res.kept.map((i) => items[i]);
  const isAnomaly = Uint8Array.from(res.kept, (i) => (i >= normals.length ? 1 : 0));
  let masks: (Uint8Array | null)[] | undefined;
  if (kept.some((it) => it.maskPath)) {
    const cache = new Map<string, Promise<{ m: Uint8Array; w: number; h: number }>>();
    masks = [];
    for (const it of kept) masks.push(it.maskPath ? await itemMask(it, o.size, cache) : null);
  }
  // Crops of one photo share a source: the image-level score is the max over its crops.
  const groups = kept.some((it) => it.crop) ? kept.map((it) => it.source) : undefined;
  const maskPaths = groups && kept.some((it) => it.maskPath) ? kept.map((it) => it.maskPath) : undefined;
  return {
    images: res.images,
    isAnomaly,
    className: kept.map((it) => it.className),
    masks,
    groups,
    maskPaths,
    normalClass: p.normalClass,
    layout: p.catalog.layout,
    split: o.split,
    skipped: res.skipped,
    sources: kept.map((it) => it.source),
  };
}
