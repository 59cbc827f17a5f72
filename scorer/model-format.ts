/**
 * The model folder contract: `model.json` + `weights.bin` (tf.io LayersModel format, generator
 * only), optionally the defect map's `defect-map.json` + `defect-map.bin` (docs/defect-map.md),
 * and `flawscope.json` (this file's `ModelInfo`). Written by the trainer; read by the scorer, the
 * CLI and the extension. Bump FORMAT_VERSION on any incompatible change.
 */
import { ScorerError } from './errors';
import { PERCENTILES, type TrainingImages } from './familiarity';

export const FORMAT_VERSION = 6;
/**
 * Version 2 added photo standardisation, version 3 the mirrored score (`score.flip`), version 4
 * the shifted views (`score.shift`), version 5 overlapping photo tiles (`preprocess.tileStride`),
 * version 6 the defect map (`defectMap`); a model is written with the lowest version that holds
 * what it uses, so older Flawscopes keep reading the models they would score the same way.
 */
export function formatVersionFor(info: Pick<ModelInfo, 'preprocess'> & { score?: Partial<ScoreViews>; defectMap?: unknown }): number {
  if (info.defectMap !== undefined) return 6;
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

/** What a model's image score is, in words: the defect map's image score when it has one, else scoreLabel. */
export function imageScoreLabel(info: Pick<ModelInfo, 'score' | 'defectMap'>): string {
  const is = info.defectMap?.imageScore;
  if (!is) return scoreLabel(info.score);
  return is.kind === 'max' ? `defect map, max of ${is.smooth}x${is.smooth} box means` : `defect map, mean of the top ${+(is.fraction * 100).toPrecision(4)}%`;
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

/**
 * How the photo's defect-probability map becomes the image score (docs/defect-map.md).
 * 'max': the largest k x k box mean (k = `smooth`, odd, in working-image pixels; only windows
 * wholly inside the map, k shrunk to the map's side when the map is smaller), so one hot pixel
 * alone does not decide. 'topMean': the mean of the max(1, round(fraction x pixels)) highest values.
 */
export type DefectImageScore = { kind: 'max'; smooth: number } | { kind: 'topMean'; fraction: number };
export type DefectScoreKind = DefectImageScore['kind'];
/** The defect map's fixed input order: the tile, the generator's reconstruction, their absolute difference. */
export const DEFECT_MAP_INPUTS = ['image', 'reconstruction', 'difference'] as const;
/** Largest box side of the 'max' image score: a defect map's score is about small flaws. */
export const MAX_DEFECT_SMOOTH = 63;

export interface DefectMapSpec {
  /** The LayersModel's JSON, a plain file name beside flawscope.json (its weights are named inside it). */
  file: string;
  inputs: Array<(typeof DEFECT_MAP_INPUTS)[number]>;
  imageScore: DefectImageScore;
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
  /**
   * The learned defect map (format 6). Present: the image score comes from its probability map by
   * `imageScore`, and `threshold` and `normalStats` refer to that score.
   */
  defectMap?: DefectMapSpec;
  /** Score above which an image is called anomalous (how it was chosen: `thresholdRule`). */
  threshold: number;
  /** How `threshold` was chosen; absent in models written before the rule was recorded (F1-optimal on validation). */
  thresholdRule?: ThresholdRule;
  /** Earlier thresholds of this model, oldest first, each with its rule: `flawscope calibrate` keeps what it replaces. */
  thresholdHistory?: ThresholdHistoryEntry[];
  /**
   * Score statistics of the normal validation images. `quantiles` (absent in older models): their
   * percentiles 0, 1, …, 100 (scorer/percentile.ts turns a score into "more unusual than N % of
   * normal images"; scorer/familiarity.ts checks the score is in their range).
   */
  normalStats: { mean: number; std: number; p95: number; p99: number; count: number; quantiles?: number[] };
  /** What the normal training images were like (scorer/familiarity.ts); absent in older models. */
  trainingImages?: TrainingImages;
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

/**
 * Largest model side flawscope.json may declare. The trainer's sizes go up to 128 (the paper's);
 * above this a single tile's forward pass needs gigabytes, which no image could be worth.
 */
export const MAX_INPUT_SIDE = 1024;
/** Largest `score.patch.topN`: the top patches are reported one by one. */
export const MAX_TOP_N = 1000;

/** PERCENTILES finite numbers, non-decreasing. */
const percentileList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length === PERCENTILES && v.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x >= v[i - 1]));
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 60) + '…' : s;
};

