/**
 * The loss-weight grid of paper §3.4: each of the six generator-loss weights in {0.5, 1.0, 1.5},
 * keeping only the combinations whose normal-group sum (recon + patch + latent + normalAdv) is at
 * least twice the anomaly-group sum (abc + anomalyAdv). Pure: no I/O.
 */
import type { LossWeights } from '../losses';

export const GRID_VALUES = [0.5, 1.0, 1.5] as const;
/** Order of the weights in grid tables and combination ids. */
export const WEIGHT_KEYS: readonly (keyof LossWeights)[] = ['recon', 'patch', 'latent', 'normalAdv', 'abc', 'anomalyAdv'];
export const NORMAL_GROUP: readonly (keyof LossWeights)[] = ['recon', 'patch', 'latent', 'normalAdv'];
export const ANOMALY_GROUP: readonly (keyof LossWeights)[] = ['abc', 'anomalyAdv'];
/** The number of combinations the paper reports for its grid search (§3.4). */
export const PAPER_GRID_COUNT = 314;

export function normalSum(w: LossWeights): number {
  return NORMAL_GROUP.reduce((a, k) => a + w[k], 0);
}

export function anomalySum(w: LossWeights): number {
  return ANOMALY_GROUP.reduce((a, k) => a + w[k], 0);
}

/** The §3.4 constraint. A small tolerance keeps 0.5+1.0 style float sums exact enough. */
export function satisfiesConstraint(w: LossWeights, ratio = 2): boolean {
  return normalSum(w) + 1e-9 >= ratio * anomalySum(w);
}

/** Every combination of `values` for the six weights (values.length^6 of them), in a fixed order. */
export function allCombinations(values: readonly number[] = GRID_VALUES): LossWeights[] {
  const out: LossWeights[] = [];
  const n = values.length;
  const total = n ** WEIGHT_KEYS.length;
  for (let i = 0; i < total; i++) {
    let r = i;
    const w = {} as LossWeights;
    for (let k = WEIGHT_KEYS.length - 1; k >= 0; k--) {
      w[WEIGHT_KEYS[k]] = values[r % n];
      r = Math.floor(r / n);
    }
    out.push(w);
  }
  return out;
}

/** The grid of §3.4: all combinations that satisfy the constraint. */
export function gridCombinations(values: readonly number[] = GRID_VALUES, ratio = 2): LossWeights[] {
  return allCombinations(values).filter((w) => satisfiesConstraint(w, ratio));
}

/** A short stable id for a weight combination, e.g. `r1.5-p1.5-l0.5-n0.5-a0.5-aa1`. */
export function comboId(w: LossWeights): string {
  const tag: Record<keyof LossWeights, string> = { recon: 'r', patch: 'p', latent: 'l', normalAdv: 'n', abc: 'a', anomalyAdv: 'aa' };
  return WEIGHT_KEYS.map((k) => `${tag[k]}${w[k]}`).join('-');
}

/** Seeded choice of `count` combinations (Fisher–Yates with a small LCG); all of them when count ≥ length. */
export function sampleCombinations<T>(items: readonly T[], count: number, seed: number): T[] {
  const a = items.slice();
  if (count >= a.length) return a;
  let s = (seed >>> 0) || 1;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, count);
}

/** Parses `--values 0.5,1,1.5`. Throws with the flag named. */
export function parseValues(raw: string): number[] {
  const v = raw.split(',').map((s) => Number(s.trim()));
  if (!v.length || v.some((x) => !Number.isFinite(x) || x < 0)) throw new Error(`--values ${raw}: expected comma-separated numbers ≥ 0`);
  return [...new Set(v)].sort((a, b) => a - b);
}
