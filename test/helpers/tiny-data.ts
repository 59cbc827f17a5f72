/** A tiny training folder from the committed MNIST fixture: fast enough to train many times in one test. */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './cli';

const MNIST_TRAIN = join(ROOT, 'test/fixtures/mnist-small/train');

/** 40 digit-1 images in `good/` (normal) and 8 others (digits 3 and 7) in `defect/` (anomalies). */
export function tinyData(prefix = 'flawscope-tiny-data-'): string {
  const d = join(tempDir(prefix), 'data');
  mkdirSync(join(d, 'good'), { recursive: true });
  mkdirSync(join(d, 'defect'));
  readdirSync(join(MNIST_TRAIN, '1')).slice(0, 40).forEach((f) => cpSync(join(MNIST_TRAIN, '1', f), join(d, 'good', f)));
  for (const k of ['3', '7']) readdirSync(join(MNIST_TRAIN, k)).slice(0, 4).forEach((f) => cpSync(join(MNIST_TRAIN, k, f), join(d, 'defect', `${k}-${f}`)));
  return d;
}
