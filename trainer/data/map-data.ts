/**
 * Data of the defect map (trainer/defect-map): the defect protocol's sets (trainer/data/defect.ts,
 * split by source photo) plus what the map needs beyond them — the pixel masks of the training
 * defect crops, the whole validation and test photos, and the batch sampler.
 *
 * Which labels a layout gives:
 * - masks beside the images (Magnetic tile) or MVTec's ground_truth: crops of the photos at the
 *   model size, each defect crop with its own mask (pixel labels);
 * - class folders with defect folders but no masks: whole images, squeezed to the model size,
 *   with their image label only (a crop of a defect photo without a mask may hold no defect, so
 *   the image is the smallest unit whose label is known): multiple-instance loss;
 * - normal images only: synthetic defects (trainer/defects/synthetic.ts) once they exist.
 */
import { readCatalog } from './read';
import { buildTrainingData, decodeMasks } from './build';
import { planDataset } from './index';
import { FAMILY_DEFAULTS, rotate90 } from './augment';
import type { CatalogItem } from './catalog';
import type { MemoryImageSet } from './image-set';
import type { LoadOptions, TrainingData } from './types';
import { InputError } from './types';
import { flagName, parseDataOptions } from './options';
import { cutJittered, jitterOffset, loadDefectCrops, type DefectCropStore } from './defect-crops';

export interface PhotoRef {
  source: string;
  maskPath?: string;
  isAnomaly: 0 | 1;
  className: string;
}

export interface MapData {
  /** What the generator (stage 1) trains on, unaugmented. */
  training: TrainingData;
  /** Masks (0/255) aligned with training.anomaly; all zero where hasMask is 0. */
  anomalyMasks: MemoryImageSet | null;
  /** Per training.anomaly item: 1 = pixel mask known, 0 = image label only. */
  anomalyHasMask: Uint8Array;
  /** Whole photos (or images) of each side, for the photo-level figures. */
  photos: { validation: PhotoRef[]; test: PhotoRef[] };
  /** Crops' side in photo pixels (undefined: whole images). */
  patchSize?: number;
  /** Layout and label kind, for the summary and the messages. */
  labels: 'masks' | 'image' | 'none';
  /** The training defect items (crops with their source and mask paths), aligned with training.anomaly: what crop jitter re-cuts (defect-crops.ts). */
  defectItems?: CatalogItem[];
  /** The reader's pixel limit, to read the photos again as the crops were read. */
  maxPixels?: number;
}

/** Options the defects preset sets unless the user set them (the defect protocol, every crop, no generic augmentation). */
export function presetDataOptions<V>(given: Record<string, V>): Record<string, V | string> {
  return { protocol: 'defect', balance: 'false', augment: 'none', ...given };
}

function photosOf(items: CatalogItem[] | null, isAnomaly: 0 | 1): PhotoRef[] {
  const seen = new Map<string, PhotoRef>();
  for (const it of items ?? []) if (!seen.has(it.source)) seen.set(it.source, { source: it.source, maskPath: it.maskPath, isAnomaly, className: it.className });
  return [...seen.values()];
}

/**
 * Reads the data for a defect-map training. Crops (`--patch-size`, default the model size: the
 * photo's own scale) when the layout has masks, whole images otherwise. Refuses what cannot
 * train a defect map, naming the flag or folder.
 */
