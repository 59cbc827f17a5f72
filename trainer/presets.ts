/**
 * The training presets: one table for `flawscope train --preset`, the CLI's benchmark budgets
 * (`reproduce`, `grid`, `ablation` --budget) and the extension's Train Model wizard, so a preset
 * trains the same wherever it is picked. Kept free of tfjs and node imports: the extension bundle
 * imports it.
 *
 * For `train` a preset is a time budget and an update count, not an epoch count: an epoch of 150
 * images is 5 updates and an epoch of 50,000 is 800, so a fixed number of epochs is far too little
 * for one dataset and far too much for another. The trainer runs at least `minUpdates` generator
 * updates, stops early once validation AUROC has not improved for `patience` updates, and stops at
 * `timeBudgetS` whatever happens (trainer/train.ts, "stopping rule"). `epochs` is only a cap for
 * `train`; the benchmark budgets of `reproduce` keep training exactly `epochs` epochs so that their
 * committed figures stay comparable.
 */
import type { AnomalyShareSetting } from './group-schedule';

export const PRESET_NAMES = ['quick', 'standard', 'paper'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  readonly name: PresetName;
  /**
   * Model input size for data that has no size of its own (the extension's datasets). The
   * benchmark sets of `reproduce` keep their §4.1 protocol size (32 px) whatever the preset.
   */
  readonly size: number;
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  /** Halve the learning rate every this many epochs. */
  readonly lrDecayEvery: number;
  /**
   * Training images kept per class (a seeded subset; the test split stays whole); 0 = all.
   * Only `reproduce` can honour it: it makes the reduced copy of a benchmark set. A dataset of
   * one's own is trained whole.
   */
  readonly trainPerClass: number;
  /**
   * 'auto': the data family's §4.2 augmentation (trainer/data/augment.ts); 'none': none, like the
   * PyTorch reference. Measured at the standard budget on Fashion-MNIST shirt: 81.6 % with the
   * §4.2 flips, quarter turns and crops, 89.0 % without (docs/results/README.md) — at 15 epochs the
   * generator spends itself on orientations the test set never shows.
   */
  readonly augment: 'auto' | 'none';
  /** Human description for the reports and the CLI help. */
  readonly describe: string;
  /** `train`: seconds of training (first update to last validation) after which it stops; null = no limit. */
  readonly timeBudgetS: number | null;
  /** `train`: generator updates run before an early stop may end the training. */
  readonly minUpdates: number;
  /** `train`: stop once this many updates have passed without a better validation AUROC; null = never early. */
  readonly patience: number | null;
  /**
   * `train`: the share of steps on anomaly batches (trainer/group-schedule.ts). 'size': in
   * proportion to the image counts (the paper's sampler). 0.5: half the steps each, so a class
   * folder with nine anomaly classes per normal one does not leave the normal images one update in ten.
   */
  readonly anomalyShare: AnomalyShareSetting;
}

/**
 * quick: for `train`, 90 s of training with at least 600 updates at batch 32 and a patience of
 *   300 updates (on MNIST digits, 150 images a class, validation AUROC settles within 300–500
 *   balanced updates: docs/results/README.md, "Verdicts"). As a benchmark budget: small enough to
 *   run all ten classes on a shared 2-core machine: 1,000 training images per class, 3 epochs at
 *   batch 32, lr 1e-3; the official test set whole.
 * standard: for `train`, 15 minutes, at least 3,000 updates, patience 1,500. As a benchmark budget:
 *   15 epochs at batch 64, lr 1e-3 — the PyTorch reference's budget (shared/bench/README.md).
 * quick and standard train without augmentation, as the reference does.
 * paper: Table 3 — 128 px, 300 epochs, batch 1, lr 1e-4 halved every 50 epochs (~3.6 M generator
 *   updates per class; days of CPU per class, for machines with a GPU), with the §4.2 augmentation.
 *   It keeps the paper's epochs and sampler: no time budget, no early stop.
 */
