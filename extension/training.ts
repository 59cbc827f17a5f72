/**
 * Training plumbing without `vscode`: presets, the `train` command line, and turning the trainer's
 * events into progress text. Running the CLI and reading its events is extension/cli-client.ts;
 * extension/commands/train.ts wires these to the UI.
 */
import { formatDuration } from '../shared/format';
import { stopPoint, type ProgressEvent } from '../trainer/progress';
import type { BackendOf } from '../shared/backends';
import { formatEstimate, PRESET_MAX_EPOCHS, PRESETS, PRESET_NAMES, type PresetName as TrainingPresetName } from '../trainer/presets';

export interface TrainSpec {
  data: string;
  normal: string;
  out: string;
  size?: number;
  epochs?: number;
  /** A budget preset (`--preset`): its time budget and early stop instead of a fixed epoch count. */
  trainPreset?: TrainingPresetName;
  batch?: number;
  lr?: number;
  lrDecayEvery?: number;
  /** 'none' → --augment none; 'auto' (the trainer's default) adds nothing. */
  augment?: 'auto' | 'none';
  seed?: number;
  backend?: BackendOf<'train'>;
  resume?: string;
  /** Loss weights (custom preset), e.g. "recon=1.5,patch=1.5" → --weights. */
  weights?: string;
  /** A saved training config file (--config). */
  config?: string;
  extraArgs?: string[];
}

/** The wizard's presets are the CLI's budgets (one table, trainer/presets.ts); 'custom' asks. */
export type PresetName = TrainingPresetName | 'custom';
export { PRESETS, PRESET_NAMES };

/**
 * What picking a preset sets on a run: `--preset NAME` (its time budget, update count and early
 * stop, or the paper's epochs: trainer/presets.ts) and its other training settings, spelled out so
 * the run's command line shows them. No --epochs: that would replace the budget with a fixed count.
 */
export function presetSpec(name: TrainingPresetName): Required<Pick<TrainSpec, 'trainPreset' | 'size' | 'batch' | 'lr' | 'lrDecayEvery' | 'augment'>> {
  const p = PRESETS[name];
  return { trainPreset: name, size: p.size, batch: p.batch, lr: p.lr, lrDecayEvery: p.lrDecayEvery, augment: p.augment };
}

/** The wizard's line for a preset. trainPerClass is left out: only `reproduce` subsets a set. */
export function presetDescription(name: TrainingPresetName): string {
  const p = PRESETS[name];
  const lr = `lr ${p.lr}${p.timeBudgetS === null && p.epochs > p.lrDecayEvery ? ` halved every ${p.lrDecayEvery} epochs` : ''}`;
  const budget = p.timeBudgetS === null ? `${p.epochs} epochs` : `up to ${formatEstimate(p.timeBudgetS).replace('about ', '')}, early stop`;
  return `${p.size} px, ${budget}, batch ${p.batch}, ${lr}, ${p.augment === 'none' ? 'no augmentation' : 'the data family\'s augmentation'}`;
}

export function trainArgs(cli: string, s: TrainSpec): string[] {
  // A resumed run takes everything (data, output, config) from its checkpoint; only --epochs may change.
  if (s.resume) return [cli, 'train', '--resume', s.resume, '--json', ...(s.epochs !== undefined ? ['--epochs', String(s.epochs)] : [])];
  const a = [cli, 'train', '--data', s.data, '--normal', s.normal, '--out', s.out, '--json'];
  if (s.config) a.push('--config', s.config);
  if (s.trainPreset) a.push('--preset', s.trainPreset);
  if (s.size !== undefined) a.push('--size', String(s.size));
  if (s.epochs !== undefined) a.push('--epochs', String(s.epochs));
  if (s.batch !== undefined) a.push('--batch', String(s.batch));
  if (s.lr !== undefined) a.push('--lr', String(s.lr));
  if (s.lrDecayEvery !== undefined) a.push('--lr-decay-every', String(s.lrDecayEvery));
  if (s.augment === 'none') a.push('--augment', 'none');
  if (s.seed !== undefined) a.push('--seed', String(s.seed));
  if (s.backend && s.backend !== 'auto') a.push('--backend', s.backend);
  if (s.weights) a.push('--weights', s.weights);
  if (s.extraArgs) a.push(...s.extraArgs);
  return a;
}

/** A remaining or elapsed time in words (shared/format.ts formatDuration). */
export const formatEta = formatDuration;

/** Overall fraction done (0–1) after an event, given the run's epoch count; null if unchanged. */
export function fractionDone(e: ProgressEvent, epochs: number, startEpoch = 0): number | null {
  const total = Math.max(1, epochs - startEpoch);
  if (e.type === 'step') return Math.min(1, (e.epoch - 1 - startEpoch + e.step / Math.max(1, e.stepsPerEpoch)) / total);
  if (e.type === 'epoch') return Math.min(1, (e.epoch - startEpoch) / total);
  if (e.type === 'done') return 1;
  return null;
}

/**
 * Fraction done of a run under a time budget (a preset run: its epoch count is only a cap): the
 * share of the budget spent, held under 1 until `done` (the early stop may end it sooner).
 */
export function budgetFraction(e: ProgressEvent, budgetSeconds: number, secondsSinceStart: number): number | null {
  if (e.type === 'done') return 1;
  if (e.type !== 'step' && e.type !== 'epoch') return null;
  return Math.min(0.99, Math.max(0, secondsSinceStart / budgetSeconds));
}

/** "epoch 3/15", or "epoch 3" when the epoch count is a preset's cap, not a plan. */
export function epochText(epoch: number, epochs: number): string {
  return epochs < PRESET_MAX_EPOCHS ? `epoch ${epoch}/${epochs}` : `epoch ${epoch}`;
}

export function describeEvent(e: ProgressEvent): string {
  switch (e.type) {
    case 'start':
      return `started on ${e.backend} (${e.backendReason}), ${e.epochs} epochs × ${e.stepsPerEpoch} steps${e.resumedFromEpoch !== undefined ? `, resumed ${stopPoint(e.resumedFromEpoch, e.resumedAtStep)}` : ''}`;
    case 'step':
      return `epoch ${e.epoch} step ${e.step}/${e.stepsPerEpoch}, ${e.imgPerSec.toFixed(1)} img/s${e.etaSec >= 0 ? `, ETA ${formatEta(e.etaSec)}` : ''}`;
    case 'epoch':
      return `${epochText(e.epoch, e.epochs)}: validation AUROC ${e.valAuroc === null ? 'n/a' : e.valAuroc.toFixed(4)}, ${e.imgPerSec.toFixed(1)} img/s, ETA ${formatEta(e.etaSec)}`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'stage':
      return e.message;
    case 'checkpoint':
      return `checkpoint (${e.reason}) ${stopPoint(e.epoch, e.step)}: ${e.path}`;
    case 'done':
      return `done in ${formatEta(e.seconds)}: ${e.out}`;
    case 'early-stop':
      return `early stop: ${e.message}`;
    case 'cancelled':
      return `cancelled ${stopPoint(e.epoch, e.step)}; ${e.model ? `best epoch so far (${e.bestEpoch}) saved as a model: ${e.model}; ` : ''}resumable checkpoint: ${e.checkpoint}`;
    case 'error':
      return `error: ${e.message}`;
  }
}
