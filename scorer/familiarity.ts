/**
 * Is this image the kind of image the model was trained on? A reconstruction model has only
 * learned what its normal training images look like; an image of another kind (a 300x300 photo
 * into a 28x28-digit model) gets a score that means nothing, and may even come out far *below*
 * the normal range and read as a confident "normal". These rules say `unfamiliar` instead, with
 * the reason in words. Every scorer (CLI, webview, web page) calls them through Scorer.
 *
 * What they compare against is recorded at training in flawscope.json: `trainingImages` (the
 * source images' size and colour, the per-image pixel statistics of the normal training images)
 * and `normalStats.quantiles` (the validation normal scores). A model written before these has
 * neither: then only the channel rule (against `input.channels`) and the score rule (against
 * `normalStats` mean and std) can run.
 *
 * Browser-safe and free of tfjs: pure functions of numbers.
 */
import type { ModelInfo } from './model-format';

/** Percentiles 0, 1, …, 100 of a sample (linear interpolation): how flawscope.json records a distribution. */
export const PERCENTILES = 101;

/**
 * An image is grey when its pixels' mean chroma (max - min of R, G, B, on 0..255) is at most
 * this. A grey picture saved as RGB, or a JPEG of one, stays below 1–2 (compression noise);
 * the least colourful CIFAR-10 photos are well above it.
 */
export const GREY_CHROMA_MAX = 4;
/** A training set with at least this share of colour (or grey) sources makes colour (grey) images familiar. */
export const MIXED_SHARE_MIN = 0.01;
/**
 * Size rule: more than this many times larger than the largest training source on both sides,
 * or this many times smaller than the smallest on both sides. 2: resizing by up to 2x keeps
 * strokes, textures and defects at a size the model has seen; 300x300 into 28x28 is 10x.
 */
export const SIZE_FACTOR = 2;
/** Aspect rule ('resize' models only): width/height beyond the training range by more than this factor, since squeezing distorts shapes. */
export const ASPECT_FACTOR = 1.5;
/**
 * Pixel-statistics rule: an image's mean, standard deviation (0..255) or mid-tone share, as the
 * model sees it, more than this many times the training images' 1–99 % percentile spread
 * outside that range (the mid-tone share only above it: fewer mid-tones is a thinner or crisper
 * drawing of the same kind, a "1" among "8"s, which is what an anomaly looks like; more is
 * continuous-tone content, photos, fabric, texture, that a model of drawings never saw). On MNIST digit 8 (900 training images) 0.5 leaves every normal test digit
 * and 99.5 % of the other digits inside, and puts about 93 % of Fashion-MNIST images outside.
 * The same margin, above only, for the ink share and the ink's width and height (whole images,
 * not tiles): on MNIST 8 with 135 training images, 0 of 974 normal test 8s and 0 of 2,000 other
 * digits outside, all of the first 1,000 Fashion-MNIST test images outside (measured on the IDX
 * files, J60). Limit: for a narrow class (digit 1) the other digits are wider than anything
 * trained and come out `unfamiliar` rather than `anomaly` (24–36 % of them) — still not `normal`.
 */
export const PIXEL_MARGIN = 0.5;
/**
 * Ink extent rule, a second upper limit for the ink's width and height: the widest (tallest) ink
 * of any training image, q100, plus this share of the room it leaves to the image's edge,
 * q100 + EXTENT_ROOM·(1 − q100). Why beside the spread rule: a drawing set framed with a margin
 * (MNIST digits fit a 20x20 box in 28x28: every training 8's ink spans at most 75 % of the 32 px
 * input) has a hard wall at q100 that the 1–99 % spread does not see when the class varies much in
 * width (8s: 34–75 %, so the spread rule allows 94 %). A sandal or sneaker drawn edge to edge (94–97 %)
 * passed it; this rule calls it unfamiliar from 87.5 % on. When the training images already fill
 * the frame (q100 = 1: garments, photos) it adds nothing. Limit: one training image whose ink
 * reaches the edge lifts q100 and loosens the rule for the whole model.
 */
export const EXTENT_ROOM = 0.5;
const extentLimit = (q100: number) => q100 + EXTENT_ROOM * (1 - q100);

