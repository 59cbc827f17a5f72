/**
 * What a reader finds on disk, before any pixel is decoded: one entry per image with its class,
 * official split and source. Planning (protocol, sampling, validation split) works on this list,
 * so only the images a run actually needs are ever decoded.
 */
import type { MemoryImageSet } from './image-set';
import type { Standardize } from '../../scorer/preprocess';

export interface CatalogItem {
  /** Class (folder name, digit, CIFAR class) or defect type. */
  className: string;
  /** Path, or `file#index` for records inside IDX/CIFAR files. */
  source: string;
  /** The official split, where the layout has one. */
  split?: 'train' | 'test';
  /** Pixel mask beside the image (white = defect), where the layout has masks. */
  maskPath?: string;
  /** Record number inside a container file (IDX, CIFAR). */
  record?: number;
  /** A patch of the source image (pixels, after EXIF orientation), for defect data. */
  crop?: { x: number; y: number; w: number; h: number };
  /** Fraction of defect pixels in the patch (or image), where a mask was read. */
  maskFraction?: number;
}

export interface DecodeRequest {
  size: number;
  /** When absent: 1 if every decoded image is greyscale, else 3. */
  channels?: 1 | 3;
  maxPixels?: number;
  /** Standardise each source photo before cutting crops (only the crop decoder understands it). */
  standardize?: Standardize;
}

export interface DecodeResult {
  images: MemoryImageSet;
  /** For each decoded image, its position in the requested item list. */
  kept: number[];
  skipped: { path: string; reason: string }[];
  /** Original sizes seen (for reports). */
  sourceSizes?: { width: number; height: number }[];
}

export interface Catalog {
  layout: string;
  root: string;
  items: CatalogItem[];
  /** Class names in display order (including empty ones). */
  classNames: string[];
  /** Class the layout itself declares normal (MVTec `good`), if any. */
  declaredNormal?: string;
  skipped: { path: string; reason: string }[];
  warnings: string[];
  /** Files that are not images (by extension), ignored. */
  ignoredFiles: number;
  /** Mask bookkeeping for layouts with masks. */
  masks?: { found: number; imagesWithoutMask: number; masksWithoutImage: number; empty?: number };
  /** Container formats (IDX, CIFAR): every image has this shape, no need to probe files. */
  recordShape?: { width: number; height: number; channels: 1 | 3 };
  /** Decodes the given items (a subset of `items`) into one uint8 NHWC set. */
  decode(items: CatalogItem[], req: DecodeRequest): Promise<DecodeResult>;
}

/** Counts items per class, keeping `classNames` order. */
export function countByClass(cat: Catalog, items: CatalogItem[] = cat.items): Map<string, number> {
  const m = new Map<string, number>(cat.classNames.map((c) => [c, 0]));
  for (const it of items) m.set(it.className, (m.get(it.className) ?? 0) + 1);
  return m;
}
