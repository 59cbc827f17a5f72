/**
 * Deploying a training's best epoch as a model folder: the score kind and threshold chosen on the
 * validation split, the statistics the scorer's familiarity rules compare against, and an atomic
 * write. Used at the end of a training and when a stop (Ctrl-C, Cancel, a signal) comes first, so
 * a stopped training leaves a usable model beside its resumable checkpoint.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { defaultTileStride, formatVersionFor, type ModelInfo, type PatchSpec, type Preprocess, type ScoreKind, type ScoreViews } from '../scorer/model-format';
import { NORMALIZATION } from '../scorer/preprocess';
import { percentiles } from '../scorer/familiarity';
import type { TrainingData } from './data/types';
import { InputError } from './errors';
import type { Gan } from './gan';
import { auroc, meanStd, quantile } from './metrics';
import { writeModelFolder } from './model-folder';
import { checkOutputFolder } from './out-guard';
import { chooseThresholdForFlag, ruleRecord, smallSampleWarning, type ThresholdRequest } from './threshold';
import type { TrainConfig, TrainHooks } from './train-config';
import { evaluate, scoreSet } from './train-validation';

export interface Deployment {
  gan: Gan;
  best: { epoch: number; weights: tf.Tensor[] | null };
  data: TrainingData;
  cfg: TrainConfig;
  patch: PatchSpec;
  views: ScoreViews;
  rule: ThresholdRequest;
  out: string;
  ckpt: string;
  history: Record<string, unknown>[];
  elapsed: number;
  backendName: string;
  /** Why the training ended before its last epoch, recorded in flawscope.json ("stoppedBy"); absent when it ran through. */
  stoppedBy?: 'patience' | 'time-budget' | 'signal';
  /** Score the test split (skipped on a stop: the user is waiting for the process to end). */
  scoreTest: boolean;
}

/** Writes the best epoch as the model folder `out`; returns what the `done` event reports. */
export async function deployBest(d: Deployment, hooks: Pick<TrainHooks, 'emit'>): Promise<{ info: ModelInfo; metrics: Record<string, number | null> }> {
  const { gan, best, data, cfg, patch, views } = d;
  if (best.weights) gan.generator.setWeights(best.weights);
  const ev = await evaluate(gan, data.validation, patch, views, best.epoch, cfg);
  const kind: ScoreKind = cfg.score !== 'auto' ? cfg.score : !(ev.aurocTop > ev.aurocMean) ? 'mean' : 'topPatch';
  const valScores = kind === 'mean' ? ev.mean : ev.top;
  const normalScores = valScores.filter((_, i) => !data.validation.isAnomaly[i]);
  const anomalyScores = valScores.filter((_, i) => data.validation.isAnomaly[i]);
  const { mean, std } = meanStd(normalScores);
  const choice = chooseThresholdForFlag(normalScores, anomalyScores, d.rule);
  const few = d.rule.method === 'false-alarm-rate' && d.rule.confidence === undefined ? smallSampleWarning(choice.normals, d.rule.target, 'the validation split') : null;
  if (few) hooks.emit({ type: 'warning', message: `threshold: ${few}` });
  if (choice.bound === 'too-few') hooks.emit({ type: 'warning', message: `threshold: only ${choice.normals} validation normal images, too few for a tolerance bound; the threshold is their highest score. Set it on more normal images: flawscope calibrate --model DIR --data FOLDER` });
  const metrics: Record<string, number | null> = {
    valAuroc: anomalyScores.length > 0 ? auroc(valScores, data.validation.isAnomaly) : null,
    valAurocMean: Number.isNaN(ev.aurocMean) ? null : ev.aurocMean,
    valAurocTopPatch: Number.isNaN(ev.aurocTop) ? null : ev.aurocTop,
    bestEpoch: best.epoch,
    testAuroc: null,
  };
  if (data.test && d.scoreTest) {
    const ts = await scoreSet(gan, data.test.images, kind, patch, views);
    const a = auroc(ts, data.test.isAnomaly);
    metrics.testAuroc = Number.isNaN(a) ? null : a;
  }
  const shape = { height: data.normal.height, width: data.normal.width, channels: data.normal.channels };
  const base = data.preprocess ?? { mode: 'resize', scale: 1 };
  const preprocess: Preprocess = base.mode === 'tile' ? { ...base, tileStride: cfg.tileStride ?? defaultTileStride(Math.min(shape.height, shape.width)) } : base;
  // Only the views in use are written, so a model scored the paper's way stays readable by older Flawscopes.
  const score: ModelInfo['score'] = { kind, patch, ...(views.flip !== 'none' ? { flip: views.flip } : {}), ...(views.shift !== 'none' ? { shift: views.shift } : {}) };
  const info: ModelInfo = {
    formatVersion: formatVersionFor({ preprocess, score }),
    input: shape,
    normalization: { ...NORMALIZATION },
    score,
    preprocess,
    threshold: choice.threshold,
    thresholdRule: ruleRecord(d.rule, choice, 'validation'),
    normalStats: { mean, std, p95: quantile(normalScores, 0.95), p99: quantile(normalScores, 0.99), count: normalScores.length, quantiles: percentiles(normalScores) },
    ...(data.imageStats ? { trainingImages: data.imageStats } : {}),
    dataset: data.summary as unknown as Record<string, unknown>,
    config: { ...cfg, history: d.history, ...(d.stoppedBy ? { stoppedBy: d.stoppedBy } : {}) } as unknown as Record<string, unknown>,
    metrics,
    backend: d.backendName,
    createdAt: new Date().toISOString(),
    trainingSeconds: d.elapsed,
  };
  // Checked again: the folder may have changed during the training. The checkpoint stays, so a
  // refused write loses no work (resume with another --out).
  try {
    checkOutputFolder(d.out, { data: cfg.data, replace: true });
  } catch (e) {
    throw new InputError(`${(e as Error).message}. The trained state is kept in ${d.ckpt}: flawscope train --resume ${d.ckpt} --out OTHER_DIR`);
  }
  await writeModelFolder(d.out, gan.generator, info, { force: true });
  return { info, metrics };
}
