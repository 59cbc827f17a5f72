/**
 * Losses of the defect map, for extreme pixel imbalance (a crack is a few hundred of a tile's
 * 4,096 pixels, and most tiles have none):
 * - focal loss per pixel (Lin et al. 2017): easy normal pixels, the vast majority, weigh
 *   (p^γ) almost nothing, so the few defect pixels and the hard normal ones drive the gradient;
 * - soft Dice over the batch's pixel-labelled tiles: a ratio of overlaps, blind to how many
 *   normal pixels there are, so a map that finds nothing scores 1 (the worst) however rare
 *   defects are;
 * - for tiles with an image label only (defect photos without masks), a multiple-instance loss:
 *   binary cross-entropy of the image label against the pooled map (the mean of its top-k
 *   pixels), so "this tile has a defect somewhere" trains without saying where.
 * - for defect photos without masks cut into crops (bags, trainer/data/map-data.ts), the
 *   multiple-instance loss on the photo: BCE of the photo's label against its highest crop's
 *   top-k mean, the normal photos' crops as negative bags alike (bagMilLoss).
 * All take probabilities (the network ends in a sigmoid), clipped to [EPS, 1 - EPS].
 */
import * as tf from '@tensorflow/tfjs-core';

export const EPS = 1e-6;

export interface MapLossOptions {
  /** Focal γ: 0 = plain cross-entropy. */
  gamma: number;
  /** Weight of the defect class in the focal loss (1 - alpha for normal pixels). */
  alpha: number;
  /** Weight of the soft Dice term. */
  dice: number;
  /** Weight of the multiple-instance term. */
  mil: number;
  /** Pixels pooled by the multiple-instance term (the mean of the top k). */
  milTopK: number;
  /** 'tile': Dice per defect tile (tileDiceLoss); 'batch': one Dice over the batch (softDiceLoss). */
  diceMode: 'tile' | 'batch';
}

/**
 * Defaults, not tuned on any data set: the focal γ = 2 and α = 0.25 of Lin et al. (their best
 * pair: γ already down-weighs the easy, mostly normal pixels, and α < 0.5 keeps the rare class
 * from lifting every probability; α = 0.75 was tried first and left normal Magnetic-tile tiles at
 * a mean probability of 0.6–0.7 against 0.3–0.5 with 0.25, 300–450 steps, validation tiles);
 * Dice per defect tile, weighted as the focal term; the image term weighted as the focal term;
 * top 16 pixels ≈ a 4x4 blob, the smallest defect one would label.
 */
export const DEFAULT_MAP_LOSS: MapLossOptions = { gamma: 2, alpha: 0.25, dice: 1, mil: 1, milTopK: 16, diceMode: 'tile' };

const clip = (p: tf.Tensor) => tf.clipByValue(p, EPS, 1 - EPS);

/**
 * Focal loss per pixel, averaged over the pixels whose `weight` is 1 (weight [N] per tile: 1 =
 * the tile has a pixel mask). FL = -α y (1-p)^γ log p - (1-α)(1-y) p^γ log(1-p).
 */
export function focalLoss(p: tf.Tensor4D, y: tf.Tensor4D, weight: tf.Tensor1D, o: Pick<MapLossOptions, 'gamma' | 'alpha'> = DEFAULT_MAP_LOSS): tf.Scalar {
  return tf.tidy(() => {
    const q = clip(p);
    const pos = tf.mul(tf.mul(tf.mul(y, tf.pow(tf.sub(1, q), o.gamma)), tf.log(q)), -o.alpha);
    const neg = tf.mul(tf.mul(tf.mul(tf.sub(1, y), tf.pow(q, o.gamma)), tf.log(tf.sub(1, q))), -(1 - o.alpha));
    const perTile = tf.mean(tf.add(pos, neg), [1, 2, 3]);
    const n = tf.sum(weight);
    return tf.div(tf.sum(tf.mul(perTile, weight)), tf.maximum(n, 1)) as tf.Scalar;
  });
}

