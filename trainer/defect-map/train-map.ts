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
 * validation (mean of pixel AUROC and the best rule's tile AUROC). The image-score rule and the
 * threshold are then chosen on the whole validation photos; test photos are only reported.
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { INFO_FILE, MODEL_FILE, type ModelInfo } from '../../scorer/model-format';
import { InputError } from '../data/types';
import { loadMapData, MapSampler, type MapData, type SyntheticSource } from '../data/map-data';
import { synthesizeDefect } from '../defects/synthetic';
import type { SyntheticMode } from '../train-options';
import { acquireLock, writeFolderAtomically } from '../fs-safe';
import { auroc, meanStd, quantile } from '../metrics';
import { modelArtifacts, WEIGHTS_FILE } from '../model-folder';
import { checkOutputFolder } from '../out-guard';
import { Rng } from '../rng';
import { train, type TrainConfig, type TrainHooks } from '../train';
import { selectTrainingBackend } from '../backend';
import { chooseThresholdForFlag, ruleRecord, smallSampleWarning } from '../threshold';
import { thresholdRequest } from '../train-config';
import { percentiles } from '../../scorer/familiarity';
import { buildDefectMap, MAP_INPUTS } from './network';
import { measureMapInit } from './input-stats';
import { DEFAULT_MAP_LOSS, mapLoss } from './loss';
import { IMAGE_SCORE_RULES, mapInput, ruleName, type ImageScoreRule } from './evaluate';
import { fitToBudget } from './stage1';
import { evaluatePhotos, evaluateTiles, loadGenerator, nullable, tensors, validationTiles, type PhotoEval } from './validate';

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
  /** Photo tiles half a tile apart (docs/defect-map.md: the map uses the same grid as the error map). */
  tileStride: 32,
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

const MIN_STEPS = 20;
/** Batches measured for the map's input statistics and defect-pixel prior. */
const INIT_BATCHES = 8;
const MAX_STEPS = 400;
/** Runs both stages and writes the model folder. Returns 'done' or 'cancelled' (a stop during the generator stage: nothing is written). */
export async function trainDefects(cfg: DefectsConfig, hooks: TrainHooks): Promise<'done' | 'cancelled'> {
  const out = resolve(cfg.out);
  checkOutputFolder(out, { data: cfg.data, replace: cfg.force });
  const release = await acquireLock(out);
  const stageDir = mkdtempSync(join(os.tmpdir(), 'flawscope-defects-'));
  const t0 = Date.now();
  const deadline = t0 + cfg.timeBudget * 1000;
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
    hooks.emit({ type: 'stage', stage: 'generator', message: `stage 1: the generator, ${DEFECTS_PRESET.generatorEpochs} epochs over ${d.training.normal.count} normal + ${d.training.anomaly?.count ?? 0} defect ${d.patchSize ? 'crops' : 'images'} (${{ masks: 'pixel masks', image: 'image labels only', none: 'no real defects' }[d.labels]}${useSynthetic ? '; the map also learns from synthetic defects' : ''})` });

    // Stage 1: trainer/train.ts as it is, into a temporary model folder.
    const genDir = join(stageDir, 'generator');
    const stage1: TrainConfig = {
      ...cfg, out: genDir, force: false, keepCheckpoint: false, epochs: DEFECTS_PRESET.generatorEpochs, batch: DEFECTS_PRESET.generatorBatch,
    };
    delete (stage1 as Partial<DefectsConfig>).preset;
    delete (stage1 as Partial<DefectsConfig>).timeBudget;
    const stage1Data = await fitToBudget(d.training, stage1, cfg.timeBudget * DEFECTS_PRESET.generatorShare, (m) => hooks.emit({ type: 'warning', message: m }));
    const r1 = await train(stage1, {
      emit: (e) => {
        if (e.type === 'start') hooks.emit({ ...e, out });
        else if (e.type === 'epoch') hooks.emit({ ...e, stage: 'generator' });
        else if (e.type === 'warning' || e.type === 'step') hooks.emit(e);
      },
      shouldStop: hooks.shouldStop,
      loadData: async () => stage1Data,
    });
    if (r1 === 'cancelled') {
      hooks.emit({ type: 'warning', message: 'stopped during the generator stage; the defects preset does not resume, so nothing was written' });
      return 'cancelled';
    }
    const genInfo = JSON.parse(await fs.readFile(join(genDir, INFO_FILE), 'utf8')) as ModelInfo;
    const generator = await loadGenerator(genDir);
    const stage1Seconds = (Date.now() - t0) / 1000;
    if (stage1Seconds > cfg.timeBudget / 2)
      hooks.emit({ type: 'warning', message: `the generator stage took ${stage1Seconds.toFixed(0)} s of the ${cfg.timeBudget} s budget; the defect map gets the rest` });

    // Stage 2: the defect map on the frozen generator.
    const { height: H, width: W, channels: C } = genInfo.input;
    // Adam's usual β1 = 0.9: the GAN's 0.5 (cfg.beta1) is for the adversarial game, which the map does not play.
    const opt = tf.train.adam(cfg.lr, 0.9, 0.999);
    const rng = new Rng(cfg.seed ^ 0xdefec7);
    const synRng = new Rng(cfg.seed ^ 0x5e7e7);
    const synthetic: SyntheticSource | undefined = useSynthetic
      ? (tile, donor) => {
          const buf = (data: Uint8Array) => ({ data, width: W, height: H, channels: C });
          const s = synthesizeDefect(buf(tile), synRng, { donor: buf(donor) });
          tile.set(s.image.data);
          return s.mask;
        }
      : undefined;
    const sampler = new MapSampler(d, cfg.batch, () => rng.next(), synthetic);
    // The input standardisation and the output's starting bias, from batches drawn as training draws them (network.ts).
    const init = await measureMapInit(generator, await Promise.all(Array.from({ length: INIT_BATCHES }, () => sampler.next())), H, W, C);
    const net = buildDefectMap({ height: H, width: W, channels: C }, cfg.seed, { ...init, init: 'he' });
    const defectPerBatch = sampler.composition.real + sampler.composition.synthetic;
    // Synthetic defects are endless: with them an epoch is a pass over the normal tiles.
    const passOver = useSynthetic ? d.training.normal.count / sampler.composition.normal : (d.training.anomaly?.count ?? 0) / defectPerBatch;
    const stepsPerEpoch = Math.max(MIN_STEPS, Math.min(MAX_STEPS, Math.ceil(passOver)));
    const val = await validationTiles(d, cfg.seed);
    hooks.emit({ type: 'stage', stage: 'defect-map', message: `stage 2: the defect map (${net.countParams()} weights), batches of ${sampler.composition.normal} normal + ${defectPerBatch} defect tiles, ${stepsPerEpoch} steps an epoch, until epoch ${cfg.epochs} or ${Math.max(0, (deadline - Date.now()) / 1000).toFixed(0)} s; validation on ${val.n} tiles` });
    const history: Record<string, unknown>[] = [];
    let best: { select: number; epoch: number; weights: tf.Tensor[] } | null = null;
    let updates = 0;
    let stopped = false;
    const t2 = Date.now();
    for (let epoch = 1; epoch <= cfg.epochs && !stopped; epoch++) {
      const te = Date.now();
      const sums = { total: 0, focal: 0, dice: 0, mil: 0 };
      let steps = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        // The budget ends the training, but never before the map's first MIN_STEPS steps: a model folder without a trained map would be no use.
        if (hooks.shouldStop() || (Date.now() >= deadline && !(epoch === 1 && s < MIN_STEPS))) { stopped = true; break; }
        const b = await sampler.next();
        const { x, targets } = tensors(b, H, W, C);
        const input = mapInput(generator, x);
        let parts: ReturnType<typeof mapLoss> | null = null;
        const total = opt.minimize(() => {
          parts = mapLoss(net.apply(input, { training: true }) as tf.Tensor4D, targets);
          // Kept past minimize's tidy, to be reported.
          tf.keep(parts.focal); tf.keep(parts.dice); tf.keep(parts.mil);
          return parts.total;
        }, true) as tf.Scalar;
        const vals = await Promise.all([total, parts!.focal, parts!.dice, parts!.mil].map(async (t) => (await t.data())[0]));
        [total, parts!.focal, parts!.dice, parts!.mil, x, input, ...Object.values(targets)].forEach((t) => t.dispose());
        if (!vals.every(Number.isFinite)) throw new InputError(`the defect map's training diverged at epoch ${epoch}: loss ${vals[0]}; start again with a lower --lr (now ${cfg.lr})`);
        sums.total += vals[0]; sums.focal += vals[1]; sums.dice += vals[2]; sums.mil += vals[3];
        steps++; updates++;
        if (steps % 10 === 0) hooks.emit({ type: 'step', epoch, step: steps, stepsPerEpoch, losses: { map: vals[0] }, imgPerSec: (steps * cfg.batch) / Math.max(1e-3, (Date.now() - te) / 1000), etaSec: Math.max(0, (deadline - Date.now()) / 1000) });
        await new Promise((r) => setImmediate(r));
      }
      if (steps === 0) break;
      const ev = await evaluateTiles(generator, net, val, H, W, C);
      const seconds = (Date.now() - te) / 1000;
      const losses = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / steps]));
      history.push({ epoch, steps, updates, seconds, elapsed: (Date.now() - t0) / 1000, losses, valLoss: ev.loss, valPixelAuroc: ev.pixelAuroc, valTileAuroc: ev.tileAuroc, valSelect: ev.select });
      if (!best || ev.select > best.select) {
        best?.weights.forEach((t) => t.dispose());
        best = { select: ev.select, epoch, weights: net.getWeights().map((t) => tf.clone(t)) };
      }
      hooks.emit({
        type: 'epoch', stage: 'defect-map', epoch, epochs: cfg.epochs, losses: { ...losses, valLoss: ev.loss, ...(ev.pixelAuroc !== null ? { valPixelAuroc: ev.pixelAuroc } : {}) },
        valAuroc: ev.select, bestValAuroc: best.select, imgPerSec: (steps * cfg.batch) / seconds, etaSec: Math.max(0, (deadline - Date.now()) / 1000), seconds,
      });
    }
    if (!best) throw new InputError('stopped before the defect map trained; nothing was written');
    if (Date.now() > deadline + 1000 * 60 && history.length <= 1)
      hooks.emit({ type: 'warning', message: `--time-budget ${cfg.timeBudget}: the generator stage (${stage1Seconds.toFixed(0)} s) left no time for the defect map; it had only its first ${MIN_STEPS} steps — give a larger budget` });
    const mapSeconds = (Date.now() - t2) / 1000;
    net.setWeights(best.weights);
    const trainingSeconds = (Date.now() - t0) / 1000;

    // The image-score rule and the threshold, on the whole validation photos.
    const te = Date.now();
    const vp = await evaluatePhotos(generator, net, d.photos.validation, genInfo, numberOr(cfg.dataOptions.maxPixels));
    const hasBoth = vp.labels.some((v) => v) && vp.labels.some((v) => !v);
    let rule: ImageScoreRule = { kind: 'max', smooth: 5 };
    const valPhotoAuroc: Record<string, number | null> = {};
    for (const r of IMAGE_SCORE_RULES) valPhotoAuroc[ruleName(r)] = hasBoth ? nullable(auroc(vp.scores[ruleName(r)], vp.labels)) : null;
    if (hasBoth) {
      let bestA = -1;
      for (const r of IMAGE_SCORE_RULES) { const a = valPhotoAuroc[ruleName(r)] ?? -1; if (a > bestA) { bestA = a; rule = r; } }
    } else {
      // Without defect photos in validation the rule cannot be chosen: the tiles' best rule.
      const last = history.find((h) => h.epoch === best!.epoch)!.valTileAuroc as Record<string, number | null>;
      let bestA = -1;
      for (const r of IMAGE_SCORE_RULES) { const a = last[ruleName(r)] ?? -1; if (a > bestA) { bestA = a; rule = r; } }
    }
    const vScores = vp.scores[ruleName(rule)];
    const normalScores = vScores.filter((_, i) => !vp.labels[i]);
    const anomalyScores = vScores.filter((_, i) => vp.labels[i]);
    if (normalScores.length === 0) throw new InputError(`--validation-fraction ${cfg.validationFraction}: the validation split holds no normal photo; raise it or add normal images — the threshold is set on them`);
    // The deployment threshold (trainer/threshold.ts): --false-alarm-rate R (default 1 %) or --defect-rate P, on the validation photos' map scores.
    const request = thresholdRequest(cfg);
    const choice = chooseThresholdForFlag(normalScores, anomalyScores, request);
    const few = request.method === 'false-alarm-rate' ? smallSampleWarning(choice.normals, request.target, 'the validation photos') : null;
    if (few) hooks.emit({ type: 'warning', message: `threshold: ${few}` });
    const threshold = Math.max(0, choice.threshold);
    const { mean, std } = meanStd(normalScores);
    let test: PhotoEval | null = null;
    if (d.photos.test.length) test = await evaluatePhotos(generator, net, d.photos.test, genInfo, numberOr(cfg.dataOptions.maxPixels));
    const testAuroc = (r: ImageScoreRule) => (test ? nullable(auroc(test.scores[ruleName(r)], test.labels)) : null);
    const perClass: Record<string, number | null> = {};
    if (test) {
      const s = test.scores[ruleName(rule)];
      for (const cls of [...new Set(test.classes.filter((_, i) => test!.labels[i]))].sort()) {
        const idx = test.classes.map((c, i) => (c === cls || !test!.labels[i] ? i : -1)).filter((i) => i >= 0);
        perClass[`testPhotoAuroc_${cls}`] = nullable(auroc(idx.map((i) => s[i]), idx.map((i) => test!.labels[i])));
      }
    }
    const bestRec = history.find((h) => h.epoch === best!.epoch)!;
    const metrics: Record<string, number | null> = {
      valPhotoAuroc: valPhotoAuroc[ruleName(rule)],
      valPhotoPixelAuroc: vp.pixelAuroc,
      valPhotoAupro: vp.aupro,
      valTilePixelAuroc: bestRec.valPixelAuroc as number | null,
      testPhotoAuroc: test ? testAuroc(rule) : null,
      testPhotoPixelAuroc: test ? test.pixelAuroc : null,
      testPhotoAupro: test ? test.aupro : null,
      ...perClass,
      testFalseAlarmRate: test ? rate(test.scores[ruleName(rule)], test.labels, threshold, 0) : null,
      testDetectionRate: test ? rate(test.scores[ruleName(rule)], test.labels, threshold, 1) : null,
      bestEpoch: best.epoch,
      mapUpdates: updates,
      generatorValAuroc: genInfo.metrics.valAuroc ?? null,
      generatorTestAuroc: genInfo.metrics.testAuroc ?? null,
    };
    const evalSeconds = (Date.now() - te) / 1000;
    const defectMap: DefectMapInfo = { file: MAP_FILE, inputs: [...MAP_INPUTS], imageScore: rule };
    const info = {
      ...genInfo,
      formatVersion: DEFECT_MAP_FORMAT_VERSION,
      defectMap,
      threshold,
      thresholdRule: ruleRecord(request, choice, 'validation'),
      normalStats: { mean, std, p95: quantile(normalScores, 0.95), p99: quantile(normalScores, 0.99), count: normalScores.length, quantiles: percentiles(normalScores) },
      metrics,
      config: {
        // The crop size the data was read with (the preset's default included), so `flawscope eval` re-plans the same split.
        ...cfg, dataOptions: { ...cfg.dataOptions, ...(d.patchSize ? { patchSize: d.patchSize } : {}) }, generator: { epochs: stage1.epochs, batch: stage1.batch, weights: stage1.weights, history: (genInfo.config as { history?: unknown }).history, metrics: genInfo.metrics, threshold: genInfo.threshold, score: genInfo.score },
        defectMap: {
          loss: DEFAULT_MAP_LOSS, init: { ...init.inputStats, prior: init.prior, weights: 'he' }, batch: sampler.composition, stepsPerEpoch, history, valPhotoAuroc, testPhotoAurocByRule: test ? Object.fromEntries(IMAGE_SCORE_RULES.map((r) => [ruleName(r), testAuroc(r)])) : null,
          seconds: { generator: stage1Seconds, map: mapSeconds, evaluation: evalSeconds },
        },
      },
      createdAt: new Date().toISOString(),
      trainingSeconds,
    };
    const mapArt = await modelArtifacts(net);
    const mapJson = JSON.parse(mapArt.modelJson);
    mapJson.weightsManifest[0].paths = [MAP_WEIGHTS_FILE];
    await writeMapModelFolder(out, genDir, JSON.stringify(mapJson), mapArt.weights, info, cfg.data);
    net.dispose(); generator.dispose(); best.weights.forEach((t) => t.dispose());
    hooks.emit({ type: 'done', out, metrics, seconds: trainingSeconds });
    return 'done';
  } finally {
    await fs.rm(stageDir, { recursive: true, force: true }).catch(() => {});
    await release();
  }
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
