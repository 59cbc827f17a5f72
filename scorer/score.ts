/**
 * The scoring math, once: error map = per-pixel L1 between input and reconstruction, averaged over
 * channels; image score = its mean ('mean') or the mean of the top-n patch means ('topPatch', the
 * patch-loss idea of paper Eq. 3). Training's validation, the CLI, the webview and the web page
 * all call these functions.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FlipMode, PatchSpec, ScoreKind } from './model-format';

/** |x - y| averaged over channels: [N,H,W,C] x2 → [N,H,W]. */
export function errorMap(x: tf.Tensor4D, y: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(x, y)), 3) as tf.Tensor3D);
}

/** Mean error of every patch (size, stride; 'valid' windows, at least one): [N,H,W] → [N,P]. */
export function patchMeans(map: tf.Tensor3D, patch: PatchSpec): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, h, w] = map.shape;
    const size = Math.min(patch.size, h, w);
    const pooled = tf.avgPool(tf.reshape(map, [n, h, w, 1]) as tf.Tensor4D, size, patch.stride, 'valid');
    return tf.reshape(pooled, [n, -1]) as tf.Tensor2D;
  });
}

/** Mean of the n largest patch means per image: [N,H,W] → [N]. */
export function topPatchScore(map: tf.Tensor3D, patch: PatchSpec): tf.Tensor1D {
  return tf.tidy(() => {
    const means = patchMeans(map, patch);
    const k = Math.min(patch.topN, means.shape[1]);
    return tf.mean(tf.topk(means, k).values, 1) as tf.Tensor1D;
  });
}

/** Image scores from an error map: [N,H,W] → [N]. */
export function scoreMap(map: tf.Tensor3D, kind: ScoreKind, patch: PatchSpec): tf.Tensor1D {
  return tf.tidy(() => (kind === 'mean' ? (tf.mean(map, [1, 2]) as tf.Tensor1D) : topPatchScore(map, patch)));
}

export interface Reconstructor {
  /** A tfjs-layers model fits: `batchSize` keeps predict() from cutting the batch into 32s. */
  predict(x: tf.Tensor4D, opts?: { batchSize?: number }): tf.Tensor4D;
}

/**
 * The generator's error map and reconstruction of a batch. With flip 'horizontal' (test-time
 * augmentation) each is the mean of the batch's own and of its left-right mirror's, mirrored
 * back: an image and its mirror then score alike, and one reconstruction's quirks weigh half.
 */
export function reconstructWithError(gen: Reconstructor, x: tf.Tensor4D, flip: FlipMode = 'none'): { map: tf.Tensor3D; rec: tf.Tensor4D } {
  return tf.tidy(() => {
    const batchSize = Math.max(1, x.shape[0]);
    const y = gen.predict(x, { batchSize });
    if (flip === 'none') return { map: errorMap(x, y), rec: y };
    const xm = tf.reverse(x, 2);
    const ym = gen.predict(xm, { batchSize });
    const map = tf.mul(tf.add(errorMap(x, y), tf.reverse(errorMap(xm, ym), 2)), 0.5) as tf.Tensor3D;
    return { map, rec: tf.mul(tf.add(y, tf.reverse(ym, 2)), 0.5) as tf.Tensor4D };
  });
}

/** Scores a batch of preprocessed inputs with a generator: [N,H,W,C] → Float32Array(N). */
export async function scoreBatchTensor(gen: Reconstructor, x: tf.Tensor4D, kind: ScoreKind, patch: PatchSpec, flip: FlipMode = 'none'): Promise<Float32Array> {
  const s = tf.tidy(() => scoreMap(reconstructWithError(gen, x, flip).map, kind, patch));
  const out = (await s.data()) as Float32Array;
  s.dispose();
  return out;
}
