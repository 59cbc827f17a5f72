/** The training dashboard's validation-AUROC curves, from the trainer's epoch events (no DOM: unit-tested in Node). */
import type { ProgressEvent } from '../../../trainer/progress';
import { formatAuroc, keptEpochText } from '../../../shared/format';
import { PALETTE, type PlotMarker, type Series } from './plot';

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

/**
 * The epoch whose weights the model keeps, to mark on the plots: once the run is done, the
 * trainer's bestEpoch with the reason; while it trains, the best validation epoch so far.
 */
export function keptEpochMarker(epochs: EpochEvent[], metrics: Record<string, number | null> | null, totalEpochs: number): PlotMarker | null {
  const kept = metrics?.bestEpoch;
  if (typeof kept === 'number' && kept > 0) return { x: kept, label: keptEpochText(kept, totalEpochs, metrics?.valAuroc ?? null) };
  let best: EpochEvent | null = null;
  for (const e of epochs) if (e.valAuroc !== null && (best === null || e.valAuroc > best.valAuroc!)) best = e;
  return best ? { x: best.epoch, label: `best so far: epoch ${best.epoch} (validation AUROC ${formatAuroc(best.valAuroc)}); its weights are kept unless a later epoch beats it` } : null;
}
