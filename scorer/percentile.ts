/**
 * Readable scores: where an image's score falls among the validation normal images' scores
 * ("more unusual than 99.6 % of normal images"), instead of a 0–1 number that reads like a
 * probability and is not one. The trainer records the validation normal scores' percentiles
 * (`normalStats.quantiles`, 101 values); for a model written before that, the percentile is
 * estimated from `normalStats` mean and standard deviation as if the scores were normally
 * distributed, and said with "about". Browser-safe, no tfjs.
 */
import type { ModelInfo } from './model-format';

export interface ScorePercentile {
  /** 0..100: the share of validation normal images scoring lower. */
  value: number;
  /** From mean and std (a model without recorded quantiles), not from the scores themselves. */
  estimated: boolean;
  /** Validation normal images behind it (0 when unknown). */
  count: number;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 for erf; error under 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2, t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The percentile of `score` among the model's validation normal scores; null when the model recorded none. */
export function scorePercentile(score: number, normalStats: ModelInfo['normalStats'] | undefined): ScorePercentile | null {
  if (!normalStats || !Number.isFinite(score)) return null;
  const q = normalStats.quantiles;
  const count = Number.isFinite(normalStats.count) ? normalStats.count : 0;
  if (q && q.length >= 2) {
    const n = q.length - 1;
    let value: number;
    if (score < q[0]) value = 0;
    else if (score >= q[n]) value = 100;
    else {
      // The last percentile at or below the score, then linear within the step (ties: the highest).
      let i = 0;
      while (i < n - 1 && q[i + 1] <= score) i++;
      const step = q[i + 1] - q[i];
      value = (100 * (i + (step > 0 ? (score - q[i]) / step : 1))) / n;
    }
    return { value, estimated: false, count };
  }
  const { mean, std } = normalStats;
  if (!Number.isFinite(mean) || !Number.isFinite(std) || !(std > 0)) return null;
  return { value: 100 * normalCdf((score - mean) / std), estimated: true, count };
}

/**
 * The one sentence every scorer shows for a score: "more unusual than 99.6 % of normal images",
 * "about …" when estimated, "more unusual than all 120 normal validation images" above the
 * highest, and a plain statement when the model has no validation scores to compare with.
 */
export function describePercentile(p: ScorePercentile | null): string {
  if (!p) return 'no normal validation scores in this model to compare with';
  const about = p.estimated ? 'about ' : '';
  if (!p.estimated && p.value >= 100) return p.count > 0 ? `more unusual than all ${p.count} normal validation images` : 'more unusual than all normal validation images';
  if (!p.estimated && p.value <= 0) return 'less unusual than every normal validation image';
  // One decimal, never rounded up to a "100" or down to a "0" it is not.
  const v = Math.min(99.9, Math.max(0.1, Math.round(p.value * 10) / 10));
  const shown = p.value > 99.9 ? '> 99.9' : p.value < 0.1 ? '< 0.1' : v.toFixed(1);
  return `${about}more unusual than ${shown} % of normal images`;
}
