/**
 * The scoring math, once: error map = per-pixel L1 between input and reconstruction, averaged over
 * channels; image score = its mean ('mean') or the mean of the top-n patch means ('topPatch', the
 * patch-loss idea of paper Eq. 3). Training's validation, the CLI, the webview and the web page
 * all call these functions.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DefectImageScore, PatchSpec, ScoreKind, ScoreViews } from './model-format';

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

/** The batch moved right by dx and down by dy pixels, its first column/row repeated into the gap. */
function shiftBy(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  let t = x;
  if (dx) t = tf.concat([tf.slice(t, [0, 0, 0, 0], [-1, -1, dx, -1]), tf.slice(t, [0, 0, 0, 0], [-1, -1, w - dx, -1])], 2);
  if (dy) t = tf.concat([tf.slice(t, [0, 0, 0, 0], [-1, dy, -1, -1]), tf.slice(t, [0, 0, 0, 0], [-1, h - dy, -1, -1])], 1);
  return t;
}

/** A shifted view's output ([N,H,W] or [N,H,W,C]) moved back; the last dy rows / dx columns, which that view never saw, become 0. */
function shiftBack<T extends tf.Tensor3D | tf.Tensor4D>(t: T, dy: number, dx: number): T {
  if (!dy && !dx) return t;
  const [, h, w] = t.shape;
  const rest = t.shape.slice(3);
  const cut = tf.slice(t, [0, dy, dx, ...rest.map(() => 0)], [-1, h - dy, w - dx, ...rest.map(() => -1)]);
  return tf.pad(cut, [[0, 0], [0, dy], [0, dx], ...rest.map((): [number, number] => [0, 0])]) as T;
}

/** The defect map's input (docs/defect-map.md): x, r and |x - r| concatenated on the channels, [N,H,W,C] x2 → [N,H,W,3C]. */
export function defectMapInput(x: tf.Tensor4D, r: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.concat([x, r, tf.abs(tf.sub(x, r))], 3) as tf.Tensor4D);
}

/** The defect map's per-pixel probability for a view and its reconstruction: [N,H,W,C] x2 → [N,H,W]. */
function defectProbability(defectMap: Reconstructor, v: tf.Tensor4D, y: tf.Tensor4D, batchSize: number): tf.Tensor3D {
  const p = defectMap.predict(defectMapInput(v, y), { batchSize });
  return tf.squeeze(p, [3]) as tf.Tensor3D;
}

/**
 * The generator's error map and reconstruction of a batch, from one or more views of it (test-time
 * augmentation), and with a defect map its probability map. flip 'horizontal': the batch and its
 * left-right mirror. shift 'pixel': the batch as it is and moved one pixel right, down, and both.
 * Each view's maps and reconstruction are moved back onto the input and every pixel takes the mean
 * over the views that saw it, so an image and its mirror score alike and no single
 * reconstruction's quirks decide. The defect map sees each view as the generator did (the moved or
 * mirrored tile and that view's reconstruction), as the contract asks for "the same views".
 */