/**
 * Score rule, low side: below the lowest validation normal score q0 by more than this power of its
 * ratio to the median, q0·(q0/q50)^K (positive scores, as on the high side; for others
 * q0 − K·(q50 − q0)). A too-perfect reconstruction is as suspicious as a bad one: a flat or tiny
 * input is easy to copy and says nothing about defects. Why 4 and ratios (it was 1, additive): q0
 * is the lowest of a few images (15 at the default split), and the lowest of the thousands a model
 * then scores sits further down — about 1.5 times the q0-to-median distance further on one
 * distribution (the extremes of a normal sample of 15 against 10,000), more when the new normal
 * images come from other hands (MNIST's test digits: the 974 test 8s reached 3.1 times that
 * distance below q0 on a quick-preset model whose 15 validation 8s spread 0.040–0.043, and the
 * old rule called 37 of them, 3.8 %, unfamiliar; J62). Limit: a flat image that a model with a
 * wide normal spread reconstructs only a little better than its best normal stays `normal`.
 */
export const SCORE_LOW_K = 4;
/**
 * Score rule, high side: above the highest validation normal score q100 by more than this power
 * of its ratio to the median, q100·(q100/q50)^K (positive scores; for others q100 + K·(q100 − q50)).
 * Generous on purpose: real defects score high, and must stay `anomaly`; only scores no defect of
 * the kind trained for reaches are `unfamiliar`. Limit: a model whose normals spread little
 * (q100/q50 near 1) has a high side near q100 — but then such scores are far outside anyway.
 */
export const SCORE_HIGH_K = 10;
/** The same rules for a model without recorded quantiles: this many standard deviations below / above the validation normal mean. */
export const SCORE_LOW_Z = 5;
export const SCORE_HIGH_Z = 30;

/** What flawscope.json's `trainingImages` records about the normal training images (each list: PERCENTILES values). */
export interface TrainingImages {
  /** Normal training images whose pixels were measured. */
  count: number;
  /** Source images (for crop-trained models, the photos the crops came from) whose size and colour were read. */
  sources: number;
  /** Share of those sources that are colour (by the file header; container formats by their shape). */
  colourShare: number;
  /** Percentiles of the sources' width, height and width/height, in source pixels. */
  width: number[];
  height: number[];
  aspect: number[];
  /** Percentiles of the per-image pixel mean and standard deviation (0..255) of the normal training images as the model saw them (model size and channels; crops for 'tile' models). */
  mean: number[];
  std: number[];
  /** Percentiles of their per-image mid-tone share (PixelStats.midtones, 0..1). */
  midtones: number[];
  /** Percentiles of their ink share and ink extent (PixelStats.ink, inkWidth, inkHeight; 0..1); absent from models trained before them. */
  ink?: number[];
  inkWidth?: number[];
  inkHeight?: number[];
  /** Percentiles of their per-image mean chroma (3-channel models only). */
  chroma?: number[];
}

/** What the scorer measured about one image. */
export interface ImageFacts {
  /** The source image's own size and channels (before any conversion). */
  width: number;
  height: number;
  channels: number;
  /** Mean chroma of the source pixels (0 for 1- and 2-channel images). */
  chroma: number;
  /** Pixel mean and standard deviation as the model sees the image ('tile': medians over its tiles); null when scored another way than the model was trained. */
  pixels: PixelStats | null;
}

/** Percentiles 0..100 of `values` (PERCENTILES numbers, linear interpolation), as the trainer records them. */
export function percentiles(values: ArrayLike<number>): number[] {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  if (!s.length) return [];
  return Array.from({ length: PERCENTILES }, (_, i) => {
    const pos = ((s.length - 1) * i) / (PERCENTILES - 1);
    const lo = Math.floor(pos), hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  });
}

/** Mean chroma (max - min of R, G, B) of interleaved pixels; 0 for 1 or 2 channels. Reads at most about a million pixels. */
export function meanChroma(data: ArrayLike<number>, count: number, channels: number): number {
  if (channels < 3 || count === 0) return 0;
  const step = Math.max(1, Math.floor(count / 1_000_000));
  let sum = 0, n = 0;
  for (let i = 0; i < count; i += step) {
    const o = i * channels, r = data[o], g = data[o + 1], b = data[o + 2];
    sum += Math.max(r, g, b) - Math.min(r, g, b);
    n++;
  }
  return sum / n;
}

/** Pixel values strictly between these (0..255) are mid-tones: neither near black nor near white. */
export const MIDTONE_LOW = 32;
export const MIDTONE_HIGH = 224;

