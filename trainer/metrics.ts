/** Detection metrics (paper §4.3): exact AUROC with ties counted half, ROC points, F1-optimal threshold. */
import { InputError } from './errors';

/** A score that is not a finite number: ranking it would make up a result (NaN compares false with everything). */
export class NonFiniteScoreError extends InputError {
  constructor(readonly index: number, readonly value: number) {
    super(`score ${index} is ${value}: a metric needs finite scores (the model's output is not usable)`);
    this.name = 'NonFiniteScoreError';
  }
}

/** Refuses NaN and ±Infinity, so every metric below ranks only real numbers. */
export function assertFiniteScores(scores: ArrayLike<number>): void {
  for (let i = 0; i < scores.length; i++) if (!Number.isFinite(scores[i])) throw new NonFiniteScoreError(i, scores[i]);
}

/** AUROC = P(score(anomaly) > score(normal)) + ½ P(tie); labels 1 = anomaly. NaN when a class is absent; throws NonFiniteScoreError on a non-finite score. */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  assertFiniteScores(scores);
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // tied scores share their mean rank
    for (let k = i; k <= j; k++) if (labels[order[k]]) { rankSumPos += avgRank; pos++; }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface RocPoint { threshold: number; fpr: number; tpr: number }

/** ROC curve: one point per distinct score (descending thresholds), starting at (0,0). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocPoint[] {
  assertFiniteScores(scores);
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let P = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) P++;
  const N = labels.length - P;
  const pts: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  let tp = 0, fp = 0;
  for (let i = 0; i < idx.length; ) {
    const s = scores[idx[i]];
    while (i < idx.length && scores[idx[i]] === s) { if (labels[idx[i]]) tp++; else fp++; i++; }
    pts.push({ threshold: s, fpr: N ? fp / N : 0, tpr: P ? tp / P : 0 });
  }
  return pts;
}

/** The threshold t (predict anomaly when score ≥ t) with the best F1 for the anomaly class. */
export function f1OptimalThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>): { threshold: number; f1: number } {
  let P = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) P++;
  let best = { threshold: Infinity, f1: 0 };
  for (const p of rocCurve(scores, labels).slice(1)) {
    const tp = p.tpr * P;
    const fp = p.fpr * (labels.length - P);
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + (P - tp));
    if (f1 > best.f1) best = { threshold: p.threshold, f1 };
  }
  return best;
}

export function meanStd(xs: ArrayLike<number>): { mean: number; std: number } {
  assertFiniteScores(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  const mean = xs.length ? s / xs.length : NaN;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, std: xs.length > 1 ? Math.sqrt(v / (xs.length - 1)) : 0 };
}

export function quantile(xs: ArrayLike<number>, q: number): number {
  assertFiniteScores(xs);
  const a = Float64Array.from(xs as ArrayLike<number>).sort();
  if (!a.length) return NaN;
  const pos = (a.length - 1) * q;
  const lo = Math.floor(pos);
  return a[lo] + (a[Math.min(lo + 1, a.length - 1)] - a[lo]) * (pos - lo);
}
