/** The training dashboard's validation-AUROC curves, from the trainer's epoch events (no DOM: unit-tested in Node). */
import type { ProgressEvent } from '../../../trainer/progress';
import { PALETTE, type Series } from './plot';

type EpochEvent = Extract<ProgressEvent, { type: 'epoch' }>;

/**
 * Validation AUROC and the best so far; with --weight-average the average is what is validated and
 * kept, so the trained weights' own curve is drawn beside it (and only then).
 */
export function aurocSeries(epochs: EpochEvent[]): Series[] {
  const curve = (pick: (e: EpochEvent) => number | null | undefined): [number, number][] =>
    epochs.flatMap((e): [number, number][] => { const v = pick(e); return v === null || v === undefined ? [] : [[e.epoch, v]]; });
  const trained = curve((e) => e.valAurocTrained);
  return [
    { name: trained.length ? 'validation AUROC (weight average)' : 'validation AUROC', color: PALETTE[4], points: curve((e) => e.valAuroc) },
    { name: 'best', color: PALETTE[2], points: curve((e) => e.bestValAuroc) },
    ...(trained.length ? [{ name: 'trained weights', color: PALETTE[6], points: trained }] : []),
  ];
}
