/**
 * The one schema of `flawscope train`'s settings. Command-line flags, a `--config` file and a
 * checkpoint's saved config all go through `parseTrainOptions`, so each setting has one range and
 * one message wherever it comes from; the `--help` text is generated from the same table.
 */
import { z } from 'zod';
import { BACKENDS_OF, backendExpectation, backendSchema } from '../shared/backends';
import { InputError } from './data/types';
import { PAPER_WEIGHTS, SKIP_MODES, type BackendRequest, type LossWeights } from './setting-values';
import { ANOMALY_SHARE_WORDS, MIN_AUTO_ANOMALY_SHARE, type AnomalyShareSetting } from './group-schedule';
import { FLIP_MODES, SHIFT_MODES } from '../scorer/model-format';
import { PRESET_NAMES } from './presets';
import { enumOf, HELP, int, jsonSwitch, numberText, OptionTable, show, SWITCH, type OptionSource, type OptionSpec } from './cli-schema';

export type { OptionSource } from './cli-schema';
const LOSS_KEYS = Object.keys(PAPER_WEIGHTS) as (keyof LossWeights)[];
const weightValue = z.number().finite().min(0).max(1e6);

/** `recon=1.5,abc=0.5` on the command line; `{ "recon": 1.5 }` in a file. Unnamed losses keep the paper's weight. */
function weightsFromFlag(text: string): unknown {
  // No prototype: `__proto__=1` must become a key the schema refuses, not a prototype assignment.
  const w: Record<string, unknown> = Object.create(null);
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return text; // not NAME=VALUE: the schema refuses it with the expected form
    const k = part.slice(0, eq);
    if (Object.hasOwn(w, k)) return text;
    w[k] = numberText(part.slice(eq + 1));
  }
  return w;
}

function patchFromFlag(text: string): unknown {
  const parts = text.split(',');
  if (parts.length !== 3) return text;
  const [size, stride, topN] = parts.map(numberText);
  return { size, stride, topN };
}

/**
 * Training presets of `train`: the budget presets of trainer/presets.ts, and defects
 * (trainer/defect-map/train-map.ts DEFECTS_PRESET says what it sets). No budget flag at all
 * (--preset, --epochs, --time-budget) is quick.
 */
export const TRAIN_PRESETS = [...PRESET_NAMES, 'defects'] as const;
export type TrainPreset = (typeof TRAIN_PRESETS)[number];

export const SYNTHETIC_MODES = ['auto', 'add', 'only', 'off'] as const;
export type SyntheticMode = (typeof SYNTHETIC_MODES)[number];

/** Longest --time-budget: a week. */
export const MAX_TIME_BUDGET_S = 7 * 24 * 3600;

/** `90s`, `30m`, `1.5h` or a plain number of seconds → seconds; anything else is returned as it is (the schema refuses it). */
export function durationText(text: unknown): unknown {
  if (typeof text === 'number') return text;
  if (typeof text !== 'string') return text;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m || text.trim() !== text) return text;
  return Math.round(Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as const)[(m[2] ?? 's') as 's' | 'm' | 'h']);
}

