/**
 * flawscope.json: one zod schema for the current format (6) with the types inferred from it, and
 * the history of the format, which says what each version added and so how a file of any older
 * version reads as the current one (docs/model-folder.md). Read through `parseModelInfo` by every
 * scorer (loader.ts), the extension and `flawscope calibrate`; written through `encodeModelInfo`
 * by the trainer, so nothing is written that would not load.
 */
import { z } from 'zod';
import { ScorerError } from './errors';
import { PERCENTILES, type TrainingImages } from './familiarity';

export const FORMAT_VERSION = 6;
export const INFO_FILE = 'flawscope.json';
export const MODEL_FILE = 'model.json';

export const FLIP_MODES = ['none', 'horizontal'] as const;
export const SHIFT_MODES = ['none', 'pixel'] as const;
/** The defect map's fixed input order: the tile, the generator's reconstruction, their absolute difference. */
export const DEFECT_MAP_INPUTS = ['image', 'reconstruction', 'difference'] as const;
/** Largest box side of the 'max' image score: a defect map's score is about small flaws. */
export const MAX_DEFECT_SMOOTH = 63;
/**
 * Largest model side flawscope.json may declare. The trainer's sizes go up to 128 (the paper's);
 * above this a single tile's forward pass needs gigabytes, which no image could be worth.
 */
export const MAX_INPUT_SIDE = 1024;
/** Largest `score.patch.topN`: the top patches are reported one by one. */
export const MAX_TOP_N = 1000;
export const THRESHOLD_METHODS = ['false-alarm-rate', 'defect-rate'] as const;

/**
 * The format's history. Every version after 1 only added one optional field whose absence means
 * what the versions before it did, so a file of version N is read as the current format with the
 * later fields absent: that is the whole migration. A file must not use a field newer than the
 * version it states (`uses`): a Flawscope of that version would ignore the field and score the
 * images differently, so such a file is refused rather than read two ways. The trainer writes
 * the lowest version that holds what a model uses (formatVersionFor), so older Flawscopes keep
 * reading the models they would score the same way.
 */
export const FORMAT_HISTORY: ReadonlyArray<{ version: number; field: string; absentMeans: string; uses: (o: LooseInfo) => boolean }> = [
  { version: 1, field: '(the first format)', absentMeans: 'no "preprocess": whole images resized to the model input', uses: () => true },
  { version: 2, field: 'preprocess.standardize', absentMeans: 'photos are not standardised', uses: (o) => !!o.preprocess?.standardize },
  { version: 3, field: 'score.flip', absentMeans: '"none": no mirrored view', uses: (o) => o.score?.flip === 'horizontal' },
  { version: 4, field: 'score.shift', absentMeans: '"none": no shifted views', uses: (o) => o.score?.shift === 'pixel' },
  { version: 5, field: 'preprocess.tileStride', absentMeans: 'tiles side by side (the model size apart)', uses: (o) => o.preprocess?.tileStride !== undefined },
  { version: 6, field: 'defectMap', absentMeans: 'the image score is the generator\'s reconstruction error', uses: (o) => o.defectMap !== undefined },
];
/** What FORMAT_HISTORY's tests look at; any object, typed or not. */
type LooseInfo = { preprocess?: { standardize?: unknown; tileStride?: unknown }; score?: { flip?: unknown; shift?: unknown }; defectMap?: unknown };

const finite = z.number().finite();
const percentileList = (lo: number, hi: number) =>
  z.array(finite.min(lo).max(hi)).length(PERCENTILES).refine((v) => v.every((x, i) => i === 0 || x >= v[i - 1]));
/** Absent or null statistics (hand-made and early files) read as NaN: "not known", never a number. */
const stat = finite.nullish().transform((v) => v ?? NaN);

const patchSpecSchema = z.object({
  /** Patch side in model-input pixels (Table 3: 16 at 128 px, scaled with the image size). */
  size: z.number().int().min(1),
  stride: z.number().int().min(1),
  /** How many of the largest patch means are averaged. */
  topN: z.number().int().min(1).max(MAX_TOP_N),
});

