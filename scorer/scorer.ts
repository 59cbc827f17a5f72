/**
 * The Scorer: loads a generator model folder (and its defect map, when it has one) and turns any
 * image into a score, a full-resolution error map (and probability map), a reconstruction and a
 * heat overlay. The math is scorer/score.ts and the pixel
 * preprocessing scorer/preprocess.ts — the same code the trainer's evaluation uses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { viewsError, type DefectScoreKind, type FlipMode, type ModelInfo, type ScoreKind, type ScoreViews, type ShiftMode } from './model-format';
import { checkBatchWork, DEFAULT_WORK_LIMITS, patchCount, planWork, tileStarts, type WorkLimits, type WorkPlan } from './work-plan';
import { cutTile, resampleFloat, toInputTensor, toPixelValue, workingImage } from './preprocess';
import { defectImageScore, patchMeans, reconstructWithError, scoreMap, type Reconstructor } from './score';
import { ScorerError, errorText, withTimeout } from './errors';
import { DEFAULT_LIMITS, toPixels, type ImageInput, type ImageLimits, type PixelImage } from './image';
import { readModelFolder, toReader, type ModelFileReader, type ModelSource, type NetworkArtifacts, type ReadOptions } from './loader';
import { selectBackend, type BackendChoice, type BackendName, type BackendOptions } from './backend';
import { blendHeat, type ColormapName } from './colormap';
import { familiarityReasons, meanChroma, pixelStats, type ImageFacts, type PixelStats } from './familiarity';
import { scorePercentile, type ScorePercentile } from './percentile';

/** 'unfamiliar': the image is not the kind the model was trained on (scorer/familiarity.ts), so its score cannot be trusted either way. */
export { DEFAULT_WORK_LIMITS, tileCount, tileStarts, type WorkLimits } from './work-plan';

export type Verdict = 'normal' | 'anomaly' | 'unfamiliar';

export interface LoadOptions extends BackendOptions, ReadOptions {
  backend?: BackendChoice;
  /** Run one inference at load so the first score is fast (default true). */
  warmup?: boolean;
  /** Image size limits (default 50 MP, 32768 px a side) and the work one call may take (DEFAULT_WORK_LIMITS). */
  limits?: Partial<ImageLimits & WorkLimits>;
  /** Tiles per inference batch (default: 16 at 128x128, 64 at 32x32). */
  batchSize?: number;
  /** Time allowed for building the model from its files (default 60 s). */
  loadTimeoutMs?: number;
}

export interface ScoreOptions {
  /** Default: the model's own flawscope.json `preprocess` (absent: 'resize'). 'tile': scale the image by `preprocess.scale` (1 when the model has none), cut it into model-size tiles and stitch; smaller images are enlarged first. 'resize': squeeze the whole image to the model input (as whole-image training does). */
  mode?: 'tile' | 'resize';
  /** Tile stride in pixels (default: the model's `preprocess.tileStride`, else the model size, i.e. no overlap except the last row/column; smaller = overlapping tiles, averaged). */
  stride?: number | { x: number; y: number };
  /** Also return the reconstruction (default true). */
  reconstruction?: boolean;
  /**
   * Standardise each image as a photo when the model's preprocess says so (default true). False
   * for inputs that are already standardised crops of a photo (evaluation sets decoded by the
   * trainer's pipeline), which must not be standardised again one by one.
   */
  standardize?: boolean;
  /** Overrides the model's `score.flip` (for measuring a model with and without the mirrored score). */
  flip?: FlipMode;
  /** Overrides the model's `score.shift` (likewise, for the one-pixel shifts). */
  shift?: ShiftMode;
}

export interface TopPatch { x: number; y: number; w: number; h: number; score: number }

/** Which per-pixel map a heatmap draws: the defect map's probability or the generator's reconstruction error. */
export type HeatLayer = 'probability' | 'error';
export const HEAT_LAYERS: readonly HeatLayer[] = ['probability', 'error'];

