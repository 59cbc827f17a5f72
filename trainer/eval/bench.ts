/**
 * The benchmark sets `reproduce` knows, where their data lives on this kind of machine, the reader
 * flags of the §4.1 protocol, and the training budgets (quick | standard | paper).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { CLASS_NAMES, type BenchDataset } from './paper';

export const BENCH_DATASETS: readonly BenchDataset[] = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'magnetic-tile'];
export const BUDGETS = ['quick', 'standard', 'paper'] as const;
export type BudgetName = (typeof BUDGETS)[number];

export interface Budget {
  name: BudgetName;
  epochs: number;
  batch: number;
  lr: number;
  lrDecayEvery: number;
  /** Training images kept per class (a seeded subset; the test split stays whole); 0 = all. */
  trainPerClass: number;
  /**
   * 'auto': the data family's §4.2 augmentation (trainer/data/augment.ts); 'none': none, like the
   * PyTorch reference. Measured at the standard budget on Fashion-MNIST shirt: 81.6 % with the
   * §4.2 flips, quarter turns and crops, 89.0 % without (docs/results/README.md) — at 15 epochs the
   * generator spends itself on orientations the test set never shows.
   */
  augment: 'auto' | 'none';
  /** Human description for the reports. */
  describe: string;
}

/**
 * quick: small enough to run all ten classes here (2 cores shared by six people): 1,000 training
 *   images per class (so ~900 normal + ~900 labelled anomalies after the validation hold-out),
 *   3 epochs at batch 32, lr 1e-3; the official test set whole.
 * standard: 15 epochs at batch 64, lr 1e-3 — the PyTorch reference's budget (shared/bench/README.md).
 * quick and standard train without augmentation, as the reference does.
 * paper: Table 3 — 300 epochs, batch 1, lr 1e-4 halved every 50 epochs (~3.6 M generator updates
 *   per class; days of CPU per class, listed for completeness and for machines with a GPU), with
 *   the §4.2 augmentation.
 */
export function budget(name: BudgetName): Budget {
  switch (name) {
    case 'quick':
      return { name, epochs: 3, batch: 32, lr: 1e-3, lrDecayEvery: 50, trainPerClass: 1000, augment: 'none', describe: '1,000 training images per class (seeded subset; whole official test set), 3 epochs, batch 32, lr 1e-3, no augmentation' };
    case 'standard':
      return { name, epochs: 15, batch: 64, lr: 1e-3, lrDecayEvery: 50, trainPerClass: 0, augment: 'none', describe: 'full §4.1 training set, 15 epochs, batch 64, lr 1e-3, no augmentation (the PyTorch reference budget)' };
    case 'paper':
      return { name, epochs: 300, batch: 1, lr: 1e-4, lrDecayEvery: 50, trainPerClass: 0, augment: 'auto', describe: 'Table 3: full §4.1 training set, 300 epochs, batch 1, lr 1e-4 halved every 50 epochs, §4.2 augmentation' };
  }
}

export interface BenchSpec {
  dataset: BenchDataset;
  /** Data folder the reader is pointed at. */
  data: string;
  /** Class ids as the reader names them, in class-id order. */
  classes: string[];
  /** Extra `train` flags (reader options) for the protocol. */
  flags: string[];
  size: number;
}

/** Where the shared data is: $FLAWSCOPE_SHARED_DATA, else ../shared/data beside the repository. */
export function sharedDataDir(): string {
  if (process.env.FLAWSCOPE_SHARED_DATA) return process.env.FLAWSCOPE_SHARED_DATA;
  for (const c of [resolve(process.cwd(), '../shared/data'), resolve(process.cwd(), '../../shared/data'), '/work/shared/data']) if (existsSync(c)) return c;
  return resolve(process.cwd(), '../shared/data');
}

