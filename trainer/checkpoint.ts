/**
 * Resumable training state: every weight and optimiser slot (weights.bin + a manifest) and the
 * loop's own state (state.json). Written atomically after each epoch and on SIGINT/SIGTERM.
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { writeFolderAtomically } from './fs-safe';
import type { CursorState } from './batches';

/** 2: the batch order and the step within the epoch are saved too (exact resume). 1 is still read. */
export const CHECKPOINT_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

export interface CheckpointState {
  version: number;
  /** Epochs fully done. */
  epoch: number;
  /** Steps done in the next epoch (a stop mid-epoch), 0 at an epoch's end. Version 2. */
  step?: number;
  /** That epoch's loss sums and counts, images and seconds so far, when step > 0. */
  partial?: { sums: Record<string, number>; counts: Record<string, number>; imgs: number; seconds: number };
  /** Each group's batch cursor (its permutation is the tensor `cursor/<group>`). Version 2. */
  cursors?: Record<string, CursorState>;
  rngState: number;
  bestValAuroc: number | null;
  bestEpoch: number;
  history: unknown[];
  /** Everything needed to rebuild the run: the resolved train config. */
  config: Record<string, unknown>;
  elapsedSeconds: number;
}

interface Manifest { name: string; shape: number[]; dtype: string; offset: number; length: number }

export async function writeCheckpoint(dir: string, state: CheckpointState, tensors: NamedTensor[]): Promise<void> {
  const manifest: Manifest[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const { name, tensor } of tensors) {
    const data = await tensor.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    manifest.push({ name, shape: tensor.shape, dtype: tensor.dtype, offset, length: bytes.length });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const all = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) { all.set(c, o); o += c.length; }
  await writeFolderAtomically(dir, async (tmp) => {
    await fs.writeFile(join(tmp, 'tensors.bin'), all);
    await fs.writeFile(join(tmp, 'tensors.json'), JSON.stringify(manifest));
    await fs.writeFile(join(tmp, 'state.json'), JSON.stringify(state, null, 1));
  }, { force: true });
}

export async function readCheckpoint(dir: string): Promise<{ state: CheckpointState; tensors: Map<string, tf.Tensor> }> {
  for (const f of ['state.json', 'tensors.json', 'tensors.bin'])
    if (!existsSync(join(dir, f))) throw new Error(`--resume ${dir}: not a Flawscope checkpoint (missing ${f})`);
  let state: CheckpointState;
  let manifest: Manifest[];
  try {
    state = JSON.parse(await fs.readFile(join(dir, 'state.json'), 'utf8'));
    manifest = JSON.parse(await fs.readFile(join(dir, 'tensors.json'), 'utf8'));
  } catch (e) {
    throw new Error(`--resume ${dir}: checkpoint files are corrupt (${(e as Error).message})`);
  }
  if (!READABLE_VERSIONS.includes(state.version)) throw new Error(`--resume ${dir}: checkpoint version ${state.version} is not supported (this Flawscope reads versions ${READABLE_VERSIONS.join(' and ')}: a newer Flawscope wrote it — update Flawscope, or start a new training)`);
  const bin = await fs.readFile(join(dir, 'tensors.bin'));
  const tensors = new Map<string, tf.Tensor>();
  for (const m of manifest) {
    if (m.offset + m.length > bin.length) throw new Error(`--resume ${dir}: tensors.bin is cut short (tensor ${m.name})`);
    const bytes = bin.subarray(m.offset, m.offset + m.length);
    const copy = new Uint8Array(bytes).buffer;
    const arr = m.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    tensors.set(m.name, tf.tensor(arr, m.shape, m.dtype as 'float32' | 'int32'));
  }
  return { state, tensors };
}
