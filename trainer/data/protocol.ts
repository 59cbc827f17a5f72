/**
 * The paper's benchmark protocol (§4.1), one-vs-rest: class K is normal (every training image of
 * it), the other classes are anomalies, the same number drawn from each so that they total about
 * the normal count; the whole official test set is the test set, K normal, the rest anomalies.
 *
 * "About the normal count" is made exact as the mean training images per class, which gives the
 * paper's totals: MNIST 60000/10 = 6000, Fashion-MNIST 6000, CIFAR-10 5000, CIFAR-100 (20
 * superclasses) 2500. With C-1 anomaly classes that is floor(T/(C-1)) each plus one for the
 * first T mod (C-1) classes in a seeded order, so the total is exactly T and per-class counts
 * differ by at most one. `--anomaly-total N` overrides T.
 */
import type { Catalog, CatalogItem } from './catalog';
import { holdOut, type Plan } from './plan';
import { createRng, shuffleInPlace, subSeed } from '../rng';
import { sampleItems, type SamplingMethod } from './sampling';
import { InputError } from './types';

export interface OneVsRestOptions {
  validationFraction: number;
  seed: number;
  sampling: SamplingMethod;
  anomalyTotal?: number;
  clusters?: number;
}

/** Per-class anomaly quotas for one-vs-rest. */
export function oneVsRestQuotas(
  trainCounts: Map<string, number>,
  normalClass: string,
  total: number | undefined,
  seed: number,
): { total: number; quotas: Map<string, number>; warnings: string[] } {
  const nonEmpty = [...trainCounts].filter(([, n]) => n > 0);
  const trainTotal = nonEmpty.reduce((a, [, n]) => a + n, 0);
  const T = total ?? Math.round(trainTotal / Math.max(1, nonEmpty.length));
  const others = nonEmpty.map(([c]) => c).filter((c) => c !== normalClass);
  const quotas = new Map<string, number>();
  const warnings: string[] = [];
  if (others.length === 0) return { total: 0, quotas, warnings };
  const base = Math.floor(T / others.length);
  const extra = new Set(shuffleInPlace(others.slice(), createRng(subSeed(seed, 'ovr-extra'))).slice(0, T - base * others.length));
  for (const c of others) {
    const want = base + (extra.has(c) ? 1 : 0);
    const have = trainCounts.get(c)!;
    if (have < want) warnings.push(`Class "${c}" has only ${have} training images; one-vs-rest wanted ${want}.`);
    quotas.set(c, Math.min(want, have));
  }
  return { total: T, quotas, warnings };
}

export async function oneVsRestPlan(cat: Catalog, normalClass: string, opts: OneVsRestOptions): Promise<Plan> {
  const train = cat.items.filter((i) => i.split !== 'test');
  const byClass = new Map<string, CatalogItem[]>(cat.classNames.map((c) => [c, []]));
  for (const it of train) byClass.get(it.className)!.push(it);
  const normals = byClass.get(normalClass) ?? [];
  if (normals.length === 0) {
    throw new InputError(`No normal images: class "${normalClass}" has no training images in ${cat.root}.`);
  }
  const counts = new Map([...byClass].map(([c, v]) => [c, v.length]));
  const { quotas, warnings } = oneVsRestQuotas(counts, normalClass, opts.anomalyTotal, opts.seed);
  const anomalies: CatalogItem[] = [];
  for (const [c, q] of quotas) {
    anomalies.push(...(await sampleItems(cat, byClass.get(c)!, q, { method: opts.sampling, seed: subSeed(opts.seed, `ovr-${c}`), clusters: opts.clusters })));
  }
  if (anomalies.length === 0) warnings.push('one-vs-rest: no other class has images, so there are no anomalies.');
  const n = holdOut(normals, opts.validationFraction, subSeed(opts.seed, 'val-normal'));
  const a = holdOut(anomalies, opts.validationFraction, subSeed(opts.seed, 'val-anomaly'));
  const test = cat.items.filter((i) => i.split === 'test');
  if (test.length === 0) warnings.push(`${cat.root} has no official test split; only validation scores are available.`);
  return {
    trainNormal: n.keep,
    trainAnomaly: a.keep,
    valNormal: n.held,
    valAnomaly: a.held,
    testNormal: test.length ? test.filter((i) => i.className === normalClass) : null,
    testAnomaly: test.length ? test.filter((i) => i.className !== normalClass) : null,
    warnings,
  };
}
