/**
 * k-means balanced sampling (paper §3.5). To draw m images from a class without distorting it,
 * cluster the class and draw from every cluster in proportion to its size: rare looks (a thin
 * "1", an unusual defect shape) survive the subsampling, where plain random sampling can lose
 * them.
 *
 * Feature: each image decoded to 8x8 greyscale, pixels / 255 (64 numbers). Cheap to compute for
 * thousands of images, keeps global shape and brightness (what separates the modes of a class),
 * and drops the fine texture and noise that would dominate distances at full resolution.
 */
import { kmeans } from 'ml-kmeans';
import type { Catalog, CatalogItem } from './catalog';
import { createRng, sampleWithoutReplacement, shuffleInPlace } from '../rng';

export const FEATURE_SIZE = 8;
export const DEFAULT_CLUSTERS = 10;

/** 8x8 grey features (rows of 64 values in [0, 1]) for the items; unreadable items get null. */
export async function imageFeatures(cat: Catalog, items: CatalogItem[]): Promise<(number[] | null)[]> {
  const res = await cat.decode(items, { size: FEATURE_SIZE, channels: 1 });
  const out: (number[] | null)[] = new Array(items.length).fill(null);
  const n = FEATURE_SIZE * FEATURE_SIZE;
  res.kept.forEach((reqIdx, setIdx) => {
    const px = res.images.data.subarray(setIdx * n, setIdx * n + n);
    out[reqIdx] = Array.from(px, (v) => v / 255);
  });
  return out;
}

/** Cluster labels for feature rows. Seeded so runs repeat exactly. The k-means++ seeding is
 * done here (one pass, our RNG) and handed to ml-kmeans as initial centroids: ml-kmeans' own
 * kmeans++ runs several trials and took ~0.35 s per 6,000-image class, more than the
 * clustering itself. */
export function clusterLabels(features: number[][], k: number, seed: number): number[] {
  const kk = Math.max(1, Math.min(k, features.length));
  if (kk <= 1) return features.map(() => 0);
  const rng = createRng(seed);
  // Big pools (tens of thousands of defect-image patches) are clustered on a seeded subsample
  // and every point is then assigned to its nearest centre: the centres of 8,000 points are as
  // good as those of 45,000 for sampling purposes, at a fraction of the time.
  const fit = features.length > KMEANS_FIT_MAX ? sampleWithoutReplacement(features, KMEANS_FIT_MAX, rng) : features;
  const init = kmeansPlusPlus(fit, kk, rng);
  const res = kmeans(fit, kk, { seed, initialization: init, maxIterations: 100 });
  return fit === features ? res.clusters : res.nearest(features);
}

export const KMEANS_FIT_MAX = 8000;

/** k-means++ seeding: each next centre drawn with probability proportional to squared distance
 * from the nearest centre chosen so far. */
export function kmeansPlusPlus(x: number[][], k: number, rng: () => number): number[][] {
  const n = x.length;
  const d2 = new Float64Array(n).fill(Infinity);
  const centres: number[][] = [x[Math.floor(rng() * n)]];
  while (centres.length < k) {
    const c = centres[centres.length - 1];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      let d = 0;
      for (let j = 0; j < xi.length; j++) {
        const t = xi[j] - c[j];
        d += t * t;
      }
      if (d < d2[i]) d2[i] = d;
      sum += d2[i];
    }
    if (sum === 0) break; // fewer distinct points than k
    let r = rng() * sum;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= d2[i];
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    centres.push(x[pick]);
  }
  // Duplicate points: pad with copies (ml-kmeans wants exactly k); empty clusters are harmless.
  while (centres.length < k) centres.push(centres[centres.length % centres.length]);
  return centres.map((c) => c.slice());
}

/** How many to take from each cluster: proportional to size (largest remainder), and at least
 * one from every non-empty cluster while there is room, so no mode disappears. */
export function clusterQuotas(sizes: number[], m: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  if (m >= n) return sizes.slice();
  const quota = sizes.map(() => 0);
  const nonEmpty = sizes.map((s, i) => (s > 0 ? i : -1)).filter((i) => i >= 0);
  let left = m;
  if (m >= nonEmpty.length) {
    for (const i of nonEmpty) quota[i] = 1;
    left -= nonEmpty.length;
  }
  // Proportional share of the remaining places, over what each cluster still has.
  const rest = sizes.map((s, i) => s - quota[i]);
  const restTotal = rest.reduce((a, b) => a + b, 0);
  const exact = rest.map((r) => (restTotal > 0 ? (r * left) / restTotal : 0));
  const floors = exact.map(Math.floor);
  let given = floors.reduce((a, b) => a + b, 0);
  floors.forEach((f, i) => (quota[i] += f));
  const byRemainder = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (given >= left) break;
    if (quota[i] < sizes[i]) {
      quota[i]++;
      given++;
    }
  }
  return quota;
}

/** Picks `m` of `labels.length` items: per cluster quota, seeded random within each cluster.
 * Returns indices into the input, sorted. */
export function sampleByClusters(labels: number[], m: number, seed: number): number[] {
  const k = labels.reduce((a, b) => Math.max(a, b), -1) + 1;
  const members: number[][] = Array.from({ length: k }, () => []);
  labels.forEach((c, i) => members[c].push(i));
  const quotas = clusterQuotas(members.map((x) => x.length), m);
  const rng = createRng(seed);
  const picked: number[] = [];
  members.forEach((mem, c) => picked.push(...sampleWithoutReplacement(mem, quotas[c], rng)));
  return picked.sort((a, b) => a - b);
}

export type SamplingMethod = 'kmeans' | 'random';

/** Draws `m` items of one class (or defect type) with the chosen method. */
export async function sampleItems(
  cat: Catalog,
  items: CatalogItem[],
  m: number,
  opts: { method: SamplingMethod; seed: number; clusters?: number },
): Promise<CatalogItem[]> {
  if (m >= items.length) return items.slice();
  if (opts.method === 'random') {
    const idx = shuffleInPlace(items.map((_, i) => i), createRng(opts.seed)).slice(0, m).sort((a, b) => a - b);
    return idx.map((i) => items[i]);
  }
  const feats = await imageFeatures(cat, items);
  const ok = feats.map((f, i) => (f ? i : -1)).filter((i) => i >= 0);
  const labels = clusterLabels(ok.map((i) => feats[i]!), opts.clusters ?? DEFAULT_CLUSTERS, opts.seed);
  return sampleByClusters(labels, Math.min(m, ok.length), opts.seed).map((j) => items[ok[j]]);
}
