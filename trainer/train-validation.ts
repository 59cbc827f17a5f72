/**
 * Validation during training: every validation image scored both ways (mean error and top
 * patches), with the views the model will deploy; a non-finite score or loss stops the training
 * as diverged, so a NaN is never ranked or kept as the best epoch.
 */
import { toInputTensor } from '../scorer/preprocess';
import { scoreBatchTensor, type Reconstructor } from '../scorer/score';
import type { PatchSpec, ScoreKind, ScoreViews } from '../scorer/model-format';
import type { ImageSet, LabeledSet } from './data/types';
import { InputError } from './errors';
import type { Gan } from './gan';
import { auroc } from './metrics';
import { DEFAULT_CONFIG, type TrainConfig } from './train-config';

const VAL_BATCH = 256;

export async function scoreSet(gan: Gan, set: ImageSet, kind: ScoreKind, patch: PatchSpec, views: ScoreViews): Promise<Float32Array> {
  const out = new Float32Array(set.count);
  for (let i = 0; i < set.count; i += VAL_BATCH) {
    const idx = Array.from({ length: Math.min(VAL_BATCH, set.count - i) }, (_, k) => i + k);
    const x = toInputTensor(await set.readBatch(idx), idx.length, set.height, set.width, set.channels);
    out.set(await scoreBatchTensor(gan.generator as unknown as Reconstructor, x, kind, patch, views), i);
    x.dispose();
  }
  return out;
}

export async function evaluate(gan: Gan, set: LabeledSet, patch: PatchSpec, views: ScoreViews, epoch: number, cfg: TrainConfig) {
  const mean = await scoreSet(gan, set.images, 'mean', patch, views);
  const top = await scoreSet(gan, set.images, 'topPatch', patch, views);
  for (const xs of [mean, top]) {
    const i = xs.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) throw diverged(`the validation score of image ${i} is ${xs[i]}`, epoch, undefined, cfg);
  }
  return { mean, top, aurocMean: auroc(mean, set.isAnomaly), aurocTop: auroc(top, set.isAnomaly) };
}

/** A training whose numbers left the finite range: no later epoch can recover, and a NaN must never be ranked or kept. */
export function diverged(what: string, epoch: number, step: number | undefined, cfg: TrainConfig): InputError {
  return new InputError(`training diverged at epoch ${epoch}${step !== undefined ? `, step ${step}` : ''}: ${what}. The learning rate (--lr ${cfg.lr}) is likely too high for this data; start again with a lower --lr (default ${DEFAULT_CONFIG.lr}). No model was written`);
}

export function assertFiniteLosses(losses: Record<string, number>, epoch: number, step: number, cfg: TrainConfig): void {
  for (const [k, v] of Object.entries(losses)) if (!Number.isFinite(v)) throw diverged(`the ${k} loss is ${v}`, epoch, step, cfg);
}

