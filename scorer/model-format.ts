/**
 * The model folder contract: `model.json` + `weights.bin` (tf.io LayersModel format, generator
 * only) and `flawscope.json` (this file's `ModelInfo`). Written by the trainer; read by the
 * scorer, the CLI and the extension. Bump FORMAT_VERSION on any incompatible change.
 */
export const FORMAT_VERSION = 5;
/**
 * Version 2 added photo standardisation, version 3 the mirrored score (`score.flip`), version 4
 * the shifted views (`score.shift`), version 5 overlapping photo tiles (`preprocess.tileStride`);
 * a model is written with the lowest version that holds what it uses, so older Flawscopes keep
 * reading the models they would score the same way.
 */
export function formatVersionFor(info: Pick<ModelInfo, 'preprocess'> & { score?: Partial<ScoreViews> }): number {
  if (info.preprocess?.tileStride !== undefined) return 5;
  if (info.score?.shift === 'pixel') return 4;
  if (info.score?.flip === 'horizontal') return 3;
  return info.preprocess?.standardize ? 2 : 1;
}
export const INFO_FILE = 'flawscope.json';
export const MODEL_FILE = 'model.json';

export type ScoreKind = 'mean' | 'topPatch';
/** Test-time augmentation of the score: 'horizontal' averages the error maps of the image and of its left-right mirror. */
export type FlipMode = 'none' | 'horizontal';
export const FLIP_MODES: readonly FlipMode[] = ['none', 'horizontal'];
/**
 * Test-time shifts of the score: 'pixel' averages the error maps of the image as it is and moved
 * one pixel right, down, and both (each map moved back), so no single alignment with the
 * generator's stride-2 grid decides a pixel's error.
 */
export type ShiftMode = 'none' | 'pixel';
export const SHIFT_MODES: readonly ShiftMode[] = ['none', 'pixel'];

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

/** Checks view names from a flag, an option or flawscope.json; returns the message for the first bad one. */
export function viewsError(v: { flip?: unknown; shift?: unknown }, names: { flip: string; shift: string }): string | null {
  const list = (modes: readonly string[]) => modes.map((m) => `"${m}"`).join(' or ');
  if (v.flip !== undefined && !FLIP_MODES.includes(v.flip as FlipMode)) return `${names.flip} must be ${list(FLIP_MODES)}, got ${JSON.stringify(v.flip)}`;
  if (v.shift !== undefined && !SHIFT_MODES.includes(v.shift as ShiftMode)) return `${names.shift} must be ${list(SHIFT_MODES)}, got ${JSON.stringify(v.shift)}`;
  return null;
}

export interface PatchSpec {
  /** Patch side in model-input pixels (Table 3: 16 at 128 px, scaled with the image size). */
  size: number;
  stride: number;
  /** How many of the largest patch means are averaged. */
  topN: number;
}

export interface Preprocess {
  mode: 'resize' | 'tile';
  scale: number;
  /** Each photo standardised to this mean and standard deviation first (scorer/preprocess.ts). */
  standardize?: { mean: number; std: number };
  /**
   * 'tile' only: tiles start this many model pixels apart (absent = the model size: side by side).
   * Smaller overlaps them and each pixel's error is the mean over the tiles that saw it, so a
   * defect is seen at several places in the generator's stride-16 grid, not at one.
   */
  tileStride?: number;
}

