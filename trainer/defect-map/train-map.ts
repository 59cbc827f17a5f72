/**
 * `flawscope train --preset defects`: the generator (stage 1, trainer/train.ts unchanged), then
 * the defect map (stage 2) on the frozen generator's reconstructions, then the model folder of
 * docs/defect-map.md (format 6).
 *
 * Stage 2: batches by the sampler's rule (trainer/data/map-data.ts: half normal tiles, half
 * defect tiles), focal + soft Dice on pixel-labelled tiles and the multiple-instance loss on
 * image-labelled ones (loss.ts), Adam. An epoch is a fixed number of steps (enough for each
 * training defect tile to be drawn once, within [MIN, MAX]_STEPS); after each one the map is
 * validated on a fixed seeded subset of the validation tiles, and the epoch kept is the best by
 * validation (mean of pixel AUROC and the best rule's tile AUROC). The tile stride, the
 * image-score rule at it and the threshold on its scores are then chosen on the whole validation
 * photos (photo-scoring.ts); test photos are only reported, at the chosen stride.
 */
import { promises as fs, existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { INFO_FILE, MODEL_FILE, type ModelInfo } from '../../scorer/model-format';
import { InputError } from '../data/types';
import { loadMapData, type MapData } from '../data/map-data';
import type { SyntheticMode } from '../train-options';
import { acquireLock, writeFolderAtomically } from '../fs-safe';
import { auroc } from '../metrics';
import { modelArtifacts, WEIGHTS_FILE } from '../model-folder';
import { checkCheckpointFolder, checkOutputFolder } from '../out-guard';
import { checkpointPath, resumeTarget, train, type ResumeRequest, type TrainConfig, type TrainHooks } from '../train';
import { selectTrainingBackend } from '../backend';
import { ruleRecord } from '../threshold';
import { buildDefectMap, MAP_INPUTS } from './network';
import { foldBatchNorm } from './fold-bn';
import { MAP_RECIPE } from './recipe';
import { bestRuleBy, IMAGE_SCORE_RULES, ruleName, type ImageScoreRule } from './evaluate';
import { GENERATOR_DIR, readMapCheckpoint, readStage1Marker, writeStage1Checkpoint, type MapCheckpoint, type Stage1Resume } from './map-checkpoint';
import { MIN_STEPS, runMapStage } from './map-loop';
import { fitToBudget } from './stage1';
import { evaluatePhotos, loadGenerator, nullable, type PhotoEval } from './validate';
import { chooseScoring, deployedThreshold, strideCandidates, type StrideRecord } from './photo-scoring';

export const MAP_FILE = 'defect-map.json';
export const MAP_WEIGHTS_FILE = 'defect-map.bin';
export const DEFECT_MAP_FORMAT_VERSION = 6;

/** The defects preset: what it sets unless a flag or file sets it (trainer/cli-train-config.ts). */
export const DEFECTS_PRESET = {
  /**
   * 64 px tiles at the photo's own scale (patch 64 → model 64, scale 1): a defect is seen at its
   * native resolution, and a 64 px tile gives the map 4x the context of a 32 px one for
   * area-wide defects at the same cost per photo pixel (a photo is covered by the same pixels
   * either way).
   */
  size: 64,
  /** The map's batch (half normal, half defect tiles). */
  batch: 32,
  /** Upper bound on map epochs; the time budget normally ends the training first. */
  epochs: 200,
  lr: 1e-3,
  // No tile stride: crops of photos get theirs chosen on the validation photos after the map
  // trains (photo-scoring.ts: the whole tile or half of it), unless --tile-stride gives one. Whole
  // images (class folders without masks) are scored whole and have none.
  timeBudget: 30 * 60,
  /**
   * Stage 1: the generator's epochs and batch over every training crop, with the paper's
   * losses (Table 2 weights, trainer/losses.ts): the map needs a reconstruction, and the
   * generator is trained as `flawscope train` trains it.
   */
  generatorEpochs: 2,
  generatorBatch: 64,
  /**
   * Share of the time budget stage 1 may take. train() has no clock, so its training set is
   * cut to fit: a seeded subset of the crops (normal and defect in their proportions), sized
   * from the generator's measured step time. Stage 2 always sees every crop.
   */
  generatorShare: 0.35,
  /** Stage 2's schedule, loss balance and crop jitter (recipe.ts, measured in J68). */
  map: MAP_RECIPE,
} as const;

export interface DefectsConfig extends TrainConfig {
  preset: 'defects';
  /** Seconds for both stages' training (evaluation and writing not counted). */
  timeBudget: number;
  synthetic: SyntheticMode;
}

export interface DefectMapInfo {
  file: string;
  inputs: readonly string[];
  imageScore: ImageScoreRule;
}

/**
 * Runs both stages and writes the model folder, or (`resume`) continues a checkpoint of either
 * stage (map-checkpoint.ts). Returns 'done' or 'cancelled': a stop leaves OUT.checkpoint; one
 * during stage 2, once a map epoch was validated, also the best map so far as the model folder.
 */
export async function trainDefects(cfgIn: DefectsConfig, hooks: TrainHooks, resume?: ResumeRequest): Promise<'done' | 'cancelled'> {
  let cfg = cfgIn;
  let resumed: MapCheckpoint | null = null;
  let stage1Resume: Stage1Resume | null = null;
  if (resume) {
    // As train.ts: the checkpoint's settings win, the model goes beside it (or to --out), and an explicit --epochs lifts the spent time budget.
    const target = resumeTarget(resume);
    stage1Resume = await readStage1Marker(resume.dir);
    if (!stage1Resume) resumed = await readMapCheckpoint(resume.dir, (c) => selectTrainingBackend(c.backend));
    const saved = stage1Resume?.cfg ?? resumed!.cfg;
    cfg = { ...saved, out: target, ...(resume.epochs !== undefined ? { epochs: resume.epochs } : {}) };
    if (resolve(saved.out) !== target)
      hooks.emit({ type: 'warning', message: `--resume ${resume.dir}: the checkpoint was written for ${resolve(saved.out)}; it continues the model ${resume.out !== undefined ? 'at --out' : 'beside it'}, ${target}` });
  }
  const out = resolve(cfg.out);
  const ckpt = checkpointPath(out);
  const disposeResumed = () => resumed?.tensors.forEach((t) => t.dispose());
  try {
    checkOutputFolder(out, { data: cfg.data, replace: cfg.force || !!resumed });
    checkCheckpointFolder(ckpt);
  } catch (e) {
    disposeResumed();
    throw e;
  }
  const release = await acquireLock(out);
  const stageDir = mkdtempSync(join(os.tmpdir(), 'flawscope-defects-'));
  // The budget counts training seconds over every run of this training (a resume adds to the saved ones).
  const clock0 = Date.now();
  const spentBefore = resumed?.state.elapsedSeconds ?? stage1Resume?.seconds ?? 0;
  const elapsed = () => spentBefore + (Date.now() - clock0) / 1000;
  const deadline = resume?.epochs !== undefined ? Infinity : clock0 + (cfg.timeBudget - spentBefore) * 1000;
  try {
    await selectTrainingBackend(cfg.backend);
    // The data is read once: stage 1 trains on it through train()'s loadData hook.
    let data: MapData | null = null;
    const loadOpts = () => ({ ...cfg.dataOptions, root: cfg.data, normalClass: cfg.normal, size: cfg.size, channels: cfg.channels, seed: cfg.seed, validationFraction: cfg.validationFraction });
    const synth = cfg.synthetic ?? 'auto';
    data = await loadMapData(loadOpts(), synth !== 'off');
    if (synth === 'only' && data.training.anomaly) {
      // Measuring synthetic defects alone: the real defect crops train neither stage (validation and test keep them).
      data = { ...data, training: { ...data.training, anomaly: null }, anomalyMasks: null, anomalyHasMask: new Uint8Array(0), labels: 'none' };
    }
    const d = data;
    const useSynthetic = synth === 'add' || synth === 'only' || (synth === 'auto' && d.labels === 'none');
    const genDir = join(stageDir, 'generator');
    let stage1Seconds: number;
    let stage1: TrainConfig;
    if (resumed) {
      // Stage 1 is done: its generator comes from the checkpoint (copied, as the checkpoint is rewritten while the map trains).
      await fs.cp(join(resume!.dir, GENERATOR_DIR), genDir, { recursive: true });
      stage1Seconds = resumed.state.defectMap.seconds.generator;
      stage1 = { ...cfg, epochs: DEFECTS_PRESET.generatorEpochs, batch: DEFECTS_PRESET.generatorBatch };
    } else {
      // Bags: most crops of a defect photo show no defect, so the generator learns from the normal crops alone (its ABC term would push them away).
      const genData: MapData = d.bags ? { ...d, training: { ...d.training, anomaly: null } } : d;
      const r = await trainGenerator(cfg, genData, useSynthetic, genDir, out, hooks, { ckpt, elapsed, resume: stage1Resume ? { dir: resume!.dir, fraction: stage1Resume.fraction } : undefined });
      if (r === 'cancelled') return 'cancelled';
      stage1 = r;
      stage1Seconds = elapsed();
      if (stage1Seconds > cfg.timeBudget / 2)
        hooks.emit({ type: 'warning', message: `the generator stage took ${stage1Seconds.toFixed(0)} s of the ${cfg.timeBudget} s budget; the defect map gets the rest` });
    }
    const genInfo = JSON.parse(await fs.readFile(join(genDir, INFO_FILE), 'utf8')) as ModelInfo;
    const generator = await loadGenerator(genDir);

    // Stage 2: the defect map on the frozen generator (map-loop.ts).
    const stage = await runMapStage({
      cfg, hooks, d, generator, genDir, shape: genInfo.input, useSynthetic, ckpt,
      deadline, elapsed, stage1Seconds, resumed,
    });
    const { net, history, updates, init, stepsPerEpoch, mapSeconds, stoppedBy } = stage;
    const best = stage.best;
    const signal = stoppedBy === 'signal';
    if (!best) {
      net.dispose(); generator.dispose();
      if (signal) {
        const at = stage.stopPoint!;
        hooks.emit({ type: 'cancelled', checkpoint: ckpt, epoch: at.epoch, ...(at.step ? { step: at.step } : {}) });
        return 'cancelled';
      }
      throw new InputError('stopped before the defect map trained; nothing was written');
    }
    if (!resumed && stoppedBy === 'time-budget' && Date.now() > deadline + 1000 * 60 && history.length <= 1)
      hooks.emit({ type: 'warning', message: `--time-budget ${cfg.timeBudget}: the generator stage (${stage1Seconds.toFixed(0)} s) left no time for the defect map; it had only its first ${MIN_STEPS} steps — give a larger budget` });
    net.setWeights(best.weights);
    // What is validated and written is the plain network the scorers load: with BN, its fold (exact, fold-bn.ts).
    const mapNet = stage.batchNorm ? buildDefectMap(genInfo.input, cfg.seed, { ...init, init: 'he', architecture: stage.architecture }) : net;
    if (stage.batchNorm) foldBatchNorm(net, mapNet);
    const trainingSeconds = elapsed();
    const sampler = { composition: stage.composition };

    // The tile stride, then the image-score rule at it, then (below) the threshold on those scores: all on the whole validation photos.
    const te = Date.now();
    const bestEpochRec = history.find((h) => h.epoch === best!.epoch)!;
    const scoring = await chooseScoring(generator, mapNet, d.photos.validation, genInfo, {
      // --tile-stride (config "tileStride") wins: nothing is compared. Crops of photos otherwise compare the candidates; whole images have no tiles.
      strides: cfg.tileStride != null ? [cfg.tileStride] : d.patchSize ? strideCandidates(cfg.size) : null,
      source: cfg.tileStride != null ? 'user' : 'validation',
      // Without defect photos in validation the rule cannot be chosen on photos: the tiles' best rule.
      fallbackRule: bestTileRule(bestEpochRec.valTileAuroc as Record<string, number | null>),
      maxPixels: numberOr(cfg.dataOptions.maxPixels),
    });
    const { rule, validation: vp, ruleAuroc: valPhotoAuroc } = scoring;
    if (scoring.text) hooks.emit({ type: 'stage', stage: 'defect-map', message: scoring.text });
    const modelInfo: ModelInfo = scoring.stride === null ? genInfo : { ...genInfo, preprocess: { ...genInfo.preprocess!, tileStride: scoring.stride } };
    const deployed = deployedThreshold(vp.scores[ruleName(rule)], vp.labels, cfg);
    if (deployed.warning) hooks.emit({ type: 'warning', message: deployed.warning });
    const { threshold, request, choice, normalStats } = deployed;
    let test: PhotoEval | null = null;
    // A stop skips the test photos: the user is waiting for the process to end.
    if (d.photos.test.length && !signal) test = await evaluatePhotos(generator, mapNet, d.photos.test, modelInfo, numberOr(cfg.dataOptions.maxPixels));
    const testAuroc = (r: ImageScoreRule) => (test ? nullable(auroc(test.scores[ruleName(r)], test.labels)) : null);
    const perClass: Record<string, number | null> = {};
    if (test) {
      const s = test.scores[ruleName(rule)];
      for (const cls of [...new Set(test.classes.filter((_, i) => test!.labels[i]))].sort()) {
        const idx = test.classes.map((c, i) => (c === cls || !test!.labels[i] ? i : -1)).filter((i) => i >= 0);
        perClass[`testPhotoAuroc_${cls}`] = nullable(auroc(idx.map((i) => s[i]), idx.map((i) => test!.labels[i])));
      }
    }
    const metrics: Record<string, number | null> = {
      valPhotoAuroc: valPhotoAuroc[ruleName(rule)],
      valPhotoPixelAuroc: vp.pixelAuroc,
      valPhotoAupro: vp.aupro,
      valTilePixelAuroc: bestEpochRec.valPixelAuroc as number | null,
      testPhotoAuroc: test ? testAuroc(rule) : null,
      testPhotoPixelAuroc: test ? test.pixelAuroc : null,
      testPhotoAupro: test ? test.aupro : null,
      ...perClass,
      testFalseAlarmRate: test ? rate(test.scores[ruleName(rule)], test.labels, threshold, 0) : null,
      testDetectionRate: test ? rate(test.scores[ruleName(rule)], test.labels, threshold, 1) : null,
      ...strideMetrics(scoring.record),
      bestEpoch: best.epoch,
      mapUpdates: updates,
      generatorValAuroc: genInfo.metrics.valAuroc ?? null,
      generatorTestAuroc: genInfo.metrics.testAuroc ?? null,
    };
    const evalSeconds = (Date.now() - te) / 1000;
    const defectMap: DefectMapInfo = { file: MAP_FILE, inputs: [...MAP_INPUTS], imageScore: rule };
    const info = {
      ...modelInfo,
      formatVersion: DEFECT_MAP_FORMAT_VERSION,
      defectMap,
      threshold,
      thresholdRule: ruleRecord(request, choice, 'validation'),
      normalStats,
      metrics,
      config: {
        // The crop size the data was read with (the preset's default included), so `flawscope eval` re-plans the same split.
        ...cfg, dataOptions: { ...cfg.dataOptions, ...(d.patchSize ? { patchSize: d.patchSize } : {}) }, ...(stoppedBy ? { stoppedBy } : {}), generator: { epochs: stage1.epochs, batch: stage1.batch, weights: stage1.weights, history: (genInfo.config as { history?: unknown }).history, metrics: genInfo.metrics, threshold: genInfo.threshold, score: genInfo.score },
        defectMap: {
          loss: MAP_RECIPE.loss, lr: cfg.lr * MAP_RECIPE.lrFactor, warmup: stage.warmup, cropJitter: MAP_RECIPE.cropJitter, batchNorm: stage.batchNorm ? 'folded' : false, architecture: stage.architecture, init: { ...init.inputStats, prior: init.prior, weights: 'he' }, batch: sampler.composition, ...(d.bags ? { bags: { photos: d.bags.length, pooling: `max over the bag's tiles of each tile's top-${MAP_RECIPE.loss.milTopK} mean`, selection: 'validation photos' } } : {}), stepsPerEpoch, history, valPhotoAuroc, tileStride: scoring.record, testPhotoAurocByRule: test ? Object.fromEntries(IMAGE_SCORE_RULES.map((r) => [ruleName(r), testAuroc(r)])) : null,
          seconds: { generator: stage1Seconds, map: mapSeconds, evaluation: evalSeconds },
        },
      },
      createdAt: new Date().toISOString(),
      trainingSeconds,
    };
    const mapArt = await modelArtifacts(mapNet);
    const mapJson = JSON.parse(mapArt.modelJson);
    mapJson.weightsManifest[0].paths = [MAP_WEIGHTS_FILE];
    try {
      await writeMapModelFolder(out, genDir, JSON.stringify(mapJson), mapArt.weights, info, cfg.data);
    } catch (e) {
      // The checkpoint stays, so a refused write loses no work.
      if (signal) hooks.emit({ type: 'warning', message: `stopped: the best map epoch so far could not be written as a model (${(e as Error).message}); the checkpoint is kept` });
      else throw new InputError(`${(e as Error).message}. The trained state is kept in ${ckpt}: flawscope train --resume ${ckpt} --out OTHER_DIR`);
    }
    net.dispose(); generator.dispose(); best.weights.forEach((t) => t.dispose());
    if (mapNet !== net) mapNet.dispose();
    if (signal) {
      const at = stage.stopPoint!;
      hooks.emit({ type: 'cancelled', checkpoint: ckpt, epoch: at.epoch, ...(at.step ? { step: at.step } : {}), ...(existsSync(join(out, MAP_FILE)) ? { model: out, bestEpoch: best.epoch } : {}) });
      return 'cancelled';
    }
    // A run the budget ended keeps its checkpoint, to be extended with --resume --epochs N; one that ran its epochs does not, unless asked.
    if (!cfg.keepCheckpoint && stoppedBy !== 'time-budget') await fs.rm(ckpt, { recursive: true, force: true });
    hooks.emit({ type: 'done', out, metrics, seconds: trainingSeconds });
    return 'done';
  } finally {
    await fs.rm(stageDir, { recursive: true, force: true }).catch(() => {});
    await release();
  }
}

/** Stage 1: trainer/train.ts as it is, into a temporary model folder. Returns its config, or 'cancelled' on a stop (nothing written). */
async function trainGenerator(
  cfg: DefectsConfig, d: MapData, useSynthetic: boolean, genDir: string, out: string, hooks: TrainHooks,
  o: { ckpt: string; elapsed: () => number; resume?: { dir: string; fraction: number } },
): Promise<TrainConfig | 'cancelled'> {
  hooks.emit({ type: 'stage', stage: 'generator', message: `stage 1: the generator, ${DEFECTS_PRESET.generatorEpochs} epochs over ${d.training.normal.count} normal + ${d.training.anomaly?.count ?? 0} defect ${d.patchSize ? 'crops' : 'images'} (${d.bags ? `image labels only: the ${d.bags.length} defect photos' crops train the map alone, as bags` : { masks: 'pixel masks', image: 'image labels only', none: 'no real defects' }[d.labels]}${useSynthetic ? '; the map also learns from synthetic defects' : ''})` });
  const stage1: TrainConfig = {
    // The generator's own folder needs a stride; the model's is chosen after the map (chooseScoring), unless the user gave one.
    ...cfg, tileStride: cfg.tileStride ?? (d.patchSize ? strideCandidates(cfg.size).at(-1)! : null), out: genDir, force: false, keepCheckpoint: false, epochs: DEFECTS_PRESET.generatorEpochs, batch: DEFECTS_PRESET.generatorBatch,
  };
  delete (stage1 as Partial<DefectsConfig>).preset;
  delete (stage1 as Partial<DefectsConfig>).timeBudget;
  const fit = await fitToBudget(d.training, stage1, cfg.timeBudget * DEFECTS_PRESET.generatorShare, (m) => hooks.emit({ type: 'warning', message: m }), o.resume?.fraction);
  const r1 = await train(stage1, {
    emit: (e) => {
      if (e.type === 'start') hooks.emit({ ...e, out });
      else if (e.type === 'epoch') hooks.emit({ ...e, stage: 'generator' });
      // train()'s note that its checkpoint names another folder: the temporary one, expected here.
      else if ((e.type === 'warning' && !/checkpoint was written for/.test(e.message)) || e.type === 'step') hooks.emit(e);
    },
    shouldStop: hooks.shouldStop,
    loadData: async () => fit.data,
  }, o.resume ? { dir: o.resume.dir, out: genDir } : undefined);
  if (r1 === 'cancelled') {
    // train()'s checkpoint is in the temporary folder: it becomes OUT.checkpoint, with the share of the crops it trains on.
    const trainCkpt = checkpointPath(genDir);
    if (!existsSync(join(trainCkpt, 'state.json'))) {
      hooks.emit({ type: 'warning', message: 'stopped during the generator stage (stage 1) before a checkpoint; nothing was written' });
      return 'cancelled';
    }
    await writeStage1Checkpoint(o.ckpt, trainCkpt, { fraction: fit.fraction, seconds: o.elapsed(), config: cfg });
    hooks.emit({ type: 'cancelled', checkpoint: o.ckpt, epoch: 0 });
    return 'cancelled';
  }
  return stage1;
}

function bestTileRule(tileAuroc: Record<string, number | null>): ImageScoreRule {
  // Max of a 5x5 mean when no rule has a tile AUROC (no defect tile in validation), as before.
  return bestRuleBy(tileAuroc, { kind: 'max', smooth: 5 });
}

/** The stride comparison in metrics (flat numbers, printed with the training's other figures): each candidate's validation image AUROC, the margin, the pick. */
function strideMetrics(r: StrideRecord | null): Record<string, number | null> {
  if (!r) return {};
  const out: Record<string, number | null> = { tileStride: r.stride };
  for (const c of r.candidates) out[`valPhotoAuroc_stride${c.stride}`] = c.auroc;
  // With two candidates the one margin that is not the best's own 0.
  const margins = r.candidates.map((c) => c.margin);
  if (r.candidates.length > 1) out.tileStrideMargin = margins.some((m) => m === null) ? null : Math.max(...(margins as number[]));
  return out;
}

function numberOr(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function rate(scores: number[], labels: number[], thr: number, cls: number): number | null {
  const s = scores.filter((_, i) => labels[i] === cls);
  return s.length ? s.filter((v) => v > thr).length / s.length : null;
}

/**
 * The model folder: the generator's files, the map's, and flawscope.json — written into a temp
 * folder and renamed into place (fs-safe.ts), after the output checks are made again (the folder
 * may have changed during the training).
 */
export async function writeMapModelFolder(out: string, genDir: string, mapJson: string, mapWeights: Uint8Array, info: object, data?: string): Promise<void> {
  checkOutputFolder(out, { data, replace: true });
  await writeFolderAtomically(out, async (tmp) => {
    await fs.copyFile(join(genDir, MODEL_FILE), join(tmp, MODEL_FILE));
    await fs.copyFile(join(genDir, WEIGHTS_FILE), join(tmp, WEIGHTS_FILE));
    await fs.writeFile(join(tmp, MAP_FILE), mapJson);
    await fs.writeFile(join(tmp, MAP_WEIGHTS_FILE), mapWeights);
    await fs.writeFile(join(tmp, INFO_FILE), JSON.stringify(info, null, 2));
  }, { force: true });
}
