/**
 * What the defect map is initialised from, measured on the batches it will train on: the
 * per-channel mean and standard deviation of its input (x, r, |x - r|), for the input
 * standardisation, and the share of defect pixels, for the output's starting bias
 * (network.ts DefectMapOptions).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { MapBatch } from '../data/map-data';
import { NORMALIZATION } from '../../scorer/preprocess';
import { mapInput } from './evaluate';
import type { MapInputStats } from './network';

export interface MapInit { inputStats: MapInputStats; prior: number }

/** Statistics over `batches` (drawn by the caller, so a training's own sampler and its rule decide what they hold). */
export async function measureMapInit(generator: tfl.LayersModel, batches: MapBatch[], h: number, w: number, c: number): Promise<MapInit> {
  const cin = 3 * c;
  const sum = new Float64Array(cin), sq = new Float64Array(cin);
  let n = 0, defectPixels = 0, pixels = 0;
  for (const b of batches) {
    const f = Float32Array.from(b.pixels, (v) => v * NORMALIZATION.scale + NORMALIZATION.offset);
    const t = tf.tidy(() => mapInput(generator, tf.tensor4d(f, [b.count, h, w, c])));
    const v = await t.data();
    t.dispose();
    for (let i = 0; i < v.length; i++) { const k = i % cin; sum[k] += v[i]; sq[k] += v[i] * v[i]; }
    n += v.length / cin;
    for (const m of b.mask) defectPixels += m;
    pixels += b.mask.length;
  }
  if (!n) throw new Error('measureMapInit: no batches');
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(0, s / n - mean[k] * mean[k])));
  return { inputStats: { mean, std }, prior: Math.max(1e-4, defectPixels / Math.max(1, pixels)) };
}
