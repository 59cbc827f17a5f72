/**
 * Stage 1 of the defects preset within its share of the time budget: train() has no clock, so
 * its data is cut to what fits, from the generator's measured step time (DEFECTS_PRESET.generatorShare).
 */
import { defaultPatchSpec } from '../../scorer/model-format';
import { toInputTensor } from '../../scorer/preprocess';
import { SubsetImageSet } from '../data/image-set';
import type { TrainingData } from '../data/types';
import { Gan } from '../gan';
import { Rng } from '../rng';
import type { TrainConfig } from '../train';
import { seededPick } from './validate';

/** Seconds per generator step at stage 1's batch, measured on a throwaway GAN (the first step is a warm-up). */
async function generatorStepSeconds(t: TrainingData, c: TrainConfig): Promise<number> {
  const shape = { height: t.normal.height, width: t.normal.width, channels: t.normal.channels };
  const gan = new Gan({ shape, weights: c.weights, patch: defaultPatchSpec(Math.min(shape.height, shape.width)), lr: c.lr, beta1: c.beta1, beta2: c.beta2, seed: c.seed, skips: c.skips });
  const n = Math.min(c.batch, t.normal.count);
  const x = toInputTensor(await t.normal.readBatch(Array.from({ length: n }, (_, i) => i)), n, shape.height, shape.width, shape.channels);
  try {
    gan.step(x, 'normal');
    const t0 = Date.now();
    gan.step(x, 'normal');
    if (t.anomaly) gan.step(x, 'anomaly'); else gan.step(x, 'normal');
    return ((Date.now() - t0) / 2000) * (c.batch / n);
  } finally {
    x.dispose();
    gan.dispose();
  }
}

/** Largest validation set stage 1 scores after each of its epochs (train() scores it twice an epoch). */
const STAGE1_VAL_TILES = 2048;

/**
 * Stage 1's data, cut to a seeded subset when every crop would not fit `seconds` (see
 * DEFECTS_PRESET.generatorShare); its validation (epoch choice and the generator's own
 * threshold) a seeded subset of at most STAGE1_VAL_TILES tiles, defect tiles first.
 */
export async function fitToBudget(t: TrainingData, c: TrainConfig, seconds: number, warn: (m: string) => void, given?: number): Promise<{ data: TrainingData; fraction: number }> {
  const nN = t.normal.count, nA = t.anomaly?.count ?? 0;
  const rng = new Rng(c.seed ^ 0x57a9e1);
  const v = t.validation;
  let validation = v;
  if (v.isAnomaly.length > STAGE1_VAL_TILES) {
    const normals: number[] = [], defects: number[] = [];
    v.isAnomaly.forEach((a, i) => (a ? defects : normals).push(i));
    const nd = Math.min(defects.length, STAGE1_VAL_TILES / 2);
    const keep = [...seededPick(normals.length, STAGE1_VAL_TILES - nd, rng).map((i) => normals[i]), ...seededPick(defects.length, nd, rng).map((i) => defects[i])];
    validation = { images: new SubsetImageSet(v.images, keep), isAnomaly: Uint8Array.from(keep, (i) => v.isAnomaly[i]), className: v.className && keep.map((i) => v.className![i]), source: v.source && keep.map((i) => v.source![i]) };
  }
  // `given`: a resumed stage 1 takes the share its checkpoint recorded (the timing would differ now).
  const perStep = given === undefined ? await generatorStepSeconds(t, c) : NaN;
  // Room for train()'s validation passes and for a busier machine than the measurement saw.
  const steps = Math.floor((0.75 * seconds) / perStep / c.epochs);
  const fit = Math.max(2 * c.batch, steps * c.batch);
  const f = given ?? Math.min(1, fit / (nN + nA));
  // The generator's own test figure is not needed (the map's are reported): train() skips it.
  if (f >= 1) return { data: { ...t, validation, test: null }, fraction: 1 };
  const pick = (n: number) => Array.from(rng.permutation(n).subarray(0, Math.max(1, Math.round(n * f)))).sort((a, b) => a - b);
  if (given === undefined) warn(`stage 1: ${(perStep * 1000).toFixed(0)} ms a generator step, so the generator trains on a seeded ${(100 * f).toFixed(1)} % of the crops (${Math.round(nN * f)} normal + ${nA ? Math.max(1, Math.round(nA * f)) : 0} defect) to fit ${seconds.toFixed(0)} s; the defect map sees every crop`);
  return { data: { ...t, validation, test: null, normal: new SubsetImageSet(t.normal, pick(nN)), anomaly: t.anomaly ? new SubsetImageSet(t.anomaly, pick(nA)) : null }, fraction: f };
}

