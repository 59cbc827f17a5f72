/**
 * How a model's threshold is chosen from scores of labelled images (the training's validation
 * split, or a user's folder in `flawscope calibrate`). The scorer calls an image ANOMALY when its
 * score is strictly above the threshold (scorer/scorer.ts), and every rule here counts the same way.
 *
 * - false-alarm-rate R (the default, R = 0.01): the smallest threshold at which at most R of the
 *   normal images score above it. With n normals, k = floor(R·n) of them may be flagged, so the
 *   threshold is the (k+1)-th highest normal score. Ties: normals tied with that score are not
 *   flagged, so fewer than k may be. Small sets: when R·n < 1 (e.g. 30 normals at 1 %), k = 0 and
 *   the threshold is the highest normal score: only scores above every normal are flagged. One
 *   normal: its score. The anomalies play no part in the choice; their share above the threshold
 *   is the expected detection rate (null without anomalies).
 * - false-alarm-rate R with a confidence γ (what `train` uses, γ = DEFAULT_CONFIDENCE): a one-sided
 *   tolerance bound, the threshold that at most R of *new* normal images exceed, with probability
 *   γ over the draw of the validation normals. The plain rule above only promises R on the images
 *   it was chosen on: with 15 validation normals at 1 % it is their highest score, and a new normal
 *   image lands above the highest of 15 alike ones one time in 16 on average, and far more often
 *   when the 15 happen to sit low. Two ways, by the number n of normals:
 *   · n ≥ log(1−γ)/log(1−R) (230 at 1 %, γ = 0.9): distribution-free. The j-th highest normal
 *     score is exceeded by a share U ~ Beta(j, n+1−j) of new normals, and P(U ≤ R) =
 *     P(Binomial(n, R) ≥ j); the threshold is the j-th highest score for the largest j with that
 *     probability ≥ γ. No assumption about the scores' distribution.
 *   · fewer: parametric. A normal tolerance bound on the log scores (reconstruction errors are
 *     positive and skewed to the right; raw scores when any is ≤ 0), or on the logits when the
 *     caller says the scores are probabilities (a defect map's: a bound on their own scale can
 *     pass 1, which no score reaches, J67): mean + K·sd, with K the
 *     one-sided normal tolerance factor for coverage 1−R at confidence γ (exact: a quantile of
 *     the noncentral t distribution, trainer/tolerance.ts). Limit: it
 *     assumes that the log scores' upper tail is normal; a heavier tail gives more false alarms.
 *   The parametric bound is capped at the highest normal score (recorded as 'highest-normal') when
 *   it would keep less than half of the anomalies that score flags: a few normals far above the
 *   rest (a second cluster) widen sd until the bound passes nearly every anomaly, and a threshold
 *   that flags nothing is worse than the small sample's own maximum.
 *   Both are never below the plain rule's threshold, and with fewer than 3 normals (no usable sd)
 *   the plain rule is used and recorded. No constant is tuned to a dataset: R and γ say it all.
 * - defect-rate P: the threshold with the best F1 for the anomaly class after the anomalies are
 *   weighted to make up P of the total (a split with nine anomalies per normal image would
 *   otherwise make "flag nearly everything" the best F1). Candidates are the distinct scores;
 *   equal F1 goes to the higher threshold (fewer alarms). Flagging every image is never a
 *   candidate. Needs at least one anomaly.
 *
 * The choice is deterministic: no interpolation between scores, no randomness.
 */

import { InputError } from './errors';
import { binomialTail, toleranceFactor } from './tolerance';
export { binomialTail, normalQuantile, toleranceFactor } from './tolerance';
import type { ThresholdMethod, ThresholdRule } from '../scorer/model-format';
export type { ThresholdMethod } from '../scorer/model-format';

/** Both rates are for deployment: a rate above one half would be a benchmark split, not an inspection line. */
export const MAX_RATE = 0.5;

export interface ThresholdRequest {
  method: ThresholdMethod;
  /** R for 'false-alarm-rate', P for 'defect-rate'; in (0, MAX_RATE]. */
  target: number;
  /** 'false-alarm-rate' only: γ of the tolerance bound (see the module comment); absent = the plain rule. */
  confidence?: number;
}

/** γ of `train`'s default threshold: the promised false-alarm rate holds for new normal images with 90 % confidence. */
export const DEFAULT_CONFIDENCE = 0.9;

export interface ThresholdChoice {
  threshold: number;
  /** How a tolerance bound was computed (absent for the plain rules). */
  bound?: ToleranceBound;
  /** Share of the normals scoring above the threshold (≤ the target for 'false-alarm-rate'). */
  expectedFalseAlarmRate: number;
  /** Share of the anomalies scoring above it; null without anomalies. */
  expectedDetectionRate: number | null;
  normals: number;
  anomalies: number;
}

/** Refusals a caller turns into its own error type (flag names differ between train and calibrate). */
export class ThresholdRuleError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ThresholdRuleError';
  }
}

function finiteCopy(xs: ArrayLike<number>, what: string): Float64Array {
  const a = Float64Array.from(xs as ArrayLike<number>);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new ThresholdRuleError(`${what} score ${i} is ${a[i]}: a threshold needs finite scores`);
  return a;
}

