/**
 * CIFAR binary reader. CIFAR-10: data_batch_1..5.bin + test_batch.bin, records of 1 label byte +
 * 3072 pixel bytes. CIFAR-100: train.bin + test.bin, records of coarse label + fine label + 3072
 * bytes; we use the coarse label (the 20 superclasses), as the paper's protocol does. Pixels are
 * planar (1024 R, 1024 G, 1024 B), 32x32.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Catalog, CatalogItem } from './catalog';
import { decodeRecords, type RecordSource } from './records';
import { InputError } from './types';

const PIXELS = 32 * 32 * 3;

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR100_SUPERCLASSES = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables', 'household_electrical_devices',
  'household_furniture', 'insects', 'large_carnivores', 'large_man-made_outdoor_things', 'large_natural_outdoor_scenes',
  'large_omnivores_and_herbivores', 'medium_mammals', 'non-insect_invertebrates', 'people', 'reptiles', 'small_mammals',
  'trees', 'vehicles_1', 'vehicles_2',
];

const C10_RE = /^(data_batch_\d+|test_batch)\.bin$/;
const C100_RE = /^(train|test)\.bin$/;

/** Where the .bin files are: ROOT or one of the usual sub-folders the archives unpack into. */
export async function findCifarDir(root: string): Promise<{ dir: string; kind: 'cifar10' | 'cifar100' } | null> {
  for (const d of [root, path.join(root, 'cifar-10-batches-bin'), path.join(root, 'cifar-100-binary')]) {
    const names = await fs.readdir(d).catch(() => [] as string[]);
    if (names.some((n) => C10_RE.test(n))) return { dir: d, kind: 'cifar10' };
    if (names.some((n) => C100_RE.test(n))) return { dir: d, kind: 'cifar100' };
  }
  return null;
}

/** Class names from the meta file shipped with the archive, else the published lists. */
async function classNames(dir: string, kind: 'cifar10' | 'cifar100'): Promise<string[]> {
  const file = path.join(dir, kind === 'cifar10' ? 'batches.meta.txt' : 'coarse_label_names.txt');
  const fallback = kind === 'cifar10' ? CIFAR10_CLASSES : CIFAR100_SUPERCLASSES;
  try {
    const names = (await fs.readFile(file, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    return names.length === fallback.length ? names : fallback;
  } catch {
    return fallback;
  }
}

export async function readCifar(root: string): Promise<Catalog> {
  const found = await findCifarDir(root);
  if (!found) throw new InputError(`${root}: no CIFAR binary files (data_batch_N.bin/test_batch.bin or train.bin/test.bin).`);
  const { dir, kind } = found;
  const names = await classNames(dir, kind);
  const labelBytes = kind === 'cifar10' ? 1 : 2;
  const recordSize = labelBytes + PIXELS;
  const files = (await fs.readdir(dir)).filter((n) => (kind === 'cifar10' ? C10_RE : C100_RE).test(n)).sort(naturalCompare);
  const buffers = new Map<string, Buffer>();
  const items: CatalogItem[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    const buf = await fs.readFile(file);
    if (buf.length === 0 || buf.length % recordSize !== 0) {
      throw new InputError(
        `${file}: ${buf.length} bytes is not a whole number of ${recordSize}-byte ${kind === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} records ` +
          `(${Math.floor(buf.length / recordSize)} records + ${buf.length % recordSize} bytes). The file is cut short or is not this format; download it again.`,
      );
    }
    buffers.set(file, buf);
    const split: 'train' | 'test' = name.startsWith('test') ? 'test' : 'train';
    const n = buf.length / recordSize;
    for (let i = 0; i < n; i++) {
      const label = buf[i * recordSize]; // CIFAR-100: the first label byte is the coarse one
      if (label >= names.length) {
        throw new InputError(`${file}: record ${i} has label ${label}, but ${kind} has ${names.length} classes; the file is not ${kind} binary.`);
      }
      items.push({ className: names[label], source: `${file}#${i}`, split, record: i });
    }
  }
  const src: RecordSource = {
    width: 32,
    height: 32,
    channels: 3,
    read(file, record, out) {
      const buf = buffers.get(file)!;
      const off = record * recordSize + labelBytes;
      for (let p = 0; p < 1024; p++) {
        out[p * 3] = buf[off + p];
        out[p * 3 + 1] = buf[off + 1024 + p];
        out[p * 3 + 2] = buf[off + 2048 + p];
      }
    },
  };
  return {
    layout: kind,
    root,
    items,
    classNames: names,
    skipped: [],
    warnings: [],
    ignoredFiles: 0,
    recordShape: { width: 32, height: 32, channels: 3 },
    decode: async (its, req) => decodeRecords(src, its, req),
  };
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
