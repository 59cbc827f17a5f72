/**
 * Model folders on disk (no `vscode`): find them under the models folder, read flawscope.json,
 * summarise metrics for the tree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DATASET_IMAGE_EXTENSIONS } from '../scorer/image-extensions';
import { formatMetric, headlineAuroc } from '../shared/format';
import { INFO_FILE, MODEL_FILE, imageScoreLabel, validateModelInfo, type ModelInfo } from '../scorer/model-format';

export interface ModelEntry {
  path: string;
  name: string;
  info: ModelInfo | null;
  error: string | null;
  sizeBytes: number;
  mtime: number;
}

export function readModel(dir: string): ModelEntry {
  const name = path.basename(dir);
  let info: ModelInfo | null = null;
  let error: string | null = null;
  let sizeBytes = 0;
  let mtime = 0;
  try {
    for (const f of fs.readdirSync(dir)) {
      const st = fs.statSync(path.join(dir, f));
      if (st.isFile()) {
        sizeBytes += st.size;
        mtime = Math.max(mtime, st.mtimeMs);
      }
    }
    if (!fs.existsSync(path.join(dir, MODEL_FILE))) throw new Error(`${MODEL_FILE} is missing`);
    info = validateModelInfo(JSON.parse(fs.readFileSync(path.join(dir, INFO_FILE), 'utf8')), path.join(dir, INFO_FILE));
  } catch (e) {
    error = (e as Error).message;
  }
  return { path: dir, name, info, error, sizeBytes, mtime };
}

export function isModelDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, INFO_FILE)) && fs.existsSync(path.join(dir, MODEL_FILE));
}

/** Model folders directly inside `root` (and `root` itself when it is one), newest first. */
export function listModels(root: string, extra: readonly string[] = []): ModelEntry[] {
  const dirs = new Set<string>();
  try {
    if (isModelDir(root)) dirs.add(root);
    for (const d of fs.readdirSync(root, { withFileTypes: true })) {
      if (d.isDirectory() && !d.name.startsWith('.') && isModelDir(path.join(root, d.name))) dirs.add(path.join(root, d.name));
    }
  } catch {
    /* models folder does not exist yet */
  }
  for (const e of extra) if (isModelDir(e)) dirs.add(path.resolve(e));
  return [...dirs].map(readModel).sort((a, b) => b.mtime - a.mtime);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function modelDescription(m: ModelEntry): string {
  if (!m.info) return `unreadable: ${m.error ?? ''}`;
  const auroc = headlineAuroc(m.info.metrics);
  const parts = [auroc ? formatMetric(auroc.key, auroc.value) : 'AUROC n/a', `${m.info.input.width}px`, m.info.backend];
  return parts.join(' · ');
}

export function modelTooltip(m: ModelEntry): string {
  if (!m.info) return `${m.path}\n${m.error ?? ''}`;
  const metrics = Object.entries(m.info.metrics)
    .map(([k, v]) => formatMetric(k, v))
    .join(', ');
  return [
    m.path,
    `input ${m.info.input.width}×${m.info.input.height}×${m.info.input.channels}`,
    `threshold ${m.info.threshold.toPrecision(4)} (${imageScoreLabel(m.info)})`,
    `metrics: ${metrics || 'none'}`,
    `size ${formatBytes(m.sizeBytes)}`,
    `backend ${m.info.backend}`,
    `created ${m.info.createdAt}`,
  ].join('\n');
}

/** The normal class the model was trained with, when flawscope.json records it. */
export function modelNormalClass(info: ModelInfo | null): string | null {
  const d = info?.dataset as Record<string, unknown> | undefined;
  const c = d?.normalClass ?? (info?.config as Record<string, unknown> | undefined)?.normal;
  return typeof c === 'string' ? c : null;
}

/** Whether Score Image / Score Folder take `p` (scorer/image-extensions.ts: DATASET_IMAGE_EXTENSIONS). */
export function isImagePath(p: string): boolean {
  return (DATASET_IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(p).toLowerCase());
}

/** Images under `dir` (recursive, no dot folders, symlinks not followed), sorted, at most `limit`. */
export function listImages(dir: string, limit = 5000): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (out.length >= limit || depth > 8) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && isImagePath(p) && out.length < limit) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}