export interface ScoreResult {
  /**
   * The image score by the model's own definition: with a defect map, from its probability map by
   * `defectMap.imageScore`; without one, the reconstruction error by `score.kind`.
   */
  score: number;
  /** How `score` was made: 'max' / 'topMean' (from the probability map) or 'mean' / 'topPatch' (from the error map). */
  kind: ScoreKind | DefectScoreKind;
  /** The reconstruction-error score by flawscope.json `score.kind` (equal to `score` without a defect map). */
  reconstructionScore: number;
  /** Both reconstruction-error score definitions: mean L1 and the mean of the top-n patch means. */
  scores: { mean: number; topPatch: number };
  /**
   * 0–1, monotone in score; 0.5 = the model's threshold (score/threshold/2 below it, 1 - threshold/score/2 above).
   * Kept for compatibility: it is not a probability; show `percentile` (describePercentile) instead.
   */
  normalized: number;
  /** score > threshold, whatever the verdict (kept for compatibility). */
  isAnomaly: boolean;
  /** 'unfamiliar' when `reasons` is not empty, else 'anomaly' when score > threshold, else 'normal'. */
  verdict: Verdict;
  /** Why the image is unfamiliar, in words (empty for the other verdicts). */
  reasons: string[];
  /** Where the score falls among the validation normal images' scores (null: the model recorded none). */
  percentile: ScorePercentile | null;
  /** What the familiarity rules measured about the image (its size, channels, chroma, pixel statistics). */
  facts: ImageFacts;
  threshold: number;
  width: number;
  height: number;
  /** Per-pixel L1 error (averaged over channels, in normalised units 0..2), width x height, at the image's own resolution. */
  errorMap: Float32Array;
  /** The defect map's per-pixel probability (0..1), width x height, at the image's own resolution; null when the model has no defect map. */
  probability: Float32Array | null;
  /** The generator's reconstruction at the image's own resolution, model channel count (empty data when not requested). */
  reconstruction: PixelImage & { data: Uint8ClampedArray };
  /** The top-n patches of the reconstruction error's patch score, in image pixels. */
  topPatches: TopPatch[];
  /** Model-size tiles run for this image. */
  tiles: number;
  /** The input pixels (kept for overlay()). */
  image: PixelImage;
}

export interface OverlayOptions {
  colormap?: ColormapName;
  /** Heat opacity 0..1 (default 0.5). */
  alpha?: number;
  /**
   * Values mapped to the colormap's ends. 'model' (default), so colours compare across images:
   * [0, 1] for the probability, [0, 2 x threshold] for the error without a defect map (with one,
   * the threshold is a probability score: the error uses [0, this map's max]); 'image': [0, this
   * map's max]; or explicit.
   */
  range?: 'model' | 'image' | [number, number];
  /** Which map to draw (default: 'probability' when the result has one, else 'error'). */
  layer?: HeatLayer;
}

interface Job {
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
interface Plan extends WorkPlan { px: PixelImage }

/** score → 0..1 with 0.5 at the threshold. */
export function normalizeScore(score: number, threshold: number): number {
  if (!(threshold > 0)) return score > threshold ? 1 : 0;
  if (score <= threshold) return Math.max(0, 0.5 * (score / threshold));
  return Math.min(1, 1 - 0.5 * (threshold / score));
}

export class Scorer {
  readonly info: ModelInfo;
  readonly backend: BackendName;
  /** Why this backend was chosen. */
  readonly backendReason: string;
  /** Milliseconds from load() start to ready (backend + files + build + warm-up). */
  readonly loadMs: number;
  private model: LayersModel | null;
  private defectMap: LayersModel | null;
  private readonly limits: ImageLimits & WorkLimits;
  private readonly batchSize: number;

  private constructor(model: LayersModel, defectMap: LayersModel | null, info: ModelInfo, backend: BackendName, reason: string, loadMs: number, opts: LoadOptions) {
    this.model = model;
    this.defectMap = defectMap;
    this.info = info;
    this.backend = backend;
    this.backendReason = reason;
    this.loadMs = loadMs;
    this.limits = { ...DEFAULT_LIMITS, ...DEFAULT_WORK_LIMITS, ...opts.limits };
    // Default batch: about 16 tiles at 128x128, 64 at 32x32 (kept between 1 and 64).
    const auto = Math.round((16 * 128 * 128) / (info.input.height * info.input.width));
    this.batchSize = Math.max(1, Math.min(64, Math.floor(opts.batchSize ?? auto)));
  }

