/**
 * The Scorer: loads a generator model folder (and its defect map, when it has one) and turns any
 * image into a score, a full-resolution error map (and probability map), a reconstruction and a
 * heat overlay. A call runs in three stages: plan and check the work (work-plan.ts), run the tiles
 * (tile-run.ts), turn the stitched maps into results (image-result.ts). The math is
 * scorer/score.ts and the pixel preprocessing scorer/preprocess.ts — the same code the trainer's
 * evaluation uses.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { viewsError, type ModelInfo, type ScoreViews } from './model-format';
import { checkBatchWork, DEFAULT_WORK_LIMITS, planWork, type WorkLimits } from './work-plan';
import { ScorerError } from './errors';
import { DEFAULT_LIMITS, toPixels, type ImageInput, type ImageLimits } from './image';
import { readModelFolder, toReader, type ModelSource, type ReadOptions } from './loader';
import { selectBackend, type BackendChoice, type BackendName, type BackendOptions } from './backend';
import { blendHeat } from './colormap';
import { buildNetworks, warmUp } from './networks';
import { prepareJob, runTiles, type Plan } from './tile-run';
import { resultsOf } from './image-result';
import { HEAT_LAYERS, type OverlayOptions, type ScoreOptions, type ScoreResult } from './result';

export { DEFAULT_WORK_LIMITS, tileCount, tileStarts, type WorkLimits } from './work-plan';
export { HEAT_LAYERS, normalizeScore } from './result';
export type { HeatLayer, OverlayOptions, ScoreOptions, ScoreResult, TopPatch, Verdict } from './result';

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
    const { model, defectMap } = await buildNetworks(folder, reader, opts);
    const scorer = new Scorer(model, defectMap, folder.info, backend, reason, 0, opts);
    if (opts.warmup !== false) await warmUp(model, defectMap, folder.info.input);
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
    const jobs = plans.map((p, i) => inImage(i, () => prepareJob(this.info, p, opts, wantRec)));

    await runTiles(this.info, { model, defectMap, batchSize: this.batchSize }, jobs, views, wantRec);
    return resultsOf(this.info, jobs, wantRec);
  }

  /** The working size, stride and tile count of one image, checked against the work limits. Reads only the image's size. */
  private plan(img: ImageInput, opts: ScoreOptions, nViews: number): Plan {
    const px = toPixels(img, this.limits);
    return { px, ...planWork(this.info, this.limits, { width: px.width, height: px.height }, opts, nViews, this.networks) };
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

/** Live tfjs tensors (for leak checks: dispose() returns this to its value before load()). */
export function tensorCount(): number {
  return tf.engine().state.numTensors; // works before any backend is initialised, unlike tf.memory()
}