/** Unpacks a shared archive once into `cacheDir/name` (idempotent; atomic rename); `check` names a path that must exist inside. */
export function unpackArchive(cacheDir: string, archive: string, name: string, check: string): string {
  const dest = join(cacheDir, name);
  if (existsSync(join(dest, check))) return dest;
  if (!existsSync(archive)) throw new BenchDataError(`${archive} not found; pass --data DIR with the unpacked data`);
  const tmp = `${dest}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const r = spawnSync('tar', ['-xzf', archive, '-C', tmp], { encoding: 'utf8' });
  if (r.status !== 0) { rmSync(tmp, { recursive: true, force: true }); throw new BenchDataError(`tar -xzf ${archive} failed: ${r.stderr}`); }
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  return dest;
}

export function unpackCifar10(cacheDir: string): string {
  return unpackArchive(cacheDir, join(sharedDataDir(), 'cifar10/cifar10-jpg.tar.gz'), 'cifar10-jpg', 'test');
}

/** Where unpacked archives and reduced copies go: $FLAWSCOPE_CACHE or the system temp folder. */
export function defaultCacheDir(): string {
  return process.env.FLAWSCOPE_CACHE ?? join(os.tmpdir(), 'flawscope-bench-cache');
}

export class BenchDataError extends Error {
  constructor(m: string) { super(m); this.name = 'InputError'; }
}

/** Resolves a dataset's data folder and protocol flags; `data` overrides the default location. */
export function benchSpec(dataset: BenchDataset, data: string | undefined, cacheDir: string): BenchSpec {
  const shared = sharedDataDir();
  const ovr = ['--protocol', 'one-vs-rest'];
  switch (dataset) {
    case 'mnist': {
      const d = data ?? join(shared, 'mnist');
      if (!existsSync(d)) throw new BenchDataError(`MNIST: ${d} not found; pass --data DIR with the four IDX files`);
      return { dataset, data: d, classes: CLASS_NAMES.mnist!, flags: ovr, size: 32 };
    }
    case 'fashion-mnist': {
      const d = data ?? '/usr/share/datasets/fashion-mnist';
      if (!existsSync(d)) throw new BenchDataError(`Fashion-MNIST: ${d} not found; apt-get install dataset-fashion-mnist, or pass --data DIR with the four IDX files`);
      return { dataset, data: d, classes: CLASS_NAMES.mnist!, flags: ovr, size: 32 };
    }
    case 'cifar10': {
      const d = data ?? unpackCifar10(cacheDir);
      if (!existsSync(d)) throw new BenchDataError(`CIFAR-10: ${d} not found`);
      return { dataset, data: d, classes: CLASS_NAMES.cifar10!, flags: ovr, size: 32 };
    }
    case 'cifar100': {
      if (!data) throw new BenchDataError('CIFAR-100: no copy of the data exists on this machine; the binary format (train.bin, test.bin; 20 coarse superclasses) is supported: pass --data DIR');
      if (!existsSync(data)) throw new BenchDataError(`CIFAR-100: --data ${data} not found`);
      return { dataset, data, classes: Array.from({ length: 20 }, (_, i) => String(i)), flags: [...ovr, '--format', 'cifar'], size: 32 };
    }
    case 'magnetic-tile': {
      // §4.1 for defect photos: patches cut by mask (64 px, stride 32, resized to 32 px like the
      // PyTorch patch reference), anomaly when over 2% of a patch is defect, split by source image.
      const d = data ?? unpackArchive(cacheDir, join(shared, 'magnetic-tile/magnetic-tile.tar.gz'), 'magnetic-tile', 'MT_Free');
      if (!existsSync(d)) throw new BenchDataError(`magnetic-tile: ${d} not found`);
      return { dataset, data: d, classes: ['MT_Free'], flags: ['--protocol', 'defect', '--format', 'masks', '--patch-size', '64', '--patch-stride', '32', '--mask-fraction', '0.02'], size: 32 };
    }
  }
}

/** `--classes 0,2,bird` → reader class names (ids index the class list; names pass through). */
export function parseClasses(raw: string | undefined, spec: BenchSpec): string[] {
  if (!raw) return spec.classes;
  const names = CLASS_NAMES[spec.dataset];
  return raw.split(',').map((t) => {
    const s = t.trim();
    if (/^\d+$/.test(s) && Number(s) < spec.classes.length) return spec.classes[Number(s)];
    const byName = names?.findIndex((n) => n.toLowerCase() === s.toLowerCase()) ?? -1;
    if (byName >= 0) return spec.classes[byName];
    if (spec.classes.includes(s)) return s;
    throw new BenchDataError(`--classes: unknown class "${s}" for ${spec.dataset}; use ids 0..${spec.classes.length - 1}${names ? ` or names (${names.join(', ')})` : ''}`);
  });
}

/** The class id (position) of a reader class name, for tables. */
export function classId(spec: BenchSpec, cls: string): string {
  const i = spec.classes.indexOf(cls);
  return i >= 0 ? String(i) : cls;
}

export function listDirSafe(d: string): string[] {
  try { return readdirSync(d); } catch { return []; }
}
