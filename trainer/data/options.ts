/**
 * The one schema of the data pipeline's options. They arrive from CLI flags camelCased and as
 * texts (`--patch-size 64` → `patchSize: '64'`), from a config file's or a model's `dataOptions`
 * and from the extension with their JSON types; `parseDataOptions` reads them once, where
 * `planDataset` / `loadTrainingData` / `inspectDataset` receive them, into typed values for the
 * readers. Every message names the flag: `--patch-size 0: expected an integer from 4 to 8192`.
 */
import { z } from 'zod';
import { either, enumOf, int, kebab, numberText, OptionTable, type OptionSpec, type OptionValues } from '../cli-schema';
import { DATASET_IMAGE_EXTENSIONS } from '../../scorer/image-extensions';
import { InputError } from './types';

export const PROTOCOLS = ['default', 'one-vs-rest', 'defect'] as const;
export const FORMATS = ['image-folder', 'masks', 'mvtec', 'idx', 'cifar'] as const;
export const AUGMENT_FAMILIES = ['none', 'mnist', 'fashion', 'cifar', 'defect'] as const;
export type AugmentFamily = (typeof AUGMENT_FAMILIES)[number];
/** Which mirror images a flip may produce. Photos of upright things want `horizontal` only: an
 * upside-down bird is not a bird the test set will show. */
export const FLIP_MODES = ['none', 'horizontal', 'both'] as const;
export type FlipMode = (typeof FLIP_MODES)[number];

/** `patchSize` → `--patch-size`. */
export function flagName(key: string): string {
  return '--' + kebab(key);
}

/** The spellings of a switch: true/1/yes/on and false/0/no/off; anything else is undefined. */
export function switchValue(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  return undefined;
}

/** Numbers may come as texts (flags, with spaces around: the extension's fields) or as numbers. */
const num = (t: string): unknown => numberText(t.trim());
const intIn = (min: number, max = Number.MAX_SAFE_INTEGER) => ({
  expect: max === Number.MAX_SAFE_INTEGER ? `an integer from ${min} up` : `an integer from ${min} to ${max}`,
  schema: int(min, max), fromFlag: num,
});
const numberIn = (min: number, max?: number) => ({
  expect: max === undefined ? `a number from ${min} up` : `a number from ${min} to ${max}`,
  schema: max === undefined ? z.number().finite().min(min) : z.number().min(min).max(max), fromFlag: num,
});
const oneOf = <V extends string>(xs: readonly V[]) => ({ expect: either(xs), schema: enumOf(xs) });
/** A switch as a data option: true/1/yes/on or false/0/no/off (a value is always given, e.g. `--balance no`). */
const onOff = { expect: 'true or false (or 1/0, yes/no, on/off)', schema: z.preprocess((v) => switchValue(v) ?? v, z.boolean()) };
const text = { expect: 'a text', schema: z.string() };
const isImageSuffix = (s: string): boolean => /\.[A-Za-z0-9]+$/.test(s) && (DATASET_IMAGE_EXTENSIONS as readonly string[]).includes(s.slice(s.lastIndexOf('.')).toLowerCase());

/** What the trainer / eval / inspect set from their own flags; never a reader flag of its own. */
const CORE = {
  root: { expect: 'a folder of images (a path)', schema: z.string().min(1) },
  normalClass: { expect: 'a class name', schema: z.union([z.string(), z.number().transform(String)]), fromFlag: (t: string) => t },
  size: intIn(4, 4096),
  channels: { expect: '1 or 3', schema: z.union([z.literal(1), z.literal(3)]), fromFlag: num },
  seed: { expect: 'an integer', schema: z.number().int(), fromFlag: num },
  validationFraction: numberIn(0, 0.9),
} satisfies Record<string, OptionSpec>;