export interface PixelStats {
  mean: number;
  std: number;
  /** Share of values that are mid-tones (MIDTONE_LOW < v < MIDTONE_HIGH): near 0.1 for pen strokes on black, most of a photo. */
  midtones: number;
  /**
   * With the image's shape (whole images as the model sees them): the share of ink pixels (channel
   * mean above MIDTONE_LOW) and the ink's bounding box as shares of the image's width and height.
   * A digit covers about 12–32 % of its square and a box about 35–70 % of it wide; a garment,
   * a photo or a texture fills far more.
   */
  ink?: number;
  inkWidth?: number;
  inkHeight?: number;
}

/**
 * Mean, standard deviation (population) and mid-tone share of `len` values from `offset`; with
 * `shape` (the image those values are, interleaved channels) also the ink share and extent.
 */
export function pixelStats(data: ArrayLike<number>, offset = 0, len = data.length - offset, shape?: { width: number; height: number; channels: number }): PixelStats {
  let s = 0, s2 = 0, mid = 0;
  for (let i = offset; i < offset + len; i++) {
    const v = data[i];
    s += v;
    s2 += v * v;
    if (v > MIDTONE_LOW && v < MIDTONE_HIGH) mid++;
  }
  const n = Math.max(1, len), mean = s / n;
  const stats: PixelStats = { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), midtones: mid / n };
  if (!shape || shape.width * shape.height * shape.channels !== len) return stats;
  const { width: W, height: H, channels: C } = shape;
  let ink = 0, x0 = W, x1 = -1, y0 = H, y1 = -1;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let v = 0;
    for (let c = 0, o = offset + (y * W + x) * C; c < C; c++) v += data[o + c];
    if (v / C <= MIDTONE_LOW) continue;
    ink++;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return { ...stats, ink: ink / (W * H), inkWidth: ink ? (x1 - x0 + 1) / W : 0, inkHeight: ink ? (y1 - y0 + 1) / H : 0 };
}

const r0 = (x: number) => String(Math.round(x));
const sizeOf = (w: number, h: number) => `${r0(w)}x${r0(h)}`;

/** The training sources' size in words: "28x28", or "about 320x260 (100–630 x 220–400)". */
function trainedSize(t: TrainingImages): string {
  const [w0, w50, w100] = [t.width[0], t.width[50], t.width[100]], [h0, h50, h100] = [t.height[0], t.height[50], t.height[100]];
  if (w0 === w100 && h0 === h100) return sizeOf(w50, h50);
  return `about ${sizeOf(w50, h50)} (${r0(w0)}–${r0(w100)} x ${r0(h0)}–${r0(h100)})`;
}

const times = (x: number) => `${x >= 10 ? Math.round(x) : +x.toFixed(1)}x`;

/**
 * The reasons (in words) why an image is not one the model knows; empty = familiar.
 * `score`: the image score (by the model's own definition, `normalStats` is about it).
 * `mode`: how the image was scored ('tile' / 'resize').
 */
