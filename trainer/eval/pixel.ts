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