export async function loadMapData(opts: LoadOptions, allowNoDefects = false): Promise<MapData> {
  // The reader flags, parsed once (typed from here on; unknown or bad ones refused naming the flag).
  const { root: _root, normalClass: _normal, size: _size, channels: _channels, seed: _seed, validationFraction: _vf, ...readerFlags } = opts;
  const d = parseDataOptions(readerFlags);
  if (d.protocol !== undefined && d.protocol !== 'defect') throw new InputError(`--protocol ${d.protocol}: --preset defects trains on the defect protocol (photos split by source, crops by mask); leave --protocol out`);
  if (d.augment !== undefined && d.augment !== 'none') throw new InputError(`--augment ${d.augment}: --preset defects flips and turns crops and their masks together itself; leave --augment out`);
  const o: LoadOptions = { ...opts };
  const cat = await readCatalog(opts.root, d);
  const withMask = cat.items.filter((i) => i.maskPath).length;
  const labels: MapData['labels'] = withMask > 0 ? 'masks' : 'image';
  if (d.patchSize === undefined && labels === 'masks') o.patchSize = opts.size;
  if (d.patchSize !== undefined && labels !== 'masks')
    throw new InputError(`${flagName('patchSize')} ${d.patchSize}: ${opts.root} has no defect masks, so a crop of a defect image has no label of its own; leave ${flagName('patchSize')} out (whole images are used, with their image labels)`);
  const p = await planDataset(o);
  if (p.plan.trainAnomaly.length === 0 && !allowNoDefects)
    throw new InputError(
      `--preset defects: ${opts.root} has no defect images for training (normal class "${p.normalClass}"${cat.classNames.length > 1 ? `, classes ${cat.classNames.join(', ')}` : ''}) and --synthetic is off. ` +
        'The defect map learns from defect examples: add defect images (a folder per defect type beside the normal one, masks beside the images for pixel labels), or leave --synthetic at auto',
    );
  const training = await buildTrainingData(p.plan.catalog ?? p.catalog, p.plan, {
    size: p.size, channels: p.channels, maxPixels: p.maxPixels, normalClass: p.normalClass,
    memoryLimitBytes: p.memoryLimitBytes, cacheDir: p.cacheDir, standardize: p.standardize, patchSize: p.patchSize,
  });
  training.preprocess = p.patchSize ? { mode: 'tile', scale: p.size / p.patchSize } : { mode: 'resize', scale: 1 };
  if (p.standardize) training.preprocess.standardize = { ...p.standardize };
  // The generator sees the crops as they are; the map's sampler flips and turns tiles with their masks.
  training.summary.augmentation = { family: 'none', ...FAMILY_DEFAULTS.none };
  const items = p.plan.trainAnomaly;
  if ((training.anomaly?.count ?? 0) !== items.length)
    throw new InputError(`${opts.root}: ${items.length - (training.anomaly?.count ?? 0)} training defect image(s) could not be read, so their masks cannot be matched; fix or remove them (see the warnings)`);
  const anomalyHasMask = Uint8Array.from(items, (i) => (i.maskPath ? 1 : 0));
  const anomalyMasks = anomalyHasMask.some((v) => v) ? await decodeMasks(items, p.size, p.maxPixels, p.patchSize) : null;
  return {
    training,
    anomalyMasks,
    anomalyHasMask,
    photos: {
      validation: [...photosOf(p.plan.valNormal, 0), ...photosOf(p.plan.valAnomaly, 1)],
      test: [...photosOf(p.plan.testNormal, 0), ...photosOf(p.plan.testAnomaly, 1)],
    },
    patchSize: p.patchSize,
    labels: items.length ? labels : 'none',
    defectItems: items,
    maxPixels: p.maxPixels,
  };
}

/** The validation and test photos of a defect-map training's split, without reading its crops (scripts/defect-map-stride.ts re-scores a trained model's validation photos). */
export async function mapPhotoSplit(opts: LoadOptions): Promise<MapData['photos']> {
  const p = await planDataset(opts);
  return { validation: [...photosOf(p.plan.valNormal, 0), ...photosOf(p.plan.valAnomaly, 1)], test: [...photosOf(p.plan.testNormal, 0), ...photosOf(p.plan.testAnomaly, 1)] };
}

/**
 * The photos behind the training defect crops, for crop jitter; null when there is nothing to
 * jitter (no masks, or whole images rather than crops).
 */