const preprocessSchema = z.object({
  mode: z.enum(['resize', 'tile']),
  scale: z.number().gt(0).max(64),
  /** Each photo standardised to this mean and standard deviation first (scorer/preprocess.ts). */
  standardize: z.object({ mean: finite.min(0).max(255), std: finite.gt(0).max(255) }).optional(),
  /**
   * 'tile' only: tiles start this many model pixels apart (absent = the model size: side by side).
   * Smaller overlaps them and each pixel's error is the mean over the tiles that saw it, so a
   * defect is seen at several places in the generator's stride-16 grid, not at one.
   */
  tileStride: z.number().int().min(1).optional(),
});

/**
 * How the photo's defect-probability map becomes the image score (docs/defect-map.md).
 * 'max': the largest k x k box mean (k = `smooth`, odd, in working-image pixels; only windows
 * wholly inside the map, k shrunk to the map's side when the map is smaller), so one hot pixel
 * alone does not decide. 'topMean': the mean of the max(1, round(fraction x pixels)) highest values.
 */
const defectImageScoreSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('max'), smooth: z.number().int().min(1).max(MAX_DEFECT_SMOOTH).refine((v) => v % 2 === 1) }),
  z.object({ kind: z.literal('topMean'), fraction: finite.gt(0).max(1) }),
]);

const defectMapSchema = z.object({
  // A bare name: the file is read through the same reader as model.json, and a path would let a
  // hand-edited flawscope.json pick files outside the model folder.
  /** The LayersModel's JSON, a plain file name beside flawscope.json (its weights are named inside it). */
  file: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\.json$/).refine((f) => f !== MODEL_FILE && f !== INFO_FILE),
  inputs: z.array(z.enum(DEFECT_MAP_INPUTS)).refine((v) => v.length === DEFECT_MAP_INPUTS.length && v.every((x, i) => x === DEFECT_MAP_INPUTS[i])),
  imageScore: defectImageScoreSchema,
});

const rate = z.number().min(0).max(1);
/** How a threshold was chosen, and what it did on the images it was chosen on (trainer/threshold.ts). */
export const thresholdRuleSchema = z.object({
  method: z.enum(THRESHOLD_METHODS),
  /** The false-alarm rate R or the expected defect rate P asked for; in (0, 0.5]. */
  target: z.number().gt(0).max(0.5),
  /**
   * 'false-alarm-rate' as a tolerance bound (trainer/threshold.ts): R holds for new normal images
   * with this confidence, and `bound` says how it was computed. Absent: R on the images it was
   * chosen on only (the plain rule; older models, and `flawscope calibrate`).
   */
  confidence: z.number().gt(0).lt(1).optional(),
  bound: z.enum(['order-statistic', 'log-normal', 'logit-normal', 'normal', 'highest-normal', 'too-few']).optional(),
  /** Share of the normal images scoring above the threshold. */
  expectedFalseAlarmRate: rate,
  /** Share of the anomalies scoring above it; null when there were none. */
  expectedDetectionRate: rate.nullable(),
  validationNormals: z.number().int().min(1),
  validationAnomalies: z.number().int().min(0),
  /** The images it was chosen on: "validation" (training's held-out split) or the folder `flawscope calibrate` scored. */
  source: z.string(),
  /** ISO date. */
  chosenAt: z.string(),
});
const thresholdHistoryEntrySchema = z.object({
  threshold: finite,
  /** null: a model from before rules were recorded. */
  rule: thresholdRuleSchema.nullable(),
  /** ISO date. */
  replacedAt: z.string(),
});
const thresholdRecordSchema = z.object({
  /** How `threshold` was chosen; absent in models written before the rule was recorded (F1-optimal on validation). */
  thresholdRule: thresholdRuleSchema.optional(),
  /** Earlier thresholds of this model, oldest first, each with its rule: `flawscope calibrate` keeps what it replaces. */
  thresholdHistory: z.array(thresholdHistoryEntrySchema).optional(),
});

const trainingImagesSchema = z.object({
  count: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  sources: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  colourShare: finite.min(0).max(1),
  width: percentileList(1, 1e6),
  height: percentileList(1, 1e6),
  aspect: percentileList(1e-6, 1e6),
  mean: percentileList(0, 255),
  std: percentileList(0, 255),
  midtones: percentileList(0, 1),
  chroma: percentileList(0, 255).optional(),
  ink: percentileList(0, 1).optional(),
  inkWidth: percentileList(0, 1).optional(),
  inkHeight: percentileList(0, 1).optional(),
}) satisfies z.ZodType<TrainingImages>;

