/**
 * Which group (normal or anomaly) each training step draws from — a stated rule, not an accident
 * of the set sizes. Each step the loop draws one number from its seeded RNG and trains on an
 * anomaly batch when it falls below the anomaly share:
 * - `size`: the share is the anomaly set's share of all training images (the paper's rule: with
 *   its balanced sampling — one-vs-rest's §4.1 counts, the defect protocol's k-means balancing —
 *   the two sets are about equal, so about half the steps).
 * - a number X in (0, 1): a fixed share X of the steps, whatever the set sizes.
 * - `auto` (the default): `size`, but never under MIN_AUTO_ANOMALY_SHARE. A set that is balanced
 *   trains exactly as the paper's rule; an unbalanced one (`--balance false`: 109,020 normal and
 *   541 defect crops would give 0.5 %) still spends a quarter of its steps on the defects.
 * A group whose loss weights are all zero gets no steps (the "autoencoder alone" ablation).
 */
import type { Rng } from './rng';

export const ANOMALY_SHARE_WORDS = ['auto', 'size'] as const;
export type AnomalyShareSetting = (typeof ANOMALY_SHARE_WORDS)[number] | number;

/** The least share of anomaly steps `auto` gives a set with labelled anomalies. */
export const MIN_AUTO_ANOMALY_SHARE = 0.25;

/** What the start event states: the two set sizes, the share of anomaly steps and the rule that set it. */
export interface GroupSchedule {
  normal: number;
  anomaly: number;
  /** Probability that a step trains on an anomaly batch. */
  anomalyShare: number;
  /** Probability of a normal batch, computed as the rule states it (nN / (nN + nA) for `size`, bit for bit the trainer's rule before this module). */
  normalShare: number;
  rule: 'size' | 'fixed' | 'auto-size' | 'auto-floor' | 'normal-only' | 'anomaly-only';
  /** The rule in words, for the progress line and the README. */
  text: string;
}

const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 && x > 0 ? 2 : 1)} %`;

export function groupSchedule(setting: AnomalyShareSetting, sizes: { normal: number; anomaly: number }, on: { normal: boolean; anomaly: boolean }): GroupSchedule {
  const { normal, anomaly } = sizes;
  const base = { normal, anomaly };
  if (!on.anomaly || anomaly === 0) {
    const why = anomaly === 0 ? 'no anomaly images for training' : 'the anomaly losses (abc, anomalyAdv) weigh 0';
    return { ...base, anomalyShare: 0, normalShare: 1, rule: 'normal-only', text: `every step a normal batch (${why})` };
  }
  if (!on.normal) return { ...base, anomalyShare: 1, normalShare: 0, rule: 'anomaly-only', text: 'every step an anomaly batch (the normal losses weigh 0)' };
  const bySize = anomaly / (normal + anomaly);
  const normalBySize = normal / (normal + anomaly);
  const counts = `${normal} normal, ${anomaly} anomaly images`;
  if (setting === 'size') return { ...base, anomalyShare: bySize, normalShare: normalBySize, rule: 'size', text: `${pct(bySize)} of the steps on anomaly batches, in proportion to the set sizes (${counts}; --anomaly-share size)` };
  if (typeof setting === 'number') return { ...base, anomalyShare: setting, normalShare: 1 - setting, rule: 'fixed', text: `${pct(setting)} of the steps on anomaly batches (--anomaly-share ${setting}; ${counts})` };
  if (bySize >= MIN_AUTO_ANOMALY_SHARE) return { ...base, anomalyShare: bySize, normalShare: normalBySize, rule: 'auto-size', text: `${pct(bySize)} of the steps on anomaly batches, in proportion to the set sizes (${counts})` };
  return {
    ...base, anomalyShare: MIN_AUTO_ANOMALY_SHARE, normalShare: 1 - MIN_AUTO_ANOMALY_SHARE, rule: 'auto-floor',
    text: `${pct(MIN_AUTO_ANOMALY_SHARE)} of the steps on anomaly batches: the set is unbalanced (${counts}, ${pct(bySize)} by size), so --anomaly-share auto raises the anomaly steps to a quarter; --anomaly-share size keeps the proportion, a number fixes the share`,
  };
}

/** The group of the next step: one draw from the loop's RNG (so a resumed training draws the same). */
export function nextGroup(rng: Rng, s: GroupSchedule): 'normal' | 'anomaly' {
  return rng.next() < s.normalShare ? 'normal' : 'anomaly';
}