export async function loadJitterStore(d: MapData): Promise<DefectCropStore | null> {
  const a = d.training.anomaly;
  if (!a || !d.anomalyMasks || !d.patchSize || !d.defectItems?.length || a.height !== a.width) return null;
  return loadDefectCrops(d.defectItems, { size: a.width, channels: a.channels as 1 | 3, patchSize: d.patchSize, maxPixels: d.maxPixels, standardize: d.training.preprocess?.standardize });
}

/**
 * The sampling rule, stated and independent of the set sizes: half of every batch (rounded down)
 * is normal tiles, the other half defect tiles; when real defects and synthetic ones are both
 * available the defect half is split between them evenly (the odd one to the real defects).
 */
export function batchComposition(batch: number, has: { real: boolean; synthetic: boolean }): { normal: number; real: number; synthetic: number } {
  if (!Number.isInteger(batch) || batch < 2) throw new InputError(`--batch ${batch}: the defect map needs at least 2 tiles a batch (half normal, half defect)`);
  if (!has.real && !has.synthetic) throw new Error('batchComposition: no defect source');
  const normal = Math.floor(batch / 2);
  const defect = batch - normal;
  if (!has.synthetic) return { normal, real: defect, synthetic: 0 };
  if (!has.real) return { normal, real: 0, synthetic: defect };
  const real = Math.ceil(defect / 2);
  return { normal, real, synthetic: defect - real };
}

/** Walks a seeded permutation of 0..n-1, reshuffling at each pass. */
export class IndexCycle {
  private order: Int32Array;
  private pos = 0;
  constructor(readonly n: number, private readonly rng: () => number) {
    this.order = this.shuffle();
  }
  private shuffle(): Int32Array {
    const p = Int32Array.from({ length: this.n }, (_, i) => i);
    for (let i = p.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      const t = p[i]; p[i] = p[j]; p[j] = t;
    }
    return p;
  }
  /** The order and the position in it: with the rng's state, all a resume needs to draw the same tiles. */
  save(): { order: Int32Array; pos: number } {
    return { order: this.order.slice(), pos: this.pos };
  }
  restore(order: Int32Array, pos: number): void {
    if (order.length !== this.n || pos > this.n) throw new Error(`a tile order of ${order.length} (at ${pos}) for ${this.n} tiles`);
    this.order = order.slice();
    this.pos = pos;
  }
  take(k: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < k; i++) {
      if (this.pos >= this.n) { this.order = this.shuffle(); this.pos = 0; }
      out.push(this.order[this.pos++]);
    }
    return out;
  }
}

/** One of the 8 symmetries of a square (flips and quarter turns), applied alike to a tile and its mask. */
export function dihedral(px: Uint8Array, n: number, c: number, t: number): void {
  if (t & 4) {
    // mirror left-right
    for (let y = 0; y < n; y++) for (let x = 0; x < n >> 1; x++) for (let q = 0; q < c; q++) {
      const a = (y * n + x) * c + q, b = (y * n + n - 1 - x) * c + q;
      const v = px[a]; px[a] = px[b]; px[b] = v;
    }
  }
  if (t & 3) rotate90(px, n, c, t & 3);
}

export interface MapBatch {
  /** uint8 NHWC tiles. */
  pixels: Uint8Array;
  /** uint8 N x H x W masks, 0/1. */
  mask: Uint8Array;
  hasMask: Float32Array;
  label: Float32Array;
  imageOnly: Float32Array;
  count: number;
}

export interface SyntheticSource {
  /** A normal tile (uint8, H x W x C) made defective in place, texture taken from `donor` (another normal tile); returns its 0/255 mask (H x W). */
  (tile: Uint8Array, donor: Uint8Array): Uint8Array;
}

/** Crop jitter (defect-crops.ts): each real defect crop cut afresh, its grid origin moved by up to `radius` working-image pixels each way. */
export interface CropJitter {
  store: DefectCropStore;
  radius: number;
}