  /** Loads a model folder; see ModelSource for what `source` can be. Throws ScorerError with a clear message on any bad input. */
  static async load(source: ModelSource, opts: LoadOptions = {}): Promise<Scorer> {
    const t0 = performance.now();
    const reader = toReader(source, opts);
    const [{ backend, reason }, folder] = await Promise.all([selectBackend(opts.backend ?? 'auto', opts), readModelFolder(reader)]);
    const { info, artifacts, inputShape } = folder;
    const want = [info.input.height, info.input.width, info.input.channels];
    if (inputShape.length && (inputShape.length !== 3 || inputShape.some((d, i) => d !== want[i])))
      throw new ScorerError('MODEL_MISMATCH', `model.json's input is ${inputShape.join('x')}, flawscope.json says ${want.join('x')}: the files come from different models`);
    const model = await buildNetwork({ artifacts, inputShape }, 'model.json', reader, opts);
    const ins = model.inputs[0]?.shape ?? [], outs = (model.outputs[0]?.shape ?? []) as number[];
    const ok = (s: (number | null)[]) => s.length === 4 && s[1] === want[0] && s[2] === want[1] && s[3] === want[2];
    if (model.inputs.length !== 1 || model.outputs.length !== 1 || !ok(ins) || !ok(outs)) {
      model.dispose();
      throw new ScorerError('MODEL_MISMATCH', `model maps ${JSON.stringify(ins)} → ${JSON.stringify(outs)}; a Flawscope generator must map [null,${want}] to the same shape`);
    }
    let defectMap: LayersModel | null = null;
    if (folder.defectMap && info.defectMap) {
      const file = info.defectMap.file;
      const dIn = [want[0], want[1], 3 * want[2]], dOut = [want[0], want[1], 1];
      const shapeError = (got: string) =>
        new ScorerError('MODEL_MISMATCH', `${file} (the defect map) in ${reader.describe} ${got}; for this ${want.join('x')} generator it must map [null,${dIn}] (image, reconstruction, difference) to [null,${dOut}] (docs/defect-map.md)`);
      const ds = folder.defectMap.inputShape;
      if (ds.length && (ds.length !== 3 || ds.some((d, i) => d !== dIn[i]))) {
        model.dispose();
        throw shapeError(`takes ${ds.join('x')} inputs`);
      }
      try {
        defectMap = await buildNetwork(folder.defectMap, file, reader, opts);
      } catch (e) {
        model.dispose();
        throw e;
      }
      const di = defectMap.inputs[0]?.shape ?? [], dout = (defectMap.outputs[0]?.shape ?? []) as number[];
      const is = (s: (number | null)[], w: number[]) => s.length === 4 && s[1] === w[0] && s[2] === w[1] && s[3] === w[2];
      if (defectMap.inputs.length !== 1 || defectMap.outputs.length !== 1 || !is(di, dIn) || !is(dout, dOut)) {
        model.dispose();
        defectMap.dispose();
        throw shapeError(`maps ${JSON.stringify(di)} → ${JSON.stringify(dout)}`);
      }
    }
    const scorer = new Scorer(model, defectMap, info, backend, reason, 0, opts);
    if (opts.warmup !== false) {
      const y = tf.tidy(() => {
        const r = reconstructWithError(model as unknown as Reconstructor, tf.zeros([1, want[0], want[1], want[2]]) as tf.Tensor4D, {}, defectMap as unknown as Reconstructor | null);
        return r.prob ?? r.map;
      });
      await y.data();
      y.dispose();
    }
    (scorer as { loadMs: number }).loadMs = performance.now() - t0;
    return scorer;
  }

  get inputSize(): { height: number; width: number; channels: 1 | 3 } {
    return { ...this.info.input };
  }

  get disposed(): boolean {
    return this.model === null;
  }

  /** Whether the model has a defect map: results then carry `probability` and their score comes from it. */
  get hasDefectMap(): boolean {
    return this.info.defectMap !== undefined;
  }

  /** Networks each tile runs through: the generator, and the defect map when there is one. */
  private get networks(): number {
    return this.info.defectMap ? 2 : 1;
  }

  private live(): LayersModel {
    if (!this.model) throw new ScorerError('DISPOSED', 'this Scorer was disposed');
    return this.model;
  }

  /** The generator's raw forward pass on a normalised NHWC batch (for benchmarks and advanced use). Caller disposes. */
  predict(x: tf.Tensor4D): tf.Tensor4D {
    // One pass over the whole batch: predict() would otherwise cut it into batches of 32.
    return this.live().predict(x, { batchSize: Math.max(1, x.shape[0]) }) as tf.Tensor4D;
  }

  async score(image: ImageInput, opts: ScoreOptions = {}): Promise<ScoreResult> {
    return (await this.scoreBatch([image], opts))[0];
  }

