/**
 * Turns a catalog into roles (training normals, training anomalies, validation, test) before any
 * decoding. The default plan: the normal class is normal, every other class is an anomaly; a
 * seeded, stratified fraction of each is held out for validation.
 */
import type { Catalog, CatalogItem } from './catalog';
import { countByClass } from './catalog';
import { normalClassCandidates } from './normal-class';
import { createRng, shuffleInPlace, subSeed } from '../rng';
import { InputError } from './types';

export interface Plan {
  trainNormal: CatalogItem[];
  trainAnomaly: CatalogItem[];
  valNormal: CatalogItem[];
  valAnomaly: CatalogItem[];
  /** Official test set (normal class = 0, everything else = 1), or null. */
  testNormal: CatalogItem[] | null;
  testAnomaly: CatalogItem[] | null;
  warnings: string[];
  /** When the plan needs a different decoder (crops), the catalog to decode with. */
  catalog?: Catalog;
}

/** The normal class: the one asked for (must exist), the layout's own, or the only class whose
 * name contains good/normal/ok/free as a word (e.g. `MT_Free`). */
export function resolveNormalClass(cat: Catalog, requested?: string): string {
  const counts = countByClass(cat);
  const found = cat.classNames.map((c) => `${c} (${counts.get(c) ?? 0})`).join(', ');
  if (requested !== undefined && requested !== '') {
    if (!cat.classNames.includes(requested)) {
      const ci = cat.classNames.filter((c) => c.toLowerCase() === requested.toLowerCase());
      const hint = ci.length === 1 ? ` Did you mean ${ci[0]}?` : '';
      throw new InputError(`Unknown class "${requested}" (--normal) in ${cat.root}. Classes found: ${found}.${hint}`);
    }
    return requested;
  }
  if (cat.declaredNormal) return cat.declaredNormal;
  const candidates = normalClassCandidates(cat.classNames);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1) {
    throw new InputError(`Several classes look normal in ${cat.root} (${candidates.join(', ')}); choose one with --normal CLASS.`);
  }
  throw new InputError(
    `No normal class in ${cat.root}: none is named good/normal/ok/free. Choose one with --normal CLASS. Classes found: ${found}.`,
  );
}

/** Splits off a seeded `fraction` of `items` (at least one when there are two or more). */
export function holdOut(items: CatalogItem[], fraction: number, seed: number): { keep: CatalogItem[]; held: CatalogItem[] } {
  const shuffled = shuffleInPlace(items.slice(), createRng(seed));
  let n = Math.round(items.length * fraction);
  if (fraction > 0 && n === 0 && items.length >= 2) n = 1;
  if (n >= items.length) n = items.length - 1; // never leave training empty
  n = Math.max(0, n);
  const held = new Set(shuffled.slice(0, n));
  // Keep catalog order inside each side: deterministic and easy to read in reports.
  return { keep: items.filter((i) => !held.has(i)), held: items.filter((i) => held.has(i)) };
}

export function defaultPlan(cat: Catalog, normalClass: string, validationFraction: number, seed: number): Plan {
  const warnings: string[] = [];
  const hasSplit = cat.items.some((i) => i.split === 'test');
  const train = cat.items.filter((i) => i.split !== 'test');
  const normals = train.filter((i) => i.className === normalClass);
  const anomalies = train.filter((i) => i.className !== normalClass);
  if (normals.length === 0) {
    throw new InputError(`No normal images: class "${normalClass}" in ${cat.root} has no training images. Add images to it or choose another class with --normal.`);
  }
  const n = holdOut(normals, validationFraction, subSeed(seed, 'val-normal'));
  const a = holdOut(anomalies, validationFraction, subSeed(seed, 'val-anomaly'));
  if (anomalies.length === 0) {
    warnings.push(
      `No anomaly images besides "${normalClass}": training uses the normal-data losses only, and validation has no anomalies (AUROC cannot be measured).`,
    );
  }
  const test = hasSplit ? cat.items.filter((i) => i.split === 'test') : null;
  return {
    trainNormal: n.keep,
    trainAnomaly: a.keep,
    valNormal: n.held,
    valAnomaly: a.held,
    testNormal: test ? test.filter((i) => i.className === normalClass) : null,
    testAnomaly: test ? test.filter((i) => i.className !== normalClass) : null,
    warnings,
  };
}