/**
 * Validates parsed flawscope.json. Every field the scorer reads is type- and range-checked, so a
 * hand-edited or hostile file fails here, as INFO_INVALID naming the file and the field, instead
 * of as a TypeError, a tfjs error or a NaN score deep inside scoring. The descriptive fields
 * (statistics, dataset, config, metrics, backend, dates) are checked when present and filled with
 * neutral values when absent, so older and hand-made files keep loading. Returns a copy.
 */
export function validateModelInfo(raw: unknown, where = INFO_FILE): ModelInfo {
  const fail = (m: string): never => {
    throw new ScorerError('INFO_INVALID', `${where}: ${m}`);
  };
  const int = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!isObj(raw)) fail('is not a JSON object');
  const o = raw as Record<string, any>;
  if (typeof o.formatVersion !== 'number') fail('missing "formatVersion"');
  if (o.formatVersion > FORMAT_VERSION)
    fail(`format version ${o.formatVersion} is newer than this Flawscope understands (${FORMAT_VERSION}); update Flawscope`);
  if (!Number.isInteger(o.formatVersion) || o.formatVersion < 1) fail(`unknown format version ${show(o.formatVersion)}`);

  const inp = o.input;
  if (!isObj(inp) || !int(inp.height, 16, MAX_INPUT_SIDE) || !int(inp.width, 16, MAX_INPUT_SIDE))
    fail(`"input.height"/"input.width" must be integers from 16 to ${MAX_INPUT_SIDE}, got ${show(inp?.height)}x${show(inp?.width)}`);
  if (inp.height % 16 || inp.width % 16) fail('"input" height and width must be multiples of 16');
  if (inp.channels !== 1 && inp.channels !== 3) fail(`"input.channels" must be 1 or 3, got ${show(inp.channels)}`);
  const side = Math.min(inp.height, inp.width);

  // The mapping of 0..255 must stay a usable, finite range: scale 0 makes every input the same,
  // ±1e308 overflows to Infinity and the error map to NaN.
  const nz = o.normalization;
  if (!isObj(nz)) fail('"normalization" must be an object with "scale" and "offset"');
  if (!finite(nz.scale) || Math.abs(nz.scale) < 1e-4 || Math.abs(nz.scale) > 10)
    fail(`"normalization.scale" must be a number with 1e-4 ≤ |scale| ≤ 10 (the trainer writes 1/127.5), got ${show(nz.scale)}`);
  if (!finite(nz.offset) || Math.abs(nz.offset) > 1000) fail(`"normalization.offset" must be a number from -1000 to 1000 (the trainer writes -1), got ${show(nz.offset)}`);

  const sc = o.score;
  if (!isObj(sc) || (sc.kind !== 'mean' && sc.kind !== 'topPatch')) fail(`"score.kind" must be "mean" or "topPatch", got ${show(sc?.kind)}`);
  const p = sc.patch;
  if (!isObj(p)) fail('"score.patch" must be an object with "size", "stride" and "topN"');
  if (!int(p.size, 1, side)) fail(`"score.patch.size" must be an integer from 1 to the model size (${side}), got ${show(p.size)}`);
  if (!int(p.stride, 1, side)) fail(`"score.patch.stride" must be an integer from 1 to the model size (${side}), got ${show(p.stride)}`);
  if (!int(p.topN, 1, MAX_TOP_N)) fail(`"score.patch.topN" must be an integer from 1 to ${MAX_TOP_N}, got ${show(p.topN)}`);
  const bad = viewsError(sc, { flip: '"score.flip"', shift: '"score.shift"' });
  if (bad) fail(bad);

  if (o.preprocess !== undefined) {
    const pp = o.preprocess;
    if (!isObj(pp) || (pp.mode !== 'resize' && pp.mode !== 'tile')) fail(`"preprocess.mode" must be "resize" or "tile", got ${show(pp?.mode)}`);
    if (!(typeof pp.scale === 'number' && pp.scale > 0 && pp.scale <= 64)) fail(`"preprocess.scale" must be a number in (0, 64], got ${show(pp.scale)}`);
    const ps = pp.standardize;
    if (ps !== undefined && !(isObj(ps) && finite(ps.mean) && ps.mean >= 0 && ps.mean <= 255 && finite(ps.std) && ps.std > 0 && ps.std <= 255))
      fail(`"preprocess.standardize" needs "mean" in [0, 255] and "std" in (0, 255], got ${show(ps)}`);
    const ts = pp.tileStride;
    if (ts !== undefined && (pp.mode !== 'tile' || !int(ts, 1, side)))
      fail(`"preprocess.tileStride" must be an integer from 1 to the model size (${inp.width}x${inp.height}) with "mode": "tile", got ${JSON.stringify(ts)}`);
  }
  if (o.defectMap !== undefined) {
    const dm = o.defectMap;
    if (!isObj(dm)) fail(`"defectMap" must be an object with "file", "inputs" and "imageScore", got ${show(dm)}`);
    // A bare name: the file is read through the same reader as model.json, and a path would let a
    // hand-edited flawscope.json pick files outside the model folder.
    if (typeof dm.file !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\.json$/.test(dm.file) || dm.file === MODEL_FILE || dm.file === INFO_FILE)
      fail(`"defectMap.file" must be a plain .json file name beside ${INFO_FILE} (e.g. "defect-map.json"), other than ${MODEL_FILE} and ${INFO_FILE}, got ${show(dm.file)}`);
    if (!Array.isArray(dm.inputs) || dm.inputs.length !== DEFECT_MAP_INPUTS.length || dm.inputs.some((v: unknown, i: number) => v !== DEFECT_MAP_INPUTS[i]))
      fail(`"defectMap.inputs" must be ${JSON.stringify(DEFECT_MAP_INPUTS)} (the only input this Flawscope builds), got ${show(dm.inputs)}`);
    const is = dm.imageScore;
    if (!isObj(is) || (is.kind !== 'max' && is.kind !== 'topMean')) fail(`"defectMap.imageScore.kind" must be "max" or "topMean", got ${show(is?.kind)}`);
    if (is.kind === 'max' && !(int(is.smooth, 1, MAX_DEFECT_SMOOTH) && is.smooth % 2 === 1))
      fail(`"defectMap.imageScore.smooth" must be an odd integer from 1 to ${MAX_DEFECT_SMOOTH}, got ${show(is.smooth)}`);
    if (is.kind === 'topMean' && !(finite(is.fraction) && is.fraction > 0 && is.fraction <= 1))
      fail(`"defectMap.imageScore.fraction" must be a number in (0, 1], got ${show(is.fraction)}`);
    if (o.formatVersion < 6) fail(`"defectMap" needs format version 6, the file says ${o.formatVersion}`);
  }
  if (!finite(o.threshold)) fail('"threshold" must be a finite number');
  // Scores are mean absolute errors or probabilities, never negative: a negative threshold would call every image anomalous.
  if (o.threshold < 0) fail(`"threshold" must be ≥ 0, got ${o.threshold}`);

  const ns = o.normalStats;
  if (ns !== undefined && !(isObj(ns) && ['mean', 'std', 'p95', 'p99', 'count'].every((k) => ns[k] === undefined || ns[k] === null || finite(ns[k]))))
    fail('"normalStats" must be an object of numbers (mean, std, p95, p99, count)');
  if (ns?.quantiles !== undefined && !percentileList(ns.quantiles)) fail(`"normalStats.quantiles" must be a list of ${PERCENTILES} finite numbers in increasing order (the percentiles 0..100), got ${show(ns.quantiles)}`);
  const ti = o.trainingImages;
  if (ti !== undefined) {
    if (!isObj(ti)) fail(`"trainingImages" must be an object, got ${show(ti)}`);
    if (!int(ti.count, 1, Number.MAX_SAFE_INTEGER) || !int(ti.sources, 1, Number.MAX_SAFE_INTEGER)) fail(`"trainingImages.count" and "trainingImages.sources" must be integers ≥ 1, got ${show(ti.count)} and ${show(ti.sources)}`);
    if (!(finite(ti.colourShare) && ti.colourShare >= 0 && ti.colourShare <= 1)) fail(`"trainingImages.colourShare" must be a number in [0, 1], got ${show(ti.colourShare)}`);
    for (const [k, lo, hi] of [['width', 1, 1e6], ['height', 1, 1e6], ['aspect', 1e-6, 1e6], ['mean', 0, 255], ['std', 0, 255], ['midtones', 0, 1], ['chroma', 0, 255], ['ink', 0, 1], ['inkWidth', 0, 1], ['inkHeight', 0, 1]] as const) {
      if ((k === 'chroma' || k === 'ink' || k === 'inkWidth' || k === 'inkHeight') && ti[k] === undefined) continue;
      if (!percentileList(ti[k]) || ti[k][0] < lo || ti[k][PERCENTILES - 1] > hi)
        fail(`"trainingImages.${k}" must be a list of ${PERCENTILES} numbers from ${lo} to ${hi} in increasing order (the percentiles 0..100), got ${show(ti[k])}`);
    }
  }
  for (const k of ['dataset', 'config', 'metrics'] as const) if (o[k] !== undefined && !isObj(o[k])) fail(`"${k}" must be an object`);
  if (o.metrics !== undefined) for (const [k, v] of Object.entries(o.metrics)) if (v !== null && !finite(v)) fail(`"metrics.${k}" must be a number or null, got ${show(v)}`);
  for (const k of ['backend', 'createdAt'] as const) if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k].length > 200)) fail(`"${k}" must be a string (at most 200 characters)`);
  if (o.trainingSeconds !== undefined && !(finite(o.trainingSeconds) && o.trainingSeconds >= 0)) fail('"trainingSeconds" must be a number ≥ 0');
  const badRule = thresholdRecordError(o);
  if (badRule) fail(badRule);
  return {
    ...o,
    normalStats: ns ?? { mean: NaN, std: NaN, p95: NaN, p99: NaN, count: 0 },
    dataset: o.dataset ?? {},
    config: o.config ?? {},
    metrics: o.metrics ?? {},
    backend: o.backend ?? 'unknown',
    createdAt: o.createdAt ?? '',
    trainingSeconds: o.trainingSeconds ?? 0,
    ...(o.defectMap !== undefined ? { defectMap: {
      file: o.defectMap.file,
      inputs: [...DEFECT_MAP_INPUTS],
      imageScore: o.defectMap.imageScore.kind === 'max' ? { kind: 'max', smooth: o.defectMap.imageScore.smooth } : { kind: 'topMean', fraction: o.defectMap.imageScore.fraction },
    } } : {}),
  } as ModelInfo;
}

