/**
 * How the defects preset trains the defect map (stage 2): the learning-rate schedule, the loss
 * balance and the crop jitter, measured at equal updates on one frozen generator
 * (scripts/defect-map-recipe.ts, docs/results/JOURNAL.md J65). Constants of the recipe, not of
 * any data set: each is a rule that scales with the tile (the jitter) or the user's --lr.
 */
import { DEFAULT_MAP_LOSS, type MapLossOptions } from './loss';

export interface MapRecipe {
  /** The map's Adam rate is the run's --lr times this (the generator keeps --lr itself). */
  lrFactor: number;
  /** Linear warmup over this many updates (schedule.ts); 0: none. */
  warmup: number;
  loss: MapLossOptions;
  /** Crop jitter radius as a share of the tile side (0: the fixed grid crops; map-data.ts CropJitter). */
  cropJitter: number;
}

export const MAP_RECIPE: MapRecipe = { lrFactor: 1, warmup: 0, loss: DEFAULT_MAP_LOSS, cropJitter: 0 };

/** The jitter radius in working-image pixels for a tile of side `tile`. */
export function jitterRadius(r: Pick<MapRecipe, 'cropJitter'>, tile: number): number {
  return Math.round(r.cropJitter * tile);
}
