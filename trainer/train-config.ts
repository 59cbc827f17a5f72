/**
 * What a training is told: its settings (TrainConfig) with their defaults, and where a resumed
 * training writes. The settings' ranges live in train-options.ts (one schema for flags, --config
 * files and a checkpoint's saved config); this module holds the resolved, typed values.
 */
import { resolve } from 'node:path';
import type { FlipMode, PatchSpec, ScoreKind, ShiftMode } from '../scorer/model-format';
import type { BackendRequest } from './backend';
import type { AnomalyShareSetting } from './group-schedule';
import type { TrainingData } from './data/types';
import { InputError } from './errors';
import { PAPER_WEIGHTS, type LossWeights } from './losses';
import type { SkipMode } from './model';
import type { ProgressEvent } from './progress';
import { mergeWeights, parseTrainOptions, thresholdRuleOf, type TrainOptions } from './train-options';
import type { ThresholdRequest } from './threshold';

export interface TrainConfig {
  data: string;
  normal?: string;
  out: string;
  size: number;
  channels?: 1 | 3;
  epochs: number;
  batch: number;
  seed: number;
  lr: number;
  /** Halve the learning rate every this many epochs (Table 3: 50). */
  lrDecayEvery: number;
  beta1: number;
  beta2: number;
  weights: LossWeights;
  /** Patch spec for the patch loss and the top-patch score; null = scaled from the paper's. */
  patch: PatchSpec | null;
  /** 'auto' picks, on validation, whichever score separates better. */
  score: ScoreKind | 'auto';
  /** Score each image and its left-right mirror (validation, threshold and the saved model alike); 'none' = the paper's score. */
  scoreFlip: FlipMode;
  /** Also score each image moved one pixel right, down and both (see scorer/score.ts); 'none' = the paper's score. */
  scoreShift: ShiftMode;
  /** Crops of photos only: photo tiles this many model pixels apart when the model scores a whole photo (null = defaultTileStride; the model size puts them side by side; see Preprocess.tileStride). */
  tileStride: number | null;
  /** U-Net skip connections kept: 'all' (the paper), 'no-outer', 'none' (see trainer/model.ts). */
  skips: SkipMode;
  /** Decay of the generator's weight average that validation scores and the model deploys (0 = none, the paper's; see trainer/gan.ts). */
  weightAverage: number;
  backend: BackendRequest;
  validationFraction: number;
  /**
   * The threshold rule (trainer/threshold.ts); exactly one of the two is set. falseAlarmRate:
   * at most this share of the validation normals score above the threshold. defectRate: best F1
   * with the validation anomalies weighted to this share (not the split's own class mix).
   */
  falseAlarmRate: number | null;
  defectRate: number | null;
  force: boolean;
  /** Keep OUT.checkpoint after the last epoch, so `--resume` with a larger `--epochs` can extend the finished training exactly. */
  keepCheckpoint: boolean;
  /** Reader options passed through to the data pipeline (protocol, patches, sampling, ...). */
  dataOptions: Record<string, unknown>;
  /** Share of the steps on anomaly batches: `auto`, `size` or a fixed number (trainer/group-schedule.ts). */
  anomalyShare: AnomalyShareSetting;
}

/**
 * Defaults chosen by measurement, not copied from Table 3: at batch 64 the paper's lr of 1e-4 is
 * far too small (PyTorch reference: MNIST 8 reaches 0.998 AUROC within 5 epochs at 1e-3);
 * batch 1 for 300 epochs would take days on a CPU.
 */
