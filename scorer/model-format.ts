/**
 * The model folder contract: `model.json` + `weights.bin` (tf.io LayersModel format, generator
 * only), optionally the defect map's `defect-map.json` + `defect-map.bin` (docs/defect-map.md),
 * and `flawscope.json`, whose schema, types and version history are in model-info.ts
 * (docs/model-folder.md). Written by the trainer; read by the scorer, the CLI and the extension.
 * This module adds what is worked out from a ModelInfo.
 */
import { FLIP_MODES, FORMAT_HISTORY, SHIFT_MODES, parseModelInfo, type FlipMode, type ModelInfo, type PatchSpec, type ScoreKind, type ShiftMode } from './model-info';

export {
  DEFECT_MAP_INPUTS, FLIP_MODES, FORMAT_HISTORY, FORMAT_VERSION, INFO_FILE, MAX_DEFECT_SMOOTH, MAX_INPUT_SIDE, MAX_TOP_N, MODEL_FILE,
  SHIFT_MODES, THRESHOLD_METHODS, encodeModelInfo, modelInfoSchema, parseModelInfo, thresholdRecordError,
} from './model-info';
export type {
  DefectImageScore, DefectMapSpec, DefectScoreKind, FlipMode, ModelInfo, PatchSpec, Preprocess, ScoreKind, ShiftMode, ThresholdHistoryEntry,
  ThresholdMethod, ThresholdRule,
} from './model-info';

/** The old name of parseModelInfo, still imported by the extension and the tests. */
export const validateModelInfo = parseModelInfo;

/**
 * The lowest format version that holds what a model uses (FORMAT_HISTORY), so older Flawscopes
 * keep reading the models they would score the same way.
 */
export function formatVersionFor(info: Pick<ModelInfo, 'preprocess'> & { score?: Partial<ScoreViews>; defectMap?: unknown }): number {
  return Math.max(...FORMAT_HISTORY.filter((h) => h.uses(info)).map((h) => h.version));
}

/** The views an image is scored from; absent fields = 'none' (the paper's single view). */
export interface ScoreViews {
  flip: FlipMode;
  shift: ShiftMode;
}

/** How a report or a tooltip says which views a score averages ('' for the paper's single view). */
export function describeViews(v: Partial<ScoreViews>): string {
  const parts = [v.flip === 'horizontal' ? 'the mirror image' : '', v.shift === 'pixel' ? 'the one-pixel shifts' : ''].filter(Boolean);
  return parts.length ? `averaged with ${parts.join(' and ')}` : '';
}

/** A score's kind and views in words, e.g. "mean, averaged with the mirror image". */
export function scoreLabel(s: { kind: ScoreKind } & Partial<ScoreViews>): string {
  return [s.kind, describeViews(s)].filter(Boolean).join(', ');
}

/** What a model's image score is, in words: the defect map's image score when it has one, else scoreLabel. */
export function imageScoreLabel(info: Pick<ModelInfo, 'score' | 'defectMap'>): string {
  const is = info.defectMap?.imageScore;
  if (!is) return scoreLabel(info.score);
  return is.kind === 'max' ? `defect map, max of ${is.smooth}x${is.smooth} box means` : `defect map, mean of the top ${+(is.fraction * 100).toPrecision(4)}%`;
}

/** Checks view names from a flag or an option; returns the message for the first bad one. */
export function viewsError(v: { flip?: unknown; shift?: unknown }, names: { flip: string; shift: string }): string | null {
  const list = (modes: readonly string[]) => modes.map((m) => `"${m}"`).join(' or ');
  if (v.flip !== undefined && !FLIP_MODES.includes(v.flip as FlipMode)) return `${names.flip} must be ${list(FLIP_MODES)}, got ${JSON.stringify(v.flip)}`;
  if (v.shift !== undefined && !SHIFT_MODES.includes(v.shift as ShiftMode)) return `${names.shift} must be ${list(SHIFT_MODES)}, got ${JSON.stringify(v.shift)}`;
  return null;
}

export function defaultPatchSpec(size: number): PatchSpec {
  // Paper: 16 px patches, stride 8, at 128 px. Scale both with the input, at least 2 px.
  const patch = Math.max(2, Math.round((16 * size) / 128));
  return { size: patch, stride: Math.max(1, Math.round(patch / 2)), topN: 3 };
}

/**
 * Tile stride a crop-trained model records when training is not told one: a quarter of the model
 * size (8 px at 32). On Magnetic tile validation photos preferred it to tiles side by side, 16 and
 * 4 px apart (docs/results, "overlapping tiles"); it also keeps tile seams out of the heatmap.
 */
export function defaultTileStride(size: number): number {
  return Math.max(1, Math.round(size / 4));
}

/** How far apart a tile model's photo tiles start, in model pixels: its own setting, else the model size (side by side). */
export function tileStrideOf(info: Pick<ModelInfo, 'input' | 'preprocess'>): number {
  return info.preprocess?.tileStride ?? Math.min(info.input.width, info.input.height);
}