const SPECS = {
  data: { expect: 'a folder of images (a path)', schema: z.string().min(1), help: 'DIR  the images: class folders, MVTec AD, IDX, CIFAR, photos with masks' },
  out: { expect: 'a folder path for the model', schema: z.string().min(1), help: 'DIR  where the model folder is written' },
  normal: { expect: 'a class name', schema: z.string().min(1), help: 'CLASS  the normal class (default: the one named good/normal/ok/free)' },
  size: { expect: 'an integer from 16 to 1024, a multiple of 16 (the generator halves it four times)', schema: int(16, 1024).refine((v) => v % 16 === 0), help: 'N  model input size (default 32)' },
  channels: { expect: '1 or 3', schema: z.union([z.literal(1), z.literal(3)]), help: '1|3  grey or colour (default: from the images)' },
  epochs: { expect: 'an integer from 1 to 100000', schema: int(1, 100_000), help: 'N  (default 15)' },
  batch: { expect: 'an integer from 1 to 4096', schema: int(1, 4096), help: 'N  (default 64)' },
  seed: { expect: 'an integer from 0 to 4294967295', schema: int(0, 0xffffffff), help: 'N  (default 0)' },
  lr: { expect: 'a number above 0 and at most 1', schema: z.number().gt(0).max(1), help: 'X  Adam learning rate (default 0.001)' },
  lrDecayEvery: { expect: 'an integer from 1 to 100000 (epochs)', schema: int(1, 100_000), help: 'N  halve the learning rate every N epochs (default 50)' },
  beta1: { expect: 'a number from 0 up to (not including) 1', schema: z.number().min(0).lt(1) },
  beta2: { expect: 'a number from 0 up to (not including) 1', schema: z.number().min(0).lt(1) },
  weights: {
    expect: `loss weights NAME=VALUE,… with NAME among ${LOSS_KEYS.join(', ')} and VALUE a number from 0 to 1000000`,
    schema: z.object(Object.fromEntries(LOSS_KEYS.map((k) => [k, weightValue.optional()]))).strict(), fromFlag: weightsFromFlag,
    help: 'recon=1.5,abc=0.5,…  loss weights (unnamed ones keep Table 2 of the paper)',
  },
  patch: {
    flag: 'loss-patch', expect: 'SIZE,STRIDE,TOPN, three integers from 1 to 1024 (in a file: {"size","stride","topN"} or null)',
    schema: z.object({ size: int(1, 1024), stride: int(1, 1024), topN: int(1, 1_000_000) }).strict().nullable(), fromFlag: patchFromFlag,
    help: 'SIZE,STRIDE,TOPN  patch loss and top-patch score (default: scaled from the paper)',
  },
  score: { expect: 'auto, mean or topPatch', schema: z.enum(['auto', 'mean', 'topPatch']), help: 'auto|mean|topPatch  (auto: chosen on validation)' },
  scoreFlip: { expect: FLIP_MODES.join(' or '), schema: enumOf(FLIP_MODES), help: `${FLIP_MODES.join('|')}  also score the mirror image` },
  scoreShift: { expect: SHIFT_MODES.join(' or '), schema: enumOf(SHIFT_MODES), help: `${SHIFT_MODES.join('|')}  also score one-pixel shifts` },
  tileStride: { expect: 'an integer from 1 to 1024 (model pixels between photo tiles)', schema: int(1, 1024).nullable(), help: 'N  photo tiles N model pixels apart (crop-trained models)' },
  skips: { expect: `${SKIP_MODES.join(', ')} (all = the paper's U-Net)`, schema: enumOf(SKIP_MODES), help: `${SKIP_MODES.join('|')}  U-Net skip connections kept` },
  weightAverage: { expect: 'a number from 0 up to (not including) 1 (0 = no average)', schema: z.number().min(0).lt(1), help: 'DECAY  deploy an average of the generator weights' },
  preset: {
    expect: `${TRAIN_PRESETS.join(', ')} (quick, standard: a time budget with an early stop; paper: Table 3's 300 epochs; defects: the generator, then a defect map learned from masks, image labels or synthetic defects)`,
    schema: enumOf(TRAIN_PRESETS), help: `${TRAIN_PRESETS.join('|')}  quick (the default: 90 s, early stop), standard (15 min), paper (Table 3), defects (photo crops, generator + defect-map network)`,
  },
  timeBudget: {
    expect: 'a duration from 10 s to 7 days: seconds, or a number followed by s, m or h (e.g. 30m)',
    schema: z.preprocess(durationText, z.number().int().min(10).max(MAX_TIME_BUDGET_S).nullable()), fromFlag: durationText,
    help: 'DURATION  stop training after this long with the best epoch so far, e.g. 10m (default: the preset\'s; --preset defects: both stages, 30m)',
  },
  patience: {
    expect: 'an integer from 1 to 100000000 (generator updates without a better validation AUROC before an early stop), or null for none',
    schema: int(1, 100_000_000).nullable(), help: 'N  stop early after N updates without a better validation AUROC (default: the preset\'s)',
  },
  minUpdates: { expect: 'an integer from 0 to 1000000000 (generator updates)', schema: int(0, 1_000_000_000), help: 'N  updates run before an early stop may end the training (default: the preset\'s)' },
  synthetic: {
    expect: `${SYNTHETIC_MODES.join(', ')} (auto: only when the data has no defect images; add: also beside real defects; only: real defects left out of training, to measure synthetic defects alone; off: never)`,
    schema: enumOf(SYNTHETIC_MODES), help: `${SYNTHETIC_MODES.join('|')}  --preset defects: synthetic defects pasted into normal crops (default auto)`,
  },
  backend: { expect: backendExpectation('train'), schema: backendSchema('train'), help: `${BACKENDS_OF.train.join('|')}  auto: CUDA, a WebGPU GPU, TensorFlow CPU, then fast (README "Backends")` },
  anomalyShare: {
    expect: 'auto, size, or a number above 0 and below 1 (the share of training steps on anomaly batches)',
    schema: z.union([enumOf(ANOMALY_SHARE_WORDS), z.number().gt(0).lt(1)]), fromFlag: numberText,
    help: `auto|size|X  share of steps on anomaly batches: size = by set sizes (the paper's), X fixed; auto = by size, at least ${MIN_AUTO_ANOMALY_SHARE}`,
  },
  validationFraction: { expect: 'a number above 0 and at most 0.9 (the threshold and the best epoch are chosen on this held-out share)', schema: z.number().gt(0).max(0.9), help: 'X  share held out for validation (default 0.1)' },
  falseAlarmRate: {
    expect: 'a number above 0 and at most 0.5 (the share of normal images the threshold may flag)', schema: z.number().gt(0).max(0.5).nullable(),
    help: 'R  threshold: at most this share of the validation normals score above it (default 0.01)',
  },
  defectRate: {
    expect: 'a number above 0 and at most 0.5 (the share of defects expected where the model is deployed)', schema: z.number().gt(0).max(0.5).nullable(),
    help: 'P  threshold instead: best F1 with the validation anomalies weighted to this expected defect rate',
  },
  force: { ...SWITCH, help: '  replace an existing model folder (only a Flawscope model folder or an empty folder)' },
  keepCheckpoint: { ...SWITCH, help: '  keep OUT.checkpoint after the last epoch (extend later with --resume); on by default with a preset' },
  dataOptions: {
    fileOnly: true, expect: 'an object of data-reader options (names to strings, numbers or booleans)',
    schema: z.record(z.union([z.string(), z.number().finite(), z.boolean()])).refine((o) => Object.keys(o).every((k) => !(k in Object.prototype))),
  },
} satisfies Record<string, OptionSpec>;