export const DEFAULT_CONFIG: Omit<TrainConfig, 'data' | 'out'> = {
  size: 32,
  epochs: 15,
  batch: 64,
  seed: 0,
  lr: 1e-3,
  lrDecayEvery: 50,
  beta1: 0.5,
  beta2: 0.999,
  weights: { ...PAPER_WEIGHTS },
  patch: null,
  score: 'auto',
  scoreFlip: 'none',
  scoreShift: 'none',
  tileStride: null,
  skips: 'all',
  weightAverage: 0,
  backend: 'auto',
  validationFraction: 0.1,
  // 1 % of normal images flagged: inspection lines see few defects, so the split's class mix
  // (nine anomalies per normal in one-vs-rest) must not set the threshold.
  falseAlarmRate: 0.01,
  defectRate: null,
  force: false,
  keepCheckpoint: false,
  dataOptions: {},
  anomalyShare: 'auto',
};

export interface TrainHooks {
  emit(e: ProgressEvent): void;
  /** Polled every step: true → checkpoint and stop. */
  shouldStop(): boolean;
  loadData(cfg: TrainConfig): Promise<TrainingData>;
}

export const CHECKPOINT_SUFFIX = '.checkpoint';

/** `--resume`: the checkpoint to continue, where the model goes (beside it, or an explicit --out), and an optional longer epoch budget. */
export interface ResumeRequest { dir: string; epochs?: number; /** An explicit --out; default: beside the checkpoint. */ out?: string }

/** Where a resumed training writes: the --out given, else the model beside its checkpoint (DIR = OUT.checkpoint → OUT). */
export function resumeTarget(r: ResumeRequest): string {
  if (r.out !== undefined) return resolve(r.out);
  const dir = resolve(r.dir);
  if (dir.endsWith(CHECKPOINT_SUFFIX) && dir.length > CHECKPOINT_SUFFIX.length) return dir.slice(0, -CHECKPOINT_SUFFIX.length);
  throw new InputError(`--resume ${r.dir}: a checkpoint folder is named OUT${CHECKPOINT_SUFFIX} and continues the model OUT beside it; this one is not — pass --out DIR to say where the model goes`);
}

export function checkpointPath(out: string): string {
  return `${resolve(out)}${CHECKPOINT_SUFFIX}`;
}

/** A checkpoint's saved settings, through the same schema as flags and --config files. */
export function savedConfig(raw: unknown, dir: string): TrainConfig {
  const source = { kind: 'file', label: `--resume ${dir}: state.json "config"` } as const;
  const o = parseTrainOptions(raw, source);
  if (!o.data || !o.out) throw new InputError(`--resume ${dir}: state.json "config" has no ${!o.data ? '"data"' : '"out"'}; not a checkpoint of a Flawscope training`);
  // A checkpoint from before the setting existed trained by the set sizes: it resumes that way.
  return { ...DEFAULT_CONFIG, anomalyShare: 'size', ...o, ...thresholdSettings([o, source]), data: o.data, out: o.out, weights: mergeWeights(DEFAULT_CONFIG.weights, o.weights), dataOptions: { ...o.dataOptions } };
}

/** The rule's two settings from the given options: the one named, else the default (older checkpoints and configs name neither). */
export function thresholdSettings(...sources: [TrainOptions, Parameters<typeof thresholdRuleOf>[1]][]): Pick<TrainConfig, 'falseAlarmRate' | 'defectRate'> {
  const named = sources.map(([o, src]) => thresholdRuleOf(o, src)); // every source checked, even one another overrides
  return named.find((r) => r !== null) ?? { falseAlarmRate: DEFAULT_CONFIG.falseAlarmRate, defectRate: null };
}

/** The rule a config asks for; a config built by hand (not through the schema) with both set is refused. */
export function thresholdRequest(cfg: Pick<TrainConfig, 'falseAlarmRate' | 'defectRate'>): ThresholdRequest {
  if (cfg.defectRate !== null && cfg.falseAlarmRate !== null)
    throw new InputError(`--false-alarm-rate ${cfg.falseAlarmRate} and --defect-rate ${cfg.defectRate}: give one of the two threshold rules, not both`);
  if (cfg.defectRate !== null) return { method: 'defect-rate', target: cfg.defectRate };
  return { method: 'false-alarm-rate', target: cfg.falseAlarmRate ?? DEFAULT_CONFIG.falseAlarmRate! };
}

