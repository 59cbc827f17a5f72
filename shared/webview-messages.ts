/**
 * The zod schemas of every message a webview posts to the host: the one definition of each
 * message's fields and limits, with the TypeScript types (WebviewToHost and its parts) inferred
 * from them. extension/validate.ts parses every message with these before the host acts on it.
 *
 * shared/protocol.ts re-exports the types with `export type`, so the webview bundles
 * (media/webview) type their `post` calls against these schemas without pulling zod in.
 *
 * Every failure message is a phrase that follows the field's name ("must be …", "is too long …"):
 * extension/validate.ts puts the field (zod's issue path) in front of it.
 *
 * No `vscode` or `node:` import: whether a path is one the page may name is the host's to check
 * (extension/validate.ts resolves every `hostPath` field against the panel's roots after the parse).
 */
import { z } from 'zod';
import { COLORMAPS, FOLDER_SORT_KEYS, LIMITS, PANEL_KINDS, REPORT_KINDS, VERDICTS, VIEW_MODE_NAMES } from './protocol';

/**
 * Characters that would let webview text forge or hide log lines in the output channel: C0 and
 * C1 controls (CR, LF, ESC sequences, …), DEL, the Unicode line and paragraph separators and the
 * bidirectional overrides that reorder what a line shows.
 */
const LOG_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/** `s` with every run of LOG_UNSAFE characters turned into one space: one message, one log line. */
export function logSafe(s: string): string {
  return s.replace(LOG_UNSAFE, ' ');
}

// ---------------------------------------------------------------- field schemas
/** The same words whether the field is missing or of another type. */
const mustBe = (what: string) => ({ invalid_type_error: `must be ${what}`, required_error: `must be ${what}` });

const boundedString = (max: number = LIMITS.string) => z.string(mustBe('a string')).max(max, `is too long (over ${max} characters)`);
/**
 * A string the host uses as data: bounded and NUL-free (a NUL cuts paths and file names short).
 * A regex, not a refine: zod runs string checks in place, while a refine wraps the schema in an
 * effect that is many times slower per field, and a 20,000-row folder result pays it per row.
 */
const str = (max?: number) => boundedString(max).regex(/^[^\0]*$/, 'contains a NUL character');
/** A string the host writes to its log: control, line-separator and bidi characters become spaces. */
const text = (max?: number) => str(max).transform(logSafe);

function num(range: { min?: number; max?: number; int?: boolean } = {}) {
  let n = z.number(mustBe('a finite number')).finite('must be a finite number');
  if (range.int) n = n.int('must be an integer');
  if (range.min !== undefined) n = n.min(range.min, `must be ≥ ${range.min}`);
  if (range.max !== undefined) n = n.max(range.max, `must be ≤ ${range.max}`);
  return n;
}
const count = (max = Number.MAX_SAFE_INTEGER) => num({ min: 0, max, int: true });
/** The id of the request a message answers (panel-host.ts numbers them), or of an export the page numbers itself. */
const requestId = count();
const bool = z.boolean(mustBe('a boolean'));

/** One of a fixed list of words; a missing field or another type gets the same words. */
function oneOf<T extends string>(values: readonly T[]) {
  const message = `must be one of ${values.join(', ')}`;
  return z.enum(values as unknown as [T, ...T[]], { errorMap: () => ({ message }) });
}

/** The length is checked first: an oversized list is refused before any of its entries is parsed. */
function list<T extends z.ZodTypeAny>(item: T, max: number, opts: { nonEmpty?: boolean } = {}) {
  const bounded = z.array(z.unknown(), mustBe('an array')).max(max, `has too many entries (over ${max})`);
  return (opts.nonEmpty ? bounded.nonempty('must not be empty') : bounded).pipe(z.array(item));
}
/** Fields a message does not define are refused (validate.ts reports them as unexpected). */
const strict = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, mustBe('an object'));

/**
 * A file on the host (an absolute path or a file: URI). Only its shape is checked here: the host
 * then resolves it and refuses it unless it is inside the panel's roots (validate.ts hostPaths).
 */
const hostPath = str();
const verdict = oneOf(VERDICTS);
/** 0 normal, 1 anomaly, null no label. A native enum: a union of literals builds a zod issue for every option it misses, per row. */
const label = z.nativeEnum({ normal: 0, anomaly: 1 } as const, { errorMap: () => ({ message: 'must be 0, 1 or null' }) }).nullable();

/** What the score panel reports of one scored image (the page builds it from the scorer's result). */
const scoreSummary = strict({
  score: num(),
  normalized: num(),
  isAnomaly: bool,
  /** 'unfamiliar': not the kind of image the model was trained on (scorer/familiarity.ts); else by the threshold in use. */
  verdict,
  /** Why unfamiliar, in words. */
  reasons: list(str(1000), 16),
  /** 0..100 among the validation normal scores (scorer/percentile.ts); null when the model recorded none. */
  percentile: num({ min: 0, max: 100 }).nullable(),
  threshold: num(),
  backend: text(64),
  ms: num({ min: 0 }),
  // Not strict: fields the scorer may add to a patch later are dropped, not refused.
  topPatches: list(z.object({ x: num(), y: num(), w: num({ min: 0 }), h: num({ min: 0 }), score: num() }, mustBe('an object')), LIMITS.patches),
});