const side = (v: number) => v >= 16 && v <= MAX_INPUT_SIDE;
const shortString = z.string().max(200);

/** flawscope.json as this Flawscope reads and writes it (format 6; older versions: FORMAT_HISTORY). */
export const modelInfoSchema = z
  .object({
    formatVersion: z.number().int().min(1).max(FORMAT_VERSION),
    input: z.object({
      height: z.number().int().refine(side),
      width: z.number().int().refine(side),
      channels: z.union([z.literal(1), z.literal(3)]),
    }),
    /** pixel/127.5 - 1: the generator ends in tanh, so inputs live in [-1, 1]. */
    // The mapping of 0..255 must stay a usable, finite range: scale 0 makes every input the same,
    // ±1e308 overflows to Infinity and the error map to NaN.
    normalization: z.object({
      scale: finite.refine((s) => Math.abs(s) >= 1e-4 && Math.abs(s) <= 10),
      offset: finite.min(-1000).max(1000),
    }),
    /** `flip` and `shift` absent = 'none' (the paper's score). */
    score: z.object({
      kind: z.enum(['mean', 'topPatch']),
      patch: patchSpecSchema,
      flip: z.enum(FLIP_MODES).optional(),
      shift: z.enum(SHIFT_MODES).optional(),
    }),
    /**
     * How training saw images, so scoring sees them the same way. 'resize': whole images squeezed
     * to the model input. 'tile': model-size tiles of the image after scaling it by `scale`
     * (model pixels per source pixel; e.g. 64 px patches resized to 32 → 0.5). Absent = 'resize'.
     */
    preprocess: preprocessSchema.optional(),
    /**
     * The learned defect map (format 6). Present: the image score comes from its probability map by
     * `imageScore`, and `threshold` and `normalStats` refer to that score.
     */
    defectMap: defectMapSchema.optional(),
    /** Score above which an image is called anomalous (how it was chosen: `thresholdRule`). */
    // Scores are mean absolute errors or probabilities, never negative: a negative threshold would call every image anomalous.
    threshold: finite.refine((t) => t >= 0, (t) => ({ message: `"threshold" must be ≥ 0, got ${t}`, params: { own: true } })),
    ...thresholdRecordSchema.shape,
    /**
     * Score statistics of the normal validation images. `quantiles` (absent in older models): their
     * percentiles 0, 1, …, 100 (scorer/percentile.ts turns a score into "more unusual than N % of
     * normal images"; scorer/familiarity.ts checks the score is in their range).
     */
    normalStats: z
      .object({ mean: stat, std: stat, p95: stat, p99: stat, count: stat, quantiles: percentileList(-Infinity, Infinity).optional() })
      .default({ mean: null, std: null, p95: null, p99: null, count: 0 }),
    /** What the normal training images were like (scorer/familiarity.ts); absent in older models. */
    trainingImages: trainingImagesSchema.optional(),
    // The descriptive fields: checked when present, neutral when absent (older and hand-made files).
    dataset: z.record(z.unknown()).default({}),
    config: z.record(z.unknown()).default({}),
    metrics: z.record(finite.nullable()).default({}),
    backend: shortString.default('unknown'),
    createdAt: shortString.default(''),
    trainingSeconds: finite.min(0).default(0),
  })
  .superRefine((o, ctx) => {
    // Bounds that depend on the model's size, and the version each field needs.
    const s = Math.min(o.input.height, o.input.width);
    if (o.input.height % 16 || o.input.width % 16)
      ctx.addIssue({ code: 'custom', path: ['input'], message: '"input" height and width must be multiples of 16', params: { own: true } });
    for (const k of ['size', 'stride'] as const) if (o.score.patch[k] > s) ctx.addIssue({ code: 'custom', path: ['score', 'patch', k] });
    const ts = o.preprocess?.tileStride;
    if (ts !== undefined && (o.preprocess?.mode !== 'tile' || ts > s)) ctx.addIssue({ code: 'custom', path: ['preprocess', 'tileStride'] });
    for (const h of FORMAT_HISTORY) {
      if (h.version > o.formatVersion && h.uses(o))
        ctx.addIssue({ code: 'custom', path: h.field.split('.'), message: `"${h.field}" needs format version ${h.version}, the file says ${o.formatVersion}`, params: { own: true } });
    }
  });

