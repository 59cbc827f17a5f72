/**
 * Score Folder helpers shared by the host and the folder webview (no Node or vscode imports):
 * labels from folder names, ROC curve / AUROC, CSV export.
 */
import { normalClassCandidates } from '../trainer/data/normal-class';
import { auroc, rocCurve, type RocPoint } from '../trainer/metrics';

/**
 * Label of an image from its path relative to the scored folder: the first folder name decides.
 * Normal = `normalClass` when given and present (the model's training normal class), else the one
 * folder the trainer would also take as normal (good/normal/ok/free as a word: `good`, `MT_Free`;
 * trainer/data/normal-class.ts). No label when no folder, or several, look normal, or for images
 * directly in the folder.
 */
export function labelFor(relPath: string, normalClass: string | null, folderNames: readonly string[]): 0 | 1 | null {
  const parts = relPath.split(/[\\/]/).filter(Boolean);
  if (parts.length < 2) return null;
  const top = parts[0];
  const candidates = normalClassCandidates(folderNames);
  const normal = normalClass !== null && folderNames.includes(normalClass) ? normalClass : candidates.length === 1 ? candidates[0] : null;
  if (normal === null) return null;
  return top === normal ? 0 : 1;
}

/**
 * ROC curve (anomaly = positive, higher score = more anomalous) and AUROC of a scored folder's
 * labelled rows, computed by trainer/metrics (the same code as the trainer's reports). Rows without
 * a label and rows whose score is not a finite number (an image the scorer could not score) are left
 * out, as are the images that failed to load (they never become rows). Null when the rows left do
 * not hold both classes.
 */
export function folderRoc(rows: readonly { score: number; label: 0 | 1 | null }[]): { points: RocPoint[]; auroc: number; labelled: number; normals: number } | null {
  const used = rows.filter((r) => r.label !== null && Number.isFinite(r.score));
  const scores = used.map((r) => r.score);
  const labels = used.map((r) => r.label as 0 | 1);
  const normals = labels.filter((l) => l === 0).length;
  if (normals === 0 || normals === used.length) return null;
  return { points: rocCurve(scores, labels), auroc: auroc(scores, labels), labelled: used.length, normals };
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  // Quote when needed; neutralise spreadsheet formulas (=, +, -, @ at the start of text).
  const safe = typeof v === 'string' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows: readonly { name: string; score: number; isAnomaly: boolean; verdict?: 'normal' | 'anomaly' | 'unfamiliar'; label: 0 | 1 | null }[], threshold: number): string {
  const lines = ['image,score,threshold,verdict,label'];
  for (const r of rows)
    lines.push([r.name, r.score, threshold, r.verdict ?? (r.isAnomaly ? 'anomaly' : 'normal'), r.label === null ? null : r.label === 1 ? 'anomaly' : 'normal'].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}
