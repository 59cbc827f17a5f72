/**
 * The Scorer's public types: the options of one scoring call, what it returns per image, and the
 * options of a heat overlay.
 */
import type { ColormapName } from './colormap';
import type { ImageFacts } from './familiarity';
import type { PixelImage } from './image';
import type { DefectScoreKind, FlipMode, ScoreKind, ShiftMode } from './model-format';
import type { ScorePercentile } from './percentile';

/** 'unfamiliar': the image is not the kind the model was trained on (scorer/familiarity.ts), so its score cannot be trusted either way. */
export type Verdict = 'normal' | 'anomaly' | 'unfamiliar';

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

/** score → 0..1 with 0.5 at the threshold. */
export function normalizeScore(score: number, threshold: number): number {
  if (!(threshold > 0)) return score > threshold ? 1 : 0;
  if (score <= threshold) return Math.max(0, 0.5 * (score / threshold));
  return Math.min(1, 1 - 0.5 * (threshold / score));
}
