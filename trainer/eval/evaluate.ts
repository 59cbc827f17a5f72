/**
 * Evaluation of a saved model folder: every score comes from the scorer module (the same Scorer
 * the CLI, the extension and the web page use), so what we report is what users get.
 * Image AUROC (exact, ties half) for the model's own score and both score definitions, per
 * anomaly class AUROC (normal vs that class), the ROC curve, the F1-optimal threshold, precision /
 * recall at the model's own threshold, and pixel AUROC where masks exist.
 */
import type { Scorer } from '../../scorer/scorer';
import type { ImageInput } from '../../scorer/image';
import { tileStrideOf, type FlipMode, type ScoreKind, type ScoreViews, type ShiftMode } from '../../scorer/model-format';
import type { ImageSet } from '../data/types';
import { auroc, f1OptimalThreshold, rocCurve, type RocPoint } from '../metrics';
import { readMask } from '../data/patches';
import { pixelAuroc, StreamingPixelAuroc } from './pixel';
import { ProCurve } from '../metrics/aupro';

export interface EvalSet {
  images: ImageSet;
  /** 1 = anomaly. */
  isAnomaly: Uint8Array;
  className?: string[];
  /** One-channel masks (0/255) at the images' size, where the layout has them; null entries = no mask (all normal). */
  masks?: (Uint8Array | null)[];
  /** Source image per item where items are crops of larger photos: enables the image-level AUROC (max over crops). */
  groups?: string[];
  /** The source photo's mask file per item, where it has one: enables the whole-photo pixel AUROC. */
  maskPaths?: (string | undefined)[];
}

export interface ClassResult { className: string; count: number; anomaly: boolean; auroc: number | null; meanScore: number }
/** AUROC over source images rather than items (crops). */
export interface ImageLevelAuroc { auroc: number | null; images: number; normals: number; anomalies: number }
/** Whole-photo AUROC; `byType`: the normal photos against the defect photos of one type alone (where item classes are known). */
export interface PhotoAuroc extends ImageLevelAuroc {
  byType?: { className: string; photos: number; auroc: number | null }[];
  /**
   * Pixel AUROC over the whole photos' maps (the defect probability where the model has a
   * defect map, else the reconstruction error) against their masks, every pixel of every photo
   * (normal photos: all normal pixels); null without masks.
   */
  pixelAuroc?: number | null;
  /** The per-region overlap (AUPRO to a false-positive rate of 0.3, as MVTec AD reports it) over the same pixels; null without masks or regions. */
  pixelAupro?: number | null;
  /** How far apart the photo's tiles started, in model pixels (the model size: side by side). */
  tileStride?: number;
}

/** What may be scored differently from the model's own settings, to measure it both ways. */
export type ScoreOverrides = Partial<ScoreViews> & { tileStride?: number };

export interface EvalResult {
  count: number;
  normals: number;
  anomalies: number;
  kind: ScoreKind;
  /** Whether each image's score averaged it with its left-right mirror's. */
  flip: FlipMode;
  /** Whether each image's score averaged it with its one-pixel shifts. */
  shift: ShiftMode;
  /** AUROC of the model's own score definition. */
  auroc: number | null;
  aurocMean: number | null;
  aurocTopPatch: number | null;
  /** Best F1 over thresholds (an optimistic figure: the threshold is chosen on this very set). */
  f1Optimal: { threshold: number; f1: number };
  /** Detection at the model's own threshold (chosen on validation when it was trained). */
  atModelThreshold: { threshold: number; precision: number | null; recall: number | null; f1: number | null; accuracy: number };
  perClass: ClassResult[];
  pixelAuroc: number | null;
  /**
   * AUPRO over the same pixels as pixelAuroc (trainer/metrics/aupro.ts: per-region overlap to a
   * false-positive rate of 0.3, as MVTec AD reports it); null without masks.
   */
  pixelAupro: number | null;
  /** Where items are crops: AUROC over source images, each scored by its highest crop score, anomalous when any of its crops is. */
  sourceAuroc: ImageLevelAuroc | null;
  /**
   * Where items are crops: each source photo scored whole, the way a user scores it (the scorer
   * tiles it at the model's training scale and takes the model's score over the stitched error
   * map); anomalous when any of its crops is. Unlike sourceAuroc it does not depend on how many
   * crops the protocol cut from each photo.
   */
  photoAuroc?: PhotoAuroc | null;
  /** ROC points, thinned to at most ~400 for drawing. */
  roc: RocPoint[];
  seconds: number;
  imagesPerSecond: number;
}

const nanToNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Thins a ROC curve to about `max` points, keeping the first and last and every corner it can. */
export function thinRoc(pts: RocPoint[], max = 400): RocPoint[] {
  if (pts.length <= max) return pts;
  const step = (pts.length - 1) / (max - 1);
  const out: RocPoint[] = [];
  for (let i = 0; i < max; i++) out.push(pts[Math.round(i * step)]);
  return out;
}