export type ModelInfo = z.output<typeof modelInfoSchema>;
export type ScoreKind = ModelInfo['score']['kind'];
/** Test-time augmentation of the score: 'horizontal' averages the error maps of the image and of its left-right mirror. */
export type FlipMode = (typeof FLIP_MODES)[number];
/**
 * Test-time shifts of the score: 'pixel' averages the error maps of the image as it is and moved
 * one pixel right, down, and both (each map moved back), so no single alignment with the
 * generator's stride-2 grid decides a pixel's error.
 */
export type ShiftMode = (typeof SHIFT_MODES)[number];
export type PatchSpec = z.output<typeof patchSpecSchema>;
export type Preprocess = z.output<typeof preprocessSchema>;
export type DefectImageScore = z.output<typeof defectImageScoreSchema>;
export type DefectScoreKind = DefectImageScore['kind'];
export type DefectMapSpec = z.output<typeof defectMapSchema>;
export type ThresholdMethod = (typeof THRESHOLD_METHODS)[number];
export type ThresholdRule = z.output<typeof thresholdRuleSchema>;
export type ThresholdHistoryEntry = z.output<typeof thresholdHistoryEntrySchema>;

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 60) + '…' : s;
};
const at = (o: unknown, path: ReadonlyArray<string | number>): unknown =>
  path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[k] : undefined), o);
const nameOf = (path: ReadonlyArray<string | number>) => path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');
const list = (xs: readonly unknown[]) => xs.map((m) => JSON.stringify(m)).join(' or ');

/**
 * What each field must be, in the words an error shows, keyed by its path (list indices as [],
 * a record's keys as *). An issue inside a field uses the nearest entry above it.
 */
