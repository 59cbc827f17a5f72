/**
 * Entry point of the data pipeline: detect the layout, read the catalog, plan the roles, decode.
 * The trainer calls loadTrainingData; the CLI's `datasets inspect` calls inspectDataset.
 */
import { buildTrainingData } from './build';
import { trainingImageStats } from './image-stats';
import type { Catalog } from './catalog';
import { readCatalog } from './read';
import { DEFAULT_MAX_PIXELS } from './decode';
import { boolOpt, flagName, numberOpt, stringOpt } from './options';
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

export const PROTOCOLS = ['default', 'one-vs-rest', 'defect'] as const;

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

/** Every option key the data pipeline reads. Anything else in `opts` is a mistyped flag (the
 * CLI forwards every flag it does not know itself), so it is refused rather than ignored. */
export const DATA_OPTION_KEYS = [
  'root', 'normalClass', 'size', 'channels', 'seed', 'validationFraction',
  'format', 'protocol', 'sampling', 'clusters', 'anomalyTotal',
  'patchSize', 'patchStride', 'maskFraction', 'testFraction', 'balance', 'standardize',
  'augment', 'augmentCrop', 'augmentFlip', 'augmentRotate', 'augmentJitter',
  'maxPixels', 'memoryLimitMb', 'cacheDir', 'maskSuffix', 'category', 'maxProbe',
] as const;

function checkOptionKeys(opts: Record<string, unknown>): void {
  const known = new Set<string>(DATA_OPTION_KEYS);
  const unknown = Object.keys(opts).filter((k) => !known.has(k) && opts[k] !== undefined);
  if (unknown.length) {
    throw new InputError(
      `Unknown option ${unknown.map(flagName).join(', ')}. Data options: ${DATA_OPTION_KEYS.slice(6).map(flagName).join(' ')} (see trainer/data/README.md).`,
    );
  }
}

/** Everything up to (not including) decoding the pixels: layout, roles and sampled items.
 * Cheap, so tests and `datasets inspect` can check the protocol counts on the full data. */
export async function planDataset(opts: LoadOptions): Promise<PlannedDataset> {
  checkOptionKeys(opts);
  const size = numberOpt(opts, 'size', NaN, { min: 4, max: 4096, integer: true });
  if (!Number.isFinite(size)) throw new InputError('--size is required (the model input size in pixels).');
  const channelsRaw = opts.channels === undefined ? undefined : numberOpt(opts, 'channels', 3, { min: 1, max: 3, integer: true });
  if (channelsRaw === 2) throw new InputError('--channels must be 1 or 3; got 2.');
  const channels = channelsRaw as 1 | 3 | undefined;
  const seed = numberOpt(opts, 'seed', 0, { integer: true });
  const validationFraction = numberOpt(opts, 'validationFraction', 0.1, { min: 0, max: 0.9 });
  const maxPixels = numberOpt(opts, 'maxPixels', DEFAULT_MAX_PIXELS, { min: 1 });
  const protocol = stringOpt(opts, 'protocol', PROTOCOLS, 'default');
  const sampling = stringOpt(opts, 'sampling', ['kmeans', 'random'] as const, 'kmeans');
  const clusters = numberOpt(opts, 'clusters', 10, { min: 1, max: 1000, integer: true });
  const anomalyTotalRaw = numberOpt(opts, 'anomalyTotal', -1, { min: 0, integer: true });
  const anomalyTotal = anomalyTotalRaw >= 0 ? anomalyTotalRaw : undefined;
  const standardize = stringOpt(opts, 'standardize', ['none', 'photo'] as const, 'none');
  // Only the defect protocol decodes whole photos before cutting them; elsewhere an image is its own crop.
  if (standardize === 'photo' && protocol !== 'defect') throw new InputError('--standardize photo needs --protocol defect (photos cut into patches, or defect photos scored whole).');

  const catalog = await readCatalog(opts.root, opts);
  const normalClass = resolveNormalClass(catalog, opts.normalClass === undefined ? undefined : String(opts.normalClass));
  let plan: Plan;
  let patchSize: number | undefined;
  switch (protocol) {
    case 'one-vs-rest':
      plan = await oneVsRestPlan(catalog, normalClass, { validationFraction, seed, sampling, clusters, anomalyTotal });
      break;
    case 'defect': {
      const patchSizeRaw = numberOpt(opts, 'patchSize', -1, { min: 4, max: 8192, integer: true });
      patchSize = patchSizeRaw > 0 ? patchSizeRaw : undefined;
      const strideRaw = numberOpt(opts, 'patchStride', -1, { min: 1, max: 8192, integer: true });
      if (strideRaw > 0 && !patchSize) throw new InputError('--patch-stride needs --patch-size.');
      plan = await defectPlan(catalog, normalClass, {
        seed,
        validationFraction,
        testFraction: numberOpt(opts, 'testFraction', 0.2, { min: 0, max: 0.9 }),
        patchSize,
        patchStride: strideRaw > 0 ? strideRaw : undefined,
        maskFraction: numberOpt(opts, 'maskFraction', 0.01, { min: 0, max: 1 }),
        sampling,
        clusters,
        balance: boolOpt(opts, 'balance', true),
        maxPixels,
      });
      break;
    }
    default:
      plan = defaultPlan(catalog, normalClass, validationFraction, seed);
  }
  const memMb = numberOpt(opts, 'memoryLimitMb', -1, { min: 0 }); // 0 = always stream
  const cacheDir = stringOpt(opts, 'cacheDir');
  return { catalog, plan, normalClass, size, channels, maxPixels, protocol, patchSize, standardize: standardize === 'photo' ? { ...PHOTO_STANDARD } : undefined, memoryLimitBytes: memMb >= 0 ? memMb * 2 ** 20 : undefined, cacheDir };
}

/** Reads, plans and decodes: what the trainer trains on. Throws InputError on bad input. */
export async function loadTrainingData(opts: LoadOptions): Promise<TrainingData> {
  const p = await planDataset(opts);
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
    const seed = numberOpt(opts, 'seed', 0, { integer: true });
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
