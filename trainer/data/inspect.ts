/**
 * `flawscope datasets inspect`: what a data folder holds, as a JSON-able report (the extension's
 * datasets view shows exactly this). Counts come from the whole catalog; sizes and colour come
 * from reading image headers only (no decoding), for at most `maxProbe` images spread evenly
 * over the catalog, so inspecting 60,000 JPEGs stays quick.
 */
import type { Catalog } from './catalog';
import { countByClass } from './catalog';
import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS, probeImage } from './decode';
import { forEachLimit, DECODE_CONCURRENCY } from './decode-files';
import { parseDataOptions, type DataOptions } from './options';
import { resolveNormalClass } from './plan';
import { readCatalog } from './read';
import { InputError } from './types';

export interface DatasetReport {
  root: string;
  layout: string;
  /** Detected normal class, or null when it has to be given with --normal. */
  normalClass: string | null;
  normalClassNote?: string;
  total: number;
  classes: { name: string; count: number; train?: number; test?: number; masks?: number; anomaly: boolean | null }[];
  splits: { train: number; test: number } | null;
  imageSizes: {
    probed: number;
    sampled: boolean;
    min: { width: number; height: number } | null;
    max: { width: number; height: number } | null;
    /** The most common sizes, "WxH" → count (among probed images). */
    common: { size: string; count: number }[];
  };
  channels: { grey: number; colour: number; alpha: number; highBitDepth: number };
  /** `empty`: masks of defect images with no defect pixel (counted when the normal class is known
   * or none of the masks belongs to it). */
  masks: { found: number; imagesWithoutMask: number; masksWithoutImage: number; empty?: number } | null;
  /** Largest class count / smallest non-empty class count; and normal : anomaly when known. */
  imbalance: { ratio: number | null; normalToAnomaly: number | null };
  skipped: { path: string; reason: string }[];
  ignoredFiles: number;
  warnings: string[];
  /** Up to SAMPLES_PER_CLASS image files per class, spread over the class (for thumbnails); none for records inside IDX/CIFAR files. */
  samples: Record<string, string[]>;
}

export const SAMPLES_PER_CLASS = 6;

/** Evenly spread image files of each class (records inside container files have no file to show). */
export function samplesPerClass(cat: Catalog, unreadable: ReadonlySet<string> = new Set(), perClass = SAMPLES_PER_CLASS): Record<string, string[]> {
  const files = new Map<string, string[]>(cat.classNames.map((c) => [c, []]));
  const seen = new Set<string>();
  for (const it of cat.items) {
    if (it.record !== undefined || seen.has(it.source) || unreadable.has(it.source)) continue;
    seen.add(it.source);
    files.get(it.className)?.push(it.source);
  }
  const out: Record<string, string[]> = {};
  for (const [c, list] of files) out[c] = Array.from({ length: Math.min(perClass, list.length) }, (_, i) => list[Math.floor((i * list.length) / Math.min(perClass, list.length))]);
  return out;
}

export async function inspectCatalog(cat: Catalog, opts: DataOptions = {}): Promise<DatasetReport> {
  const maxProbe = opts.maxProbe ?? 5000;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const counts = countByClass(cat);
  let normalClass: string | null = null;
  let normalClassNote: string | undefined;
  try {
    normalClass = resolveNormalClass(cat, opts.normalClass);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    normalClassNote = err.message;
  }
  const hasSplit = cat.items.some((i) => i.split !== undefined);
  const per = new Map<string, { train: number; test: number; masks: number }>(cat.classNames.map((c) => [c, { train: 0, test: 0, masks: 0 }]));
  for (const it of cat.items) {
    const p = per.get(it.className)!;
    if (it.split === 'test') p.test++;
    else p.train++;
    if (it.maskPath) p.masks++;
  }
  const classes = cat.classNames.map((name) => {
    const p = per.get(name)!;
    return {
      name,
      count: counts.get(name) ?? 0,
      ...(hasSplit ? { train: p.train, test: p.test } : {}),
      ...(cat.masks ? { masks: p.masks } : {}),
      anomaly: normalClass === null ? null : name !== normalClass,
    };
  });

  const skipped = [...cat.skipped];
  const sizes = new Map<string, number>();
  const channels = { grey: 0, colour: 0, alpha: 0, highBitDepth: 0 };
  let min: { width: number; height: number } | null = null;
  let max: { width: number; height: number } | null = null;
  let probed = 0;
  let sampled = false;
  if (cat.recordShape) {
    const { width, height, channels: ch } = cat.recordShape;
    sizes.set(`${width}x${height}`, cat.items.length);
    min = { width, height };
    max = { width, height };
    if (ch === 1) channels.grey = cat.items.length;
    else channels.colour = cat.items.length;
    probed = cat.items.length;
  } else {
    const n = cat.items.length;
    const take = Math.min(n, maxProbe);
    sampled = take < n;
    // Evenly spread, so every class is represented.
    const picks = Array.from({ length: take }, (_, i) => Math.floor((i * n) / take));
    await forEachLimit(picks.length, DECODE_CONCURRENCY, async (k) => {
      const it = cat.items[picks[k]];
      try {
        const info = await probeImage(it.source);
        probed++;
        if (info.width * info.height > maxPixels) {
          skipped.push({ path: it.source, reason: `${info.width}x${info.height} pixels exceeds the limit of ${maxPixels} (--max-pixels); training would skip it` });
          return;
        }
        const key = `${info.width}x${info.height}`;
        sizes.set(key, (sizes.get(key) ?? 0) + 1);
        if (!min || info.width * info.height < min.width * min.height) min = { width: info.width, height: info.height };
        if (!max || info.width * info.height > max.width * max.height) max = { width: info.width, height: info.height };
        if (info.grey) channels.grey++;
        else channels.colour++;
        if (info.fileChannels === 2 || info.fileChannels === 4) channels.alpha++;
        if (info.depth !== 'uchar') channels.highBitDepth++;
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        skipped.push({ path: it.source, reason: err.message.replace(`${it.source}: `, '') });
      }
    });
  }
  // Defect masks with no defect pixels (Magnetic-tile has four): found from the mask's maximum,
  // without decoding into our own buffers.
  let masks = cat.masks ? { ...cat.masks } : null;
  if (masks) {
    const defectMasks = cat.items.filter((i) => i.maskPath && i.className !== normalClass).map((i) => i.maskPath!);
    let empty = 0;
    await forEachLimit(defectMasks.length, DECODE_CONCURRENCY, async (k) => {
      try {
        const st = await sharp(defectMasks[k], { limitInputPixels: 50e6 }).stats();
        if (st.channels.every((c) => c.max < 128)) empty++;
      } catch {
        skipped.push({ path: defectMasks[k], reason: 'unreadable mask' });
      }
    });
    masks = { ...masks, empty };
  }
  const nonEmpty = classes.filter((c) => c.count > 0).map((c) => c.count);
  const normalCount = normalClass ? counts.get(normalClass) ?? 0 : 0;
  const anomalyCount = cat.items.length - normalCount;
  return {
    root: cat.root,
    layout: cat.layout,
    normalClass,
    ...(normalClassNote ? { normalClassNote } : {}),
    total: cat.items.length,
    classes,
    splits: hasSplit ? { train: cat.items.filter((i) => i.split !== 'test').length, test: cat.items.filter((i) => i.split === 'test').length } : null,
    imageSizes: {
      probed,
      sampled,
      min,
      max,
      common: [...sizes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([size, count]) => ({ size, count })),
    },
    channels,
    masks,
    imbalance: {
      ratio: nonEmpty.length > 1 ? round(Math.max(...nonEmpty) / Math.min(...nonEmpty)) : null,
      normalToAnomaly: normalClass && anomalyCount > 0 ? round(normalCount / anomalyCount) : null,
    },
    skipped: skipped.sort((a, b) => (a.path < b.path ? -1 : 1)),
    ignoredFiles: cat.ignoredFiles,
    warnings: [...cat.warnings],
    samples: samplesPerClass(cat, new Set(skipped.map((k) => k.path))),
  };
}

