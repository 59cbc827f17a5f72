/**
 * The training presets: one table for the CLI's budgets (`reproduce`, `grid`, `ablation`
 * --budget) and the extension's Train Model wizard, so a preset trains the same wherever it is
 * picked. Kept free of tfjs and node imports: the extension bundle imports it.
 */
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
}

/**
 * quick: small enough to run all ten classes of a benchmark on a shared 2-core machine: 1,000
 *   training images per class, 3 epochs at batch 32, lr 1e-3; the official test set whole.
 * standard: 15 epochs at batch 64, lr 1e-3 — the PyTorch reference's budget (shared/bench/README.md).
 * quick and standard train without augmentation, as the reference does.
 * paper: Table 3 — 128 px, 300 epochs, batch 1, lr 1e-4 halved every 50 epochs (~3.6 M generator
 *   updates per class; days of CPU per class, for machines with a GPU), with the §4.2 augmentation.
 */
export const PRESETS: Readonly<Record<PresetName, Preset>> = Object.freeze({
  quick: Object.freeze({ name: 'quick', size: 32, epochs: 3, batch: 32, lr: 1e-3, lrDecayEvery: 50, trainPerClass: 1000, augment: 'none', describe: '1,000 training images per class (seeded subset; whole official test set), 3 epochs, batch 32, lr 1e-3, no augmentation' }),
  standard: Object.freeze({ name: 'standard', size: 32, epochs: 15, batch: 64, lr: 1e-3, lrDecayEvery: 50, trainPerClass: 0, augment: 'none', describe: 'full §4.1 training set, 15 epochs, batch 64, lr 1e-3, no augmentation (the PyTorch reference budget)' }),
  paper: Object.freeze({ name: 'paper', size: 128, epochs: 300, batch: 1, lr: 1e-4, lrDecayEvery: 50, trainPerClass: 0, augment: 'auto', describe: 'Table 3: full §4.1 training set, 300 epochs, batch 1, lr 1e-4 halved every 50 epochs, §4.2 augmentation' }),
});

export function isPresetName(s: string): s is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(s);
}

/** The `train` flags of a preset's settings, bar the size (the caller decides it: see Preset.size). */
export function presetTrainFlags(p: Pick<Preset, 'epochs' | 'batch' | 'lr' | 'lrDecayEvery' | 'augment'>): string[] {
  return ['--epochs', String(p.epochs), '--batch', String(p.batch), '--lr', String(p.lr), '--lr-decay-every', String(p.lrDecayEvery), ...(p.augment === 'none' ? ['--augment', 'none'] : [])];
}
