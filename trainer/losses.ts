/**
 * Paper §3.4: the discriminator loss and the six generator losses, as pure tensor functions.
 * Tensors are NHWC. Every function returns a scalar.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's main (CJS) bundle registers no gradients; tfjs-layers registers all of them on
// import, in both its CJS and ESM builds. (The deep import tfjs-core/dist/register_all_gradients
// is ESM-only and fails under Node's require.)
import '@tensorflow/tfjs-layers';
import { patchMeans } from '../scorer/score';
import type { CustomGradientFunc } from '@tensorflow/tfjs-core/dist/engine';
import type { PatchSpec } from '../scorer/model-format';
import type { LossWeights } from './setting-values';

/** Eq. 1, LSGAN: mean (D(x) − b)² + mean (D(G(x)) − a)², b = 1 (real), a = 0 (fake). */
export function discriminatorLoss(dReal: tf.Tensor, dFake: tf.Tensor, real = 1, fake = 0): tf.Scalar {
  return tf.tidy(() => tf.add(tf.mean(tf.square(tf.sub(dReal, real))), tf.mean(tf.square(tf.sub(dFake, fake)))) as tf.Scalar);
}

/** Eq. 2: mean |x − G(x)|. */
export function reconstructionLoss(x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(x, y))) as tf.Scalar);
}

/**
 * Eq. 3: the per-pixel L1 map (channel mean) cut into patches; mean of the n largest patch means,
 * averaged over the batch. Shares the patch definition with the top-patch score.
 */
export function patchLoss(x: tf.Tensor4D, y: tf.Tensor4D, patch: PatchSpec): tf.Scalar {
  return tf.tidy(() => {
    const map = tf.mean(tf.abs(tf.sub(x, y)), 3) as tf.Tensor3D;
    const means = patchMeans(map, patch);
    return meanOfTopK(means, Math.min(patch.topN, means.shape[1]));
  });
}

/**
 * Mean of the k largest entries of each row, averaged over rows. TopK has no gradient in tfjs,
 * so the gradient is written out: dy / (rows·k) at each selected entry, 0 elsewhere.
 */
export function meanOfTopK(m: tf.Tensor2D, k: number): tf.Scalar {
  const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const { values, indices } = tf.topk(x as tf.Tensor2D, k);
    save([indices]);
    return {
      value: tf.mean(values) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [rows, cols] = x.shape as [number, number];
        // dy/(rows·k) scattered to the picked (row, column) pairs: one small scatter instead of a
        // [rows, k, cols] one-hot summed over k (15 ms a step on the cpu backend).
        const idx = saved[0] as tf.Tensor2D;
        const rowIds = tf.tile(tf.reshape(tf.range(0, rows, 1, 'int32'), [rows, 1]), [1, k]);
        const pairs = tf.reshape(tf.stack([rowIds, idx], 2), [rows * k, 2]);
        const share = tf.broadcastTo(tf.reshape(tf.div(dy, rows * k), [1]), [rows * k]);
        return tf.scatterND(pairs, share, [rows, cols]);
      },
    };
  }) as unknown as CustomGradientFunc<tf.Scalar>);
  return f(m) as tf.Scalar;
}

/** Eq. 4: mean |G_E(x) − G_E(G(x))|. */
export function latentLoss(zx: tf.Tensor, zy: tf.Tensor): tf.Scalar {
  return reconstructionLoss(zx, zy);
}

/** Eq. 6: the generator wants D_normal to call its reconstructions real: mean (D_n(G(x)) − 1)². */
export function normalAdversarialLoss(dFake: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(dFake, 1))) as tf.Scalar);
}

/** Eq. 7: reconstructions of anomalies should not look like anomalies: mean (D_a(G(x)) − 0)². */
export function anomalyAdversarialLoss(dFake: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(dFake)) as tf.Scalar);
}

/**
 * Eq. 8, ABC: −log(1 − exp(−L1_i)) per anomaly image, then the batch mean. It pushes the
 * reconstruction error of anomalies up.
 */
export function abcLoss(x: tf.Tensor4D, y: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(abcOfL1(tf.mean(tf.abs(tf.sub(x, y)), [1, 2, 3]) as tf.Tensor1D)) as tf.Scalar);
}

/**
 * f(l) = −log(1 − e^−l) elementwise, with a hand-written gradient f'(l) = −1 / (e^l − 1).
 * Float32 `1 − exp(−l)` cancels for small l, so below 1e-3 both use their series
 * (1 − e^−l ≈ l − l²/2, e^l − 1 ≈ l + l²/2); l is floored at 1e-6 so f stays finite at l = 0.
 * For large l, f → e^−l → 0 and f' → −0: no NaN or ∞ at either end.
 */
export function abcOfL1(l1: tf.Tensor1D): tf.Tensor1D {
  const f = tf.customGrad(((lRaw: tf.Tensor, save: tf.GradSaveFunc) => {
    const l = tf.maximum(lRaw, 1e-6);
    const small = tf.less(l, 1e-3);
    const half = tf.div(tf.square(l), 2);
    const oneMinusExp = tf.where(small, tf.sub(l, half), tf.sub(1, tf.exp(tf.neg(l))));
    const expm1 = tf.where(small, tf.add(l, half), tf.sub(tf.exp(l), 1));
    save([expm1]);
    return {
      value: tf.neg(tf.log(oneMinusExp)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.div(tf.neg(dy), saved[0]),
    };
  }) as unknown as CustomGradientFunc<tf.Tensor>);
  return f(l1) as tf.Tensor1D;
}

export { PAPER_WEIGHTS, type LossWeights } from './setting-values';

export const NORMAL_GROUP = ['recon', 'patch', 'latent', 'normalAdv'] as const;
export const ANOMALY_GROUP = ['abc', 'anomalyAdv'] as const;

/** Σ w_i · L_i over the given named losses. */
export function weightedSum(losses: Partial<Record<keyof LossWeights, tf.Scalar>>, w: LossWeights): tf.Scalar {
  return tf.tidy(() => {
    let total = tf.scalar(0);
    for (const [k, v] of Object.entries(losses) as [keyof LossWeights, tf.Scalar][]) total = tf.add(total, tf.mul(v, w[k]));
    return total as tf.Scalar;
  });
}