/** Reads ROOT with the detected (or `--format`) reader and reports on it; the options are read here (parseDataOptions). */
export async function inspectDataset(root: string, raw: Record<string, unknown> = {}): Promise<DatasetReport> {
  const opts = parseDataOptions(raw);
  return inspectCatalog(await readCatalog(root, opts), opts);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Human-readable rendering of the report, for the terminal. */
export function formatReport(r: DatasetReport): string {
  const lines: string[] = [];
  lines.push(`Dataset ${r.root}`);
  lines.push(`  layout: ${r.layout}`);
  lines.push(`  images: ${r.total}${r.splits ? ` (train ${r.splits.train}, test ${r.splits.test})` : ''}`);
  lines.push(`  normal class: ${r.normalClass ?? `not detected (${r.normalClassNote ?? 'use --normal'})`}`);
  lines.push('  classes:');
  const w = Math.max(...r.classes.map((c) => c.name.length), 5);
  for (const c of r.classes) {
    const role = c.anomaly === null ? '' : c.anomaly ? '  anomaly' : '  normal';
    const split = c.train !== undefined ? `  (train ${c.train}, test ${c.test})` : '';
    const masks = c.masks !== undefined ? `  masks ${c.masks}` : '';
    lines.push(`    ${c.name.padEnd(w)}  ${String(c.count).padStart(7)}${split}${masks}${role}`);
  }
  const s = r.imageSizes;
  if (s.min && s.max) {
    const range = s.min.width === s.max.width && s.min.height === s.max.height ? `${s.min.width}x${s.min.height}` : `${s.min.width}x${s.min.height} .. ${s.max.width}x${s.max.height}`;
    lines.push(`  image sizes: ${range}${s.sampled ? ` (headers of ${s.probed} sampled images)` : ''}; most common ${s.common.map((c) => `${c.size} (${c.count})`).join(', ')}`);
  }
  const ch = r.channels;
  lines.push(`  colour: ${ch.grey} greyscale, ${ch.colour} colour${ch.alpha ? `, ${ch.alpha} with alpha` : ''}${ch.highBitDepth ? `, ${ch.highBitDepth} with 16-bit depth` : ''}`);
  if (r.masks) {
    lines.push(
      `  masks: ${r.masks.found} found, ${r.masks.imagesWithoutMask} images without mask, ${r.masks.masksWithoutImage} masks without image${r.masks.empty !== undefined ? `, ${r.masks.empty} empty` : ''}`,
    );
  }
  lines.push(`  imbalance: largest/smallest class ${r.imbalance.ratio ?? 'n/a'}; normal:anomaly ${r.imbalance.normalToAnomaly ?? 'n/a'}`);
  lines.push(`  ignored non-image files: ${r.ignoredFiles}`);
  lines.push(`  skipped: ${r.skipped.length}`);
  for (const k of r.skipped.slice(0, 20)) lines.push(`    ${k.path}: ${k.reason}`);
  if (r.skipped.length > 20) lines.push(`    ... and ${r.skipped.length - 20} more (see --json)`);
  if (r.warnings.length) {
    lines.push('  warnings:');
    for (const wn of r.warnings.slice(0, 20)) lines.push(`    ${wn}`);
    if (r.warnings.length > 20) lines.push(`    ... and ${r.warnings.length - 20} more (see --json)`);
  }
  return lines.join('\n') + '\n';
}