/** Draws the map's batches by batchComposition's rule, with a random symmetry per tile (square tiles only). */
export class MapSampler {
  private normal: IndexCycle;
  private defect: IndexCycle | null;
  readonly composition: ReturnType<typeof batchComposition>;
  constructor(private readonly data: Pick<MapData, 'training' | 'anomalyMasks' | 'anomalyHasMask'>, readonly batch: number, private readonly rng: () => number, private readonly synthetic?: SyntheticSource, private readonly jitter?: CropJitter) {
    const n = data.training.anomaly?.count ?? 0;
    this.composition = batchComposition(batch, { real: n > 0, synthetic: !!synthetic });
    this.normal = new IndexCycle(data.training.normal.count, rng);
    this.defect = n > 0 ? new IndexCycle(n, rng) : null;
  }

  /** Each tile order and its position (a checkpoint's sampler/* tensors and defectMap.samplerPos). */
  save(): { normal: { order: Int32Array; pos: number }; defect: { order: Int32Array; pos: number } | null } {
    return { normal: this.normal.save(), defect: this.defect?.save() ?? null };
  }
  restore(s: { normal: { order: Int32Array; pos: number }; defect: { order: Int32Array; pos: number } | null }): void {
    this.normal.restore(s.normal.order, s.normal.pos);
    if (!!this.defect !== !!s.defect) throw new Error(`the checkpoint ${s.defect ? 'has' : 'has no'} defect tile order, the data ${this.defect ? 'has' : 'has no'} defect tiles`);
    if (this.defect && s.defect) this.defect.restore(s.defect.order, s.defect.pos);
  }

  async next(): Promise<MapBatch> {
    const { normal: nN, real: nR, synthetic: nS } = this.composition;
    const set = this.data.training;
    const H = set.normal.height, W = set.normal.width, C = set.normal.channels;
    const per = H * W * C, mper = H * W;
    const count = nN + nR + nS;
    const pixels = new Uint8Array(count * per);
    const mask = new Uint8Array(count * mper);
    const hasMask = new Float32Array(count);
    const label = new Float32Array(count);
    const imageOnly = new Float32Array(count);
    const normalIdx = this.normal.take(nN + 2 * nS);
    const np = await set.normal.readBatch(normalIdx);
    pixels.set(np.subarray(0, nN * per), 0);
    hasMask.fill(1, 0, nN);
    if (nR) {
      const di = this.defect!.take(nR);
      pixels.set(await set.anomaly!.readBatch(di), nN * per);
      di.forEach((d, k) => {
        const i = nN + k;
        label[i] = 1;
        if (this.data.anomalyHasMask[d]) {
          hasMask[i] = 1;
          // Two draws per defect tile only when jittering, so batches without jitter are drawn as before.
          if (this.jitter && cutJittered(this.jitter.store, d, jitterOffset(this.rng, this.jitter.radius), jitterOffset(this.rng, this.jitter.radius), pixels.subarray(i * per, (i + 1) * per), mask.subarray(i * mper, (i + 1) * mper))) return;
          const m = this.data.anomalyMasks!.image(d);
          for (let p = 0; p < mper; p++) mask[i * mper + p] = m[p] >= 128 ? 1 : 0;
        } else imageOnly[i] = 1;
      });
    }
    for (let k = 0; k < nS; k++) {
      const i = nN + nR + k;
      const tile = np.slice((nN + k) * per, (nN + k + 1) * per);
      const donor = np.subarray((nN + nS + k) * per, (nN + nS + k + 1) * per);
      const m = this.synthetic!(tile, donor);
      pixels.set(tile, i * per);
      for (let p = 0; p < mper; p++) mask[i * mper + p] = m[p] >= 128 ? 1 : 0;
      hasMask[i] = 1;
      label[i] = 1;
    }
    if (H === W) {
      for (let i = 0; i < count; i++) {
        const t = Math.floor(this.rng() * 8);
        if (!t) continue;
        dihedral(pixels.subarray(i * per, (i + 1) * per), H, C, t);
        dihedral(mask.subarray(i * mper, (i + 1) * mper), H, 1, t);
      }
    }
    return { pixels, mask, hasMask, label, imageOnly, count };
  }
}
