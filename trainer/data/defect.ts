/**
 * The defect-data protocol (§3.5, §4.1), `--protocol defect`:
 * 1. Split by source image (seeded, per class): test, validation, train. No two crops of one
 *    photo end up on different sides. A layout's own test split (MVTec) is kept.
 * 2. With `--patch-size P` (and masks), every image is cut into PxP crops (`--patch-stride`,
 *    default P/2). A crop of a defect image is an anomaly when its defect-pixel share exceeds
 *    `--mask-fraction` (default 0.01); crops of defect images with fewer defect pixels (none, or
 *    a sliver at or under the threshold) are left out, as they are neither clearly defective nor
 *    known normal. Crops of normal images are normal. Without a patch size, whole images.
 * 3. Training side only: each defect type is sampled down to the rarest type's count, and the
 *    normal class to the total of the defect samples, both with k-means balanced sampling
 *    (`--sampling random` to compare). Validation and test keep every crop.
 */
import type { Catalog, CatalogItem } from './catalog';
import { probeImage } from './decode';
import { DECODE_CONCURRENCY, forEachLimit } from './decode-files';
import { gridPositions, integralMask, maskSum, readMask, withCropDecoding } from './patches';
import type { Plan } from './plan';
import { createRng, shuffleInPlace, subSeed } from '../rng';
import { sampleItems, type SamplingMethod } from './sampling';
import { InputError } from './types';

export interface DefectOptions {
  seed: number;
  validationFraction: number;
  testFraction: number;
  patchSize?: number;
  patchStride?: number;
  maskFraction: number;
  sampling: SamplingMethod;
  clusters?: number;
  balance: boolean;
  maxPixels?: number;
  /**
   * Cut defect images without masks into the same crops as the normal ones (each crop keeps its
   * photo's label only, no mask fraction): the defect map's multiple-instance bags
   * (trainer/data/map-data.ts). Not a flag: only the defects preset and its eval ask for it.
   */
  unmaskedCrops?: boolean;
}

/** Splits source images per class into train/validation/test, seeded. */
export function splitBySource(
  items: CatalogItem[],
  fractions: { validation: number; test: number },
  seed: number,
): Map<CatalogItem, 'train' | 'validation' | 'test'> {
  const side = new Map<CatalogItem, 'train' | 'validation' | 'test'>();
  const byClass = new Map<string, CatalogItem[]>();
  for (const it of items) byClass.set(it.className, [...(byClass.get(it.className) ?? []), it]);
  for (const [cls, list] of [...byClass].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const official = list.some((i) => i.split !== undefined);
    const shuffled = shuffleInPlace(list.slice(), createRng(subSeed(seed, `defect-split-${cls}`)));
    if (official) {
      // Keep the layout's test side; split its train side into train/validation.
      const train = shuffled.filter((i) => i.split !== 'test');
      const nv = count(train.length, fractions.validation);
      train.forEach((it, k) => side.set(it, k < nv ? 'validation' : 'train'));
      shuffled.filter((i) => i.split === 'test').forEach((it) => side.set(it, 'test'));
      continue;
    }
    const nt = count(list.length, fractions.test);
    const nv = count(list.length - nt, fractions.validation);
    shuffled.forEach((it, k) => side.set(it, k < nt ? 'test' : k < nt + nv ? 'validation' : 'train'));
  }
  return side;
}

function count(n: number, f: number): number {
  if (f <= 0 || n < 3) return 0; // keep tiny classes for training
  return Math.max(1, Math.min(n - 1, Math.round(n * f)));
}

/**
 * Crops need masks: a crop of a defect image is labelled by its share of masked pixels. Without
 * masks the normal photos would be cut into P-pixel crops while each defect image is shrunk whole
 * to the model size — two scales, so the model could learn the scale instead of the defect. No
 * mask on any defect image is refused; some missing is warned about, once, with the count.
 */
function unmaskedDefects(cat: Catalog, normalClass: string, patchSize: number): string[] {
  const defects = cat.items.filter((i) => i.className !== normalClass);
  const unmasked = defects.filter((i) => !i.maskPath);
  if (!unmasked.length) return [];
  const types = [...new Set(unmasked.map((i) => i.className))].join(', ');
  const what = `the normal photos are cut into ${patchSize}-pixel crops, but a defect image without a mask cannot be (a crop of it has no label of its own), so it is used whole, shrunk to the model size: another scale than the crops`;
  const fix = `add masks beside the defect images (NAME.png next to NAME.jpg, white = defect; --mask-suffix for another name) or leave --patch-size out (every image whole, labelled by its folder)`;
  if (unmasked.length === defects.length)
    throw new InputError(`--patch-size ${patchSize}: ${cat.root} has no masks for its ${defects.length} defect images (${types}): ${what}. To train on crops, ${fix}.`);
  return [`--patch-size ${patchSize}: ${unmasked.length} of ${defects.length} defect images (${types}) have no mask: ${what}. ${fix[0].toUpperCase()}${fix.slice(1)}.`];
}

