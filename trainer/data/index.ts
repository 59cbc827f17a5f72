/**
 * Entry point of the data pipeline: detect the layout, read the catalog, plan the roles, decode.
 * The trainer calls loadTrainingData; the CLI's `datasets inspect` calls inspectDataset.
 */
import { buildTrainingData } from './build';
import { trainingImageStats } from './image-stats';
import type { Catalog } from './catalog';
import { readCatalog } from './read';
import { DEFAULT_MAX_PIXELS } from './decode';
import { parseDataOptions, type DataOptions } from './options';
import { defaultPlan, resolveNormalClass, type Plan } from './plan';
import { oneVsRestPlan } from './protocol';
import { defectPlan } from './defect';
import { AugmentedImageSet, augmentConfig, autoFamily, isIdentity } from './augment';
import { subSeed } from '../rng';
import type { LoadOptions, TrainingData } from './types';
import { InputError } from './types';

export { InputError } from './types';
export type { DatasetSummary, ImageSet, LabeledSet, LoadOptions, TrainingData } from './types';
export { MemoryImageSet, SubsetImageSet, ConcatImageSet } from './image-set';
export { decodeImage, probeImage, DEFAULT_MAX_PIXELS } from './decode';
export { DATASET_IMAGE_EXTENSIONS } from '../../scorer/image-extensions';
export { DiskImageSet } from './disk-set';
export { AugmentedImageSet, FAMILY_DEFAULTS, AUGMENT_FAMILIES } from './augment';
export type { AugmentConfig, AugmentFamily } from './augment';
export { inspectDataset } from './inspect';
export { readCatalog, FORMATS } from './read';
export type { DatasetReport } from './inspect';

import { PHOTO_STANDARD, type Standardize } from '../../scorer/preprocess';

export { PROTOCOLS, DATA_OPTION_KEYS, DATA_OPTIONS, READER_OPTIONS, parseDataOptions, type DataOptions } from './options';

export interface PlannedDataset {
  catalog: Catalog;
  plan: Plan;
  normalClass: string;
  size: number;
  channels?: 1 | 3;
  maxPixels: number;
  memoryLimitBytes?: number;
  cacheDir?: string;
  protocol: string;
  /** Side of the crops cut from large photos (defect protocol), when cropping. */
  patchSize?: number;
  /** Photos standardised before cropping (`--standardize photo`). */
  standardize?: Standardize;
}

/** Everything up to (not including) decoding the pixels: layout, roles and sampled items.
 * Cheap, so tests and `datasets inspect` can check the protocol counts on the full data. */
export async function planDataset(raw: LoadOptions, internal: PlanInternals = {}): Promise<PlannedDataset> {
  return planParsed(parseDataOptions(raw), internal);
}

/** What the program asks of the planner beyond the user's flags. */
export interface PlanInternals {
  /** Defect protocol with crops: cut defect images without masks into crops too (DefectOptions.unmaskedCrops). */
  unmaskedDefectCrops?: boolean;
}

async function planParsed(opts: DataOptions, internal: PlanInternals = {}): Promise<PlannedDataset> {
  const size = opts.size;
  if (size === undefined) throw new InputError('--size is required (the model input size in pixels).');
  if (opts.root === undefined) throw new InputError('no data folder given (--data DIR).');
  const { channels, seed = 0, validationFraction = 0.1, maxPixels = DEFAULT_MAX_PIXELS, protocol = 'default', sampling = 'kmeans', clusters = 10, anomalyTotal, standardize = 'none' } = opts;
  // Only the defect protocol decodes whole photos before cutting them; elsewhere an image is its own crop.
  if (standardize === 'photo' && protocol !== 'defect') throw new InputError('--standardize photo needs --protocol defect (photos cut into patches, or defect photos scored whole).');

  const catalog = await readCatalog(opts.root, opts);
  const normalClass = resolveNormalClass(catalog, opts.normalClass);
  let plan: Plan;
  let patchSize: number | undefined;
  switch (protocol) {
    case 'one-vs-rest':
      plan = await oneVsRestPlan(catalog, normalClass, { validationFraction, seed, sampling, clusters, anomalyTotal });
      break;
    case 'defect': {
      patchSize = opts.patchSize;
      if (opts.patchStride !== undefined && !patchSize) throw new InputError('--patch-stride needs --patch-size.');
      plan = await defectPlan(catalog, normalClass, {
        seed,
        validationFraction,
        testFraction: opts.testFraction ?? 0.2,
        patchSize,
        patchStride: opts.patchStride,
        maskFraction: opts.maskFraction ?? 0.01,
        sampling,
        clusters,
        balance: opts.balance ?? true,
        maxPixels,
        ...(internal.unmaskedDefectCrops ? { unmaskedCrops: true } : {}),
      });
      break;
    }
    default:
      plan = defaultPlan(catalog, normalClass, validationFraction, seed);
  }
  const memMb = opts.memoryLimitMb; // 0 = always stream
  return { catalog, plan, normalClass, size, channels, maxPixels, protocol, patchSize, standardize: standardize === 'photo' ? { ...PHOTO_STANDARD } : undefined, memoryLimitBytes: memMb !== undefined ? memMb * 2 ** 20 : undefined, cacheDir: opts.cacheDir };
}

/** Reads, plans and decodes: what the trainer trains on. Throws InputError on bad input (options read once, by parseDataOptions). */
export async function loadTrainingData(raw: LoadOptions): Promise<TrainingData> {
  const opts = parseDataOptions(raw);
  const p = await planParsed(opts);
  // Validate augmentation flags before the (slow) decode.
  const { family, config } = augmentConfig(opts, autoFamily(p.catalog.layout, p.catalog.root, p.protocol));
  const data = await buildTrainingData(p.plan.catalog ?? p.catalog, p.plan, {
    size: p.size,
    channels: p.channels,
    maxPixels: p.maxPixels,
    normalClass: p.normalClass,
    memoryLimitBytes: p.memoryLimitBytes,
    cacheDir: p.cacheDir,
    standardize: p.standardize,
    patchSize: p.patchSize,
  });
  // Measured before augmentation wraps the set (an augmented read draws random numbers).
  data.imageStats = await trainingImageStats(data.normal, p.plan.catalog ?? p.catalog, p.plan.trainNormal ?? []);
  if (!isIdentity(config)) {
    const seed = opts.seed ?? 0;
    if (config.rotate90 && data.normal.height !== data.normal.width) throw new InputError('--augment-rotate needs square images.');
    data.normal = new AugmentedImageSet(data.normal, config, subSeed(seed, 'augment-normal'));
    if (data.anomaly) data.anomaly = new AugmentedImageSet(data.anomaly, config, subSeed(seed, 'augment-anomaly'));
  }
  data.summary.augmentation = { family, ...config };
  // Crops of large photos → score new photos as tiles at the crops' scale; else whole images.
  data.preprocess = p.patchSize ? { mode: 'tile', scale: p.size / p.patchSize } : { mode: 'resize', scale: 1 };
  if (p.standardize) data.preprocess.standardize = { ...p.standardize };
  return data;
}
