/**
 * The defect map's figures, in the trainer's own code (the scorers implement the same contract,
 * docs/defect-map.md): probability maps of tiles and of whole photos (the scorer's tile grid,
 * overlapping tiles averaged), the image-score rules, and pixel AUROC.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { decodeFull } from '../data/decode';
import { readMask } from '../data/patches';
import { NORMALIZATION, workingImage } from '../../scorer/preprocess';
import { tileStarts } from '../../scorer/scorer';
import { defectImageScore } from '../../scorer/score';
import type { DefectImageScore, Preprocess } from '../../scorer/model-format';

export type ImageScoreRule = DefectImageScore;

/** The rules validation chooses among (docs/defect-map.md): a box mean then the max, or the mean of the top share. */
export const IMAGE_SCORE_RULES: readonly ImageScoreRule[] = [
  { kind: 'max', smooth: 1 }, { kind: 'max', smooth: 3 }, { kind: 'max', smooth: 5 }, { kind: 'max', smooth: 9 },
  { kind: 'topMean', fraction: 0.001 }, { kind: 'topMean', fraction: 0.005 }, { kind: 'topMean', fraction: 0.01 }, { kind: 'topMean', fraction: 0.05 },
];

export const ruleName = (r: ImageScoreRule): string => (r.kind === 'max' ? `max k=${r.smooth}` : `topMean f=${r.fraction}`);

/** The rule with the highest AUROC in `byRule` (keyed by ruleName; ties: the first in IMAGE_SCORE_RULES), `fallback` when none has one. */
export function bestRuleBy(byRule: Record<string, number | null>, fallback: ImageScoreRule): ImageScoreRule {
  let rule = fallback, bestA = -1;
  for (const r of IMAGE_SCORE_RULES) { const a = byRule[ruleName(r)] ?? -1; if (a > bestA) { bestA = a; rule = r; } }
  return rule;
}

/**
 * A probability map's image score: the scorers' own function (scorer/score.ts defectImageScore:
 * `max` over k x k windows wholly inside the map, `topMean` of the max(1, round(f · n)) highest),
 * so the threshold and normalStats chosen here are exactly what a scorer will compare.
 */
export function imageScore(map: Float32Array, w: number, h: number, rule: ImageScoreRule): number {
  return defectImageScore(map, w, h, rule);
}

/** Pixel AUROC from histograms of probabilities in [0, 1] (BINS bins; ties within a bin count half). */
export const BINS = 65536;
export class PixelRoc {
  readonly pos = new Float64Array(BINS);
  readonly neg = new Float64Array(BINS);
  add(map: ArrayLike<number>, mask: ArrayLike<number>): void {
    for (let i = 0; i < map.length; i++) {
      const b = Math.min(BINS - 1, Math.max(0, Math.floor(map[i] * BINS)));
      if (mask[i]) this.pos[b]++; else this.neg[b]++;
    }
  }
  auroc(): number {
    let P = 0, N = 0;
    for (let b = 0; b < BINS; b++) { P += this.pos[b]; N += this.neg[b]; }
    if (!P || !N) return NaN;
    let below = 0, sum = 0;
    for (let b = 0; b < BINS; b++) { sum += this.pos[b] * (below + this.neg[b] / 2); below += this.neg[b]; }
    return sum / (P * N);
  }
}

/** The map's input for tiles x (normalised): concat(x, r, |x - r|) with r the generator's reconstruction. */
export function mapInput(generator: tfl.LayersModel, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const r = generator.predict(x) as tf.Tensor4D;
    return tf.concat([x, r, tf.abs(tf.sub(x, r))], 3) as tf.Tensor4D;
  });
}

/** Probability maps of uint8 tiles (NHWC), in batches. */
export async function tileMaps(generator: tfl.LayersModel, map: tfl.LayersModel, pixels: Uint8Array, n: number, h: number, w: number, c: number, batch = 64): Promise<Float32Array> {
  const out = new Float32Array(n * h * w);
  const per = h * w * c;
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    const f = new Float32Array(k * per);
    for (let j = 0; j < f.length; j++) f[j] = pixels[i * per + j] * NORMALIZATION.scale + NORMALIZATION.offset;
    const p = tf.tidy(() => map.predict(mapInput(generator, tf.tensor4d(f, [k, h, w, c]))) as tf.Tensor);
    out.set(await p.data(), i * h * w);
    p.dispose();
  }
  return out;
}