/** Detection counts at a threshold (anomaly when score > threshold, as the scorer decides). */
export function confusionAt(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number) {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const pred = scores[i] > threshold;
    if (labels[i]) pred ? tp++ : fn++;
    else pred ? fp++ : tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : null;
  const recall = tp + fn ? tp / (tp + fn) : null;
  const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : precision === null ? null : 0;
  return { tp, fp, fn, tn, precision, recall, f1, accuracy: scores.length ? (tp + tn) / scores.length : 0 };
}

/** Image-level AUROC from crop scores: max over each source's crops; a source is anomalous when any crop is. */
export function sourceLevelAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>, groups: string[]): ImageLevelAuroc {
  const best = new Map<string, { s: number; a: number }>();
  groups.forEach((g, i) => {
    const b = best.get(g);
    if (!b) best.set(g, { s: scores[i], a: labels[i] ? 1 : 0 });
    else { if (scores[i] > b.s) b.s = scores[i]; if (labels[i]) b.a = 1; }
  });
  const v = [...best.values()];
  const anomalies = v.filter((x) => x.a).length;
  return { auroc: nanToNull(auroc(v.map((x) => x.s), v.map((x) => x.a))), images: v.length, normals: v.length - anomalies, anomalies };
}

/**
 * AUROC over whole source photos (see EvalResult.photoAuroc); `decode` reads one photo. With
 * `classNames` (one per item), also per defect type: a defect photo's type is the class of its
 * anomalous crops.
 */
export async function wholePhotoAuroc(scorer: Scorer, groups: string[], labels: ArrayLike<number>, decode: (path: string) => Promise<ImageInput>, classNames?: string[], views: ScoreOverrides = {}, maskPaths?: (string | undefined)[]): Promise<PhotoAuroc> {
  const label = new Map<string, number>();
  const photoClass = new Map<string, string>();
  const photoMask = new Map<string, string>();
  groups.forEach((g, i) => {
    label.set(g, Math.max(label.get(g) ?? 0, labels[i] ? 1 : 0));
    if (classNames && (labels[i] || !photoClass.has(g))) photoClass.set(g, classNames[i]);
    const m = maskPaths?.[i];
    if (m) photoMask.set(g, m);
  });
  const photos = [...label.keys()];
  const scores: number[] = [];
  const tileStride = views.tileStride ?? tileStrideOf(scorer.info);
  // Probabilities lie in [0, 1]; the L1 error of images normalised to [-1, 1] in [0, 2].
  const pixels = photoMask.size ? new StreamingPixelAuroc(scorer.info.defectMap ? 1 : 2) : null;
  const regions = photoMask.size ? new ProCurve(scorer.info.defectMap ? 1 : 2) : null;
  for (const p of photos) {
    const r = await scorer.score(await decode(p), { mode: 'tile', reconstruction: false, flip: views.flip, shift: views.shift, stride: tileStride });
    scores.push(r.score);
    const maskPath = photoMask.get(p);
    // A defect photo without its mask has no pixel labels; a normal photo's pixels are all normal.
    if (pixels && (maskPath || !label.get(p))) {
      const mask = maskPath ? await readMask(maskPath, r.width, r.height) : new Uint8Array(r.width * r.height);
      for (let q = 0; q < mask.length; q++) mask[q] = mask[q] > 127 ? 1 : 0;
      pixels.add(r.probability ?? r.errorMap, mask);
      regions!.add(r.probability ?? r.errorMap, mask, r.width, r.height);
    }
  }
  const y = photos.map((p) => label.get(p)!);
  const anomalies = y.filter((v) => v).length;
  const result: PhotoAuroc = { auroc: nanToNull(auroc(scores, y)), images: photos.length, normals: photos.length - anomalies, anomalies, tileStride, ...(pixels ? { pixelAuroc: pixels.auroc(), pixelAupro: nanToNull(regions!.aupro()) } : {}) };
  if (classNames) {
    result.byType = perClassAuroc(scores, Uint8Array.from(y), photos.map((p) => photoClass.get(p)!))
      .filter((c) => c.anomaly)
      .map((c) => ({ className: c.className, photos: c.count, auroc: c.auroc }));
  }
  return result;
}

/** Per anomaly class: AUROC of the normal images against the images of that class only. */
export function perClassAuroc(scores: ArrayLike<number>, labels: Uint8Array, classes: string[] | undefined): ClassResult[] {
  if (!classes) return [];
  const byClass = new Map<string, number[]>();
  classes.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  const normalIdx: number[] = [];
  for (let i = 0; i < labels.length; i++) if (!labels[i]) normalIdx.push(i);
  const out: ClassResult[] = [];
  for (const [c, idx] of byClass) {
    const anomaly = idx.some((i) => labels[i] === 1);
    const meanScore = idx.reduce((a, i) => a + scores[i], 0) / idx.length;
    let a: number | null = null;
    if (anomaly) {
      const sel = [...normalIdx, ...idx.filter((i) => labels[i] === 1)];
      a = nanToNull(auroc(sel.map((i) => scores[i]), sel.map((i) => labels[i])));
    }
    out.push({ className: c, count: idx.length, anomaly, auroc: a, meanScore });
  }
  return out.sort((x, y) => (x.className < y.className ? -1 : x.className > y.className ? 1 : 0));
}