/** The settings table: what flags, a --config file and a checkpoint's saved config may hold. */
export const TRAIN_SETTINGS = new OptionTable('train setting', SPECS);
export const flagOf = (key: string): string => TRAIN_SETTINGS.flagOf(key as keyof typeof SPECS);

/** Flags of the command itself, not settings (a config file cannot hold them). */
export const TRAIN_COMMAND = new OptionTable('train flag', {
  config: { expect: 'a JSON file of settings', schema: z.string().min(1), help: 'FILE.json  settings (flags win over it)' },
  resume: { expect: 'a checkpoint folder', schema: z.string().min(1), help: 'OUT.checkpoint  continue a stopped training (only --epochs and --out apply)' },
  json: jsonSwitch('print progress as JSON lines'),
  help: HELP,
});

/** Flags `train` reads itself (the settings above plus the command's own); any other flag goes to the data reader. */
export const isTrainFlag = (flag: string): boolean => TRAIN_SETTINGS.keyOf(flag) !== undefined || TRAIN_COMMAND.keyOf(flag) !== undefined;

/** Settings as given (before defaults): what flags and a file may hold. */
export interface TrainOptions {
  data?: string; out?: string; normal?: string; size?: number; channels?: 1 | 3; epochs?: number; batch?: number; seed?: number;
  lr?: number; lrDecayEvery?: number; beta1?: number; beta2?: number; weights?: Partial<LossWeights>;
  patch?: { size: number; stride: number; topN: number } | null; score?: 'auto' | 'mean' | 'topPatch';
  scoreFlip?: (typeof FLIP_MODES)[number]; scoreShift?: (typeof SHIFT_MODES)[number]; tileStride?: number | null;
  skips?: (typeof SKIP_MODES)[number]; weightAverage?: number; backend?: BackendRequest;
  validationFraction?: number; falseAlarmRate?: number | null; defectRate?: number | null; force?: boolean; keepCheckpoint?: boolean; dataOptions?: Record<string, string | number | boolean>;
  preset?: TrainPreset; timeBudget?: number | null; synthetic?: SyntheticMode; anomalyShare?: AnomalyShareSetting; patience?: number | null; minUpdates?: number;
}

/**
 * Validates settings from one source. Flags are texts (numbers and booleans are read from them);
 * a file's values must already have their JSON types. Unknown file keys are refused, naming them.
 */
export function parseTrainOptions(raw: unknown, source: OptionSource): TrainOptions {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    if (source.kind === 'flag') throw new InputError('train: flags could not be read');
    throw new InputError(`${source.label}: expected a JSON object of settings ({"epochs": 20, …}), got ${Array.isArray(raw) ? 'an array' : show(raw)}`);
  }
  return TRAIN_SETTINGS.parse(raw as Record<string, unknown>, source) as TrainOptions;
}

/** Flags as a settings object (kebab flag → value text), for parseTrainOptions. */
export function flagsToOptions(flags: Map<string, string>): Record<string, string> {
  return TRAIN_SETTINGS.pick(flags);
}

/**
 * The threshold rule asked for by one source: a source naming both rates is refused (the two
 * rules pick different thresholds, and neither may silently win). null: the source names neither.
 */
export function thresholdRuleOf(o: TrainOptions, source: OptionSource): { falseAlarmRate: number | null; defectRate: number | null } | null {
  const fa = o.falseAlarmRate ?? null, dr = o.defectRate ?? null;
  if (fa !== null && dr !== null) {
    const what = source.kind === 'flag' ? `--${flagOf('falseAlarmRate')} ${fa} and --${flagOf('defectRate')} ${dr}` : `${source.label}: "falseAlarmRate" ${fa} and "defectRate" ${dr}`;
    throw new InputError(`${what}: give one of the two threshold rules, not both`);
  }
  return fa === null && dr === null ? null : { falseAlarmRate: fa, defectRate: dr };
}

/** `--help` lines for the settings, from the table. */
export function trainOptionsHelp(): string {
  return TRAIN_SETTINGS.help();
}

/** Loss weights over the paper's: a partial object changes only what it names. */
export function mergeWeights(base: LossWeights, ...over: (Partial<LossWeights> | undefined)[]): LossWeights {
  const w = { ...base };
  for (const o of over) if (o) for (const k of LOSS_KEYS) if (o[k] !== undefined) w[k] = o[k]!;
  return w;
}