function ruleFor(key: string, raw: unknown, path: ReadonlyArray<string | number>): string | undefined {
  const got = show(at(raw, path));
  const dims = at(raw, ['input']) as { width?: unknown; height?: unknown } | undefined;
  const s = Math.min(Number(dims?.height), Number(dims?.width));
  const ruleKey = key.replace(/^thresholdHistory\.\[\]\.rule(?=\.|$)/, 'rule').replace(/^thresholdRule(?=\.|$)/, 'rule');
  const ruleName = nameOf(path.slice(0, key.startsWith('thresholdRule') ? 1 : 3));
  const field = (p: string, rule: string) => `"${p}" ${rule}`;
  const percentiles = (k: string, lo: number, hi: number) =>
    field(`trainingImages.${k}`, `must be a list of ${PERCENTILES} numbers from ${lo} to ${hi} in increasing order (the percentiles 0..100), got ${show(at(raw, ['trainingImages', k]))}`);
  switch (ruleKey) {
    case 'input': case 'input.height': case 'input.width':
      return `"input.height"/"input.width" must be integers from 16 to ${MAX_INPUT_SIDE}, got ${show(dims?.height)}x${show(dims?.width)}`;
    case 'input.channels': return field('input.channels', `must be 1 or 3, got ${got}`);
    case 'normalization': return '"normalization" must be an object with "scale" and "offset"';
    case 'normalization.scale': return field('normalization.scale', `must be a number with 1e-4 ≤ |scale| ≤ 10 (the trainer writes 1/127.5), got ${got}`);
    case 'normalization.offset': return field('normalization.offset', `must be a number from -1000 to 1000 (the trainer writes -1), got ${got}`);
    case 'score': case 'score.kind': return field('score.kind', `must be "mean" or "topPatch", got ${show(at(raw, ['score', 'kind']))}`);
    case 'score.patch': return '"score.patch" must be an object with "size", "stride" and "topN"';
    case 'score.patch.size': case 'score.patch.stride': return field(key, `must be an integer from 1 to the model size (${s}), got ${got}`);
    case 'score.patch.topN': return field(key, `must be an integer from 1 to ${MAX_TOP_N}, got ${got}`);
    case 'score.flip': return field(key, `must be ${list(FLIP_MODES)}, got ${got}`);
    case 'score.shift': return field(key, `must be ${list(SHIFT_MODES)}, got ${got}`);
    case 'preprocess': case 'preprocess.mode': return field('preprocess.mode', `must be "resize" or "tile", got ${show(at(raw, ['preprocess', 'mode']))}`);
    case 'preprocess.scale': return field(key, `must be a number in (0, 64], got ${got}`);
    case 'preprocess.standardize': return `"preprocess.standardize" needs "mean" in [0, 255] and "std" in (0, 255], got ${show(at(raw, ['preprocess', 'standardize']))}`;
    case 'preprocess.tileStride': return field(key, `must be an integer from 1 to the model size (${show(dims?.width)}x${show(dims?.height)}) with "mode": "tile", got ${got}`);
    case 'defectMap': return field(key, `must be an object with "file", "inputs" and "imageScore", got ${got}`);
    case 'defectMap.file': return field(key, `must be a plain .json file name beside ${INFO_FILE} (e.g. "defect-map.json"), other than ${MODEL_FILE} and ${INFO_FILE}, got ${got}`);
    case 'defectMap.inputs': return field(key, `must be ${JSON.stringify(DEFECT_MAP_INPUTS)} (the only input this Flawscope builds), got ${got}`);
    case 'defectMap.imageScore': case 'defectMap.imageScore.kind':
      return field('defectMap.imageScore.kind', `must be "max" or "topMean", got ${show(at(raw, ['defectMap', 'imageScore', 'kind']))}`);
    case 'defectMap.imageScore.smooth': return field(key, `must be an odd integer from 1 to ${MAX_DEFECT_SMOOTH}, got ${got}`);
    case 'defectMap.imageScore.fraction': return field(key, `must be a number in (0, 1], got ${got}`);
    case 'threshold': return '"threshold" must be a finite number';
    case 'normalStats': return '"normalStats" must be an object of numbers (mean, std, p95, p99, count)';
    case 'normalStats.quantiles': return field(key, `must be a list of ${PERCENTILES} finite numbers in increasing order (the percentiles 0..100), got ${got}`);
    case 'trainingImages': return field(key, `must be an object, got ${got}`);
    case 'trainingImages.count': case 'trainingImages.sources':
      return `"trainingImages.count" and "trainingImages.sources" must be integers ≥ 1, got ${show(at(raw, ['trainingImages', 'count']))} and ${show(at(raw, ['trainingImages', 'sources']))}`;
    case 'trainingImages.colourShare': return field(key, `must be a number in [0, 1], got ${got}`);
    case 'trainingImages.width': case 'trainingImages.height': return percentiles(key.split('.')[1], 1, 1e6);
    case 'trainingImages.aspect': return percentiles('aspect', 1e-6, 1e6);
    case 'trainingImages.mean': case 'trainingImages.std': case 'trainingImages.chroma': return percentiles(key.split('.')[1], 0, 255);
    case 'trainingImages.midtones': case 'trainingImages.ink': case 'trainingImages.inkWidth': case 'trainingImages.inkHeight': return percentiles(key.split('.')[1], 0, 1);
    case 'dataset': case 'config': case 'metrics': return `"${key}" must be an object`;
    case 'metrics.*': return field(nameOf(path), `must be a number or null, got ${got}`);
    case 'backend': case 'createdAt': return `"${key}" must be a string (at most 200 characters)`;
    case 'trainingSeconds': return '"trainingSeconds" must be a number ≥ 0';
    case 'rule': return `"${ruleName}" must be an object`;
    case 'rule.method': return `"${ruleName}.method" must be ${list(THRESHOLD_METHODS)}, got ${JSON.stringify(at(raw, [...path]))}`;
    case 'rule.confidence': return `"${ruleName}.confidence" must be a number in (0, 1), got ${JSON.stringify(at(raw, [...path]))}`;
    case 'rule.bound': return `"${ruleName}.bound" must be "order-statistic", "log-normal", "logit-normal", "normal", "highest-normal" or "too-few", got ${JSON.stringify(at(raw, [...path]))}`;
    case 'rule.target': return `"${ruleName}.target" must be a number in (0, 0.5], got ${JSON.stringify(at(raw, [...path]))}`;
    case 'rule.expectedFalseAlarmRate': return `"${ruleName}.expectedFalseAlarmRate" must be a number in [0, 1]`;
    case 'rule.expectedDetectionRate': return `"${ruleName}.expectedDetectionRate" must be null or a number in [0, 1]`;
    case 'rule.validationNormals': return `"${ruleName}.validationNormals" must be an integer ≥ 1`;
    case 'rule.validationAnomalies': return `"${ruleName}.validationAnomalies" must be an integer ≥ 0`;
    case 'rule.source': case 'rule.chosenAt': return `"${ruleName}" needs "source" and "chosenAt" strings`;
    case 'thresholdHistory': return '"thresholdHistory" must be a list';
    case 'thresholdHistory.[]': return `"${nameOf(path.slice(0, 2))}" must be an object`;
    case 'thresholdHistory.[].threshold': return `"${nameOf(path)}" must be a finite number`;
    case 'thresholdHistory.[].replacedAt': return `"${nameOf(path)}" must be a date string`;
  }
  return undefined;
}