export interface ModelInfo {
  formatVersion: number;
  input: { height: number; width: number; channels: 1 | 3 };
  /** pixel/127.5 - 1: the generator ends in tanh, so inputs live in [-1, 1]. */
  normalization: { scale: number; offset: number };
  /** `flip` and `shift` absent = 'none' (the paper's score). */
  score: { kind: ScoreKind; patch: PatchSpec } & Partial<ScoreViews>;
  /**
   * How training saw images, so scoring sees them the same way. 'resize': whole images squeezed
   * to the model input. 'tile': model-size tiles of the image after scaling it by `scale`
   * (model pixels per source pixel; e.g. 64 px patches resized to 32 → 0.5). Absent = 'resize'.
   */
  preprocess?: Preprocess;
  /** Score above which an image is called anomalous (how it was chosen: `thresholdRule`). */
  threshold: number;
  /** How `threshold` was chosen; absent in models written before the rule was recorded (F1-optimal on validation). */
  thresholdRule?: ThresholdRule;
  /** Earlier thresholds of this model, oldest first, each with its rule: `flawscope calibrate` keeps what it replaces. */
  thresholdHistory?: ThresholdHistoryEntry[];
  /** Score statistics of the normal validation images. */
  normalStats: { mean: number; std: number; p95: number; p99: number; count: number };
  dataset: Record<string, unknown>;
  config: Record<string, unknown>;
  metrics: Record<string, number | null>;
  backend: string;
  createdAt: string;
  trainingSeconds: number;
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

/** Validate parsed flawscope.json; throws with the field that is wrong. */
export function validateModelInfo(raw: unknown, where = INFO_FILE): ModelInfo {
  const fail = (m: string): never => {
    throw new Error(`${where}: ${m}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('is not a JSON object');
  const o = raw as Record<string, any>;
  if (typeof o.formatVersion !== 'number') fail('missing "formatVersion"');
  if (o.formatVersion > FORMAT_VERSION)
    fail(`format version ${o.formatVersion} is newer than this Flawscope understands (${FORMAT_VERSION}); update Flawscope`);
  if (o.formatVersion < 1) fail(`unknown format version ${o.formatVersion}`);
  const inp = o.input;
  if (!inp || !Number.isInteger(inp.height) || !Number.isInteger(inp.width) || inp.height < 16 || inp.width < 16)
    fail('"input.height"/"input.width" must be integers ≥ 16');
  if (inp.height % 16 || inp.width % 16) fail('"input" height and width must be multiples of 16');
  if (inp.channels !== 1 && inp.channels !== 3) fail(`"input.channels" must be 1 or 3, got ${inp.channels}`);
  if (!o.normalization || typeof o.normalization.scale !== 'number' || typeof o.normalization.offset !== 'number')
    fail('"normalization" needs numeric "scale" and "offset"');
  if (!o.score || (o.score.kind !== 'mean' && o.score.kind !== 'topPatch')) fail('"score.kind" must be "mean" or "topPatch"');
  const p = o.score.patch;
  if (!p || !(p.size >= 1) || !(p.stride >= 1) || !(p.topN >= 1)) fail('"score.patch" needs size, stride, topN ≥ 1');
  const bad = viewsError(o.score, { flip: '"score.flip"', shift: '"score.shift"' });
  if (bad) fail(bad);
  if (o.preprocess !== undefined) {
    const pp = o.preprocess;
    if (!pp || (pp.mode !== 'resize' && pp.mode !== 'tile')) fail('"preprocess.mode" must be "resize" or "tile"');
    if (!(typeof pp.scale === 'number' && pp.scale > 0 && pp.scale <= 64)) fail('"preprocess.scale" must be a number in (0, 64]');
    const ps = pp.standardize;
    if (ps !== undefined && !(ps && typeof ps.mean === 'number' && ps.mean >= 0 && ps.mean <= 255 && typeof ps.std === 'number' && ps.std > 0 && ps.std <= 255))
      fail('"preprocess.standardize" needs "mean" in [0, 255] and "std" in (0, 255]');
    const ts = pp.tileStride;
    if (ts !== undefined && (pp.mode !== 'tile' || !Number.isInteger(ts) || ts < 1 || ts > Math.min(inp.height, inp.width)))
      fail(`"preprocess.tileStride" must be an integer from 1 to the model size (${inp.width}x${inp.height}) with "mode": "tile", got ${JSON.stringify(ts)}`);
  }
  if (typeof o.threshold !== 'number' || !Number.isFinite(o.threshold)) fail('"threshold" must be a finite number');
  const badRule = thresholdRecordError(o);
  if (badRule) fail(badRule);
  return o as ModelInfo;
}

export const THRESHOLD_METHODS = ['false-alarm-rate', 'defect-rate'] as const;
export type ThresholdMethod = (typeof THRESHOLD_METHODS)[number];

/** How a threshold was chosen, and what it did on the images it was chosen on (trainer/threshold.ts). */
export interface ThresholdRule {
  method: ThresholdMethod;
  /** The false-alarm rate R or the expected defect rate P asked for; in (0, 0.5]. */
  target: number;
  /** Share of the normal images scoring above the threshold. */
  expectedFalseAlarmRate: number;
  /** Share of the anomalies scoring above it; null when there were none. */
  expectedDetectionRate: number | null;
  validationNormals: number;
  validationAnomalies: number;
  /** The images it was chosen on: "validation" (training's held-out split) or the folder `flawscope calibrate` scored. */
  source: string;
  /** ISO date. */
  chosenAt: string;
}

export interface ThresholdHistoryEntry {
  threshold: number;
  /** null: a model from before rules were recorded. */
  rule: ThresholdRule | null;
  /** ISO date. */
  replacedAt: string;
}

/**
 * Checks the optional `thresholdRule` and `thresholdHistory` fields; null when fine or absent
 * (older model folders have neither and stay valid).
 */
export function thresholdRecordError(o: { thresholdRule?: unknown; thresholdHistory?: unknown }): string | null {
  const rate = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
  const count = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;
  const ruleError = (r: unknown, name: string): string | null => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return `"${name}" must be an object`;
    const x = r as Record<string, unknown>;
    if (!THRESHOLD_METHODS.includes(x.method as ThresholdMethod)) return `"${name}.method" must be ${THRESHOLD_METHODS.map((m) => `"${m}"`).join(' or ')}, got ${JSON.stringify(x.method)}`;
    if (!(typeof x.target === 'number' && x.target > 0 && x.target <= 0.5)) return `"${name}.target" must be a number in (0, 0.5], got ${JSON.stringify(x.target)}`;
    if (!rate(x.expectedFalseAlarmRate)) return `"${name}.expectedFalseAlarmRate" must be a number in [0, 1]`;
    if (x.expectedDetectionRate !== null && !rate(x.expectedDetectionRate)) return `"${name}.expectedDetectionRate" must be null or a number in [0, 1]`;
    if (!count(x.validationNormals, 1)) return `"${name}.validationNormals" must be an integer ≥ 1`;
    if (!count(x.validationAnomalies, 0)) return `"${name}.validationAnomalies" must be an integer ≥ 0`;
    if (typeof x.source !== 'string' || typeof x.chosenAt !== 'string') return `"${name}" needs "source" and "chosenAt" strings`;
    return null;
  };
  if (o.thresholdRule !== undefined) {
    const e = ruleError(o.thresholdRule, 'thresholdRule');
    if (e) return e;
  }
  if (o.thresholdHistory !== undefined) {
    if (!Array.isArray(o.thresholdHistory)) return '"thresholdHistory" must be a list';
    for (const [i, h] of o.thresholdHistory.entries()) {
      const name = `thresholdHistory[${i}]`;
      if (typeof h !== 'object' || h === null) return `"${name}" must be an object`;
      if (typeof h.threshold !== 'number' || !Number.isFinite(h.threshold)) return `"${name}.threshold" must be a finite number`;
      if (typeof h.replacedAt !== 'string') return `"${name}.replacedAt" must be a date string`;
      if (h.rule !== null) {
        const e = ruleError(h.rule, `${name}.rule`);
        if (e) return e;
      }
    }
  }
  return null;
}
