/**
 * The training loop: seeded batches from the normal and anomaly sets, the normal/anomaly group
 * chosen at random each step, Adam with step decay, validation AUROC every epoch, the
 * best-by-validation generator saved as the model folder. Resumable from checkpoints, exactly: a
 * stopped and resumed training ends with the same weights as one that ran through.
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { defaultPatchSpec, defaultTileStride, formatVersionFor, type ModelInfo, type Preprocess, type ScoreKind, type ScoreViews } from '../scorer/model-format';
import { NORMALIZATION } from '../scorer/preprocess';
import { percentiles } from '../scorer/familiarity';
import { selectTrainingBackend } from './backend';
import { BatchCursor } from './batches';
import { readCheckpoint, writeCheckpoint, CHECKPOINT_VERSION, type CheckpointState } from './checkpoint';
import { InputError } from './data/types';
import { acquireLock } from './fs-safe';
import { checkCheckpointFolder, checkOutputFolder } from './out-guard';
import { chooseThresholdForFlag, ruleRecord, smallSampleWarning } from './threshold';
import { Gan, type Group } from './gan';
import { groupSchedule, nextGroup } from './group-schedule';
import { auroc, meanStd, quantile } from './metrics';
import { writeModelFolder } from './model-folder';
import { Rng } from './rng';
import { checkpointPath, resumeTarget, savedConfig, thresholdRequest, type ResumeRequest, type TrainConfig, type TrainHooks } from './train-config';
import { assertFiniteLosses, evaluate, scoreSet } from './train-validation';

export { CHECKPOINT_SUFFIX, DEFAULT_CONFIG, checkpointPath, resumeTarget, thresholdRequest, thresholdSettings, type ResumeRequest, type TrainConfig, type TrainHooks } from './train-config';

/** Runs (or resumes) a training. Returns 'done' or 'cancelled'. */
export async function train(cfgIn: TrainConfig, hooks: TrainHooks, resume?: ResumeRequest): Promise<'done' | 'cancelled'> {
  let cfg = cfgIn;
  let resumed: Awaited<ReturnType<typeof readCheckpoint>> | null = null;
  if (resume) {
    // The checkpoint's own config wins (same data, model and seed); only the epoch budget may grow.
    // Its `out` is never used: state.json is a file anyone can edit, so the model is written beside
    // the checkpoint or to the --out the user named (ResumeRequest.out), through the same checks.
    const target = resumeTarget(resume);
    // Reading the checkpoint makes tensors: the backend its training used must be up first (any
    // backend bundled in, e.g. the scorer's WASM one, would otherwise be tfjs's default).
    let savedCfg: TrainConfig | undefined;
    resumed = await readCheckpoint(resume.dir, async (state) => {
      savedCfg = savedConfig(state.config, resume.dir);
      await selectTrainingBackend(savedCfg.backend);
    });
    const saved = savedCfg!;
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
    // A group whose weights are all zero cannot move the generator: skip its steps (the
    // "autoencoder alone" ablation row trains on normal batches only).
    const w = cfg.weights;
    const anomalyOn = nA > 0 && w.abc + w.anomalyAdv > 0;
    const normalOn = w.recon + w.patch + w.latent + w.normalAdv > 0;
    if (!normalOn && !anomalyOn) throw new InputError('--weights: every loss weight is zero; nothing would train');
    const groups = groupSchedule(cfg.anomalyShare, { normal: nN, anomaly: nA }, { normal: normalOn, anomaly: anomalyOn });
    hooks.emit({
      type: 'start', backend: backend.name, backendReason: backend.reason, epochs: cfg.epochs, stepsPerEpoch, out, summary: data.summary, groups,
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
        const group: Group = nextGroup(rng, groups);
        const x = await cursors.get(group)!.next(cfg.batch);
        const losses = await gan.stepAsync(x, group);
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
    const choice = chooseThresholdForFlag(normalScores, anomalyScores, thresholdRule);
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
      normalStats: { mean, std, p95: quantile(normalScores, 0.95), p99: quantile(normalScores, 0.99), count: normalScores.length, quantiles: percentiles(normalScores) },
      ...(data.imageStats ? { trainingImages: data.imageStats } : {}),
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
