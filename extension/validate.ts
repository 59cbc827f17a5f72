/**
 * Host-side validation of everything a webview posts. A webview is treated as untrusted input:
 * each message is parsed by its zod schema (shared/webview-messages.ts), which refuses unknown
 * types and fields, wrong types and oversized payloads and makes log text safe; then every path in
 * it must resolve inside the roots the panel was given (hostPaths). A refusal comes back with a
 * reason naming the field (the caller logs it and carries on). No `vscode` import, so the fuzzing
 * tests run in plain Node.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { InputError } from '../trainer/errors';
import { WEBVIEW_MESSAGE_TYPES, type WebviewMessageType, type WebviewToHost } from '../shared/protocol';
import { logSafe, webviewMessageSchemas } from '../shared/webview-messages';

export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface ValidationContext {
  /** Absolute folders a path in a message may point into (the panel's image/model/dataset roots). */
  allowedRoots: readonly string[];
  /** Resolves symlinks (fs.realpathSync in the host); identity when absent. Throwing = reject. */
  realpath?: (p: string) => string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The roots as paths are compared with them: resolved, symlinks followed; a root that does not resolve admits nothing. */
function realRoots(roots: readonly string[], realpath?: (p: string) => string): string[] {
  return roots.flatMap((r) => {
    try {
      return [realpath ? realpath(path.resolve(r)) : path.resolve(r)];
    } catch {
      return [];
    }
  });
}

const insideAny = (p: string, roots: readonly string[]) =>
  roots.some((root) => {
    const rel = path.relative(root, p);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });

/**
 * A checker of the paths in one message: each (an absolute file system path or a file: URI) comes
 * back normalised, `..` segments and symlinks resolved, if it is inside one of the roots; otherwise
 * an InputError names `field` and what is wrong. The roots are resolved once, not per path.
 */
function pathChecker(ctx: ValidationContext): (raw: string, field: string) => string {
  const roots = realRoots(ctx.allowedRoots, ctx.realpath);
  const refuse = (field: string, problem: string): never => {
    throw new InputError(`"${field}" ${problem}`);
  };
  return (raw, field) => {
    let p = raw;
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(p)) {
      if (!p.startsWith('file://')) refuse(field, `must be a file path, got a ${p.slice(0, p.indexOf(':'))}: URI`);
      try {
        p = fileURLToPath(p);
      } catch {
        refuse(field, 'is not a valid file URI');
      }
    }
    if (!path.isAbsolute(p)) refuse(field, 'must be an absolute path');
    let resolved = path.resolve(p);
    if (ctx.realpath) {
      try {
        resolved = ctx.realpath(resolved);
      } catch {
        refuse(field, 'does not exist or cannot be resolved');
      }
    }
    if (!insideAny(resolved, roots)) refuse(field, `is outside the allowed folders: ${raw.slice(0, 200)}`);
    return resolved;
  };
}

/** The normalised path `raw` names inside one of the roots; an InputError naming `field` if it is not. */
export function checkPath(raw: string, ctx: ValidationContext, field = 'path'): string {
  return pathChecker(ctx)(raw, field);
}

export function isInsideRoots(p: string, roots: readonly string[], realpath?: (p: string) => string): boolean {
  return insideAny(p, realRoots(roots, realpath));
}

/** A field as the page wrote it: `rows[3].path`, `result.score`. */
function fieldName(at: readonly (string | number)[]): string {
  return at.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');
}

/** Why the message was refused, from zod's issues: the field, then the schema's phrase for it. */
function reasonFor(issues: readonly z.ZodIssue[]): string {
  // An unexpected field is named first, whatever else is wrong: it is the likeliest sign of a page
  // and host out of step (or of a page trying what it should not).
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (issue.code === 'unrecognized_keys') return `unexpected field "${issue.keys[0]}"${issue.path.length ? ` in "${fieldName(issue.path)}"` : ''}`;
  return `"${fieldName(issue.path)}" ${issue.message}`;
}

/**
 * `m` with each of its host paths resolved, or an InputError naming the first one outside the
 * roots. Every type is listed, so a new message type does not compile until it says which of its
 * fields are paths (the schemas' `hostPath`).
 */
function hostPaths(m: WebviewToHost, ctx: ValidationContext): WebviewToHost {
  const at = pathChecker(ctx);
  switch (m.type) {
    case 'scored':
    case 'scoreFailed':
    case 'openFile':
    case 'showHeatmap':
      return { ...m, path: at(m.path, 'path') };
    case 'folderScored':
      return { ...m, folder: at(m.folder, 'folder'), rows: m.rows.map((r, i) => ({ ...r, path: at(r.path, `rows[${i}].path`) })) };
    case 'folderViewState':
      return { ...m, order: m.order.map((p, i) => at(p, `order[${i}]`)) };
    // scoreDropped's URIs are checked by the score panel against the workspace folders (panels/dropped.ts).
    case 'scoreDropped':
    case 'ready':
    case 'log':
    case 'exportCsv':
    case 'setViewMode':
    case 'pickImage':
    case 'calibrate':
    case 'setSetting':
    case 'trainWithWeights':
    case 'reportRendered':
      return m;
    default:
      return m satisfies never;
  }
}

function parse(raw: unknown, ctx: ValidationContext): Validation<WebviewToHost> {
  if (!isRecord(raw)) return { ok: false, reason: 'message is not an object' };
  const type = raw.type;
  if (typeof type !== 'string') return { ok: false, reason: '"type" must be a string' };
  if (!(WEBVIEW_MESSAGE_TYPES as readonly string[]).includes(type)) return { ok: false, reason: `unknown message type "${type.slice(0, 64)}"` };
  const schema: z.ZodType<WebviewToHost, z.ZodTypeDef, unknown> = webviewMessageSchemas[type as WebviewMessageType];
  const r = schema.safeParse(raw);
  if (!r.success) return { ok: false, reason: reasonFor(r.error.issues) };
  try {
    return { ok: true, value: hostPaths(r.data, ctx) };
  } catch (e) {
    if (e instanceof InputError) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Validates one message from a webview. Never throws. */
export function validateWebviewMessage(raw: unknown, ctx: ValidationContext): Validation<WebviewToHost> {
  try {
    const v = parse(raw, ctx);
    // Reasons quote parts of the message (a type, a field name, a path), and the host logs them.
    return v.ok ? v : { ok: false, reason: logSafe(v.reason) };
  } catch (e) {
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
