/**
 * Stage 2 of the defects preset: the defect map's training loop (train-map.ts describes the rule),
 * resumable exactly. OUT.checkpoint (map-checkpoint.ts) is written after each epoch and on a stop
 * (Ctrl-C, SIGTERM): the map's weights and Adam's slots, the sampler's tile orders and both random
 * streams, the epoch and step, the running sums of an epoch cut short, the history and the best
 * epoch. A resumed run draws the same batches and makes the same updates as one that ran through.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import type { ModelInfo } from '../../scorer/model-format';
import { InputError } from '../errors';
import { loadJitterStore, MapSampler, type MapData, type SyntheticSource } from '../data/map-data';
import { synthesizeDefect } from '../defects/synthetic';
import { adamPowers } from '../gan';
import { Rng } from '../rng';
import type { TrainHooks } from '../train-config';
import { mapInput } from './evaluate';
import { measureMapInit, type MapInit } from './input-stats';
import { mapLoss } from './loss';
import { numbered, writeMapCheckpoint, type MapCheckpoint } from './map-checkpoint';
import { buildDefectMap, type MapArchitecture } from './network';
import { jitterRadius, MAP_RECIPE } from './recipe';
import { mapLearningRate, setLearningRate } from './schedule';
import { evaluateTiles, evaluateValidationPhotos, tensors, validationTiles } from './validate';
import type { DefectsConfig } from './train-map';

/** The map's budget floor: the first epoch always makes this many steps (train-map.ts names it when stage 1 left no time). */
export const MIN_STEPS = 20;
const MAX_STEPS = 400;
/** Batches measured for the map's input statistics and defect-pixel prior. */
const INIT_BATCHES = 8;

export interface MapStageInput {
  cfg: DefectsConfig;
  hooks: TrainHooks;
  d: MapData;
  generator: tfl.LayersModel;
  /** The generator's model folder, copied into each checkpoint. */
  genDir: string;
  shape: ModelInfo['input'];
  useSynthetic: boolean;
  ckpt: string;
  /** When the time budget ends the training (ms since the epoch; Infinity: no budget). */
  deadline: number;
  /** Training seconds spent so far, both stages and earlier runs of this training. */
  elapsed: () => number;
  stage1Seconds: number;
  resumed: MapCheckpoint | null;
}

export interface MapStageResult {
  net: tfl.LayersModel;
  best: { select: number; epoch: number; weights: tf.Tensor[] } | null;
  history: Record<string, unknown>[];
  updates: number;
  init: MapInit;
  composition: MapSampler['composition'];
  stepsPerEpoch: number;
  /** The learning rate's warmup in updates (the recipe's, capped at half an epoch). */
  warmup: number;
  /** Why the loop ended before its last epoch: a stop asked from outside, or the time budget. */
  stoppedBy?: 'signal' | 'time-budget';
  /** The map's training seconds, over every run of this training. */
  mapSeconds: number;
  /** The map trains with batch normalisation: `net` must be folded (fold-bn.ts) before it is written. */
  batchNorm: boolean;
  /** Which map network `net` is (network.ts MAP_ARCHITECTURES). */
  architecture: MapArchitecture;
  /** Where a stop left the checkpoint: epochs done and steps into the next. */
  stopPoint?: { epoch: number; step: number };
}

/**
 * The map stage's two random streams (the sampler's draws, the synthetic defects') and the
 * synthetic-defect source on them, from the training seed: one place, so a resumed run and the
 * experiment scripts draw what the preset draws.
 */
export function mapStreams(seed: number, shape: ModelInfo['input'], useSynthetic: boolean): { rng: Rng; synRng: Rng; synthetic: SyntheticSource | undefined } {
  const { height: H, width: W, channels: C } = shape;
  const rng = new Rng(seed ^ 0xdefec7);
  const synRng = new Rng(seed ^ 0x5e7e7);
  const synthetic: SyntheticSource | undefined = useSynthetic
    ? (tile, donor) => {
        const buf = (data: Uint8Array) => ({ data, width: W, height: H, channels: C });
        const s = synthesizeDefect(buf(tile), synRng, { donor: buf(donor) });
        tile.set(s.image.data);
        return s.mask;
      }
    : undefined;
  return { rng, synRng, synthetic };
}

