/**
 * Pixel-level AUROC (paper §4.3 where masks exist): every pixel of every evaluated image is one
 * sample, its error-map value the score, its mask bit the label. Very large sets are thinned with
 * a fixed stride (deterministic) so that the exact AUROC stays affordable.
 */
import { auroc } from '../metrics';

export const MAX_PIXEL_SAMPLES = 4_000_000;

/** `errors[i]` and `labels[i]` are one image's error map and mask bits (1 = defect). */
export function pixelAuroc(errors: ArrayLike<number>[], labels: ArrayLike<number>[], maxSamples = MAX_PIXEL_SAMPLES): number | null {
  let total = 0;
  errors.forEach((e, i) => {
    if (e.length !== labels[i].length) throw new Error(`pixel AUROC: image ${i} has ${e.length} scores and ${labels[i].length} mask pixels`);
    total += e.length;
  });
  const stride = Math.max(1, Math.ceil(total / maxSamples));
  const n = Math.ceil(total / stride);
  const s = new Float64Array(n);
  const l = new Uint8Array(n);
  let k = 0, g = 0;
  errors.forEach((e, i) => {
    const lab = labels[i];
    for (let q = 0; q < e.length; q++, g++) {
      if (g % stride) continue;
      s[k] = e[q];
      l[k++] = lab[q] ? 1 : 0;
    }
  });
  const a = auroc(s.subarray(0, k), l.subarray(0, k));
  return Number.isFinite(a) ? a : null;
}

/**
 * Pixel AUROC over whole photos, added one photo at a time (a photo set can hold far more pixels
 * than fit in memory at once): each value is counted in one of BINS equal bins over [0, max]
 * (values above max in the last), ties within a bin count half. With 65,536 bins over an error
 * range of 2, values closer than 3e-5 tie.
 */
export class StreamingPixelAuroc {
  private readonly pos: Float64Array;
  private readonly neg: Float64Array;
  constructor(private readonly max: number, private readonly bins = 65536) {
    this.pos = new Float64Array(bins);
    this.neg = new Float64Array(bins);
  }

  /** `labels[i]` truthy = a defect pixel. */
  add(values: ArrayLike<number>, labels: ArrayLike<number>): void {
    if (values.length !== labels.length) throw new Error(`pixel AUROC: ${values.length} scores and ${labels.length} mask pixels`);
    const k = this.bins / this.max;
    for (let i = 0; i < values.length; i++) {
      const b = Math.min(this.bins - 1, Math.max(0, Math.floor(values[i] * k)));
      if (labels[i]) this.pos[b]++;
      else this.neg[b]++;
    }
  }

  /** null until both defect and normal pixels were added. */
  auroc(): number | null {
    let P = 0, N = 0;
    for (let b = 0; b < this.bins; b++) { P += this.pos[b]; N += this.neg[b]; }
    if (!P || !N) return null;
    let below = 0, sum = 0;
    for (let b = 0; b < this.bins; b++) { sum += this.pos[b] * (below + this.neg[b] / 2); below += this.neg[b]; }
    return sum / (P * N);
  }
}
