/**
 * The benchmark sets `reproduce` knows, where their data lives on this kind of machine, the reader
 * flags of the §4.1 protocol, and the training budgets (quick | standard | paper).
 */
import { InputError } from '../errors';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { CLASS_NAMES, type BenchDataset } from './paper';
import { PRESETS, PRESET_NAMES, type Preset, type PresetName } from '../presets';

export const BENCH_DATASETS: readonly BenchDataset[] = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'magnetic-tile'];
/** The CLI's budgets are the shared training presets (trainer/presets.ts), the extension's too. */
export const BUDGETS = PRESET_NAMES;
export type BudgetName = PresetName;
export type Budget = Preset;

export function budget(name: BudgetName): Budget {
  return PRESETS[name];
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

export class BenchDataError extends InputError {
  constructor(m: string) { super(m); }
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
