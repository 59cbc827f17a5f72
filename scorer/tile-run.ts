/**
 * One scoring call's middle stage: each planned image becomes a Job (its working image, tile grid
 * and the sums its maps collect), every tile of every image runs through the generator (and the
 * defect map) a batch at a time, and each pixel's sums become the mean over the tiles that saw it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ModelInfo, ScoreViews } from './model-format';
import { tileStarts, type WorkPlan } from './work-plan';
import { cutTile, toInputTensor, workingImage } from './preprocess';
import { reconstructWithError, type Reconstructor } from './score';
import type { PixelImage } from './image';
import { meanChroma, pixelStats, type ImageFacts, type PixelStats } from './familiarity';
import type { ScoreOptions } from './result';

export interface Job {
  px: PixelImage;
  work: Uint8Array; // model channels, at ww x wh
  ww: number;
  wh: number;
  tiles: Array<[number, number]>; // [x, y]
  err: Float32Array;
  rec: Float32Array | null;
  /** Summed defect-map probabilities, like `err` (null without a defect map). */
  prob: Float32Array | null;
  cnt: Float32Array;
  /** The photo's own mean and std when the model standardises photos. */
  photo: { mean: number; std: number } | null;
  /** What the familiarity rules need to know about the image. */
  facts: ImageFacts;
  mode: 'tile' | 'resize';
}

/** A planned image: its pixels and what scoring it will cost (work-plan.ts). */
export interface Plan extends WorkPlan { px: PixelImage }

/** The working image, its tiles and empty sums for one planned image. */
export function prepareJob(info: ModelInfo, plan: Plan, opts: ScoreOptions, wantRec: boolean): Job {
  const { height: H, width: W, channels: C } = info.input;
  const { px, sx, sy } = plan;
  const { width: w, height: h } = px;
  const sd = opts.standardize === false ? undefined : info.preprocess?.standardize;
  const mode = opts.mode ?? info.preprocess?.mode ?? 'resize';
  const scale = mode === 'tile' && info.preprocess?.mode === 'tile' ? info.preprocess.scale : 1;
  const { work, ww, wh, photo } = workingImage(px.data, w, h, px.channels, info.input, { mode, scale, standardize: sd });
  if (ww !== plan.ww || wh !== plan.wh) throw new Error(`internal: planned ${plan.ww}x${plan.wh}, worked ${ww}x${wh}`);
  const tiles: Array<[number, number]> = [];
  for (const y of tileStarts(wh, H, sy)) for (const x of tileStarts(ww, W, sx)) tiles.push([x, y]);
  const prob = info.defectMap ? new Float32Array(ww * wh) : null;
  const facts: ImageFacts = { width: w, height: h, channels: px.channels, chroma: meanChroma(px.data, w * h, px.channels), pixels: pixelFacts(info, work, ww, wh, mode) };
  return { px, work, ww, wh, tiles, err: new Float32Array(ww * wh), rec: wantRec ? new Float32Array(ww * wh * C) : null, prob, cnt: new Float32Array(ww * wh), photo, facts, mode };
}

/**
 * Pixel mean and std of the image as the model sees it, as the trainer measured its normal
 * images: the whole working image for 'resize', the medians over side-by-side tiles for 'tile'.
 */
function pixelFacts(info: ModelInfo, work: Uint8Array, ww: number, wh: number, mode: 'tile' | 'resize'): PixelStats {
  const { height: H, width: W, channels: C } = info.input;
  if (mode === 'resize') return pixelStats(work);
  const tile = new Uint8Array(H * W * C), all: PixelStats[] = [];
  for (const y of tileStarts(wh, H, H)) for (const x of tileStarts(ww, W, W)) {
    cutTile(work, ww, x, y, W, H, C, tile, 0);
    all.push(pixelStats(tile));
  }
  const median = (k: keyof PixelStats) => {
    const v = all.map((p) => p[k]).sort((a, b) => a - b);
    return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  return { mean: median('mean'), std: median('std'), midtones: median('midtones') };
}

export interface TileNetworks {
  model: LayersModel;
  defectMap: LayersModel | null;
  batchSize: number;
}

/** Runs every tile of every job, `batchSize` at a time, and leaves each job's maps as per-pixel means. */
export async function runTiles(info: ModelInfo, nets: TileNetworks, jobs: Job[], views: ScoreViews, wantRec: boolean): Promise<void> {
  const { height: H, width: W, channels: C } = info.input;
  const all: Array<[Job, number, number]> = [];
  for (const j of jobs) for (const [x, y] of j.tiles) all.push([j, x, y]);
  const tileLen = H * W * C;
  for (let s = 0; s < all.length; s += nets.batchSize) {
    const chunk = all.slice(s, s + nets.batchSize);
    const buf = new Uint8Array(chunk.length * tileLen);
    chunk.forEach(([j, x, y], k) => {
      const o = k * tileLen;
      cutTile(j.work, j.ww, x, y, W, H, C, buf, o);
    });
    const out = tf.tidy((): { map: tf.Tensor3D; rec?: tf.Tensor4D; prob?: tf.Tensor3D } => {
      const xt = toInputTensor(buf, chunk.length, H, W, C, info.normalization);
      const { map, rec, prob } = reconstructWithError(nets.model as unknown as Reconstructor, xt, views, nets.defectMap as unknown as Reconstructor | null);
      return { map, ...(wantRec ? { rec } : {}), ...(prob ? { prob } : {}) };
    });
    const e = out.map, yRec = out.rec ?? null, pr = out.prob ?? null;
    const [ed, yd, pd] = await Promise.all([
      e.data() as Promise<Float32Array>,
      yRec ? (yRec.data() as Promise<Float32Array>) : null,
      pr ? (pr.data() as Promise<Float32Array>) : null,
    ]);
    e.dispose();
    yRec?.dispose();
    pr?.dispose();
    chunk.forEach(([j, x, y], k) => {
      for (let r = 0; r < H; r++) {
        const rowE = (y + r) * j.ww + x;
        for (let q = 0; q < W; q++) {
          j.err[rowE + q] += ed[k * H * W + r * W + q];
          j.cnt[rowE + q] += 1;
        }
        if (pd && j.prob) for (let q = 0; q < W; q++) j.prob[rowE + q] += pd[k * H * W + r * W + q];
        if (yd && j.rec) {
          const src = k * tileLen + r * W * C;
          for (let q = 0; q < W * C; q++) j.rec[rowE * C + q] += yd[src + q];
        }
      }
    });
  }
  for (const j of jobs) {
    for (let i = 0; i < j.err.length; i++) j.err[i] /= j.cnt[i];
    if (j.prob) for (let i = 0; i < j.prob.length; i++) j.prob[i] /= j.cnt[i];
    if (j.rec) for (let i = 0; i < j.rec.length; i++) j.rec[i] /= j.cnt[(i / C) | 0];
  }
}
