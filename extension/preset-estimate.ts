/**
 * The Train wizard's time estimate for each preset on the chosen dataset, and whether to ask
 * before starting (no `vscode`: unit-tested). The estimate itself is trainer/presets.ts
 * estimateTrainSeconds, the same table the trainer runs.
 */
import * as path from 'node:path';
import { CONFIRM_ABOVE_S, estimateTrainSeconds, formatEstimate, PRESETS, type PresetName } from '../trainer/presets';

export interface PresetEstimate {
  seconds: number;
  /** "about 2 min for 1,350 training images". */
  text: string;
  /** Longer than CONFIRM_ABOVE_S: the wizard asks before starting. */
  confirm: boolean;
}

export function presetEstimate(name: PresetName, trainImages: number): PresetEstimate {
  const seconds = estimateTrainSeconds(PRESETS[name], trainImages);
  return { seconds, text: `${formatEstimate(seconds)} for ${trainImages.toLocaleString('en-US')} training images`, confirm: seconds > CONFIRM_ABOVE_S };
}

/** The confirmation's question for a long preset. */
export function confirmText(name: PresetName, e: PresetEstimate): string {
  return `The ${name} preset is expected to train for ${e.text} on this machine (a shared or busy machine takes longer). Start it?`;
}

/** Images that train: those outside a top-level test/ folder (the official test split is only scored). */
export function trainingImageCount(root: string, images: readonly string[]): number {
  return images.filter((f) => path.relative(root, f).split(path.sep)[0] !== 'test').length;
}