/** The reader flags (`flawscope train --protocol defect --patch-size 256 …`), documented in trainer/data/README.md. */
const READER = {
  format: { ...oneOf(['auto', ...FORMATS] as const), help: `auto|${FORMATS.join('|')}  the layout (default: detected)` },
  protocol: { ...oneOf(PROTOCOLS), help: `${PROTOCOLS.join('|')}  how classes become normal/anomaly/test (default: default)` },
  sampling: { ...oneOf(['kmeans', 'random'] as const), help: 'kmeans|random  how the labelled anomalies are drawn (default kmeans)' },
  clusters: { ...intIn(1, 1000), help: 'N  k-means clusters for --sampling kmeans (default 10)' },
  anomalyTotal: { ...intIn(0), help: 'N  labelled anomalies drawn for training (one-vs-rest)' },
  patchSize: { ...intIn(4, 8192), help: 'N  cut large photos into N-pixel crops (defect protocol)' },
  patchStride: { ...intIn(1, 8192), help: 'N  pixels between crops (needs --patch-size)' },
  maskFraction: { ...numberIn(0, 1), help: 'X  a crop is a defect when this share of its pixels is masked (default 0.01)' },
  testFraction: { ...numberIn(0, 0.9), help: 'X  share of the normal photos held out for test (defect protocol, default 0.2)' },
  balance: { ...onOff, help: 'true|false  balance the defect crops against the normal ones (default true)' },
  standardize: { ...oneOf(['none', 'photo'] as const), help: 'none|photo  standardise photos before cropping (needs --protocol defect)' },
  augment: { ...oneOf(['auto', ...AUGMENT_FAMILIES] as const), help: `auto|${AUGMENT_FAMILIES.join('|')}  training augmentation (default: by layout)` },
  augmentCrop: { ...intIn(0, 64), help: 'N  random border crop in pixels' },
  augmentFlip: {
    expect: `${either(FLIP_MODES)} (or true = both, false = none)`,
    schema: z.preprocess((v) => {
      const s = String(v).toLowerCase();
      if ((FLIP_MODES as readonly string[]).includes(s)) return s;
      // The option was a plain switch before the modes existed; keep those spellings working.
      const on = switchValue(v);
      return on === undefined ? v : on ? 'both' : 'none';
    }, enumOf(FLIP_MODES)),
    help: `${FLIP_MODES.join('|')}  mirror images`,
  },
  augmentRotate: { ...onOff, help: 'true|false  quarter turns (square images)' },
  augmentJitter: { ...numberIn(0, 1), help: 'X  colour jitter strength' },
  maxPixels: { ...numberIn(1), help: 'N  refuse images with more pixels (default 50000000)' },
  memoryLimitMb: { ...numberIn(0), help: 'MB  decoded images above this are streamed from a disk cache (0: always)' },
  cacheDir: { ...text, help: 'DIR  where that cache goes' },
  maskSuffix: {
    expect: 'a file-name ending with an image extension (e.g. .png or _mask.png)', schema: z.string().refine(isImageSuffix),
    help: 'SUFFIX  mask files are IMAGE_NAME + SUFFIX (default .png)',
  },
  category: { ...text, help: 'NAME  the MVTec AD category, in a folder of several' },
  maxProbe: { ...intIn(1), help: 'N  images whose size is read (datasets inspect, default 5000)' },
} satisfies Record<string, OptionSpec>;

/** The data options' table (core and reader options); messages name the flag. */
export const DATA_OPTIONS = new OptionTable('data option', { ...CORE, ...READER });
/** The reader flags alone: what a command declares to pass on to the data reader. */
export const READER_OPTIONS = new OptionTable('data-reader flag', READER);

/** Every option key the data pipeline reads. */
export const DATA_OPTION_KEYS = Object.keys(DATA_OPTIONS.specs) as (keyof typeof DATA_OPTIONS.specs)[];
const READER_KEYS = Object.keys(READER);

/** The typed options the readers get (each absent when not given: the readers hold the defaults). */
export type DataOptions = OptionValues<typeof DATA_OPTIONS.specs>;

/**
 * Reads an options bag once: unknown keys refused (the CLI forwards flags it does not know
 * itself, so one is a mistyped flag), each value checked by its schema; empty values (undefined,
 * null, '') mean "not given".
 */
export function parseDataOptions(opts: Record<string, unknown>): DataOptions {
  const given: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined || v === null || v === '') continue;
    if (Object.hasOwn(DATA_OPTIONS.specs, k)) given[kebab(k)] = v;
    else unknown.push(k);
  }
  if (unknown.length) {
    throw new InputError(`Unknown option ${unknown.map(flagName).join(', ')}. Data options: ${READER_KEYS.map(flagName).join(' ')} (see trainer/data/README.md).`);
  }
  return DATA_OPTIONS.parse(given, { kind: 'flag' });
}
