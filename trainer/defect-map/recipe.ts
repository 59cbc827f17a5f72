/**
 * How the defects preset trains the defect map (stage 2): the learning-rate schedule, the loss
 * balance and the crop jitter, measured at equal updates on one frozen generator
 * (scripts/defect-map-recipe.ts, docs/results/JOURNAL.md J68). Constants of the recipe, not of
 * any data set: each is a rule that scales with the tile (the jitter) or the user's --lr.
 */
import { DEFAULT_MAP_LOSS, type MapLossOptions } from './loss';
import type { MapArchitecture } from './network';

export interface MapRecipe {
  /** The map's Adam rate is the run's --lr times this (the generator keeps --lr itself). */
  lrFactor: number;
  /** Linear warmup over this many updates (schedule.ts), at most half an epoch (map-loop.ts); 0: none. */
  warmup: number;
  loss: MapLossOptions;
  /** Crop jitter radius as a share of the tile side (0: the fixed grid crops; map-data.ts CropJitter). */
  cropJitter: number;
  /** Batch normalisation in the map while it trains, folded into plain convs when written (network.ts, fold-bn.ts). */
  batchNorm: boolean;
  /** Which map network new models train (network.ts MAP_ARCHITECTURES). */
  architecture: MapArchitecture;
}

/**
 * J68, 600 equal updates on one frozen generator, validation photos only: 3 x --lr with a
 * 100-update warmup gave the best whole-photo image AUROC (0.683 against 0.673) and AUPRO (0.727
 * against 0.694), pixel AUROC 0.699 against 0.712 — within the noise of one seed and 103 photos,
 * so adopted as the rate at which the map is not slower, not as a proven gain. α 0.5 and crop
 * jitter (0.25) lowered the image figure in every pairing (jitter raised pixel AUROC by ~0.02):
 * kept at α 0.25 and off.
 *
 * J71, 1,500 equal updates, same harness: batch normalisation (folded into the convs when the
 * model is written) lowered the training loss below the plain map's from ~750 updates on and
 * lifted the validation tiles where the plain map stayed flat (table in J71); plain BCE (γ 0)
 * was worse on the training Dice and the validation tiles at 250–750 updates. An update costs
 * about twice the plain map's on the CPU (BN's own passes over every activation). Not a shown gain
 * on whole photos: J71's 30-minute run (1,408 updates, another stage-1 generator) scored lower
 * image AUROC than J68's plain-map run (4,967 updates) and higher pixel AUROC.
 *
 * J74, same harness, 1,500 equal updates, BN both: the lite map (network.ts; 9.5 M
 * multiply-adds a tile against 20.9 M, ~0.6x the seconds an update, ~0.65x the Chromium WASM
 * scoring CPU) ended lower on the validation tiles and on whole-photo pixel AUROC, the image
 * AUROC within the noise: not adopted as the default, kept as `architecture: 'lite'`.
 */
export const MAP_RECIPE: MapRecipe = { lrFactor: 3, warmup: 100, loss: DEFAULT_MAP_LOSS, cropJitter: 0, batchNorm: true, architecture: 'unet' };

/** The jitter radius in working-image pixels for a tile of side `tile`. */
export function jitterRadius(r: Pick<MapRecipe, 'cropJitter'>, tile: number): number {
  return Math.round(r.cropJitter * tile);
}
