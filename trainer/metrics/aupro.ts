/**
 * AUPRO, the per-region overlap curve integrated to a false-positive rate of 0.3, normalised by
 * 0.3 — the pixel figure MVTec AD reports beside pixel AUROC (Bergmann et al. 2021). Unlike
 * pixel AUROC, a large defect does not outweigh a small one: each connected defect region
 * (8-connected, as MVTec's evaluation labels them) counts once, by the share of its pixels above
 * the threshold, so a map that finds every hairline crack but only part of a big blotch is not
 * beaten by one that paints only the blotch.
 *
 * Computed from histograms (like PixelRoc, trainer/defect-map/evaluate.ts) so that hundreds of
 * megapixel photos fit in memory: PRO(t) = (1/R) Σ_regions (1/|r|) Σ_{p∈r} [s_p ≥ t] is a
 * histogram of defect pixels each weighted 1/|r|, divided by the region count R.
 */

/** Histogram bins over [0, max] (max 1 for probabilities); scores outside are clamped. */
export const PRO_BINS = 65536;

/** Labels the 8-connected regions of a 0/1 mask (row-major w x h): a label per pixel (0 = background) and each region's size (index = label). */
export function labelRegions(mask: ArrayLike<number>, w: number, h: number): { labels: Int32Array; sizes: number[] } {
  if (mask.length !== w * h) throw new Error(`labelRegions: mask has ${mask.length} pixels, not ${w} x ${h}`);
  const labels = new Int32Array(w * h);
  const sizes = [0];
  const stack: number[] = [];
  for (let start = 0; start < labels.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const id = sizes.length;
    let size = 0;
    labels[start] = id;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      size++;
      const x = p % w, y = (p - x) / w;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const q = ny * w + nx;
        if (mask[q] && !labels[q]) { labels[q] = id; stack.push(q); }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

export class ProCurve {
  private readonly normal = new Float64Array(PRO_BINS);
  private readonly regionShare = new Float64Array(PRO_BINS);
  private regions = 0;
  private normals = 0;

  /** `max`: the top of the score range (1 for probabilities, 2 for the reconstruction error's normalised L1). */
  constructor(private readonly max = 1) {
    if (!(max > 0)) throw new RangeError(`ProCurve: max must be positive, got ${max}`);
  }

  /** One image's probability map and its 0/1 mask (same w x h). An image without defect pixels adds only normal pixels. */
  add(map: ArrayLike<number>, mask: ArrayLike<number>, w: number, h: number): void {
    if (map.length !== w * h) throw new Error(`ProCurve.add: map has ${map.length} pixels, not ${w} x ${h}`);
    const { labels, sizes } = labelRegions(mask, w, h);
    for (let i = 0; i < map.length; i++) {
      const b = Math.min(PRO_BINS - 1, Math.max(0, Math.floor((map[i] / this.max) * PRO_BINS)));
      if (labels[i]) this.regionShare[b] += 1 / sizes[labels[i]];
      else { this.normal[b]++; this.normals++; }
    }
    this.regions += sizes.length - 1;
  }

  /** The area under PRO(FPR) for FPR in [0, limit], divided by limit (1 = every region wholly found before any false positive); NaN without regions or normal pixels. */
  aupro(limit = 0.3): number {
    if (!this.regions || !this.normals) return NaN;
    let fpr = 0, pro = 0, area = 0;
    // Thresholds from the top bin down; a bin's pixels cross together (a straight segment).
    for (let b = PRO_BINS - 1; b >= 0; b--) {
      const nextFpr = fpr + this.normal[b] / this.normals;
      const nextPro = pro + this.regionShare[b] / this.regions;
      if (nextFpr >= limit) {
        const t = nextFpr > fpr ? (limit - fpr) / (nextFpr - fpr) : 0;
        area += (limit - fpr) * (pro + (pro + t * (nextPro - pro))) / 2;
        return area / limit;
      }
      area += (nextFpr - fpr) * (pro + nextPro) / 2;
      fpr = nextFpr; pro = nextPro;
    }
    return area / limit;
  }
}
