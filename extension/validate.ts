/**
 * Host-side validation of everything a webview posts. A webview is treated as untrusted input:
 * unknown types, missing or wrongly typed fields, oversized payloads and paths outside the roots
 * the panel was given are rejected with a reason (the caller logs it and carries on).
 * No `vscode` import, so the fuzzing tests run in plain Node.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COLORMAPS, FOLDER_SORT_KEYS, LIMITS, PANEL_KINDS, REPORT_KINDS, VERDICTS, VIEW_MODE_NAMES, WEBVIEW_MESSAGE_TYPES, type FolderRow, type FolderSort, type PanelKind, type ReportKind, type ScoreSummary, type Verdict, type ViewMode, type WebviewToHost } from '../shared/protocol';

export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface ValidationContext {
  /** Absolute folders a path in a message may point into (the panel's image/model/dataset roots). */
  allowedRoots: readonly string[];
  /** Resolves symlinks (fs.realpathSync in the host); identity when absent. Throwing = reject. */
  realpath?: (p: string) => string;
}

class Reject extends Error {}
const fail = (reason: string): never => {
  throw new Reject(reason);
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string, max: number = LIMITS.string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`"${key}" must be a string`);
  if ((v as string).length > max) fail(`"${key}" is too long (${(v as string).length} > ${max})`);
  if ((v as string).includes('\0')) fail(`"${key}" contains a NUL character`);
  return v as string;
}

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

/** A string field that ends up in the log as text (messages, backend names). */
function text(o: Record<string, unknown>, key: string, max: number = LIMITS.string): string {
  return logSafe(str(o, key, max));
}

function num(o: Record<string, unknown>, key: string, opts: { min?: number; max?: number; int?: boolean } = {}): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`"${key}" must be a finite number`);
  const n = v as number;
  if (opts.int && !Number.isInteger(n)) fail(`"${key}" must be an integer`);
  if (opts.min !== undefined && n < opts.min) fail(`"${key}" must be ≥ ${opts.min}`);
  if (opts.max !== undefined && n > opts.max) fail(`"${key}" must be ≤ ${opts.max}`);
  return n;
}

function bool(o: Record<string, unknown>, key: string): boolean {
  if (typeof o[key] !== 'boolean') fail(`"${key}" must be a boolean`);
  return o[key] as boolean;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`unexpected field "${k}"`);
}

const requestId = (o: Record<string, unknown>) => num(o, 'requestId', { min: 0, max: Number.MAX_SAFE_INTEGER, int: true });

/**
 * Is `p` (an absolute file system path or a file: URI) inside one of the roots, after resolving
 * `..` segments and symlinks? Returns the normalised path or throws a Reject.
 */
export function checkPath(raw: string, ctx: ValidationContext, field = 'path'): string {
  let p = raw;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(p)) {
    if (!p.startsWith('file://')) fail(`"${field}" must be a file path, got a ${p.slice(0, p.indexOf(':'))}: URI`);
    try {
      p = fileURLToPath(p);
    } catch {
      fail(`"${field}" is not a valid file URI`);
    }
  }
  if (!path.isAbsolute(p)) fail(`"${field}" must be an absolute path`);
  let resolved = path.resolve(p);
  if (ctx.realpath) {
    try {
      resolved = ctx.realpath(resolved);
    } catch {
      fail(`"${field}" does not exist or cannot be resolved`);
    }
  }
  if (!isInsideRoots(resolved, ctx.allowedRoots, ctx.realpath)) fail(`"${field}" is outside the allowed folders: ${raw.slice(0, 200)}`);
  return resolved;
}