/**
 * Soft Dice loss over all pixels of the weighted tiles together: 1 - (2 Σ p y + s) / (Σ p + Σ y + s),
 * s = 1 (so a batch of normal tiles that the map leaves at 0 costs 0, and each probability it
 * puts on them costs). 0 when no tile is weighted.
 */
export function softDiceLoss(p: tf.Tensor4D, y: tf.Tensor4D, weight: tf.Tensor1D, smooth = 1): tf.Scalar {
  return tf.tidy(() => {
    const w = tf.reshape(weight, [-1, 1, 1, 1]);
    const pw = tf.mul(p, w);
    const inter = tf.sum(tf.mul(pw, y));
    const total = tf.add(tf.sum(pw), tf.sum(tf.mul(y, w)));
    const dice = tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), smooth), tf.add(total, smooth)));
    return tf.mul(dice, tf.minimum(tf.sum(weight), 1)) as tf.Scalar;
  });
}

/**
 * Soft Dice per tile, averaged over the weighted tiles that have defect pixels: each defect
 * tile's map is judged against its own mask (its false positives count, in its own ratio);
 * tiles without defect pixels are left to the focal term. Unlike the batch-wide Dice, the many
 * normal pixels of a batch do not dilute it, and it never pushes a normal tile's pixels up.
 */
export function tileDiceLoss(p: tf.Tensor4D, y: tf.Tensor4D, weight: tf.Tensor1D, smooth = 1): tf.Scalar {
  return tf.tidy(() => {
    const inter = tf.sum(tf.mul(p, y), [1, 2, 3]);
    const ys = tf.sum(y, [1, 2, 3]);
    const dice = tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), smooth), tf.add(tf.add(tf.sum(p, [1, 2, 3]), ys), smooth)));
    const w = tf.mul(weight, tf.cast(tf.greater(ys, 0), 'float32'));
    return tf.div(tf.sum(tf.mul(dice, w)), tf.maximum(tf.sum(w), 1)) as tf.Scalar;
  });
}

/**
 * Mean of each tile's k highest probabilities ([N]). The choice of the k pixels is not
 * differentiated (it is a constant mask, found with topk); the mean over them is, so the
 * gradient reaches exactly the pixels that make the tile's score. Ties at the k-th value are all
 * kept (the mean over them is the same value).
 */
export function topKMean(p: tf.Tensor4D, k: number): tf.Tensor1D {
  return tf.tidy(() => {
    const n = p.shape[0];
    const flat = tf.reshape(p, [n, -1]) as tf.Tensor2D;
    const kk = Math.max(1, Math.min(k, flat.shape[1]));
    // Read out and made anew: not on the gradient tape (TopK has no gradient in tfjs).
    const kthValues = tf.tidy(() => tf.slice(tf.topk(flat, kk, true).values, [0, kk - 1], [n, 1])).dataSync();
    const kth = tf.tensor2d(kthValues, [n, 1]);
    const sel = tf.cast(tf.greaterEqual(flat, kth), 'float32');
    return tf.div(tf.sum(tf.mul(flat, sel), 1), tf.sum(sel, 1)) as tf.Tensor1D;
  });
}

/** Multiple-instance loss: BCE of each weighted tile's image label (0/1, [N]) against its top-k mean. */
export function milLoss(p: tf.Tensor4D, label: tf.Tensor1D, weight: tf.Tensor1D, k: number): tf.Scalar {
  return tf.tidy(() => {
    const s = clip(topKMean(p, k));
    const bce = tf.neg(tf.add(tf.mul(label, tf.log(s)), tf.mul(tf.sub(1, label), tf.log(tf.sub(1, s)))));
    return tf.div(tf.sum(tf.mul(bce, weight)), tf.maximum(tf.sum(weight), 1)) as tf.Scalar;
  });
}