/** Cuts one source image into labelled crops. Returns [] for a defect image whose mask is empty. */
async function cropsOf(it: CatalogItem, isNormal: boolean, opts: DefectOptions, warnings: string[]): Promise<CatalogItem[]> {
  const info = await probeImage(it.source);
  const P = opts.patchSize!;
  const stride = opts.patchStride ?? Math.max(1, Math.floor(P / 2));
  const xs = gridPositions(info.width, P, stride);
  const ys = gridPositions(info.height, P, stride);
  const grid = ys.flatMap((y) => xs.map((x) => ({ x: x.start, y: y.start, w: x.len, h: y.len })));
  if (isNormal) return grid.map((crop) => ({ ...it, crop, maskFraction: 0 }));
  // No mask: the whole image (warned by the reader), or, for bags, every crop with the photo's label.
  if (!it.maskPath) return opts.unmaskedCrops ? grid.map((crop) => ({ ...it, crop })) : [{ ...it }];
  const mask = await readMask(it.maskPath, info.width, info.height, opts.maxPixels);
  const I = integralMask(mask, info.width, info.height);
  const out: CatalogItem[] = [];
  for (const crop of grid) {
    const frac = maskSum(I, info.width, crop.x, crop.y, crop.w, crop.h) / (crop.w * crop.h);
    if (frac > opts.maskFraction) out.push({ ...it, crop, maskFraction: frac });
  }
  if (maskSum(I, info.width, 0, 0, info.width, info.height) === 0) warnings.push(`${it.maskPath}: mask is empty; its image gives no defect patches.`);
  return out;
}

export async function defectPlan(cat0: Catalog, normalClass: string, opts: DefectOptions): Promise<Plan> {
  if (cat0.recordShape) throw new InputError(`--protocol defect needs image files (with masks for patches); ${cat0.root} is ${cat0.layout}.`);
  const cat = withCropDecoding(cat0, opts.patchSize);
  const warnings: string[] = [];
  if (opts.patchSize && !opts.unmaskedCrops) warnings.push(...unmaskedDefects(cat0, normalClass, opts.patchSize));
  const side = splitBySource(cat.items, { validation: opts.validationFraction, test: opts.testFraction }, opts.seed);

  // 2. Items (whole images or crops) per side.
  let units: { item: CatalogItem; side: 'train' | 'validation' | 'test' }[];
  if (opts.patchSize) {
    const perSource: CatalogItem[][] = new Array(cat.items.length);
    const cropWarnings: string[][] = cat.items.map(() => []);
    const failed: { path: string; reason: string }[] = [];
    await forEachLimit(cat.items.length, DECODE_CONCURRENCY, async (i) => {
      try {
        perSource[i] = await cropsOf(cat.items[i], cat.items[i].className === normalClass, opts, cropWarnings[i]);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        perSource[i] = [];
        failed.push({ path: cat.items[i].source, reason: err.message });
      }
    });
    warnings.push(...cropWarnings.flat());
    if (failed.length) warnings.push(...failed.map((f) => `${f.path}: skipped (${f.reason})`));
    units = cat.items.flatMap((it, i) => perSource[i].map((c) => ({ item: c, side: side.get(it)! })));
  } else {
    units = cat.items.map((it) => ({ item: it, side: side.get(it)! }));
  }
  const pick = (s: string, normal: boolean) => units.filter((u) => u.side === s && (u.item.className === normalClass) === normal).map((u) => u.item);
  let trainNormal = pick('train', true);
  let trainAnomaly = pick('train', false);
  if (trainNormal.length === 0) throw new InputError(`No normal images: class "${normalClass}" has no training images in ${cat.root}.`);

  // 3. Balance the training side.
  if (opts.balance && trainAnomaly.length > 0) {
    const types = new Map<string, CatalogItem[]>();
    for (const it of trainAnomaly) types.set(it.className, [...(types.get(it.className) ?? []), it]);
    const rarest = Math.min(...[...types.values()].map((v) => v.length));
    const balanced: CatalogItem[] = [];
    for (const [t, list] of [...types].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      balanced.push(...(await sampleItems(cat, list, rarest, { method: opts.sampling, seed: subSeed(opts.seed, `defect-${t}`), clusters: opts.clusters })));
    }
    trainAnomaly = balanced;
    if (trainNormal.length > balanced.length) {
      trainNormal = await sampleItems(cat, trainNormal, balanced.length, { method: opts.sampling, seed: subSeed(opts.seed, 'defect-normal'), clusters: opts.clusters });
    }
  }
  if (trainAnomaly.length === 0) warnings.push('No defect samples for training: training uses the normal-data losses only.');
  const testN = pick('test', true);
  const testA = pick('test', false);
  return {
    trainNormal,
    trainAnomaly,
    valNormal: pick('validation', true),
    valAnomaly: pick('validation', false),
    testNormal: testN.length + testA.length ? testN : null,
    testAnomaly: testN.length + testA.length ? testA : null,
    warnings,
    catalog: cat,
  };
}
