/**
 * The training loop: seeded batches from the normal and anomaly sets, the normal/anomaly group
 * chosen at random each step, Adam with step decay, validation AUROC every epoch, the
 * best-by-validation generator saved as the model folder. Resumable from checkpoints, exactly: a
 * stopped and resumed training ends with the same weights as one that ran through.
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { defaultPatchSpec, defaultTileStride, formatVersionFor, type FlipMode, type ModelInfo, type PatchSpec, type Preprocess, type ScoreKind, type ScoreViews, type ShiftMode } from '../scorer/model-format';
import { NORMALIZATION, toInputTensor } from '../scorer/preprocess';
import { scoreBatchTensor, type Reconstructor } from '../scorer/score';
import type { SkipMode } from './model';
import { selectTrainingBackend, type BackendRequest } from './backend';
import { BatchCursor } from './batches';
import { readCheckpoint, writeCheckpoint, CHECKPOINT_VERSION, type CheckpointState } from './checkpoint';
import { InputError, type ImageSet, type LabeledSet, type TrainingData } from './data/types';
import { acquireLock } from './fs-safe';
import { checkCheckpointFolder, checkOutputFolder } from './out-guard';
import { parseTrainOptions, thresholdRuleOf, type TrainOptions } from './train-options';
import { chooseThreshold, ruleRecord, smallSampleWarning, ThresholdRuleError, type ThresholdRequest } from './threshold';
import { Gan, type Group } from './gan';
import { PAPER_WEIGHTS, type LossWeights } from './losses';
import { auroc, meanStd, quantile } from './metrics';
import { writeModelFolder } from './model-folder';
import type { ProgressEvent } from './progress';
import { Rng } from './rng';

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

const VAL_BATCH = 256;

async function scoreSet(gan: Gan, set: ImageSet, kind: ScoreKind, patch: PatchSpec, views: ScoreViews): Promise<Float32Array> {
  const out = new Float32Array(set.count);
  for (let i = 0; i < set.count; i += VAL_BATCH) {
    const idx = Array.from({ length: Math.min(VAL_BATCH, set.count - i) }, (_, k) => i + k);
    const x = toInputTensor(await set.readBatch(idx), idx.length, set.height, set.width, set.channels);
    out.set(await scoreBatchTensor(gan.generator as unknown as Reconstructor, x, kind, patch, views), i);
    x.dispose();
  }
  return out;
}

async function evaluate(gan: Gan, set: LabeledSet, patch: PatchSpec, views: ScoreViews, epoch: number, cfg: TrainConfig) {
  const mean = await scoreSet(gan, set.images, 'mean', patch, views);
  const top = await scoreSet(gan, set.images, 'topPatch', patch, views);
  for (const xs of [mean, top]) {
    const i = xs.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) throw diverged(`the validation score of image ${i} is ${xs[i]}`, epoch, undefined, cfg);
  }
  return { mean, top, aurocMean: auroc(mean, set.isAnomaly), aurocTop: auroc(top, set.isAnomaly) };
}

/** A training whose numbers left the finite range: no later epoch can recover, and a NaN must never be ranked or kept. */
function diverged(what: string, epoch: number, step: number | undefined, cfg: TrainConfig): InputError {
  return new InputError(`training diverged at epoch ${epoch}${step !== undefined ? `, step ${step}` : ''}: ${what}. The learning rate (--lr ${cfg.lr}) is likely too high for this data; start again with a lower --lr (default ${DEFAULT_CONFIG.lr}). No model was written`);
}

function assertFiniteLosses(losses: Record<string, number>, epoch: number, step: number, cfg: TrainConfig): void {
  for (const [k, v] of Object.entries(losses)) if (!Number.isFinite(v)) throw diverged(`the ${k} loss is ${v}`, epoch, step, cfg);
}

