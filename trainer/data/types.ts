/**
 * The one dataset interface every reader (folder, masks, MVTec AD, IDX, CIFAR) produces and the
 * trainer consumes. Pixels stay uint8 (NHWC, already resized to the model size and converted to
 * the model's channel count) until a batch is drawn: 4x smaller than float32 and cheap to stream.
 */
import type { Preprocess } from '../../scorer/model-format';
import type { TrainingImages } from '../../scorer/familiarity';
import type { AugmentConfig } from './augment';

/** A random-access set of equally sized images; big sets read from disk on demand. */
export interface ImageSet {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  /** NHWC uint8 pixels of the given images, in the given order. */
  readBatch(indices: ArrayLike<number>): Promise<Uint8Array>;
  /** Free file handles / caches, if any. */
  close?(): Promise<void>;
  /** Reads so far, on a set whose reads draw random numbers (augmentation): checkpoints save it
   * and a resume sets it back, so the resumed training draws the same numbers. */
  readsDone?: number;
}

/** An image set whose items carry a label: 0 = normal, 1 = anomaly (for AUROC). */
export interface LabeledSet {
  images: ImageSet;
  isAnomaly: Uint8Array;
  /** Class or defect-type name per item (for per-class reports). */
  className?: string[];
  /** Source path (or `file#index`) per item, for reports and error messages. */
  source?: string[];
  /** Pixel masks (same size as the images, 1 channel, 0/255), where the format has them. */
  masks?: ImageSet;
}

export interface DatasetSummary {
  root: string;
  layout: string;
  normalClass: string;
  classes: { name: string; count: number; anomaly: boolean }[];
  skipped: { path: string; reason: string }[];
  warnings: string[];
  counts: { trainNormal: number; trainAnomaly: number; validation: number; test: number };
  /** Training-time augmentation applied to `normal`/`anomaly` (added by the data issue). */
  augmentation?: { family: string } & AugmentConfig;
}

/** What the trainer trains on. `anomaly` is null when the data has no labelled anomalies. */
export interface TrainingData {
  normal: ImageSet;
  anomaly: ImageSet | null;
  validation: LabeledSet;
  test: LabeledSet | null;
  summary: DatasetSummary;
  /**
   * How images became model inputs, recorded in flawscope.json so the scorer feeds new images
   * the same way: patches cut from large images → { mode: 'tile', scale: modelSize / patchSize };
   * whole images resized (the default when absent) → { mode: 'resize', scale: 1 }.
   */
  preprocess?: Preprocess;
  /** What the normal training images were like (flawscope.json `trainingImages`, scorer/familiarity.ts). */
  imageStats?: TrainingImages;
}

export interface LoadOptions {
  root: string;
  /** Normal class name; detected from good/normal/ok/free when absent. */
  normalClass?: string;
  size: number;
  channels?: 1 | 3;
  seed: number;
  /** Fraction of the training data held out for validation (default 0.1). */
  validationFraction?: number;
  /** Extra reader options (protocol, patches, sampling, augmentation...). */
  [key: string]: unknown;
}

/** Why a file or folder could not be read, in words ("permission denied (EACCES)"), for messages
 * that must say what is wrong rather than a generic "unsupported" or a raw stack. */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  const words: Record<string, string> = { EACCES: 'permission denied', EPERM: 'operation not permitted', ENOENT: 'no such file or folder', EISDIR: 'a folder, not a file', ENOTDIR: 'not a folder', ELOOP: 'too many symlinks', EIO: 'input/output error' };
  if (code && words[code]) return `${words[code]} (${code})`;
  return (err as Error)?.message?.split('\n')[0] ?? String(err);
}

export { InputError } from '../errors';
