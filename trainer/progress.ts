/**
 * `flawscope train --json` prints one of these per line on stdout. The extension parses them;
 * anything else on stdout/stderr is log text.
 */
import type { ThresholdRule } from '../scorer/model-format';
import type { GroupSchedule } from './group-schedule';
export type ProgressEvent =
  | {
      type: 'start'; backend: string; backendReason: string; epochs: number; stepsPerEpoch: number; out: string; summary: unknown; resumedFromEpoch?: number; resumedAtStep?: number;
      /** How steps are shared between normal and anomaly batches, and the rule that says so (trainer/group-schedule.ts; absent from older trainers' events). */
      groups?: GroupSchedule;
    }
  | { type: 'step'; epoch: number; step: number; stepsPerEpoch: number; losses: Record<string, number>; imgPerSec: number; etaSec: number }
  | {
      type: 'epoch'; epoch: number;
      /** --preset defects: which stage's epoch (the generator's, or the defect map's: then valAuroc is its validation selection figure). */
      stage?: 'generator' | 'defect-map'; epochs: number; losses: Record<string, number>; valAuroc: number | null; bestValAuroc: number | null; imgPerSec: number; etaSec: number; seconds: number;
      /** With --weight-average: valAuroc is the average's, this the trained weights' own. */
      valAurocTrained?: number | null;
    }
  | { type: 'warning'; message: string }
  /** --preset defects: a training stage begins. */
  | { type: 'stage'; stage: 'generator' | 'defect-map'; message: string }
  /** epoch: epochs finished; step: steps done in the next one, when the stop came mid-epoch. */
  | { type: 'checkpoint'; path: string; epoch: number; step?: number; reason: 'signal' | 'epoch' }
  | { type: 'done'; out: string; metrics: Record<string, number | null>; seconds: number; /** The deployed threshold and how it was chosen (absent from older trainers' events). */ threshold?: { value: number; rule: ThresholdRule } }
  | { type: 'cancelled'; checkpoint: string; epoch: number; step?: number }
  | { type: 'error'; message: string; code: number };

const auc = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(4));

/** "val AUROC 0.8547 (trained weights 0.8530; best 0.8547)": the epoch line's validation part, for every printer. */
export function valAurocText(e: Extract<ProgressEvent, { type: 'epoch' }>): string {
  const trained = e.valAurocTrained !== undefined ? `trained weights ${auc(e.valAurocTrained)}; ` : '';
  return `val AUROC ${auc(e.valAuroc)} (${trained}best ${auc(e.bestValAuroc)})`;
}

/** Where a training stopped or resumes: "after epoch 3", or "at step 40 of epoch 4" mid-epoch. */
export function stopPoint(epochsDone: number, step?: number): string {
  return step ? `at step ${step} of epoch ${epochsDone + 1}` : `after epoch ${epochsDone}`;
}