function checkTarget(r: ThresholdRequest): void {
  if (!(r.target > 0 && r.target <= MAX_RATE)) throw new ThresholdRuleError(`${r.method} ${r.target}: expected a number above 0 and at most ${MAX_RATE}`);
}

const above = (xs: Float64Array, t: number): number => xs.reduce((n, v) => n + (v > t ? 1 : 0), 0);

/**
 * How many of n normals a rate R lets score above the threshold: floor(R·n), with a relative
 * tolerance so that 0.05 × 40 counts as 2 although it is 2.0000000000000004 or 1.9999999999999998 in floating point.
 */
export function allowedFalseAlarms(rate: number, n: number): number {
  return Math.floor(rate * n * (1 + 1e-12));
}

/** The false-alarm-rate rule (see the module comment). */
export function falseAlarmRateThreshold(normals: ArrayLike<number>, rate: number): number {
  checkTarget({ method: 'false-alarm-rate', target: rate });
  const s = finiteCopy(normals, 'normal').sort().reverse();
  if (!s.length) throw new ThresholdRuleError('no normal images: the false-alarm rate is measured on them');
  return s[Math.min(allowedFalseAlarms(rate, s.length), s.length - 1)];
}

export type ToleranceBound = NonNullable<ThresholdRule['bound']>;

/**
 * What the scores are: 'error' (a reconstruction error, positive, no upper limit) or 'probability'
 * (a defect map's, in [0, 1]): it decides the scale the parametric bound is fitted on.
 */
export type ScoreScale = 'error' | 'probability';

/** Probabilities are clamped this far inside (0, 1) before the logit: float32 sigmoids reach 0 and 1 exactly. */
const LOGIT_EPS = 1e-7;
const logit = (p: number): number => {
  const q = Math.min(1 - LOGIT_EPS, Math.max(LOGIT_EPS, p));
  return Math.log(q / (1 - q));
};

/** The tolerance-bound rule (see the module comment): the threshold and how it was computed. */
export function toleranceThreshold(normals: ArrayLike<number>, rate: number, confidence: number, anomalies?: ArrayLike<number>, scale: ScoreScale = 'error'): { threshold: number; bound: ToleranceBound } {
  const plain = falseAlarmRateThreshold(normals, rate);
  if (!(confidence > 0 && confidence < 1)) throw new ThresholdRuleError(`confidence ${confidence}: expected a number above 0 and below 1`);
  const s = finiteCopy(normals, 'normal').sort().reverse();
  const n = s.length;
  if (n >= Math.log(1 - confidence) / Math.log(1 - rate)) {
    let j = 1;
    while (j < n && binomialTail(n, rate, j + 1) >= confidence) j++;
    return { threshold: Math.max(plain, s[j - 1]), bound: 'order-statistic' };
  }
  if (scale === 'probability' && !s.every((v) => v >= 0 && v <= 1)) throw new ThresholdRuleError('probability scores must lie in [0, 1]');
  const kind: ToleranceBound = scale === 'probability' ? 'logit-normal' : s.every((v) => v > 0) ? 'log-normal' : 'normal';
  const xs = Array.from(s, (v) => (kind === 'logit-normal' ? logit(v) : kind === 'log-normal' ? Math.log(v) : v));
  const mean = xs.reduce((a, v) => a + v, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, n - 1));
  const k = toleranceFactor(n, rate, confidence);
  if (k === null || !(sd > 0)) return { threshold: plain, bound: 'too-few' };
  const t = mean + k * sd;
  const bound = kind === 'logit-normal' ? 1 / (1 + Math.exp(-t)) : kind === 'log-normal' ? Math.exp(t) : t;
  // A few high normals (a second cluster of normal scores) can widen sd until the bound lands above
  // nearly every anomaly: a model that flags nothing (J63). When the bound keeps less than half of
  // the validation anomalies that the highest normal's score flags, it is capped there.
  if (anomalies && bound > s[0]) {
    const above = (th: number) => Array.from(anomalies).filter((a) => a > th).length;
    if (above(bound) * 2 < above(s[0])) return { threshold: Math.max(plain, s[0]), bound: 'highest-normal' };
  }
  return { threshold: Math.max(plain, bound), bound: kind };
}