  async scoreBatch(images: ImageInput[], opts: ScoreOptions = {}): Promise<ScoreResult[]> {
    const model = this.live();
    const defectMap = this.defectMap;
    const { height: H, width: W, channels: C } = this.info.input;
    const wantRec = opts.reconstruction !== false;
    const views: ScoreViews = { flip: opts.flip ?? this.info.score.flip ?? 'none', shift: opts.shift ?? this.info.score.shift ?? 'none' };
    const bad = viewsError(views, { flip: 'flip', shift: 'shift' });
    if (bad) throw new ScorerError('IMAGE_INVALID', bad);
    const nViews = (views.flip === 'horizontal' ? 2 : 1) * (views.shift === 'pixel' ? 4 : 1);
    const inImage = <T>(i: number, f: () => T): T => {
      try {
        return f();
      } catch (e) {
        if (images.length > 1 && e instanceof ScorerError) throw new ScorerError(e.code, `image ${i}: ${e.message}`);
        throw e;
      }
    };
    // Every image is planned and checked before any of them is converted, resized or run.
    const plans = images.map((img, i) => inImage(i, () => this.plan(img, opts, nViews)));
    if (plans.length > 1) checkBatchWork(this.info, this.limits, plans, nViews, this.networks);
    const jobs = plans.map((p, i) => inImage(i, () => this.prepare(p, opts, wantRec)));

    // Run every tile of every image through the generator, batchSize at a time.
    const all: Array<[Job, number, number]> = [];
    for (const j of jobs) for (const [x, y] of j.tiles) all.push([j, x, y]);
    const tileLen = H * W * C;
    for (let s = 0; s < all.length; s += this.batchSize) {
      const chunk = all.slice(s, s + this.batchSize);
      const buf = new Uint8Array(chunk.length * tileLen);
      chunk.forEach(([j, x, y], k) => {
        const o = k * tileLen;
        cutTile(j.work, j.ww, x, y, W, H, C, buf, o);
      });
      const out = tf.tidy((): { map: tf.Tensor3D; rec?: tf.Tensor4D; prob?: tf.Tensor3D } => {
        const xt = toInputTensor(buf, chunk.length, H, W, C, this.info.normalization);
        const { map, rec, prob } = reconstructWithError(model as unknown as Reconstructor, xt, views, defectMap as unknown as Reconstructor | null);
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

    // Scores on the backend with the shared math, images of equal working size batched together.
    const results: ScoreResult[] = new Array(jobs.length);
    const groups = new Map<string, number[]>();
    jobs.forEach((j, i) => groups.set(`${j.ww}x${j.wh}`, [...(groups.get(`${j.ww}x${j.wh}`) ?? []), i]));
    for (const idx of groups.values()) {
      const { ww, wh } = jobs[idx[0]];
      const flat = new Float32Array(idx.length * ww * wh);
      idx.forEach((ji, k) => flat.set(jobs[ji].err, k * ww * wh));
      const patch = this.info.score.patch;
      const k = Math.min(patch.topN, patchCount(wh, ww, patch));
      const [mean, top, tv, ti] = tf.tidy(() => {
        const map = tf.tensor3d(flat, [idx.length, wh, ww]);
        const pm = patchMeans(map, patch);
        const tk = tf.topk(pm, k);
        return [scoreMap(map, 'mean', patch), scoreMap(map, 'topPatch', patch), tk.values, tk.indices];
      });
      const [md, td, tvd, tid] = await Promise.all([mean.data(), top.data(), tv.data(), ti.data()]);
      tf.dispose([mean, top, tv, ti]);
      idx.forEach((ji, n) => {
        // A NaN compares false with the threshold and would read as "normal": no verdict instead.
        if (!Number.isFinite(md[n]) || !Number.isFinite(td[n]))
          throw new ScorerError('MODEL_CORRUPT', `${jobs.length > 1 ? `image ${ji}: ` : ''}the model gave a non-finite score (mean ${md[n]}, top patches ${td[n]}): its weights or the "normalization" in flawscope.json are broken, so no verdict can be given`);
        const j = jobs[ji];
        const dm = this.info.defectMap;
        const ps = dm && j.prob ? defectImageScore(j.prob, j.ww, j.wh, dm.imageScore) : null;
        if (ps !== null && !Number.isFinite(ps))
          throw new ScorerError('MODEL_CORRUPT', `${jobs.length > 1 ? `image ${ji}: ` : ''}the defect map (${dm!.file}) gave a non-finite probability: its weights are broken, so no verdict can be given`);
        results[ji] = this.finish(j, md[n], td[n], ps, Array.from(tvd.subarray(n * k, (n + 1) * k)), Array.from(tid.subarray(n * k, (n + 1) * k)), wantRec);
      });
    }
    return results;
  }

  /** The working size, stride and tile count of one image, checked against the work limits. Reads only the image's size. */
  private plan(img: ImageInput, opts: ScoreOptions, nViews: number): Plan {
    const px = toPixels(img, this.limits);
    return { px, ...planWork(this.info, this.limits, { width: px.width, height: px.height }, opts, nViews, this.networks) };
  }

  private prepare(plan: Plan, opts: ScoreOptions, wantRec: boolean): Job {
    const { height: H, width: W, channels: C } = this.info.input;
    const { px, sx, sy } = plan;
    const { width: w, height: h } = px;
    const sd = opts.standardize === false ? undefined : this.info.preprocess?.standardize;
    const mode = opts.mode ?? this.info.preprocess?.mode ?? 'resize';
    const scale = mode === 'tile' && this.info.preprocess?.mode === 'tile' ? this.info.preprocess.scale : 1;
    const { work, ww, wh, photo } = workingImage(px.data, w, h, px.channels, this.info.input, { mode, scale, standardize: sd });
    if (ww !== plan.ww || wh !== plan.wh) throw new Error(`internal: planned ${plan.ww}x${plan.wh}, worked ${ww}x${wh}`);
    const tiles: Array<[number, number]> = [];
    for (const y of tileStarts(wh, H, sy)) for (const x of tileStarts(ww, W, sx)) tiles.push([x, y]);
    const prob = this.info.defectMap ? new Float32Array(ww * wh) : null;
    const facts: ImageFacts = { width: w, height: h, channels: px.channels, chroma: meanChroma(px.data, w * h, px.channels), pixels: this.pixelFacts(work, ww, wh, mode) };
    return { px, work, ww, wh, tiles, err: new Float32Array(ww * wh), rec: wantRec ? new Float32Array(ww * wh * C) : null, prob, cnt: new Float32Array(ww * wh), photo, facts, mode };
  }

  /**
   * Pixel mean and std of the image as the model sees it, as the trainer measured its normal
   * images: the whole working image for 'resize', the medians over side-by-side tiles for 'tile'.
   */
  private pixelFacts(work: Uint8Array, ww: number, wh: number, mode: 'tile' | 'resize'): PixelStats {
    const { height: H, width: W, channels: C } = this.info.input;
    if (mode === 'resize') return pixelStats(work, 0, work.length, { width: ww, height: wh, channels: C });
    const tile = new Uint8Array(H * W * C), all: PixelStats[] = [];
    for (const y of tileStarts(wh, H, H)) for (const x of tileStarts(ww, W, W)) {
      cutTile(work, ww, x, y, W, H, C, tile, 0);
      all.push(pixelStats(tile));
    }
    const median = (k: 'mean' | 'std' | 'midtones') => {
      const v = all.map((p) => p[k]).sort((a, b) => a - b);
      return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    };
    return { mean: median('mean'), std: median('std'), midtones: median('midtones') };
  }

  /** `probScore`: the image score from the probability map (null without a defect map). */
  private finish(j: Job, mean: number, top: number, probScore: number | null, topVals: number[], topIdx: number[], wantRec: boolean): ScoreResult {
    const { width: w, height: h } = j.px;
    const C = this.info.input.channels;
    const patch = this.info.score.patch;
    const size = Math.min(patch.size, j.wh, j.ww);
    const cols = Math.floor((j.ww - size) / patch.stride) + 1;
    const fx = w / j.ww, fy = h / j.wh;
    const topPatches = topIdx.map((pi, n) => {
      const r = Math.floor(pi / cols), c = pi % cols;
      const x0 = Math.min(w - 1, Math.floor(c * patch.stride * fx)), y0 = Math.min(h - 1, Math.floor(r * patch.stride * fy));
      const x1 = Math.min(w, Math.max(x0 + 1, Math.ceil((c * patch.stride + size) * fx))), y1 = Math.min(h, Math.max(y0 + 1, Math.ceil((r * patch.stride + size) * fy)));
      return { x: x0, y: y0, w: x1 - x0, h: y1 - y0, score: topVals[n] };
    });
    const err = j.ww === w && j.wh === h ? j.err : resampleFloat(j.err, j.ww, j.wh, 1, w, h);
    const probability = j.prob && (j.ww === w && j.wh === h ? j.prob : resampleFloat(j.prob, j.ww, j.wh, 1, w, h));
    let rec = new Uint8ClampedArray(0);
    if (wantRec && j.rec) {
      const rf = j.ww === w && j.wh === h ? j.rec : resampleFloat(j.rec, j.ww, j.wh, C, w, h);
      rec = new Uint8ClampedArray(rf.length);
      const sd = this.info.preprocess?.standardize;
      if (sd && j.photo) {
        // Drawn at the photo's own exposure, not the standardised one the model saw.
        const { scale, offset } = this.info.normalization, g = j.photo.std / sd.std;
        for (let i = 0; i < rf.length; i++) rec[i] = Math.round(j.photo.mean + ((rf[i] - offset) / scale - sd.mean) * g);
      } else for (let i = 0; i < rf.length; i++) rec[i] = toPixelValue(rf[i], this.info.normalization);
    }
    const recKind = this.info.score.kind;
    const reconstructionScore = recKind === 'mean' ? mean : top;
    const dm = this.info.defectMap;
    const [score, kind] = dm && probScore !== null ? [probScore, dm.imageScore.kind] : [reconstructionScore, recKind];
    const reasons = familiarityReasons(this.info, j.facts, score, j.mode);
    return {
      score, kind, reconstructionScore, scores: { mean, topPatch: top },
      normalized: normalizeScore(score, this.info.threshold),
      isAnomaly: score > this.info.threshold,
      verdict: reasons.length ? 'unfamiliar' : score > this.info.threshold ? 'anomaly' : 'normal',
      reasons,
      percentile: scorePercentile(score, this.info.normalStats),
      facts: j.facts,
      threshold: this.info.threshold,
      width: w, height: h, errorMap: err, probability,
      reconstruction: { data: rec, width: w, height: h, channels: C },
      topPatches, tiles: j.tiles.length, image: j.px,
    };
  }

  /** RGBA pixels (width x height x 4) of the heat of one layer (probability or error) blended over the input image. */
  overlay(result: ScoreResult, opts: OverlayOptions = {}): Uint8ClampedArray {
    const layer = opts.layer ?? (result.probability ? 'probability' : 'error');
    if (!HEAT_LAYERS.includes(layer)) throw new ScorerError('IMAGE_INVALID', `layer must be "probability" or "error", got ${JSON.stringify(layer)}`);
    const map = layer === 'probability' ? result.probability : result.errorMap;
    if (!map) throw new ScorerError('IMAGE_INVALID', 'this result has no probability layer: the model has no defect map (draw the "error" layer)');
    const range = opts.range ?? 'model';
    let lo = 0, hi: number;
    // The threshold is in the units of the image score: error units only without a defect map.
    const thresholdRange = layer === 'error' && !this.info.defectMap && this.info.threshold > 0;
    if (Array.isArray(range)) [lo, hi] = range;
    else if (range === 'model' && layer === 'probability') hi = 1;
    else if (range === 'image' || !thresholdRange) {
      hi = 0;
      for (let i = 0; i < map.length; i++) if (map[i] > hi) hi = map[i];
    } else hi = 2 * this.info.threshold;
    return blendHeat(result.image, map, lo, hi, opts.colormap ?? 'turbo', opts.alpha ?? 0.5);
  }

  /** overlay() as an ImageData (browser only). */
  overlayImageData(result: ScoreResult, opts: OverlayOptions = {}): ImageData {
    return new ImageData(this.overlay(result, opts) as Uint8ClampedArray<ArrayBuffer>, result.width, result.height);
  }

  /** Frees the model's tensors. The tfjs backend itself stays active for other users. */
  dispose(): void {
    this.model?.dispose();
    this.defectMap?.dispose();
    this.model = null;
    this.defectMap = null;
  }
}

/** Builds one network of the folder; a build failure names `file`. */
async function buildNetwork(net: NetworkArtifacts, file: string, reader: ModelFileReader, opts: LoadOptions): Promise<LayersModel> {
  try {
    return await withTimeout(loadLayersModel(tf.io.fromMemory(net.artifacts), { strict: true }), opts.loadTimeoutMs ?? 60000, `building ${file}`);
  } catch (e) {
    if (e instanceof ScorerError) throw e;
    const m = errorText(e);
    const code = /shape|mismatch|expected|weight/i.test(m) ? 'MODEL_MISMATCH' : 'MODEL_CORRUPT';
    throw new ScorerError(code, `${file} in ${reader.describe} could not be built${code === 'MODEL_MISMATCH' ? ' with its weights' : ''}: ${m}`, { cause: e });
  }
}

/** Live tfjs tensors (for leak checks: dispose() returns this to its value before load()). */
export function tensorCount(): number {
  return tf.engine().state.numTensors; // works before any backend is initialised, unlike tf.memory()
}