/** The message for a zod issue: the field's rule (ruleFor), or the refinement's own words. */
function describeIssue(issue: z.ZodIssue, raw: unknown): string {
  if (issue.code === 'custom' && issue.params?.own) return issue.message;
  const keys = issue.path.map((k, i) => (typeof k === 'number' ? '[]' : i && issue.path[i - 1] === 'metrics' ? '*' : k));
  for (let n = keys.length; n > 0; n--) {
    const rule = ruleFor(keys.slice(0, n).join('.'), raw, issue.path.slice(0, n));
    if (rule) return rule;
  }
  return `${issue.path.length ? `"${nameOf(issue.path)}": ` : ''}${issue.message}`;
}

/**
 * Checks the file's format version before anything else: a newer file may hold anything, and
 * must say "update Flawscope" rather than name some field this version does not know.
 */
function versionError(o: Record<string, unknown>): string | null {
  const v = o.formatVersion;
  if (typeof v !== 'number') return 'missing "formatVersion"';
  if (v > FORMAT_VERSION) return `format version ${v} is newer than this Flawscope understands (${FORMAT_VERSION}); update Flawscope`;
  if (!Number.isInteger(v) || v < 1) return `unknown format version ${show(v)}`;
  return null;
}

/**
 * Parses flawscope.json (already JSON-parsed) of any version into the current format: every field
 * the scorer reads is type- and range-checked, so a hand-edited or hostile file fails here, as
 * INFO_INVALID naming `where` and the field, instead of as a TypeError, a tfjs error or a NaN score
 * deep inside scoring. The descriptive fields get neutral values when absent; unknown fields are
 * dropped. Returns a new object.
 */
export function parseModelInfo(raw: unknown, where = INFO_FILE): ModelInfo {
  const fail = (m: string): never => {
    throw new ScorerError('INFO_INVALID', `${where}: ${m}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('is not a JSON object');
  const bad = versionError(raw as Record<string, unknown>);
  if (bad) fail(bad);
  const r = modelInfoSchema.safeParse(raw);
  return r.success ? r.data : fail(describeIssue(r.error.issues[0], raw));
}

/**
 * The JSON text the trainer writes, parsed back through the schema first (as JSON: a NaN metric is
 * written as null, which loads), so a model that would not load is never written.
 */
export function encodeModelInfo(info: ModelInfo, where = INFO_FILE): string {
  return JSON.stringify(parseModelInfo(JSON.parse(JSON.stringify(info)), where), null, 2);
}

/**
 * Checks the optional `thresholdRule` and `thresholdHistory` fields alone; null when fine or absent
 * (older model folders have neither and stay valid).
 */
export function thresholdRecordError(o: { thresholdRule?: unknown; thresholdHistory?: unknown }): string | null {
  const r = thresholdRecordSchema.safeParse(o);
  return r.success ? null : describeIssue(r.error.issues[0], o);
}