/** The defect-rate rule (see the module comment). */
export function defectRateThreshold(normals: ArrayLike<number>, anomalies: ArrayLike<number>, prior: number): number {
  checkTarget({ method: 'defect-rate', target: prior });
  const n = finiteCopy(normals, 'normal');
  const a = finiteCopy(anomalies, 'anomaly');
  if (!n.length) throw new ThresholdRuleError('no normal images: the defect-rate rule weighs them against the anomalies');
  if (!a.length) throw new ThresholdRuleError('no anomalies: the defect-rate rule needs some to measure detection; use the false-alarm rate instead');
  // Weights with wA·|a| : |n| = P : (1 − P), normals weighing 1 each.
  const wA = (prior * n.length) / ((1 - prior) * a.length);
  const all = [...Array.from(n, (v) => [v, 0] as const), ...Array.from(a, (v) => [v, 1] as const)].sort((x, y) => y[0] - x[0]);
  let tp = 0, fp = 0;
  let best = { threshold: all[0][0], f1: -1 };
  for (let i = 0; i < all.length; ) {
    // Threshold = this score: the images counted so far (strictly above it) are the flagged ones.
    const t = all[i][0];
    const wtp = wA * tp;
    const f1 = wtp === 0 ? 0 : (2 * wtp) / (2 * wtp + fp + wA * (a.length - tp));
    // Equal F1 keeps the higher threshold; 1e-12 so that rounding cannot break a tie the other way.
    if (f1 > best.f1 + 1e-12) best = { threshold: t, f1 };
    for (; i < all.length && all[i][0] === t; i++) all[i][1] ? tp++ : fp++;
  }
  return best.threshold;
}

/** Applies a rule and measures what its threshold does on the same scores. */
/** chooseThreshold for a command: a refusal names the flag that asked for the rule (train, the defects preset, calibrate). */
export function chooseThresholdForFlag(normals: ArrayLike<number>, anomalies: ArrayLike<number>, r: ThresholdRequest, scale: ScoreScale = 'error'): ThresholdChoice {
  try {
    return chooseThreshold(normals, anomalies, r, scale);
  } catch (e) {
    if (e instanceof ThresholdRuleError) throw new InputError(`--${r.method} ${r.target}: ${e.message}`);
    throw e;
  }
}

export function chooseThreshold(normals: ArrayLike<number>, anomalies: ArrayLike<number>, r: ThresholdRequest, scale: ScoreScale = 'error'): ThresholdChoice {
  if (r.method === 'false-alarm-rate' && r.confidence !== undefined) {
    const { threshold, bound } = toleranceThreshold(normals, r.target, r.confidence, anomalies, scale);
    return { threshold, bound, ...ratesAt(normals, anomalies, threshold) };
  }
  const threshold = r.method === 'false-alarm-rate' ? falseAlarmRateThreshold(normals, r.target) : defectRateThreshold(normals, anomalies, r.target);
  return { threshold, ...ratesAt(normals, anomalies, threshold) };
}

/** What a threshold does on labelled scores: the shares strictly above it. */
export function ratesAt(normals: ArrayLike<number>, anomalies: ArrayLike<number>, threshold: number): Omit<ThresholdChoice, 'threshold'> {
  const n = Float64Array.from(normals as ArrayLike<number>);
  const a = Float64Array.from(anomalies as ArrayLike<number>);
  return {
    expectedFalseAlarmRate: n.length ? above(n, threshold) / n.length : 0,
    expectedDetectionRate: a.length ? above(a, threshold) / a.length : null,
    normals: n.length,
    anomalies: a.length,
  };
}

/**
 * A warning when there are too few normal images for the rate asked: a new normal image scores
 * above the (k+1)-th highest of n alike ones with probability (k+1)/(n+1), so 15 validation
 * normals at 1 % flag about 6 % of new normal images even when nothing differs. null when that
 * estimate is within twice the target.
 */
export function smallSampleWarning(n: number, rate: number, where: string): string | null {
  const k = allowedFalseAlarms(rate, n);
  const fresh = (k + 1) / (n + 1);
  if (fresh <= 2 * rate) return null;
  const need = Math.ceil(1 / rate - 1);
  return `${n} normal images (${where}) are too few for a false-alarm rate of ${rate}: the threshold is the ${k === 0 ? 'highest of their scores' : `score ranked ${k + 1} from the top`}, and a new normal image scores above it about ${(100 * fresh).toFixed(1)} % of the time even when it is like them. Set the threshold on at least ${need} normal images: flawscope calibrate --model DIR --data FOLDER (or a larger --validation-fraction)`;
}

/** One line for people: what the threshold does on the images it was chosen on. */
export function describeChoice(c: Pick<ThresholdChoice, 'threshold' | 'expectedFalseAlarmRate' | 'expectedDetectionRate' | 'normals' | 'anomalies'>): string {
  const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.1 ? 2 : 1)} %`;
  const fa = `${pct(c.expectedFalseAlarmRate)} of ${c.normals} normal images above it`;
  const det = c.expectedDetectionRate === null ? 'no anomalies to measure detection' : `${pct(c.expectedDetectionRate)} of ${c.anomalies} anomalies detected`;
  return `threshold ${Number(c.threshold.toPrecision(6))}: ${fa}, ${det}`;
}

/** The record kept in flawscope.json: the rule, what it did, on which images, when. */
export function ruleRecord(r: ThresholdRequest, c: ThresholdChoice, source: string, at = new Date()): ThresholdRule {
  return {
    method: r.method, target: r.target,
    ...(r.confidence !== undefined && c.bound ? { confidence: r.confidence, bound: c.bound } : {}),
    expectedFalseAlarmRate: c.expectedFalseAlarmRate, expectedDetectionRate: c.expectedDetectionRate,
    validationNormals: c.normals, validationAnomalies: c.anomalies, source, chosenAt: at.toISOString(),
  };
}
