/**
 * Entry point of the data pipeline: detect the layout, read the catalog, plan the roles, decode.
 * The trainer calls loadTrainingData; the CLI's `datasets inspect` calls inspectDataset.
 */
import { buildTrainingData } from './build';
import type { Catalog } from './catalog';
import { DEFAULT_MAX_PIXELS } from './decode';
import { readImageFolder } from './folder';
import { numberOpt, stringOpt } from './options';
import { defaultPlan, resolveNormalClass } from './plan';
import { checkDataRoot } from './walk';
import type { LoadOptions, TrainingData } from './types';
import { InputError } from './types';

export { InputError } from './types';
export type { DatasetSummary, ImageSet, LabeledSet, LoadOptions, TrainingData } from './types';
export { MemoryImageSet, SubsetImageSet, ConcatImageSet } from './image-set';
export { decodeImage, probeImage, IMAGE_EXTENSIONS, DEFAULT_MAX_PIXELS } from './decode';

export const FORMATS = ['image-folder'] as const;

/** Reads what is on disk into a catalog, by `--format` or by detection. */
export async function readCatalog(root: string, opts: Record<string, unknown> = {}): Promise<Catalog> {
  await checkDataRoot(root);
  const format = stringOpt(opts, 'format', ['auto', ...FORMATS], 'auto');
  switch (format) {
    case 'auto':
    case 'image-folder':
      return readImageFolder(root);
  }
}

export async function loadTrainingData(opts: LoadOptions): Promise<TrainingData> {
  const size = numberOpt(opts, 'size', NaN, { min: 4, max: 4096, integer: true });
  if (!Number.isFinite(size)) throw new InputError('--size is required (the model input size in pixels).');
  const channelsRaw = opts.channels === undefined ? undefined : numberOpt(opts, 'channels', 3, { min: 1, max: 3, integer: true });
  if (channelsRaw === 2) throw new InputError('--channels must be 1 or 3; got 2.');
  const channels = channelsRaw as 1 | 3 | undefined;
  const seed = numberOpt(opts, 'seed', 0, { integer: true });
  const validationFraction = numberOpt(opts, 'validationFraction', 0.1, { min: 0, max: 0.9 });
  const maxPixels = numberOpt(opts, 'maxPixels', DEFAULT_MAX_PIXELS, { min: 1 });

  const cat = await readCatalog(opts.root, opts);
  const normalClass = resolveNormalClass(cat, opts.normalClass);
  const plan = defaultPlan(cat, normalClass, validationFraction, seed);
  return buildTrainingData(cat, plan, { size, channels, maxPixels, normalClass });
}
