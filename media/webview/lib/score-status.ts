/** The score panel's status line after a score (kept apart from the DOM so it can be tested). */
import { tileStrideOf, type ModelInfo } from '../../../scorer/model-format';

/**
 * `NAME: scored in MS ms on BACKEND with MODEL`, and for a model that scores photos in tiles how
 * many tiles ran and how far apart they start: the tiling decides the generator passes an image
 * costs and how smooth its heatmap is.
 */
export function scoredStatus(name: string, ms: number, backend: string, modelName: string, info: Pick<ModelInfo, 'input' | 'preprocess'>, tiles: number): string {
  const tiling = info.preprocess?.mode === 'tile' ? ` (${tiles} tile${tiles === 1 ? '' : 's'}, ${tileStrideOf(info)} px apart)` : '';
  return `${name}: scored in ${ms.toFixed(0)} ms on ${backend} with ${modelName}${tiling}`;
}