export interface PhotoMap { map: Float32Array; mask: Uint8Array | null; w: number; h: number }

/**
 * A whole photo's probability map, as a scorer makes it: the working image (scale, standardise),
 * tiles at the tile stride with the last one flush with the edge, a pixel's probability the mean
 * over the tiles that cover it. The mask (if any) comes at the working image's size.
 */
export async function photoMap(
  generator: tfl.LayersModel, map: tfl.LayersModel, photo: { source: string; maskPath?: string },
  model: { width: number; height: number; channels: 1 | 3 }, prep: Preprocess, maxPixels?: number,
): Promise<PhotoMap> {
  const r = await photoMapsAt(generator, map, photo, model, prep, [prep.mode === 'tile' ? prep.tileStride ?? model.width : model.width], maxPixels);
  return { map: r.maps[0], mask: r.mask, w: r.w, h: r.h };
}

/**
 * photoMap at several tile strides at once (`maps[i]` at `strides[i]`; 'resize' models ignore
 * them). Each distinct tile goes through the networks once: the whole-tile grid is a subset of the
 * half-tile one (both end flush with the edge), so comparing the two costs no more than the finer.
 */
export async function photoMapsAt(
  generator: tfl.LayersModel, map: tfl.LayersModel, photo: { source: string; maskPath?: string },
  model: { width: number; height: number; channels: 1 | 3 }, prep: Preprocess, strides: readonly number[], maxPixels?: number,
): Promise<{ maps: Float32Array[]; mask: Uint8Array | null; w: number; h: number }> {
  const img = await decodeFull(photo.source, { channels: model.channels, maxPixels });
  const { work, ww, wh } = workingImage(img.data, img.width, img.height, img.channels, model, { mode: prep.mode, scale: prep.scale, standardize: prep.standardize });
  const W = model.width, H = model.height, C = model.channels;
  // Each stride's grid, as indices into one list of distinct tiles.
  const index = new Map<number, number>();
  const tiles: [number, number][] = [];
  const grids = strides.map((stride) => {
    const xs = prep.mode === 'tile' ? tileStarts(ww, W, stride) : [0], ys = prep.mode === 'tile' ? tileStarts(wh, H, stride) : [0];
    const grid: number[] = [];
    for (const y of ys) for (const x of xs) {
      const key = y * ww + x;
      if (!index.has(key)) { index.set(key, tiles.length); tiles.push([x, y]); }
      grid.push(index.get(key)!);
    }
    return grid;
  });
  const px = new Uint8Array(tiles.length * W * H * C);
  tiles.forEach(([x, y], t) => {
    for (let r = 0; r < H; r++) px.set(work.subarray(((y + r) * ww + x) * C, ((y + r) * ww + x + W) * C), (t * H + r) * W * C);
  });
  const probs = await tileMaps(generator, map, px, tiles.length, H, W, C);
  const maps = grids.map((grid) => {
    const sum = new Float32Array(ww * wh), cnt = new Float32Array(ww * wh);
    for (const t of grid) {
      const [x, y] = tiles[t];
      for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) { const d = (y + r) * ww + x + q; sum[d] += probs[(t * H + r) * W + q]; cnt[d]++; }
    }
    for (let i = 0; i < sum.length; i++) sum[i] /= cnt[i];
    return sum;
  });
  let mask: Uint8Array | null = null;
  if (photo.maskPath) {
    const m = await readMask(photo.maskPath, img.width, img.height, maxPixels);
    const mw = workingImage(m, img.width, img.height, 1, { ...model, channels: 1 }, { mode: prep.mode, scale: prep.scale }).work;
    mask = Uint8Array.from(mw, (v) => (v >= 128 ? 1 : 0));
  }
  return { maps, mask, w: ww, h: wh };
}