export function reconstructWithError(
  gen: Reconstructor, x: tf.Tensor4D, views: Partial<ScoreViews> = {}, defectMap: Reconstructor | null = null,
): { map: tf.Tensor3D; rec: tf.Tensor4D; prob: tf.Tensor3D | null } {
  const out = tf.tidy((): { map: tf.Tensor3D; rec: tf.Tensor4D; prob?: tf.Tensor3D } => {
    const batchSize = Math.max(1, x.shape[0]);
    const shifts: [number, number][] = views.shift === 'pixel' ? [[0, 0], [0, 1], [1, 0], [1, 1]] : [[0, 0]];
    const flips = views.flip === 'horizontal' ? [false, true] : [false];
    if (shifts.length * flips.length === 1) {
      const y = gen.predict(x, { batchSize });
      return { map: errorMap(x, y), rec: y, ...(defectMap ? { prob: defectProbability(defectMap, x, y, batchSize) } : {}) };
    }
    const [, h, w] = x.shape;
    const ones = tf.ones([1, h, w]) as tf.Tensor3D;
    let mapSum: tf.Tensor3D | null = null, recSum: tf.Tensor4D | null = null, seen: tf.Tensor3D | null = null, probSum: tf.Tensor3D | null = null;
    for (const [dy, dx] of shifts) {
      for (const mirrored of flips) {
        const shifted = shiftBy(x, dy, dx);
        const v = mirrored ? tf.reverse(shifted, 2) : shifted;
        let y = gen.predict(v, { batchSize });
        let m = errorMap(v, y);
        let p = defectMap ? defectProbability(defectMap, v, y, batchSize) : null;
        if (mirrored) [y, m, p] = [tf.reverse(y, 2), tf.reverse(m, 2), p && tf.reverse(p, 2)];
        [y, m, p] = [shiftBack(y, dy, dx), shiftBack(m, dy, dx), p && shiftBack(p, dy, dx)];
        const s = shiftBack(ones, dy, dx);
        mapSum = mapSum ? (tf.add(mapSum, m) as tf.Tensor3D) : m;
        recSum = recSum ? (tf.add(recSum, y) as tf.Tensor4D) : y;
        if (p) probSum = probSum ? (tf.add(probSum, p) as tf.Tensor3D) : p;
        seen = seen ? (tf.add(seen, s) as tf.Tensor3D) : s;
      }
    }
    return {
      map: tf.div(mapSum!, seen!) as tf.Tensor3D,
      rec: tf.div(recSum!, tf.expandDims(seen!, 3)) as tf.Tensor4D,
      ...(probSum ? { prob: tf.div(probSum, seen!) as tf.Tensor3D } : {}),
    };
  });
  return { map: out.map, rec: out.rec, prob: out.prob ?? null };
}

/**
 * The image score from a probability map (`defectMap.imageScore`, docs/defect-map.md), computed
 * in float64 on the CPU so that every backend and the trainer's validation get the same number
 * from the same map. 'max': the largest mean over k x k windows wholly inside the map (k shrunk to
 * the map's shorter side), from a summed-area table. 'topMean': the mean of the
 * max(1, round(fraction x pixels)) highest values.
 */
export function defectImageScore(map: Float32Array, width: number, height: number, spec: DefectImageScore): number {
  if (map.length !== width * height || !(width > 0 && height > 0)) throw new Error(`probability map has ${map.length} values for ${width}x${height}`);
  // A broken network's NaN would be skipped by the comparisons below and leave a finite score.
  for (let i = 0; i < map.length; i++) if (!Number.isFinite(map[i])) return NaN;
  if (spec.kind === 'topMean') {
    const n = Math.max(1, Math.min(map.length, Math.round(spec.fraction * map.length)));
    const sorted = Float32Array.from(map).sort();
    let sum = 0;
    for (let i = map.length - n; i < map.length; i++) sum += sorted[i];
    return sum / n;
  }
  const k = Math.min(spec.smooth, width, height);
  const W1 = width + 1;
  const sat = new Float64Array(W1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += map[y * width + x];
      sat[(y + 1) * W1 + x + 1] = sat[y * W1 + x + 1] + row;
    }
  }
  let best = -Infinity;
  for (let y = 0; y + k <= height; y++)
    for (let x = 0; x + k <= width; x++) {
      const s = sat[(y + k) * W1 + x + k] - sat[y * W1 + x + k] - sat[(y + k) * W1 + x] + sat[y * W1 + x];
      if (s > best) best = s;
    }
  return best / (k * k);
}

/** Scores a batch of preprocessed inputs with a generator: [N,H,W,C] → Float32Array(N). */
export async function scoreBatchTensor(gen: Reconstructor, x: tf.Tensor4D, kind: ScoreKind, patch: PatchSpec, views: Partial<ScoreViews> = {}): Promise<Float32Array> {
  const s = tf.tidy(() => scoreMap(reconstructWithError(gen, x, views).map, kind, patch));
  const out = (await s.data()) as Float32Array;
  s.dispose();
  return out;
}
