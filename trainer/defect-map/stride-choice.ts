/**
 * The rule that chooses a defect-map model's photo-tile stride on the validation photos
 * (docs/defect-map.md "The tile stride"): among candidate strides, the coarsest (cheapest: the
 * tile count falls with the square of the stride) whose validation image AUROC is within one
 * standard error of the best candidate's — the one-standard-error rule (Breiman et al. 1984;
 * Hastie, Tibshirani & Friedman, ESL §7.10) with "cheaper" in place of "simpler".
 *
 * The standard error is that of the *difference* of the two AUROCs, from a paired, stratified
 * bootstrap of the validation photos with a fixed seed: both strides score the same photos, so
 * their AUROCs move together and the noise of the difference is much smaller than either AUROC's
 * own (Hanley–McNeil's SE of one AUROC ignores that pairing and would keep the coarser stride
 * almost always). Nothing here depends on a data set: the margin comes from the validation set's
 * size and from how alike the two strides rank its photos.
 */
import { auroc } from '../metrics';
import { Rng } from '../rng';

/** One candidate: its stride (model pixels between tiles) and the validation photos' image scores at it, in the labels' order. */
export interface StrideCandidate { stride: number; scores: ArrayLike<number> }

export interface StrideComparison {
  stride: number;
  /** Validation image AUROC at this stride; null when validation lacks normal or defect photos. */
  auroc: number | null;
  /** Best AUROC minus this one (0 for the best). */
  shortfall: number | null;
  /** The bootstrap standard error of that difference: the margin this candidate had to stay within. */
  margin: number | null;
}

export interface StrideChoice {
  stride: number;
  /** Every candidate, coarsest first. */
  candidates: StrideComparison[];
  method: string;
  /** One line for the training output: what was compared and why this stride. */
  text: string;
}

/** The bootstrap's fixed settings (recorded with every choice). */
export const STRIDE_BOOTSTRAP = { resamples: 1000, seed: 0x57d1e } as const;

/**
 * Chooses among `candidates` (at least one; any order). Labels: 1 = defect photo. Without both a
 * normal and a defect photo there is nothing to compare, so the coarsest stride is kept and the
 * text says why.
 */
export function chooseTileStride(candidates: readonly StrideCandidate[], labels: ArrayLike<number>, boot: { resamples: number; seed: number } = STRIDE_BOOTSTRAP): StrideChoice {
  if (candidates.length === 0) throw new Error('chooseTileStride: no candidate stride');
  for (const c of candidates)
    if (c.scores.length !== labels.length) throw new Error(`chooseTileStride: stride ${c.stride} has ${c.scores.length} scores for ${labels.length} photos`);
  const byCost = [...candidates].sort((a, b) => b.stride - a.stride);
  const method = `coarsest stride within one standard error of the best validation image AUROC (SE of the paired difference: stratified bootstrap, ${boot.resamples} resamples, seed ${boot.seed})`;
  const aurocs = byCost.map((c) => nanToNull(auroc(c.scores, labels)));
  if (aurocs.some((a) => a === null)) {
    return {
      stride: byCost[0].stride, method,
      candidates: byCost.map((c) => ({ stride: c.stride, auroc: null, shortfall: null, margin: null })),
      text: `tile stride ${byCost[0].stride} px (the coarsest of ${byCost.map((c) => c.stride).join(', ')}): the validation photos hold no ${missingClass(labels)}, so the strides cannot be compared`,
    };
  }
  const a = aurocs as number[];
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  const margins = byCost.map((c, i) => (i === best ? 0 : pairedDifferenceSe(byCost[best].scores, c.scores, labels, boot)));
  const comparisons = byCost.map((c, i) => ({ stride: c.stride, auroc: a[i], shortfall: a[best] - a[i], margin: margins[i] }));
  // Coarsest first, so the first candidate within its margin is the cheapest one that validation cannot tell from the best.
  const pick = comparisons.find((c) => c.shortfall <= c.margin)!;
  const parts = comparisons.map((c) => `${c.stride} px ${c.auroc.toFixed(4)}`);
  const coarser = comparisons.filter((c) => c.stride > pick.stride);
  const why = pick.stride !== byCost[best].stride
    ? `within one SE of the best (${byCost[best].stride} px): −${pick.shortfall.toFixed(4)} ≤ SE ${pick.margin.toFixed(4)}, at ${round2((pick.stride / byCost[best].stride) ** 2)}x fewer tiles`
    : coarser.length === 0
      ? (byCost.length === 1 ? 'the only candidate' : 'the best and the cheapest')
      : `the best; ${coarser.map((c) => `${c.stride} px is ${c.shortfall.toFixed(4)} below it, more than one SE (${c.margin.toFixed(4)})`).join('; ')}`;
  return { stride: pick.stride, candidates: comparisons, method, text: `tile stride ${pick.stride} px, chosen on ${labels.length} validation photos (image AUROC ${parts.join(', ')}): ${why}` };
}

/**
 * Standard error of AUROC(a) − AUROC(b) over resamples that draw the normal and the defect photos
 * separately with replacement (so each resample has both, as many of each as the data), the same
 * photos for both score lists.
 */
export function pairedDifferenceSe(a: ArrayLike<number>, b: ArrayLike<number>, labels: ArrayLike<number>, boot: { resamples: number; seed: number }): number {
  const pos: number[] = [], neg: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] ? pos : neg).push(i);
  const rng = new Rng(boot.seed);
  const n = pos.length + neg.length;
  const sa = new Float64Array(n), sb = new Float64Array(n), y = new Uint8Array(n);
  y.fill(1, 0, pos.length);
  let sum = 0, sum2 = 0;
  for (let r = 0; r < boot.resamples; r++) {
    for (let k = 0; k < n; k++) {
      const i = k < pos.length ? pos[rng.int(pos.length)] : neg[rng.int(neg.length)];
      sa[k] = a[i];
      sb[k] = b[i];
    }
    const d = auroc(sa, y) - auroc(sb, y);
    sum += d;
    sum2 += d * d;
  }
  const mean = sum / boot.resamples;
  return Math.sqrt(Math.max(0, sum2 / boot.resamples - mean * mean) * boot.resamples / Math.max(1, boot.resamples - 1));
}

const nanToNull = (v: number) => (Number.isNaN(v) ? null : v);

const round2 = (v: number) => Math.round(v * 100) / 100;

function missingClass(labels: ArrayLike<number>): string {
  let p = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) p++;
  return p === 0 ? 'defect photos' : 'normal photos';
}
