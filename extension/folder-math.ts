/**
 * Score Folder helpers shared by the host and the folder webview (no Node or vscode imports):
 * labels from folder names, ROC curve / AUROC, CSV export.
 */

const NORMAL_NAMES = ['good', 'normal', 'ok', 'free'];

/**
 * Label of an image from its path relative to the scored folder: the first folder name decides.
 * Normal = `normalClass` when given (the model's training normal class), else a conventional
 * normal name (good/normal/ok/free). Images directly in the folder get no label.
 */
export function labelFor(relPath: string, normalClass: string | null, folderNames: readonly string[]): 0 | 1 | null {
  const parts = relPath.split(/[\\/]/).filter(Boolean);
  if (parts.length < 2) return null;
  const top = parts[0];
  const normal = normalClass !== null && folderNames.includes(normalClass) ? normalClass : folderNames.find((f) => NORMAL_NAMES.includes(f.toLowerCase()));
  if (normal === undefined) return null;
  return top === normal ? 0 : 1;
}

export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}

/** ROC curve (anomaly = positive, higher score = more anomalous) and its area, ties handled. */
export function roc(scores: readonly number[], labels: readonly (0 | 1)[]): { points: RocPoint[]; auroc: number } | null {
  const pos = labels.filter((l) => l === 1).length;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return null;
  const idx = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  let area = 0;
  for (let k = 0; k < idx.length; ) {
    const s = scores[idx[k]];
    let dtp = 0;
    let dfp = 0;
    while (k < idx.length && scores[idx[k]] === s) {
      if (labels[idx[k]] === 1) dtp++;
      else dfp++;
      k++;
    }
    area += (dfp / neg) * ((tp + dtp / 2) / pos); // trapezoid over a tie group
    tp += dtp;
    fp += dfp;
    points.push({ fpr: fp / neg, tpr: tp / pos, threshold: s });
  }
  return { points, auroc: area };
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  // Quote when needed; neutralise spreadsheet formulas (=, +, -, @ at the start of text).
  const safe = typeof v === 'string' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows: readonly { name: string; score: number; isAnomaly: boolean; label: 0 | 1 | null }[], threshold: number): string {
  const lines = ['image,score,threshold,verdict,label'];
  for (const r of rows)
    lines.push([r.name, r.score, threshold, r.isAnomaly ? 'anomaly' : 'normal', r.label === null ? null : r.label === 1 ? 'anomaly' : 'normal'].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}