/**
 * Multiple-instance loss over bags (max-pooling MIL on the map's tile scores): a bag's score is
 * the highest of its tiles' top-k means, so only the tile that makes the photo's score, and
 * within it only its top k pixels, get the gradient; BCE against the bag's label (its tiles'
 * label: a defect photo 1, a normal photo 0). A normal tile in no bag (label 0) is a negative bag
 * of its own. Defect bags and normal bags are averaged apart and then together, so each side
 * weighs the same whatever their counts. A normal photo is judged as a defect photo is, by its
 * worst tile: without that, the defect bags' max can be met by any pattern every photo has (its
 * border, say) while single normal tiles rarely show it (J72). 0 when there is no bag.
 *
 * The clip keeps the value finite but lets the gradient through (straight-through): a map
 * pushed past 1 - EPS must still be pulled back, which clipByValue's zero gradient would forbid.
 */
export function bagMilLoss(p: tf.Tensor4D, bag: tf.Tensor1D, label: tf.Tensor1D, k: number): tf.Scalar {
  const ids = bag.dataSync();
  const labels = label.dataSync();
  const groups = new Map<number, number[]>();
  let single = -1;
  ids.forEach((b, i) => {
    if (b >= 0) groups.set(b, [...(groups.get(b) ?? []), i]);
    else if (labels[i] === 0) groups.set(--single, [i]);
  });
  const pos = [...groups.values()].filter((g) => labels[g[0]] === 1);
  const neg = [...groups.values()].filter((g) => labels[g[0]] === 0);
  if (!pos.length || ![...ids].some((b) => b >= 0)) return tf.scalar(0);
  return tf.tidy(() => {
    const raw = topKMean(p, k);
    // The clip's shift, read out and made anew: a constant, off the gradient tape (tfjs has no stopGradient).
    const shift = tf.tensor1d(tf.tidy(() => tf.sub(clip(raw), raw)).dataSync() as Float32Array);
    const s = tf.add(raw, shift) as tf.Tensor1D;
    const bagMax = (g: number[][]) => tf.stack(g.map((idx) => tf.max(tf.gather(s, tf.tensor1d(idx, 'int32'))))) as tf.Tensor1D;
    const posLoss = tf.mean(tf.neg(tf.log(bagMax(pos))));
    const negLoss = neg.length ? tf.mean(tf.neg(tf.log(tf.sub(1, bagMax(neg))))) : tf.scalar(0);
    return tf.div(tf.add(posLoss, negLoss), neg.length ? 2 : 1) as tf.Scalar;
  });
}

export interface MapBatchTargets {
  /** [N, H, W, 1] 0/1 masks (zeros for tiles without one). */
  mask: tf.Tensor4D;
  /** [N] 1 = the mask is known (pixel-labelled tile: real mask, synthetic defect, or a normal tile). */
  hasMask: tf.Tensor1D;
  /** [N] image label, 1 = defect. */
  label: tf.Tensor1D;
  /** [N] 1 = image label only (trained by the multiple-instance term). */
  imageOnly: tf.Tensor1D;
  /** [N] int32: the tile's bag in the batch, -1 outside any; present only for image-labelled bags (bagMilLoss replaces milLoss). */
  bag?: tf.Tensor1D;
}

export interface MapLossParts { total: tf.Scalar; focal: tf.Scalar; dice: tf.Scalar; mil: tf.Scalar }

/** The training loss of one batch: focal + dice on pixel-labelled tiles, MIL on image-labelled ones. */
export function mapLoss(p: tf.Tensor4D, t: MapBatchTargets, o: MapLossOptions = DEFAULT_MAP_LOSS): MapLossParts {
  const focal = focalLoss(p, t.mask, t.hasMask, o);
  const dice = o.diceMode === 'batch' ? softDiceLoss(p, t.mask, t.hasMask) : tileDiceLoss(p, t.mask, t.hasMask);
  const mil = t.bag ? bagMilLoss(p, t.bag, t.label, o.milTopK) : milLoss(p, t.label, t.imageOnly, o.milTopK);
  const total = tf.tidy(() => tf.addN([focal, tf.mul(dice, o.dice), tf.mul(mil, o.mil)]) as tf.Scalar);
  return { total, focal, dice, mil };
}