export const PRESETS: Readonly<Record<PresetName, Preset>> = Object.freeze({
  quick: Object.freeze({ name: 'quick', size: 32, epochs: 3, batch: 32, lr: 1e-3, lrDecayEvery: 50, trainPerClass: 1000, augment: 'none', describe: '1,000 training images per class (seeded subset; whole official test set), 3 epochs, batch 32, lr 1e-3, no augmentation', timeBudgetS: 90, minUpdates: 600, patience: 300, anomalyShare: 0.5 }),
  standard: Object.freeze({ name: 'standard', size: 32, epochs: 15, batch: 64, lr: 1e-3, lrDecayEvery: 50, trainPerClass: 0, augment: 'none', describe: 'full §4.1 training set, 15 epochs, batch 64, lr 1e-3, no augmentation (the PyTorch reference budget)', timeBudgetS: 15 * 60, minUpdates: 3000, patience: 1500, anomalyShare: 0.5 }),
  paper: Object.freeze({ name: 'paper', size: 128, epochs: 300, batch: 1, lr: 1e-4, lrDecayEvery: 50, trainPerClass: 0, augment: 'auto', describe: 'Table 3: full §4.1 training set, 300 epochs, batch 1, lr 1e-4 halved every 50 epochs, §4.2 augmentation', timeBudgetS: null, minUpdates: 0, patience: null, anomalyShare: 'size' }),
});

export function isPresetName(s: string): s is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(s);
}

/** The `train` flags of a preset's settings, bar the size (the caller decides it: see Preset.size). */
export function presetTrainFlags(p: Pick<Preset, 'epochs' | 'batch' | 'lr' | 'lrDecayEvery' | 'augment'>): string[] {
  return ['--epochs', String(p.epochs), '--batch', String(p.batch), '--lr', String(p.lr), '--lr-decay-every', String(p.lrDecayEvery), ...(p.augment === 'none' ? ['--augment', 'none'] : [])];
}

/** `train --preset` (and no budget flag at all, which is quick): the most epochs a budget preset runs; its time budget and patience normally end it first. */
export const PRESET_MAX_EPOCHS = 100_000;

/** What a preset sets on a `train` run (the caller's flags override each). */
export function presetTrainSettings(p: Preset) {
  return {
    size: p.size, batch: p.batch, lr: p.lr, lrDecayEvery: p.lrDecayEvery,
    epochs: p.timeBudgetS === null && p.patience === null ? p.epochs : PRESET_MAX_EPOCHS,
    timeBudget: p.timeBudgetS, minUpdates: p.minUpdates, patience: p.patience, anomalyShare: p.anomalyShare,
  };
}

/**
 * Training speed the estimate assumes: images a second of the whole GAN step at 32x32, batch 32,
 * on the 2-core host (docs/results/README.md "Speed": 500–700 img/s quiet; the lower end, since
 * the machine is usually shared). Larger images cost in proportion to their pixels.
 */
export const ESTIMATE_IMG_PER_SEC_32 = 450;
/** Below batch 32 the per-step overhead dominates: at batch 1 a step costs about as much as a batch of this many. */
const SMALL_BATCH_STEP_COST = 8;

/**
 * The training time a preset will take on a dataset, in seconds: for a budget preset the time its
 * update rule needs (minimum updates plus one patience window), never more than its time budget;
 * for the paper's epoch budget, its epochs over the training images. An estimate for the wizard's
 * confirmation, from the measured speed above: a busy machine or colour photos take longer.
 */
export function estimateTrainSeconds(p: Pick<Preset, 'size' | 'batch' | 'epochs' | 'timeBudgetS' | 'minUpdates' | 'patience'>, trainImages: number, imgPerSec32 = ESTIMATE_IMG_PER_SEC_32): number {
  const pixels = (p.size / 32) ** 2;
  const stepSeconds = (Math.max(p.batch, SMALL_BATCH_STEP_COST) * pixels) / imgPerSec32;
  const byEpochs = p.epochs * Math.max(1, Math.floor(trainImages / p.batch)) * stepSeconds;
  if (p.timeBudgetS === null && p.patience === null) return byEpochs;
  const updates = p.minUpdates + (p.patience ?? 0);
  return Math.min(p.timeBudgetS ?? Infinity, updates * stepSeconds);
}

/** An expected duration, rounded as estimates should be: "about 40 s", "about 12 min", "about 3.5 h", "about 9 days". */
export function formatEstimate(seconds: number): string {
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `about ${+(seconds / 3600).toFixed(1)} h`;
  return `about ${Math.round(seconds / 86400)} days`;
}

/** The wizard asks before starting a training expected to take longer than this. */
export const CONFIRM_ABOVE_S = 15 * 60;