/** The CLI checks names and values again; this only keeps the text to the `--weights` shape. */
const WEIGHTS_SHAPE = /^[a-zA-Z]+=\d+(\.\d+)?(,[a-zA-Z]+=\d+(\.\d+)?)*$/;
/** Keys of a report's counts: short words, so they read well in the log. */
const COUNT_KEY = /^[a-zA-Z]{1,32}$/;

// ---------------------------------------------------------------- messages
/**
 * The schema of each webview → host message, by its `type`: the union of the messages,
 * discriminated by the table's key. A table rather than one z.discriminatedUnion because
 * `setSetting` has one shape per `key`, which zod 3's union on `type` cannot hold; the host looks
 * the schema up by `type` (extension/validate.ts).
 */
const schemas = {
  ready: strict({ type: z.literal('ready'), panel: oneOf(PANEL_KINDS), generation: count() }),
  log: strict({ type: z.literal('log'), level: oneOf(['info', 'warn', 'error'] as const), message: text() }),
  scored: strict({ type: z.literal('scored'), requestId, path: hostPath, result: scoreSummary }),
  scoreFailed: strict({ type: z.literal('scoreFailed'), requestId, path: hostPath, message: text() }),
  /** `stopped`: the Stop button (or stopFolder) ended the work early; `rows` are those scored until then. */
  folderScored: strict({
    type: z.literal('folderScored'),
    requestId,
    folder: hostPath,
    rows: list(strict({ path: hostPath, score: num(), isAnomaly: bool, verdict, label }), LIMITS.rows),
    auroc: num({ min: 0, max: 1 }).nullable(),
    backend: text(64),
    // Pages from before the Stop button send no `stopped`.
    stopped: bool.default(false),
  }),
  exportCsv: strict({
    type: z.literal('exportCsv'),
    requestId,
    // The host offers it in a save dialog: a bare name, so the dialog opens where the user expects.
    suggestedName: str(255).refine((n) => !/[\\/]/.test(n) && !n.startsWith('.'), 'must be a plain file name'),
    csv: str(LIMITS.csv),
  }),
  openFile: strict({ type: z.literal('openFile'), path: hostPath }),
  /** Show this image's heatmap in the score panel: a folder-table row chosen (click or Enter), an evaluation report's thumbnail clicked. */
  showHeatmap: strict({ type: z.literal('showHeatmap'), path: hostPath }),
  /** The score panel's view was changed: the host keeps it in the panel's restore state. */
  setViewMode: strict({ type: z.literal('setViewMode'), mode: oneOf(VIEW_MODE_NAMES) }),
  /** The score panel's "Choose image…" button: the host shows an open dialog. */
  pickImage: strict({ type: z.literal('pickImage') }),
  /**
   * Images dropped on the score panel (file: URIs from the explorer); the host scores the first
   * image. Shape only: the score panel checks each one against the workspace folders (panels/dropped.ts).
   */
  scoreDropped: strict({ type: z.literal('scoreDropped'), uris: list(str(), LIMITS.dropped, { nonEmpty: true }) }),
  /** The folder table as shown now: row paths top to bottom, after sort and filter. */
  folderViewState: strict({
    type: z.literal('folderViewState'),
    requestId,
    order: list(hostPath, LIMITS.rows),
    sort: strict({ key: oneOf(FOLDER_SORT_KEYS), dir: oneOf(['asc', 'desc'] as const) }),
    filter: list(verdict, VERDICTS.length),
  }),
  /** "Use this folder to set the threshold". */
  calibrate: strict({ type: z.literal('calibrate') }),
  setSetting: z.discriminatedUnion(
    'key',
    [
      strict({ type: z.literal('setSetting'), key: z.literal('colormap'), value: oneOf(COLORMAPS) }),
      strict({ type: z.literal('setSetting'), key: z.literal('overlayOpacity'), value: num({ min: 0, max: 1 }) }),
    ],
    { errorMap: () => ({ message: 'must be colormap or overlayOpacity (an unknown setting cannot be set)' }) },
  ),
  /** Grid report: start Train Model with this weight setting ("recon=1,patch=1,…"). */
  trainWithWeights: strict({ type: z.literal('trainWithWeights'), weights: boundedString(256).regex(WEIGHTS_SHAPE, 'must look like recon=1,patch=0.5,…') }),
  /** A report page finished drawing: how many of each thing it shows (for the log and the tests). */
  reportRendered: strict({
    type: z.literal('reportRendered'),
    panel: oneOf(REPORT_KINDS),
    counts: z
      .record(z.string(), count(), mustBe('an object of at most 32 numbers'))
      .refine((c) => Object.keys(c).length <= 32, 'must be an object of at most 32 numbers')
      .refine((c) => Object.keys(c).every((k) => COUNT_KEY.test(k)), 'keys must be short words (letters only)'),
  }),
};
// Each schema parses only messages of its own key's type (the host looks schemas up by type).
export const webviewMessageSchemas = schemas satisfies { [T in keyof typeof schemas]: z.ZodType<{ type: T }, z.ZodTypeDef, unknown> };

type Schemas = typeof webviewMessageSchemas;
export type WebviewMessageType = keyof Schemas;
/** A message from a webview as the host sees it once parsed (paths resolved, log text made safe). */
export type WebviewToHost = { [T in WebviewMessageType]: z.output<Schemas[T]> }[WebviewMessageType];
export type ScoreSummary = z.output<typeof scoreSummary>;
export type FolderRow = Extract<WebviewToHost, { type: 'folderScored' }>['rows'][number];
