/**
 * What scoring an image will cost, worked out from its size alone before any pixel is touched, and
 * the limits it must stay under (so a model's scale or tile stride cannot freeze a page or fill
 * memory). The Scorer plans every image here first; nothing here runs a network.
 */
import type { ModelInfo, PatchSpec } from './model-format';
import { tileWorkingSize } from './preprocess';
import { ScorerError } from './errors';

/**
 * The work one score()/scoreBatch() call may take, checked from the image sizes alone before any
 * pixel is touched: a model's `preprocess.scale` or tile stride (or a caller's `stride`) can turn
 * an ordinary photo into hours of generator passes and gigabytes of buffers, and the webview runs
 * the scorer on its own thread, where that would freeze the panel instead of failing.
 */
export interface WorkLimits {
  /** Largest image the scorer works on after `preprocess.scale` or enlargement to the model size, summed over the call's images. */
  maxWorkPixels: number;
  /**
   * Most model pixels run through the networks: tiles × tile pixels × score views (flip 2, shift 4)
   * × networks (2 with a defect map: it runs on every tile the generator does), summed over the call's images.
   */
  maxTilePixels: number;
  /** Most error-map values the patch score reads: patch windows × patch area, summed over the call's images. */
  maxPatchVisits: number;
}

/**
 * 50 MP of working image, as for input images. 150 million tile pixels is about 150,000 tiles of
 * 32x32, some 25 s on two busy CPU cores with the WASM kernels (6 million tile pixels a second
 * measured); a 2192x1000 photo at the default quarter-model stride is a quarter of it. Patch
 * visits are some 50 times cheaper than generator pixels (avgPool, measured).
 */
export const DEFAULT_WORK_LIMITS: WorkLimits = { maxWorkPixels: 50_000_000, maxTilePixels: 150_000_000, maxPatchVisits: 2_000_000_000 };

/** The options planning reads (a subset of ScoreOptions). */
export interface PlanOptions { mode?: 'tile' | 'resize'; stride?: number | { x: number; y: number } }

/** What one image will cost. */
export interface WorkPlan { ww: number; wh: number; sx: number; sy: number; tiles: number; patchVisits: number }

/** How many origins tileStarts gives, without listing them. */
export function tileCount(size: number, tile: number, stride: number): number {
  return size <= tile ? 1 : Math.ceil((size - tile) / stride) + 1;
}

const millions = (n: number) => (n >= 1e7 ? `${Math.round(n / 1e6).toLocaleString('en-US')} million` : n.toLocaleString('en-US'));

/** Tile origins along one axis: 0, stride, … and a last tile flush with the end. */
export function tileStarts(size: number, tile: number, stride: number): number[] {
  if (size <= tile) return [0];
  const s: number[] = [];
  for (let p = 0; p + tile < size; p += stride) s.push(p);
  s.push(size - tile);
  return s;
}

export function patchCount(h: number, w: number, p: PatchSpec): number {
  const size = Math.min(p.size, h, w);
  return (Math.floor((h - size) / p.stride) + 1) * (Math.floor((w - size) / p.stride) + 1);
}