export async function runMapStage(m: MapStageInput): Promise<MapStageResult> {
  const { cfg, hooks, d, generator, useSynthetic, resumed } = m;
  const { height: H, width: W, channels: C } = m.shape;
  // Adam's usual β1 = 0.9: the GAN's 0.5 (cfg.beta1) is for the adversarial game, which the map does not play.
  const recipe = MAP_RECIPE;
  const lr = cfg.lr * recipe.lrFactor;
  const opt = tf.train.adam(lr, 0.9, 0.999);
  const { rng, synRng, synthetic } = mapStreams(cfg.seed, m.shape, useSynthetic);
  const radius = jitterRadius(recipe, W);
  const store = radius > 0 ? await loadJitterStore(d) : null;
  const sampler = new MapSampler(d, cfg.batch, () => rng.next(), synthetic, store ? { store, radius } : undefined);
  const where = resumed ? `--resume ${m.ckpt}` : '';
  let init: MapInit;
  let net: tfl.LayersModel;
  let best: MapStageResult['best'] = null;
  const history: Record<string, unknown>[] = [];
  let updates = 0, startEpoch = 0, startStep = 0, mapSecondsBefore = 0;
  // A resumed run keeps the network it started with, whatever the recipe says now.
  const batchNorm = resumed ? resumed.state.defectMap.batchNorm ?? false : recipe.batchNorm;
  const architecture = resumed ? resumed.state.defectMap.architecture ?? 'unet' : recipe.architecture;
  if (!resumed) {
    // The input standardisation and the output's starting bias, from batches drawn as training draws them (network.ts).
    init = await measureMapInit(generator, await Promise.all(Array.from({ length: INIT_BATCHES }, () => sampler.next())), H, W, C);
    net = buildDefectMap({ height: H, width: W, channels: C }, cfg.seed, { ...init, init: 'he', batchNorm, architecture });
  } else {
    const s = resumed.state, ms = s.defectMap, t = resumed.tensors;
    init = { inputStats: { mean: ms.init.mean, std: ms.init.std }, prior: ms.init.prior };
    net = buildDefectMap({ height: H, width: W, channels: C }, cfg.seed, { ...init, init: 'he', batchNorm, architecture });
    const refuse = (why: string) => { net.dispose(); return new InputError(`${where}: the checkpoint does not fit this model or data (${why}) — start a new training`); };
    const weights = numbered(t, 'map');
    if (!weights || weights.length !== net.weights.length) throw refuse(`${weights?.length ?? 0} map tensors for ${net.weights.length} weights`);
    try {
      net.setWeights(weights);
      const order = (name: string, pos: number | null) => (pos === null ? null : { order: t.get(`sampler/${name}`)!.dataSync() as Int32Array, pos });
      sampler.restore({ normal: order('normal', ms.samplerPos.normal)!, defect: order('defect', ms.samplerPos.defect) });
    } catch (e) {
      throw refuse((e as Error).message);
    }
    const slots = numbered(t, 'adam');
    // Adam matches slots to variables by position; names are informational.
    if (slots) await opt.setWeights(slots.map((tensor, i) => ({ name: `adam/${i}`, tensor })));
    // setWeights recomputes β^t with pow, which differs in the last bits from the running product the steps kept (gan.ts).
    const powers = adamPowers(opt), p1 = t.get('adam/power1'), p2 = t.get('adam/power2');
    if (powers && p1 && p2) { powers[0].assign(p1 as tf.Scalar); powers[1].assign(p2 as tf.Scalar); }
    (rng as unknown as { state: number }).state = s.rngState;
    (synRng as unknown as { state: number }).state = ms.synRngState;
    const bw = numbered(t, 'best');
    if (bw && ms.bestSelect !== null) best = { select: ms.bestSelect, epoch: s.bestEpoch, weights: bw.map((x) => tf.clone(x)) };
    history.push(...(s.history as Record<string, unknown>[]));
    updates = ms.updates; startEpoch = s.epoch; startStep = s.step ?? 0; mapSecondsBefore = ms.seconds.map;
  }
  const defectPerBatch = sampler.composition.real + sampler.composition.synthetic;
  const bags = sampler.composition.bags ? d.bags! : null;
  // Synthetic defects are endless: with them an epoch is a pass over the normal tiles; with bags, a pass over the defect photos.
  const passOver = useSynthetic ? d.training.normal.count / sampler.composition.normal : bags ? bags.length / sampler.composition.bags! : (d.training.anomaly?.count ?? 0) / defectPerBatch;
  const stepsPerEpoch = Math.max(MIN_STEPS, Math.min(MAX_STEPS, Math.ceil(passOver)));
  if (resumed && resumed.state.defectMap.stepsPerEpoch !== stepsPerEpoch) {
    net.dispose();
    throw new InputError(`${where}: the checkpoint's epochs have ${resumed.state.defectMap.stepsPerEpoch} steps, this data's ${stepsPerEpoch}; the data changed since — start a new training`);
  }
  // At most half the first epoch: a small set's first validation (and a short run) must see the map trained at its full rate.
  const warmup = Math.min(recipe.warmup, Math.floor(stepsPerEpoch / 2));
  // Bags: a validation crop of a defect photo has no label of its own, so epochs are judged on whole validation photos.
  const val = bags ? null : await validationTiles(d, cfg.seed);
  const batchWords = bags
    ? `${sampler.composition.normalBags ? `${sampler.composition.normalBags} normal photo(s)` : `${sampler.composition.normal} normal tiles`}${defectPerBatch ? ` + ${defectPerBatch} synthetic defect tiles` : ''} + ${sampler.composition.bags} defect photo(s), each photo a bag of up to ${sampler.composition.bagTiles} tiles (image labels only)`
    : `${sampler.composition.normal} normal + ${defectPerBatch} defect tiles`;
  const valWords = val ? `${val.n} tiles` : `${d.photos.validation.length} whole photos`;
  hooks.emit({ type: 'stage', stage: 'defect-map', message: `stage 2: the defect map (${net.countParams()} weights), batches of ${batchWords}, ${stepsPerEpoch} steps an epoch, until epoch ${cfg.epochs} or ${Number.isFinite(m.deadline) ? `${Math.max(0, (m.deadline - Date.now()) / 1000).toFixed(0)} s` : 'no time limit'}; validation on ${valWords}${resumed ? `; resuming after epoch ${startEpoch}${startStep ? `, step ${startStep}` : ''}` : ''}` });
  const t2 = Date.now();
  const mapSeconds = () => mapSecondsBefore + (Date.now() - t2) / 1000;

  const save = async (epochDone: number, mid?: { step: number; sums: Record<string, number>; seconds: number }) => {
    const named: NamedTensor[] = net.getWeights().map((tensor, i) => ({ name: `map/${i}`, tensor }));
    // The first is a new scalar (the step count), the rest Adam's own variables: only it is disposed below.
    const slots = await opt.getWeights();
    slots.forEach(({ tensor }, i) => named.push({ name: `adam/${i}`, tensor }));
    adamPowers(opt)?.forEach((v, i) => named.push({ name: `adam/power${i + 1}`, tensor: v }));
    best?.weights.forEach((tensor, i) => named.push({ name: `best/${i}`, tensor }));
    const sm = sampler.save();
    const orders = [tf.tensor1d(sm.normal.order, 'int32'), ...(sm.defect ? [tf.tensor1d(sm.defect.order, 'int32')] : [])];
    named.push({ name: 'sampler/normal', tensor: orders[0] });
    if (sm.defect) named.push({ name: 'sampler/defect', tensor: orders[1] });
    try {
      await writeMapCheckpoint(m.ckpt, {
        epoch: epochDone, step: mid?.step ?? 0, ...(mid ? { partial: { sums: mid.sums, counts: {}, imgs: 0, seconds: mid.seconds } } : {}),
        rngState: rng.seed, bestValAuroc: best ? Math.min(1, Math.max(0, best.select)) : null, bestEpoch: best?.epoch ?? 0, history,
        config: cfg as unknown as Record<string, unknown>, elapsedSeconds: m.elapsed(),
        defectMap: {
          stage: 'defect-map', stepsPerEpoch, updates, synRngState: synRng.seed, samplerPos: { normal: sm.normal.pos, defect: sm.defect?.pos ?? null },
          init: { mean: init.inputStats.mean, std: init.inputStats.std, prior: init.prior }, batchNorm, architecture, bestSelect: best?.select ?? null,
          seconds: { generator: m.stage1Seconds, map: mapSeconds() },
        },
      }, named, m.genDir);
    } finally {
      orders.forEach((t) => t.dispose());
      slots[0]?.tensor.dispose();
    }
  };

  let stoppedBy: MapStageResult['stoppedBy'];
  let stopPoint: MapStageResult['stopPoint'];
  for (let epoch = startEpoch + 1; epoch <= cfg.epochs && !stoppedBy; epoch++) {
    // A resume mid-epoch picks the epoch up where it stopped, with its running sums and time.
    const part = epoch === startEpoch + 1 && startStep > 0 ? resumed!.state.partial : undefined;
    const firstStep = epoch === startEpoch + 1 ? startStep : 0;
    const te = Date.now() - (part?.seconds ?? 0) * 1000;
    const sums = { total: 0, focal: 0, dice: 0, mil: 0, ...part?.sums };
    let steps = firstStep;
    for (let s = firstStep; s < stepsPerEpoch; s++) {
      if (hooks.shouldStop()) { stoppedBy = 'signal'; break; }
      // The budget ends the training, but never before the map's first MIN_STEPS steps: a model folder without a trained map would be no use.
      if (Date.now() >= m.deadline && !(epoch === 1 && s < MIN_STEPS)) { stoppedBy = 'time-budget'; break; }
      const b = await sampler.next();
      const { x, targets } = tensors(b, H, W, C);
      const input = mapInput(generator, x);
      // A function of the update count alone: a resume restores the count, so the schedule continues exactly.
      setLearningRate(opt, mapLearningRate(lr, warmup, updates + 1));
      let parts: ReturnType<typeof mapLoss> | null = null;
      const total = opt.minimize(() => {
        parts = mapLoss(net.apply(input, { training: true }) as tf.Tensor4D, targets, recipe.loss);
        // Kept past minimize's tidy, to be reported.
        tf.keep(parts.focal); tf.keep(parts.dice); tf.keep(parts.mil);
        return parts.total;
      }, true) as tf.Scalar;
      const vals = await Promise.all([total, parts!.focal, parts!.dice, parts!.mil].map(async (t) => (await t.data())[0]));
      [total, parts!.focal, parts!.dice, parts!.mil, x, input, ...Object.values(targets)].forEach((t) => t.dispose());
      if (!vals.every(Number.isFinite)) throw new InputError(`the defect map's training diverged at epoch ${epoch}: loss ${vals[0]}; start again with a lower --lr (now ${cfg.lr}; the map's rate is ${recipe.lrFactor} x --lr)`);
      sums.total += vals[0]; sums.focal += vals[1]; sums.dice += vals[2]; sums.mil += vals[3];
      steps++; updates++;
      if (steps % 10 === 0) hooks.emit({ type: 'step', epoch, step: steps, stepsPerEpoch, losses: { map: vals[0] }, imgPerSec: ((steps - firstStep) * cfg.batch) / Math.max(1e-3, (Date.now() - te) / 1000), etaSec: Math.max(0, (m.deadline - Date.now()) / 1000) });
      await new Promise((r) => setImmediate(r));
    }
    if (stoppedBy === 'signal') {
      // The exact state to resume; train-map.ts then writes the best epoch so far as the model.
      await save(epoch - 1, steps > 0 ? { step: steps, sums, seconds: (Date.now() - te) / 1000 } : undefined);
      hooks.emit({ type: 'checkpoint', path: m.ckpt, epoch: epoch - 1, ...(steps > 0 ? { step: steps } : {}), reason: 'signal' });
      stopPoint = { epoch: epoch - 1, step: steps };
      break;
    }
    if (steps === 0) break;
    const ev = val ? await evaluateTiles(generator, net, val, H, W, C, recipe.loss) : await evaluateValidationPhotos(generator, net, d, m.shape);
    const seconds = (Date.now() - te) / 1000;
    const losses = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / steps]));
    history.push({ epoch, steps, updates, seconds, elapsed: m.elapsed(), losses, valLoss: ev.loss, valPixelAuroc: ev.pixelAuroc, valTileAuroc: ev.tileAuroc, valSelect: ev.select });
    // NaN: no validation photo of one side (bags only), nothing to choose by: the latest epoch is kept.
    if (!best || ev.select > best.select || Number.isNaN(ev.select)) {
      best?.weights.forEach((t) => t.dispose());
      best = { select: ev.select, epoch, weights: net.getWeights().map((t) => tf.clone(t)) };
    }
    hooks.emit({
      type: 'epoch', stage: 'defect-map', epoch, epochs: cfg.epochs, losses: { ...losses, valLoss: ev.loss, ...(ev.pixelAuroc !== null ? { valPixelAuroc: ev.pixelAuroc } : {}) },
      valAuroc: ev.select, bestValAuroc: best.select, imgPerSec: ((steps - firstStep) * cfg.batch) / seconds, etaSec: Math.max(0, (m.deadline - Date.now()) / 1000), seconds,
    });
    // Each epoch's end is a resume point too (a kill -9 loses at most an epoch).
    await save(epoch);
    hooks.emit({ type: 'checkpoint', path: m.ckpt, epoch, reason: 'epoch' });
  }
  opt.dispose();
  return { net, best, history, updates, init, composition: sampler.composition, stepsPerEpoch, warmup, stoppedBy, stopPoint, mapSeconds: mapSeconds(), batchNorm, architecture };
}