export const THRESHOLD_METHODS = ['false-alarm-rate', 'defect-rate'] as const;
export type ThresholdMethod = (typeof THRESHOLD_METHODS)[number];

/** How a threshold was chosen, and what it did on the images it was chosen on (trainer/threshold.ts). */
export interface ThresholdRule {
  method: ThresholdMethod;
  /** The false-alarm rate R or the expected defect rate P asked for; in (0, 0.5]. */
  target: number;
  /**
   * 'false-alarm-rate' as a tolerance bound (trainer/threshold.ts): R holds for new normal images
   * with this confidence, and `bound` says how it was computed. Absent: R on the images it was
   * chosen on only (the plain rule; older models, and `flawscope calibrate`).
   */
  confidence?: number;
  bound?: 'order-statistic' | 'log-normal' | 'normal' | 'too-few';
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
    if (x.confidence !== undefined && !(typeof x.confidence === 'number' && x.confidence > 0 && x.confidence < 1)) return `"${name}.confidence" must be a number in (0, 1), got ${JSON.stringify(x.confidence)}`;
    if (x.bound !== undefined && !['order-statistic', 'log-normal', 'normal', 'too-few'].includes(x.bound as string)) return `"${name}.bound" must be "order-statistic", "log-normal", "normal" or "too-few", got ${JSON.stringify(x.bound)}`;
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