/** The working size, stride and tile count of one image of size `w x h`, checked against the limits before any pixel work. */
export function planWork(info: ModelInfo, L: WorkLimits, size: { width: number; height: number }, opts: PlanOptions, nViews: number, nets: number): WorkPlan {
const { height: H, width: W } = info.input;
const { width: w, height: h } = size;
  const mode = opts.mode ?? info.preprocess?.mode ?? 'resize';
  const scale = mode === 'tile' && info.preprocess?.mode === 'tile' ? info.preprocess.scale : 1;
  // The same working size workingImage() will produce (preprocess.ts), computed from the size alone.
  const { ww, wh } = mode === 'resize' ? { ww: W, wh: H } : tileWorkingSize(w, h, W, H, scale);
  if (ww * wh > L.maxWorkPixels) {
    const why = scale > 1 ? `the model's "preprocess.scale" ${scale} (flawscope.json) enlarges it to` : `fitting the model's ${W}x${H} tiles makes it`;
    throw new ScorerError('IMAGE_TOO_LARGE', `the ${w}x${h} image: ${why} ${ww}x${wh} pixels to score, over the limit of ${millions(L.maxWorkPixels)} pixels (limits.maxWorkPixels): score a smaller image or a crop of it${scale > 1 ? ', or use a model trained at a scale nearer 1' : ''}`);
  }
  const st = opts.stride ?? info.preprocess?.tileStride ?? { x: W, y: H };
  const sx = typeof st === 'number' ? st : st.x, sy = typeof st === 'number' ? st : st.y;
  if (!(Number.isInteger(sx) && sx >= 1 && sx <= W && Number.isInteger(sy) && sy >= 1 && sy <= H))
    throw new ScorerError('IMAGE_INVALID', `tile stride must be an integer from 1 to the model size (${W}x${H}), got ${JSON.stringify(st)}`);
  const tiles = tileCount(wh, H, sy) * tileCount(ww, W, sx);
  const tilePixels = tiles * H * W * nViews * nets;
  if (tilePixels > L.maxTilePixels) {
    const who = opts.stride !== undefined ? 'the tile stride (the stride option; flawscope score --tile-stride)'
      : info.preprocess?.tileStride !== undefined ? 'the model\'s tile stride ("preprocess.tileStride" in flawscope.json; --tile-stride overrides it)' : null;
    let fits = 0;
    for (let s = Math.max(sx, sy) + 1; who && s <= Math.min(W, H) && !fits; s++) if (tileCount(wh, H, s) * tileCount(ww, W, s) * H * W * nViews * nets <= L.maxTilePixels) fits = s;
    const views = (nViews > 1 ? ` × ${nViews} score views ("score.flip"/"score.shift")` : '') + (nets > 1 ? ' × 2 networks (the generator and the defect map)' : '');
    throw new ScorerError('IMAGE_TOO_LARGE',
      `the ${w}x${h} image (${ww}x${wh} pixels at the model's scale) needs ${tiles.toLocaleString('en-US')} tiles of ${W}x${H}${views} = ${millions(tilePixels)} pixels through the ${nets > 1 ? 'networks' : 'generator'}, over the limit of ${millions(L.maxTilePixels)} (limits.maxTilePixels): ` +
      (who ? `${who} is ${sx === sy ? sx : `${sx}x${sy}`} px; ${fits ? `a stride of ${fits} px or more fits` : 'no stride fits'}, or score a smaller image` : 'score a smaller image or a crop of it'));
  }
  const patch = info.score.patch;
  const psize = Math.min(patch.size, wh, ww);
  const patchVisits = patchCount(wh, ww, patch) * psize * psize;
  if (patchVisits > L.maxPatchVisits)
    throw new ScorerError('IMAGE_TOO_LARGE', `the ${w}x${h} image (${ww}x${wh} pixels at the model's scale): its patch score ("score.patch" size ${patch.size}, stride ${patch.stride} in flawscope.json) reads ${millions(patchVisits)} error values, over the limit of ${millions(L.maxPatchVisits)} (limits.maxPatchVisits): score a smaller image`);
  return { ww, wh, sx, sy, tiles, patchVisits };
}

/** The limits again over all images of one call, whose buffers are all held at once. */
export function checkBatchWork(info: ModelInfo, L: WorkLimits, plans: WorkPlan[], nViews: number, nets: number): void {
const { height: H, width: W } = info.input;
  const sum = (f: (p: WorkPlan) => number) => plans.reduce((a, p) => a + f(p), 0);
  const over: Array<[number, number, string]> = [
    [sum((p) => p.ww * p.wh), L.maxWorkPixels, 'pixels to score (limits.maxWorkPixels)'],
    [sum((p) => p.tiles) * H * W * nViews * nets, L.maxTilePixels, `pixels through the ${nets > 1 ? 'generator and the defect map' : 'generator'} (limits.maxTilePixels)`],
    [sum((p) => p.patchVisits), L.maxPatchVisits, 'patch-score reads (limits.maxPatchVisits)'],
  ];
  for (const [got, max, what] of over)
    if (got > max) throw new ScorerError('IMAGE_TOO_LARGE', `the ${plans.length} images of this call need ${millions(got)} ${what.replace('(', `together, over the limit of ${millions(max)} (`)}: score them in smaller batches`);
}