/** A checkpoint's saved settings, through the same schema as flags and --config files. */
function savedConfig(raw: unknown, dir: string): TrainConfig {
  const source = { kind: 'file', label: `--resume ${dir}: state.json "config"` } as const;
  const o = parseTrainOptions(raw, source);
  if (!o.data || !o.out) throw new InputError(`--resume ${dir}: state.json "config" has no ${!o.data ? '"data"' : '"out"'}; not a checkpoint of a Flawscope training`);
  return { ...DEFAULT_CONFIG, ...o, ...thresholdSettings([o, source]), data: o.data, out: o.out, weights: { ...DEFAULT_CONFIG.weights, ...o.weights }, dataOptions: { ...o.dataOptions } };
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

/** Runs (or resumes) a training. Returns 'done' or 'cancelled'. */
export async function train(cfgIn: TrainConfig, hooks: TrainHooks, resume?: ResumeRequest): Promise<'done' | 'cancelled'> {
  let cfg = cfgIn;
  let resumed: Awaited<ReturnType<typeof readCheckpoint>> | null = null;
  if (resume) {
    // The checkpoint's own config wins (same data, model and seed); only the epoch budget may grow.
    // Its `out` is never used: state.json is a file anyone can edit, so the model is written beside
    // the checkpoint or to the --out the user named (ResumeRequest.out), through the same checks.
    const target = resumeTarget(resume);
    resumed = await readCheckpoint(resume.dir);
    const saved = savedConfig(resumed.state.config, resume.dir);
    cfg = { ...saved, epochs: resume.epochs ?? saved.epochs, out: target };
    if (resolve(saved.out) !== target)
      hooks.emit({ type: 'warning', message: `--resume ${resume.dir}: the checkpoint was written for ${resolve(saved.out)}; it continues the model ${resume.out !== undefined ? 'at --out' : 'beside it'}, ${target}` });
  }
  const out = resolve(cfg.out);
  checkOutputFolder(out, { data: cfg.data, replace: cfg.force || !!resumed });
  checkCheckpointFolder(checkpointPath(out));
  const release = await acquireLock(out);
  const ckpt = checkpointPath(out);
  try {
    const backend = await selectTrainingBackend(cfg.backend);
    const thresholdRule = thresholdRequest(cfg);
    const data = await hooks.loadData(cfg);
    for (const w of data.summary.warnings) hooks.emit({ type: 'warning', message: w });
    // The threshold and the best epoch come from the validation normals: without any, no scorer could use the model.
    if (!data.validation.isAnomaly.some((v) => v === 0))
      throw new InputError(`--validation-fraction ${cfg.validationFraction}: the validation split holds no normal image (${data.normal.count} normal training images); raise it or add normal images — the threshold is set on them`);
    if (thresholdRule.method === 'defect-rate' && !data.validation.isAnomaly.some((v) => v === 1))
      throw new InputError(`--defect-rate ${thresholdRule.target}: the validation split holds no anomaly, so F1 at a defect rate cannot be measured; add anomaly images or use --false-alarm-rate R`);
    const shape = { height: data.normal.height, width: data.normal.width, channels: data.normal.channels };
    // Checked before any epoch runs: a bad value must not cost a training.
    if (cfg.tileStride && data.preprocess?.mode !== 'tile')
      throw new InputError(`--tile-stride (config "tileStride") ${cfg.tileStride}: ${cfg.data} is read as whole images, so the model scores no tiles; use it with crops of photos (--patch-size), or leave it out`);
    if (cfg.tileStride && cfg.tileStride > Math.min(shape.height, shape.width))
      throw new InputError(`--tile-stride (config "tileStride") ${cfg.tileStride}: must be at most the model size (${shape.width}); ${shape.width} puts the tiles side by side`);
    const patch = cfg.patch ?? defaultPatchSpec(Math.min(shape.height, shape.width));
    const views: ScoreViews = { flip: cfg.scoreFlip ?? 'none', shift: cfg.scoreShift ?? 'none' };
    const gan = new Gan({ shape, weights: cfg.weights, patch, lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, seed: cfg.seed, skips: cfg.skips ?? 'all', weightAverage: cfg.weightAverage ?? 0 });
    const rng = new Rng(cfg.seed ^ 0x5eed);
    let startEpoch = 0;
    let startStep = 0;
    let best: { auroc: number | null; epoch: number; weights: tf.Tensor[] | null } = { auroc: null, epoch: 0, weights: null };
    const history: Record<string, unknown>[] = [];
    let elapsed = 0;
    if (resumed) {
      try {
        await gan.restoreState(resumed.tensors);
      } catch (e) {
        // A checkpoint of another model (names or shapes differ): bad input, not a crash.
        gan.dispose();
        throw new InputError(`--resume ${resume!.dir}: the checkpoint does not fit this model (${(e as Error).message})`);
      }
      const s = resumed.state;
      startEpoch = s.epoch;
      startStep = s.step ?? 0;
      (rng as unknown as { state: number }).state = s.rngState;
      best = { auroc: s.bestValAuroc, epoch: s.bestEpoch, weights: null };
      const bw = gan.generator.weights.map((_, i) => resumed!.tensors.get(`best/${i}`));
      if (bw.every((t) => t)) best.weights = bw as tf.Tensor[];
      history.push(...(s.history as Record<string, unknown>[]));
      elapsed = s.elapsedSeconds;
    }
    const nN = data.normal.count;
    const nA = data.anomaly?.count ?? 0;
    const stepsPerEpoch = Math.max(1, Math.floor((nN + nA) / cfg.batch));
    if (startStep >= stepsPerEpoch) throw new InputError(`--resume ${resume!.dir}: the checkpoint stopped at step ${startStep} of an epoch, but an epoch now has ${stepsPerEpoch} steps; the data changed since — start a new training`);
    hooks.emit({
      type: 'start', backend: backend.name, backendReason: backend.reason, epochs: cfg.epochs, stepsPerEpoch, out, summary: data.summary,
      ...(resumed ? { resumedFromEpoch: startEpoch, ...(startStep ? { resumedAtStep: startStep } : {}) } : {}),
    });

    // Each group walks its own seeded permutation; a version-2 checkpoint carries them (and the
    // augmentation streams' positions), a version-1 one does not: its batches are drawn anew.
    const savedCursors = resumed?.state.cursors;
    if (resumed && !savedCursors) hooks.emit({ type: 'warning', message: `--resume ${resume!.dir}: a checkpoint of an older Flawscope (version ${resumed.state.version}) has no batch order; the training continues after epoch ${startEpoch} with new batches, so it will not repeat an uninterrupted run` });
    const cursors = new Map<Group, BatchCursor>();
    for (const [g, set] of [['normal', data.normal], ['anomaly', nA ? data.anomaly : null]] as const) {
      if (!set) continue;
      cursors.set(g, savedCursors
        ? BatchCursor.restore(g, set, rng, savedCursors[g], resumed!.tensors.get(`cursor/${g}`), `--resume ${resume!.dir}`)
        : BatchCursor.start(g, set, rng));
    }

    /** `midEpoch`: the epoch in progress when a stop comes mid-epoch (steps done, its running sums). */
    const saveCheckpoint = async (epochDone: number, midEpoch?: { step: number; partial: NonNullable<CheckpointState['partial']> }) => {
      const tensors = await gan.stateTensors();
      if (best.weights) best.weights.forEach((t, i) => tensors.push({ name: `best/${i}`, tensor: t }));
      const saved = [...cursors.values()].map((c) => [c.name, c.save()] as const);
      saved.forEach(([, c]) => tensors.push(c.tensor));
      const state: CheckpointState = {
        version: CHECKPOINT_VERSION, epoch: epochDone, step: midEpoch?.step ?? 0, rngState: rng.seed, bestValAuroc: best.auroc, bestEpoch: best.epoch,
        ...(midEpoch ? { partial: midEpoch.partial } : {}),
        cursors: Object.fromEntries(saved.map(([name, c]) => [name, c.state])),
        history, config: cfg as unknown as Record<string, unknown>, elapsedSeconds: elapsed,
      };
      try {
        await writeCheckpoint(ckpt, state, tensors);
      } finally {
        saved.forEach(([, c]) => c.tensor.tensor.dispose());
      }
    };
    // A group whose weights are all zero cannot move the generator: skip its steps (the
    // "autoencoder alone" ablation row trains on normal batches only).
    const w = cfg.weights;
    const anomalyOn = nA > 0 && w.abc + w.anomalyAdv > 0;
    const normalOn = w.recon + w.patch + w.latent + w.normalAdv > 0;
    if (!normalOn && !anomalyOn) throw new InputError('--weights: every loss weight is zero; nothing would train');
    const pNormal = !anomalyOn ? 1 : !normalOn ? 0 : nN / (nN + nA);

    for (let epoch = startEpoch + 1; epoch <= cfg.epochs; epoch++) {
      gan.setLearningRate(cfg.lr * 0.5 ** Math.floor((epoch - 1) / cfg.lrDecayEvery));
      // A resume mid-epoch picks the epoch up where it stopped, with its running sums and time.
      const part = epoch === startEpoch + 1 && startStep > 0 ? resumed!.state.partial : undefined;
      const firstStep = epoch === startEpoch + 1 ? startStep + 1 : 1;
      const t0 = Date.now() - (part?.seconds ?? 0) * 1000;
      const sums: Record<string, number> = { ...part?.sums };
      const counts: Record<string, number> = { ...part?.counts };
      let imgs = part?.imgs ?? 0;
      for (let step = firstStep; step <= stepsPerEpoch; step++) {
        if (hooks.shouldStop()) {
          const done = step - 1;
          await saveCheckpoint(epoch - 1, done > 0 ? { step: done, partial: { sums, counts, imgs, seconds: (Date.now() - t0) / 1000 } } : undefined);
          hooks.emit({ type: 'checkpoint', path: ckpt, epoch: epoch - 1, ...(done > 0 ? { step: done } : {}), reason: 'signal' });
          hooks.emit({ type: 'cancelled', checkpoint: ckpt, epoch: epoch - 1, ...(done > 0 ? { step: done } : {}) });
          gan.dispose();
          return 'cancelled';
        }
        const group: Group = rng.next() < pNormal ? 'normal' : 'anomaly';
        const x = await cursors.get(group)!.next(cfg.batch);
        const losses = gan.step(x, group);
        assertFiniteLosses(losses, epoch, step, cfg);
        imgs += x.shape[0];
        x.dispose();
        for (const [k, v] of Object.entries(losses)) { sums[k] = (sums[k] ?? 0) + v; counts[k] = (counts[k] ?? 0) + 1; }
        const secs = (Date.now() - t0) / 1000;
        const imgPerSec = imgs / Math.max(secs, 1e-3);
        const etaSec = ((stepsPerEpoch - step) + (cfg.epochs - epoch) * stepsPerEpoch) * (secs / step);
        if (step % 5 === 0 || step === stepsPerEpoch) hooks.emit({ type: 'step', epoch, step, stepsPerEpoch, losses, imgPerSec, etaSec });
        // Yield so signals and progress get handled during long epochs.
        await new Promise((r) => setImmediate(r));
      }
      const seconds = (Date.now() - t0) / 1000;
      elapsed += seconds;
      // With a weight average, the average is what is validated and kept; the trained weights'
      // own figure is recorded beside it, so one run shows what the average adds.
      const bestOf = (e: { aurocMean: number; aurocTop: number }) => (Number.isNaN(e.aurocMean) ? null : Math.max(e.aurocMean, e.aurocTop));
      const ev = await gan.withAveragedWeights(() => evaluate(gan, data.validation, patch, views, epoch, cfg));
      const valAuroc = bestOf(ev);
      const valAurocTrained = gan.averaging ? bestOf(await evaluate(gan, data.validation, patch, views, epoch, cfg)) : undefined;
      if (best.weights === null || (valAuroc !== null && (best.auroc === null || valAuroc > best.auroc))) {
        best.weights?.forEach((t) => t.dispose());
        best = { auroc: valAuroc, epoch, weights: gan.averagedWeights() ?? gan.generator.weights.map((w) => tf.clone(w.read())) };
      }
      const means = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / counts[k]]));
      const rec = {
        epoch, losses: means, valAuroc, valAurocMean: ev.aurocMean, valAurocTopPatch: ev.aurocTop,
        ...(valAurocTrained !== undefined ? { valAurocTrained } : {}), seconds, imgPerSec: imgs / seconds,
      };
      history.push(rec);
      hooks.emit({
        type: 'epoch', epoch, epochs: cfg.epochs, losses: means, valAuroc, bestValAuroc: best.auroc, imgPerSec: imgs / seconds, etaSec: (cfg.epochs - epoch) * seconds, seconds,
        ...(valAurocTrained !== undefined ? { valAurocTrained } : {}),
      });
      await saveCheckpoint(epoch);
      hooks.emit({ type: 'checkpoint', path: ckpt, epoch, reason: 'epoch' });
    }

    // Deploy the best-by-validation generator.
    if (best.weights) gan.generator.setWeights(best.weights);
    const ev = await evaluate(gan, data.validation, patch, views, best.epoch, cfg);
    const kind: ScoreKind = cfg.score !== 'auto' ? cfg.score : !(ev.aurocTop > ev.aurocMean) ? 'mean' : 'topPatch';
    const valScores = kind === 'mean' ? ev.mean : ev.top;
    const normalScores = valScores.filter((_, i) => !data.validation.isAnomaly[i]);
    const anomalyScores = valScores.filter((_, i) => data.validation.isAnomaly[i]);
    const hasAnomalies = anomalyScores.length > 0;
    const { mean, std } = meanStd(normalScores);
    let choice: ReturnType<typeof chooseThreshold>;
    try {
      choice = chooseThreshold(normalScores, anomalyScores, thresholdRule);
    } catch (e) {
      if (e instanceof ThresholdRuleError) throw new InputError(`--${thresholdRule.method} ${thresholdRule.target}: ${e.message}`);
      throw e;
    }
    const threshold = choice.threshold;
    const few = thresholdRule.method === 'false-alarm-rate' ? smallSampleWarning(choice.normals, thresholdRule.target, 'the validation split') : null;
    if (few) hooks.emit({ type: 'warning', message: `threshold: ${few}` });
    const metrics: Record<string, number | null> = {
      valAuroc: hasAnomalies ? auroc(valScores, data.validation.isAnomaly) : null,
      valAurocMean: Number.isNaN(ev.aurocMean) ? null : ev.aurocMean,
      valAurocTopPatch: Number.isNaN(ev.aurocTop) ? null : ev.aurocTop,
      bestEpoch: best.epoch,
      testAuroc: null,
    };
    if (data.test) {
      const ts = await scoreSet(gan, data.test.images, kind, patch, views);
      const a = auroc(ts, data.test.isAnomaly);
      metrics.testAuroc = Number.isNaN(a) ? null : a;
    }
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
      threshold,
      thresholdRule: ruleRecord(thresholdRule, choice, 'validation'),
      normalStats: { mean, std, p95: quantile(normalScores, 0.95), p99: quantile(normalScores, 0.99), count: normalScores.length },
      dataset: data.summary as unknown as Record<string, unknown>,
      config: { ...cfg, history } as unknown as Record<string, unknown>,
      metrics,
      backend: backend.name,
      createdAt: new Date().toISOString(),
      trainingSeconds: elapsed,
    };
    // Checked again: the folder may have changed during the training. The checkpoint stays, so a
    // refused write loses no work (resume with another --out).
    try {
      checkOutputFolder(out, { data: cfg.data, replace: true });
    } catch (e) {
      throw new InputError(`${(e as Error).message}. The trained state is kept in ${ckpt}: flawscope train --resume ${ckpt} --out OTHER_DIR`);
    }
    await writeModelFolder(out, gan.generator, info, { force: true });
    if (!cfg.keepCheckpoint) await fs.rm(ckpt, { recursive: true, force: true });
    gan.dispose();
    best.weights?.forEach((t) => t.dispose());
    hooks.emit({ type: 'done', out, metrics, seconds: elapsed, threshold: { value: threshold, rule: info.thresholdRule! } });
    return 'done';
  } finally {
    await release();
  }
}
