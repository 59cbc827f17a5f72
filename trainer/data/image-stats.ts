/**
 * What the normal training images were like, recorded in flawscope.json (`trainingImages`) so a
 * scorer can tell an image of another kind (scorer/familiarity.ts): the source images' size and
 * colour, and the per-image pixel mean, standard deviation and chroma of the normal training set
 * as the model saw it. Measured on the decoded set before augmentation (reading an augmented set
 * would draw random numbers and change the training).
 */
import { meanChroma, percentiles, pixelStats, type TrainingImages } from '../../scorer/familiarity';
import type { Catalog, CatalogItem } from './catalog';
import { probeImage } from './decode';
import { DECODE_CONCURRENCY, forEachLimit } from './decode-files';
import type { ImageSet } from './types';

/** At most this many images (evenly spaced) are measured, and this many source headers read: percentiles need no more. */
export const STATS_MAX_IMAGES = 5000;
export const STATS_MAX_SOURCES = 2000;

const spaced = <T>(items: T[], max: number): T[] => (items.length <= max ? items : Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]));

export async function trainingImageStats(normal: ImageSet, cat: Catalog, items: CatalogItem[]): Promise<TrainingImages | undefined> {
  if (normal.count === 0) return undefined;
  // Sources: container formats have one shape; files (photos, for crops) are read by header.
  const sizes: { w: number; h: number; colour: boolean }[] = [];
  if (cat.recordShape) {
    const { width: w, height: h, channels } = cat.recordShape;
    for (let i = 0; i < Math.min(items.length, STATS_MAX_SOURCES); i++) sizes.push({ w, h, colour: channels === 3 });
  } else {
    const sources = spaced([...new Set(items.map((it) => it.source))], STATS_MAX_SOURCES);
    await forEachLimit(sources.length, DECODE_CONCURRENCY, async (i) => {
      const info = await probeImage(sources[i]).catch(() => null);
      if (info) sizes.push({ w: info.width, h: info.height, colour: !info.grey });
    });
  }
  if (!sizes.length) return undefined;
  const idx = spaced(Array.from({ length: normal.count }, (_, i) => i), STATS_MAX_IMAGES);
  const per = normal.height * normal.width * normal.channels;
  const means: number[] = [], stds: number[] = [], mids: number[] = [], chromas: number[] = [], inks: number[] = [], inkWs: number[] = [], inkHs: number[] = [];
  const shape = { width: normal.width, height: normal.height, channels: normal.channels };
  for (let s = 0; s < idx.length; s += 256) {
    const batch = await normal.readBatch(idx.slice(s, s + 256));
    for (let k = 0; k * per < batch.length; k++) {
      const { mean, std, midtones, ink, inkWidth, inkHeight } = pixelStats(batch, k * per, per, shape);
      inks.push(ink!);
      inkWs.push(inkWidth!);
      inkHs.push(inkHeight!);
      means.push(mean);
      stds.push(std);
      mids.push(midtones);
      if (normal.channels === 3) chromas.push(meanChroma(batch.subarray(k * per, (k + 1) * per), normal.height * normal.width, 3));
    }
  }
  return {
    count: means.length,
    sources: sizes.length,
    colourShare: sizes.filter((s) => s.colour).length / sizes.length,
    width: percentiles(sizes.map((s) => s.w)),
    height: percentiles(sizes.map((s) => s.h)),
    aspect: percentiles(sizes.map((s) => s.w / s.h)),
    mean: percentiles(means),
    std: percentiles(stds),
    midtones: percentiles(mids),
    ink: percentiles(inks),
    inkWidth: percentiles(inkWs),
    inkHeight: percentiles(inkHs),
    ...(normal.channels === 3 ? { chroma: percentiles(chromas) } : {}),
  };
}
