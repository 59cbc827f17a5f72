/**
 * Decodes a plan's items once, in one call (so the channel decision covers every role), and
 * assembles the TrainingData views. Unreadable files are skipped and reported; more than 1%
 * unreadable means something is wrong with the data, so it stops.
 */
import type { Catalog, CatalogItem } from './catalog';
import { countByClass } from './catalog';
import { ConcatImageSet, SubsetImageSet } from './image-set';
import type { Plan } from './plan';
import type { DatasetSummary, ImageSet, LabeledSet, TrainingData } from './types';
import { InputError } from './types';

export const MAX_UNREADABLE_FRACTION = 0.01;

type Role = 'trainNormal' | 'trainAnomaly' | 'valNormal' | 'valAnomaly' | 'testNormal' | 'testAnomaly';
const ROLES: Role[] = ['trainNormal', 'trainAnomaly', 'valNormal', 'valAnomaly', 'testNormal', 'testAnomaly'];

export interface BuildOptions {
  size: number;
  channels?: 1 | 3;
  maxPixels?: number;
  normalClass: string;
}

export async function buildTrainingData(cat: Catalog, plan: Plan, opts: BuildOptions): Promise<TrainingData> {
  const all: CatalogItem[] = [];
  const roleOf: Role[] = [];
  for (const r of ROLES) {
    for (const it of plan[r] ?? []) {
      all.push(it);
      roleOf.push(r);
    }
  }
  const res = await cat.decode(all, { size: opts.size, channels: opts.channels, maxPixels: opts.maxPixels });
  const skipped = [...cat.skipped, ...res.skipped];
  if (res.skipped.length > MAX_UNREADABLE_FRACTION * all.length) {
    const list = res.skipped.slice(0, 10).map((s) => `  ${s.path}: ${s.reason}`).join('\n');
    throw new InputError(
      `${res.skipped.length} of ${all.length} images in ${cat.root} are unreadable (more than ${MAX_UNREADABLE_FRACTION * 100}%). ` +
        `Fix or remove them:\n${list}${res.skipped.length > 10 ? `\n  ... and ${res.skipped.length - 10} more` : ''}`,
    );
  }
  const idx: Record<Role, number[]> = { trainNormal: [], trainAnomaly: [], valNormal: [], valAnomaly: [], testNormal: [], testAnomaly: [] };
  const itemsOf: Record<Role, CatalogItem[]> = { trainNormal: [], trainAnomaly: [], valNormal: [], valAnomaly: [], testNormal: [], testAnomaly: [] };
  res.kept.forEach((reqIndex, setIndex) => {
    const r = roleOf[reqIndex];
    idx[r].push(setIndex);
    itemsOf[r].push(all[reqIndex]);
  });
  if (idx.trainNormal.length === 0) {
    throw new InputError(`No normal images: every image of class "${opts.normalClass}" in ${cat.root} was unreadable.`);
  }
  const images = res.images;
  const sub = (r: Role): ImageSet => new SubsetImageSet(images, idx[r]);
  const labeled = (n: Role, a: Role): LabeledSet => {
    const parts = [sub(n), sub(a)];
    const items = [...itemsOf[n], ...itemsOf[a]];
    const isAnomaly = new Uint8Array(items.length);
    isAnomaly.fill(1, itemsOf[n].length);
    return {
      images: new ConcatImageSet(parts),
      isAnomaly,
      className: items.map((i) => i.className),
      source: items.map((i) => i.source),
    };
  };
  const warnings = [...cat.warnings, ...plan.warnings];
  if (res.skipped.length > 0) warnings.push(`${res.skipped.length} unreadable image(s) skipped; see summary.skipped.`);
  const hasTest = plan.testNormal !== null || plan.testAnomaly !== null;
  const counts = countByClass(cat);
  const summary: DatasetSummary = {
    root: cat.root,
    layout: cat.layout,
    normalClass: opts.normalClass,
    classes: cat.classNames.map((name) => ({ name, count: counts.get(name) ?? 0, anomaly: name !== opts.normalClass })),
    skipped,
    warnings,
    counts: {
      trainNormal: idx.trainNormal.length,
      trainAnomaly: idx.trainAnomaly.length,
      validation: idx.valNormal.length + idx.valAnomaly.length,
      test: idx.testNormal.length + idx.testAnomaly.length,
    },
  };
  return {
    normal: sub('trainNormal'),
    anomaly: idx.trainAnomaly.length > 0 ? sub('trainAnomaly') : null,
    validation: labeled('valNormal', 'valAnomaly'),
    test: hasTest ? labeled('testNormal', 'testAnomaly') : null,
    summary,
  };
}