export function familiarityReasons(info: Pick<ModelInfo, 'input' | 'preprocess' | 'normalStats' | 'defectMap'> & { trainingImages?: TrainingImages }, facts: ImageFacts, score: number, mode: 'tile' | 'resize' = info.preprocess?.mode ?? 'resize'): string[] {
  const reasons: string[] = [];
  const t = info.trainingImages;
  const tile = (info.preprocess?.mode ?? 'resize') === 'tile';
  const what = tile ? 'photos' : 'images';

  // 1. Colour: the source image's own colour against the model's channels and its training sources.
  const colour = facts.chroma > GREY_CHROMA_MAX;
  const modelColour = info.input.channels === 3;
  let colourOff = false;
  if (colour && !modelColour) colourOff = !t || t.colourShare < MIXED_SHARE_MIN;
  // A 3-channel model knows grey images when ≥ 1 % of its training images were grey (chroma percentile 1 within the grey limit).
  if (!colour && modelColour) colourOff = t?.chroma ? t.chroma[1] > GREY_CHROMA_MAX : t ? t.colourShare > 1 - MIXED_SHARE_MIN : true;

  // 2. Size and aspect, against the training sources (photos for a tile model).
  const off: string[] = [];
  if (colourOff) off.push(colour ? 'colour' : 'grey');
  if (t && t.width.length === PERCENTILES) {
    const up = Math.min(facts.width / t.width[100], facts.height / t.height[100]);
    const down = Math.max(facts.width / t.width[0], facts.height / t.height[0]);
    if (up > SIZE_FACTOR) off.push(`${times(up)} larger`);
    else if (down < 1 / SIZE_FACTOR) off.push(`${times(1 / down)} smaller`);
    const a = facts.width / facts.height;
    if (!tile && (a > t.aspect[100] * ASPECT_FACTOR || a < t.aspect[0] / ASPECT_FACTOR))
      off.push(`aspect ${+a.toFixed(2)} where the training ${what} have ${t.aspect[0] === t.aspect[100] ? +t.aspect[0].toFixed(2) : `${+t.aspect[0].toFixed(2)}–${+t.aspect[100].toFixed(2)}`}`);
  }
  if (off.length) {
    const trained = `${t ? `${trainedSize(t)} ` : ''}${modelColour ? 'colour' : 'grey'} ${what}`;
    reasons.push(`this model was trained on ${trained}; this is a ${sizeOf(facts.width, facts.height)} ${colour ? 'colour' : 'grey'} image (${off.join(', ')})`);
  }

  // 3. Pixel statistics as the model sees the image.
  if (t && facts.pixels && mode === (info.preprocess?.mode ?? 'resize') && t.mean.length === PERCENTILES) {
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`, num = (x: number) => x.toFixed(1);
    const p = facts.pixels;
    // The ink rules only above: less ink, or a narrower drawing, is a "1" among "8"s: an anomaly of the kind trained for.
    const rules: [string, number, number[], (x: number) => string, boolean, boolean?][] = [
      ['brightness (pixel mean)', p.mean, t.mean, num, true],
      ['contrast (pixel standard deviation)', p.std, t.std, num, true],
      ['share of mid-tone pixels', p.midtones, t.midtones, pct, false],
    ];
    for (const [name, v, q, extent] of [
      ['share of ink pixels (brighter than 32)', p.ink, t.ink, false],
      ['ink width (share of the image width)', p.inkWidth, t.inkWidth, true],
      ['ink height (share of the image height)', p.inkHeight, t.inkHeight, true],
    ] as const) if (v !== undefined && q?.length === PERCENTILES) rules.push([name, v, q, pct, false, extent]);
    for (const [name, v, q, f, bothSides, extent] of rules) {
      const spread = q[99] - q[1];
      const lo = bothSides ? q[1] - PIXEL_MARGIN * spread : -Infinity;
      const hi = Math.min(q[99] + PIXEL_MARGIN * spread, extent ? extentLimit(q[100]) : Infinity);
      if (v < lo || v > hi)
        reasons.push(`its ${name} is ${f(v)}, far ${v < lo ? 'below' : 'above'} the training ${tile ? 'crops' : 'images'}' (${f(q[1])}–${f(q[99])} for 98 % of them${extent && v > hi ? `, ${f(q[100])} at most` : ''})`);
    }
  }

  // 4. The score against the validation normal scores, in either direction.
  const ns = info.normalStats;
  const q = ns?.quantiles;
  if (Number.isFinite(score)) {
    let low: number | null = null, high: number | null = null, basis = '';
    if (q && q.length === PERCENTILES) {
      low = q[0] > 0 && q[50] > 0 ? q[0] * (q[0] / q[50]) ** SCORE_LOW_K : q[0] - SCORE_LOW_K * (q[50] - q[0]);
      // Reconstruction errors spread multiplicatively: the high side is measured in ratios when the
      // scores are positive, so a few validation normals with a tight spread do not call the
      // model's own harder normal images unfamiliar (they score several times the median, not 10
      // spreads above it: a score's distance is for the threshold to judge, as an anomaly).
      high = q[50] > 0 ? q[100] * (q[100] / q[50]) ** SCORE_HIGH_K : q[100] + SCORE_HIGH_K * (q[100] - q[50]);
      basis = `the ${ns.count} normal validation images score ${fmtScore(q[0])}–${fmtScore(q[100])}`;
    } else if (ns && Number.isFinite(ns.mean) && Number.isFinite(ns.std) && ns.std > 0) {
      low = ns.mean - SCORE_LOW_Z * ns.std;
      high = ns.mean + SCORE_HIGH_Z * ns.std;
      basis = `the normal validation images score ${fmtScore(ns.mean)} ± ${fmtScore(ns.std)}`;
    }
    // A defect map's score is a probability: 0 is a confident "no defect", not a suspicious one.
    if (low !== null && !info.defectMap && score < low) reasons.push(`its score ${fmtScore(score)} is far below the normal range (${basis}): the model reconstructs it too well to be the kind of image it knows`);
    else if (high !== null && score > high) reasons.push(`its score ${fmtScore(score)} is far above anything the model was made for (${basis})`);
  }
  return reasons;
}

const fmtScore = (x: number) => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(4) : x.toPrecision(3));