export interface ScoredSet { mean: Float32Array; topPatch: Float32Array; own: Float32Array; pixelAuroc: number | null; pixelAupro: number | null }

/** Scores every image of the set with the Scorer, batch by batch ('resize' mode: the set is already at model size). */
export async function scoreSet(scorer: Scorer, set: EvalSet, opts: { batch?: number; onProgress?: (done: number, total: number) => void } & Partial<ScoreViews> = {}): Promise<ScoredSet> {
  const n = set.images.count;
  const { height: h, width: w, channels: c } = set.images;
  const mean = new Float32Array(n), topPatch = new Float32Array(n), own = new Float32Array(n);
  const batch = opts.batch ?? 256;
  const wantPixels = !!set.masks && set.masks.some((m) => m);
  const pixErr: Float32Array[] = [];
  const pixLab: Uint8Array[] = [];
  // A defect-map model's pixel figure is its probability (what its heatmap shows), else the reconstruction error (0..2).
  const pro = new ProCurve(scorer.info.defectMap ? 1 : 2);
  for (let s = 0; s < n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, n - s) }, (_, k) => s + k);
    const px = await set.images.readBatch(idx);
    const bytes = h * w * c;
    const imgs = idx.map((_, k) => ({ data: px.subarray(k * bytes, (k + 1) * bytes), width: w, height: h, channels: c }));
    // The set was decoded by the trainer's pipeline: crops already standardised per photo, if the model does that.
    const res = await scorer.scoreBatch(imgs, { mode: 'resize', reconstruction: false, standardize: false, flip: opts.flip, shift: opts.shift });
    res.forEach((r, k) => {
      mean[s + k] = r.scores.mean;
      topPatch[s + k] = r.scores.topPatch;
      own[s + k] = r.score;
      if (wantPixels) {
        const m = set.masks![s + k];
        const lab = new Uint8Array(r.errorMap.length);
        if (m) {
          if (m.length !== lab.length) throw new Error(`mask ${s + k} has ${m.length} pixels, its error map ${lab.length}`);
          for (let q = 0; q < lab.length; q++) lab[q] = m[q] > 127 ? 1 : 0;
        }
        const pixMap = r.probability ?? r.errorMap;
        pixErr.push(pixMap);
        pixLab.push(lab);
        pro.add(pixMap, lab, r.width, r.height);
      }
    });
    opts.onProgress?.(Math.min(n, s + batch), n);
  }
  const aupro = wantPixels ? pro.aupro() : NaN;
  return { mean, topPatch, own, pixelAuroc: wantPixels ? pixelAuroc(pixErr, pixLab) : null, pixelAupro: Number.isFinite(aupro) ? aupro : null };
}

/** Scores and measures. `flip`, `shift` and `tileStride` override the model's own settings (to measure a model with and without them). */
export async function evaluateSet(scorer: Scorer, set: EvalSet, opts: { onProgress?: (done: number, total: number) => void; decodePhoto?: (path: string) => Promise<ImageInput> } & ScoreOverrides = {}): Promise<{ result: EvalResult; scores: ScoredSet }> {
  const t0 = performance.now();
  const scores = await scoreSet(scorer, set, opts);
  const seconds = (performance.now() - t0) / 1000;
  const labels = set.isAnomaly;
  const anomalies = labels.reduce((a, v) => a + (v ? 1 : 0), 0);
  const threshold = scorer.info.threshold;
  const conf = confusionAt(scores.own, labels, threshold);
  const result: EvalResult = {
    count: labels.length,
    normals: labels.length - anomalies,
    anomalies,
    kind: scorer.info.score.kind,
    flip: opts.flip ?? scorer.info.score.flip ?? 'none',
    shift: opts.shift ?? scorer.info.score.shift ?? 'none',
    auroc: nanToNull(auroc(scores.own, labels)),
    aurocMean: nanToNull(auroc(scores.mean, labels)),
    aurocTopPatch: nanToNull(auroc(scores.topPatch, labels)),
    f1Optimal: f1OptimalThreshold(scores.own, labels),
    atModelThreshold: { threshold, precision: conf.precision, recall: conf.recall, f1: conf.f1, accuracy: conf.accuracy },
    perClass: perClassAuroc(scores.own, labels, set.className),
    pixelAuroc: scores.pixelAuroc,
    pixelAupro: scores.pixelAupro,
    sourceAuroc: set.groups ? sourceLevelAuroc(scores.own, labels, set.groups) : null,
    photoAuroc: set.groups && opts.decodePhoto ? await wholePhotoAuroc(scorer, set.groups, labels, opts.decodePhoto, set.className, { flip: opts.flip, shift: opts.shift, tileStride: opts.tileStride }, set.maskPaths) : null,
    roc: thinRoc(rocCurve(scores.own, labels)),
    seconds,
    imagesPerSecond: labels.length / Math.max(seconds, 1e-6),
  };
  return { result, scores };
}