export function isInsideRoots(p: string, roots: readonly string[], realpath?: (p: string) => string): boolean {
  return roots.some((r) => {
    let root = path.resolve(r);
    if (realpath) {
      try {
        root = realpath(root);
      } catch {
        return false;
      }
    }
    const rel = path.relative(root, p);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}

function scoreSummary(v: unknown): ScoreSummary {
  if (!isRecord(v)) fail('"result" must be an object');
  const o = v as Record<string, unknown>;
  onlyKeys(o, ['score', 'normalized', 'isAnomaly', 'verdict', 'reasons', 'percentile', 'threshold', 'backend', 'ms', 'topPatches']);
  const reasons = o.reasons;
  if (!Array.isArray(reasons) || reasons.length > 16 || !reasons.every((r) => typeof r === 'string' && r.length <= 1000)) fail('"result.reasons" must be a list of at most 16 strings');
  const tp = o.topPatches;
  if (!Array.isArray(tp)) fail('"result.topPatches" must be an array');
  if ((tp as unknown[]).length > LIMITS.patches) fail('"result.topPatches" has too many entries');
  return {
    score: num(o, 'score'),
    normalized: num(o, 'normalized'),
    isAnomaly: bool(o, 'isAnomaly'),
    verdict: verdict(o.verdict),
    reasons: reasons as string[],
    percentile: o.percentile === null ? null : num(o, 'percentile', { min: 0, max: 100 }),
    threshold: num(o, 'threshold'),
    backend: text(o, 'backend', 64),
    ms: num(o, 'ms', { min: 0 }),
    topPatches: (tp as unknown[]).map((p) => {
      if (!isRecord(p)) fail('"result.topPatches[]" must be objects');
      const q = p as Record<string, unknown>;
      return { x: num(q, 'x'), y: num(q, 'y'), w: num(q, 'w', { min: 0 }), h: num(q, 'h', { min: 0 }), score: num(q, 'score') };
    }),
  };
}

function verdict(v: unknown): 'normal' | 'anomaly' | 'unfamiliar' {
  if (v === 'normal' || v === 'anomaly' || v === 'unfamiliar') return v;
  return fail('"verdict" must be "normal", "anomaly" or "unfamiliar"');
}

function folderSort(v: unknown): FolderSort {
  if (!isRecord(v)) fail('"sort" must be an object');
  const o = v as Record<string, unknown>;
  onlyKeys(o, ['key', 'dir']);
  if (!(FOLDER_SORT_KEYS as readonly unknown[]).includes(o.key)) fail(`"sort.key" must be one of ${FOLDER_SORT_KEYS.join(', ')}`);
  if (o.dir !== 'asc' && o.dir !== 'desc') fail('"sort.dir" must be "asc" or "desc"');
  return { key: o.key as FolderSort['key'], dir: o.dir as FolderSort['dir'] };
}

function verdictList(v: unknown): Verdict[] {
  if (!Array.isArray(v) || v.length > VERDICTS.length || !v.every((x) => (VERDICTS as readonly unknown[]).includes(x))) fail(`"filter" must list verdicts among ${VERDICTS.join(', ')}`);
  return v as Verdict[];
}

function label(v: unknown): 0 | 1 | null {
  if (v === 0 || v === 1 || v === null) return v;
  return fail('"label" must be 0, 1 or null');
}

function validateInner(raw: unknown, ctx: ValidationContext): WebviewToHost {
  if (!isRecord(raw)) fail('message is not an object');
  const o = raw as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string') fail('"type" must be a string');
  if (!(WEBVIEW_MESSAGE_TYPES as readonly string[]).includes(type as string)) fail(`unknown message type "${String(type).slice(0, 64)}"`);
  switch (type as WebviewToHost['type']) {
    case 'ready': {
      onlyKeys(o, ['type', 'panel', 'generation']);
      const panel = str(o, 'panel', 16);
      if (!(PANEL_KINDS as readonly string[]).includes(panel)) fail(`"panel" must be one of ${PANEL_KINDS.join(', ')}`);
      const generation = num(o, 'generation', { min: 0, max: Number.MAX_SAFE_INTEGER, int: true });
      return { type: 'ready', panel: panel as PanelKind, generation };
    }
    case 'log': {
      onlyKeys(o, ['type', 'level', 'message']);
      const level = str(o, 'level', 8);
      if (level !== 'info' && level !== 'warn' && level !== 'error') fail('"level" must be info, warn or error');
      return { type: 'log', level: level as 'info' | 'warn' | 'error', message: text(o, 'message') };
    }
    case 'scored': {
      onlyKeys(o, ['type', 'requestId', 'path', 'result']);
      return { type: 'scored', requestId: requestId(o), path: checkPath(str(o, 'path'), ctx), result: scoreSummary(o.result) };
    }
    case 'scoreFailed': {
      onlyKeys(o, ['type', 'requestId', 'path', 'message']);
      return { type: 'scoreFailed', requestId: requestId(o), path: checkPath(str(o, 'path'), ctx), message: text(o, 'message') };
    }
    case 'folderScored': {
      onlyKeys(o, ['type', 'requestId', 'folder', 'rows', 'auroc', 'backend', 'stopped']);
      const rows = o.rows;
      if (!Array.isArray(rows)) fail('"rows" must be an array');
      if ((rows as unknown[]).length > LIMITS.rows) fail(`"rows" has too many entries (> ${LIMITS.rows})`);
      const folder = checkPath(str(o, 'folder'), ctx, 'folder');
      const out: FolderRow[] = (rows as unknown[]).map((r, i) => {
        if (!isRecord(r)) fail(`"rows[${i}]" must be an object`);
        const q = r as Record<string, unknown>;
        onlyKeys(q, ['path', 'score', 'isAnomaly', 'verdict', 'label']);
        return { path: checkPath(str(q, 'path'), ctx, `rows[${i}].path`), score: num(q, 'score'), isAnomaly: bool(q, 'isAnomaly'), verdict: verdict(q.verdict), label: label(q.label) };
      });
      const auroc = o.auroc === null ? null : num(o, 'auroc', { min: 0, max: 1 });
      return { type: 'folderScored', requestId: requestId(o), folder, rows: out, auroc, backend: text(o, 'backend', 64), stopped: o.stopped === undefined ? false : bool(o, 'stopped') };
    }
    case 'exportCsv': {
      onlyKeys(o, ['type', 'requestId', 'suggestedName', 'csv']);
      const name = str(o, 'suggestedName', 255);
      if (/[\\/]/.test(name) || name.startsWith('.')) fail('"suggestedName" must be a plain file name');
      return { type: 'exportCsv', requestId: requestId(o), suggestedName: name, csv: str(o, 'csv', LIMITS.csv) };
    }
    case 'openFile': {
      onlyKeys(o, ['type', 'path']);
      return { type: 'openFile', path: checkPath(str(o, 'path'), ctx) };
    }
    case 'trainWithWeights': {
      onlyKeys(o, ['type', 'weights']);
      const weights = str(o, 'weights', 256);
      // The CLI checks names and values again; this only keeps the text to the --weights shape.
      if (!/^[a-zA-Z]+=\d+(\.\d+)?(,[a-zA-Z]+=\d+(\.\d+)?)*$/.test(weights)) fail('"weights" must look like recon=1,patch=0.5,…');
      return { type: 'trainWithWeights', weights };
    }
    case 'reportRendered': {
      onlyKeys(o, ['type', 'panel', 'counts']);
      const panel = str(o, 'panel', 16);
      if (!(REPORT_KINDS as readonly string[]).includes(panel)) fail(`"panel" must be one of ${REPORT_KINDS.join(', ')}`);
      const c = o.counts;
      if (!isRecord(c) || Object.keys(c).length > 32) fail('"counts" must be an object of at most 32 numbers');
      const counts: Record<string, number> = {};
      for (const k of Object.keys(c as Record<string, unknown>)) {
        if (!/^[a-zA-Z]{1,32}$/.test(k)) fail('"counts" keys must be short words');
        counts[k] = num(c as Record<string, unknown>, k, { min: 0, int: true });
      }
      return { type: 'reportRendered', panel: panel as ReportKind, counts };
    }
    case 'showHeatmap': {
      onlyKeys(o, ['type', 'path']);
      return { type: 'showHeatmap', path: checkPath(str(o, 'path'), ctx) };
    }
    case 'setViewMode': {
      onlyKeys(o, ['type', 'mode']);
      const mode = o.mode;
      if (typeof mode !== 'string' || !(VIEW_MODE_NAMES as readonly string[]).includes(mode)) fail(`"mode" must be one of ${VIEW_MODE_NAMES.join(', ')}`);
      return { type: 'setViewMode', mode: mode as ViewMode };
    }
    case 'pickImage':
    case 'calibrate':
      onlyKeys(o, ['type']);
      return { type: type as 'pickImage' | 'calibrate' };
    case 'scoreDropped': {
      // Shape only: the score panel checks each dropped path against the workspace folders.
      onlyKeys(o, ['type', 'uris']);
      const uris = o.uris;
      if (!Array.isArray(uris) || uris.length === 0 || uris.length > LIMITS.dropped) fail(`"uris" must list 1 to ${LIMITS.dropped} URIs`);
      return { type: 'scoreDropped', uris: (uris as unknown[]).map((u, i) => str({ [`uris[${i}]`]: u }, `uris[${i}]`)) };
    }
    case 'folderViewState': {
      onlyKeys(o, ['type', 'requestId', 'order', 'sort', 'filter']);
      const order = o.order;
      if (!Array.isArray(order) || order.length > LIMITS.rows) fail(`"order" must be a list of at most ${LIMITS.rows} paths`);
      return { type: 'folderViewState', requestId: requestId(o), order: (order as unknown[]).map((p, i) => checkPath(str({ [`order[${i}]`]: p }, `order[${i}]`), ctx, `order[${i}]`)), sort: folderSort(o.sort), filter: verdictList(o.filter) };
    }
    case 'setSetting': {
      onlyKeys(o, ['type', 'key', 'value']);
      const key = str(o, 'key', 32);
      if (key === 'colormap') {
        const v = o.value;
        if (typeof v !== 'string' || !(COLORMAPS as readonly string[]).includes(v)) fail(`"value" must be one of ${COLORMAPS.join(', ')}`);
        return { type: 'setSetting', key: 'colormap', value: v as 'turbo' };
      }
      if (key === 'overlayOpacity') return { type: 'setSetting', key: 'overlayOpacity', value: num(o, 'value', { min: 0, max: 1 }) };
      return fail(`unknown setting "${key.slice(0, 32)}"`);
    }
  }
  return fail('unreachable');
}

/** Validates one message from a webview. Never throws. */
export function validateWebviewMessage(raw: unknown, ctx: ValidationContext): Validation<WebviewToHost> {
  try {
    return { ok: true, value: validateInner(raw, ctx) };
  } catch (e) {
    // Reasons quote parts of the message (a type, a setting, a path), and the host logs them.
    if (e instanceof Reject) return { ok: false, reason: logSafe(e.message) };
    return { ok: false, reason: logSafe(`invalid message (${e instanceof Error ? e.message : String(e)})`) };
  }
}

/** A short, log-safe description of a rejected message (never the whole payload). */
export function describeForLog(raw: unknown): string {
  try {
    const t = isRecord(raw) && typeof raw.type === 'string' ? raw.type.slice(0, 40) : typeof raw;
    const s = JSON.stringify(raw);
    return `type=${JSON.stringify(t)} size=${s === undefined ? 0 : s.length}`;
  } catch {
    return 'unserialisable message';
  }
}
