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
import { z } from 'zod';
import { InputError } from './data/types';

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

/** `extra` writes further files into the checkpoint's temp folder before it is renamed into place (the defects preset's frozen generator). */
export async function writeCheckpoint(dir: string, state: CheckpointState, tensors: NamedTensor[], extra?: (tmp: string) => Promise<void>): Promise<void> {
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
    await extra?.(tmp);
  }, { force: true });
}

/**
 * A checkpoint is read like a model folder: every field is checked before anything is built from
 * it, so a damaged or hand-edited checkpoint is refused with the file and field named (exit 2)
 * instead of crashing mid-restore or, worse, resuming from a nonsense state. `config` is only
 * checked to be an object here: train.ts validates what it means.
 */
const num = (what: string) => z.number({ invalid_type_error: `expected ${what}`, required_error: `missing; expected ${what}` }).finite({ message: `expected ${what}` });
const int = (min: number, max: number, what: string) => num(what).int({ message: `expected ${what}` }).min(min, { message: `expected ${what}` }).max(max, { message: `expected ${what}` });
const COUNT = 'an integer ≥ 0';
const count = () => int(0, Number.MAX_SAFE_INTEGER, COUNT);

const StateSchema = z.object({
  version: z.number(),
  epoch: count(),
  step: count().optional(),
  partial: z.object({
    sums: z.record(num('a number')),
    counts: z.record(count()),
    imgs: count(),
    seconds: num('a number ≥ 0').min(0, { message: 'expected a number ≥ 0' }),
  }, { invalid_type_error: 'expected an object {sums, counts, imgs, seconds}' }).optional(),
  cursors: z.record(z.object({ pos: count(), readsDone: count().optional() }, { invalid_type_error: 'expected an object {pos, readsDone}' }), { invalid_type_error: 'expected an object of batch cursors' }).optional(),
  rngState: int(0, 2 ** 32 - 1, 'an integer 0..2^32-1'),
  bestValAuroc: num('a number 0..1 or null').min(0, { message: 'expected a number 0..1 or null' }).max(1, { message: 'expected a number 0..1 or null' }).nullable(),
  bestEpoch: count(),
  history: z.array(z.unknown(), { invalid_type_error: 'expected an array', required_error: 'missing; expected an array' }),
  config: z.record(z.unknown(), { invalid_type_error: 'expected an object (the training config)', required_error: 'missing; expected an object (the training config)' }),
  elapsedSeconds: num('a number ≥ 0').min(0, { message: 'expected a number ≥ 0' }),
}, { invalid_type_error: 'expected a JSON object' }).passthrough().superRefine((s, ctx) => {
  if (s.bestEpoch > s.epoch) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bestEpoch'], message: `expected at most "epoch" (${s.epoch}): the best epoch is one that was done` });
});

const DTYPE_BYTES = { float32: 4, int32: 4 } as const;

const ManifestSchema = z.array(z.object({
  name: z.string({ invalid_type_error: 'expected a tensor name', required_error: 'missing; expected a tensor name' }).min(1, { message: 'expected a tensor name' }),
  shape: z.array(count(), { invalid_type_error: 'expected an array of integers ≥ 0', required_error: 'missing; expected an array of integers ≥ 0' }),
  dtype: z.enum(['float32', 'int32'], { errorMap: () => ({ message: 'expected "float32" or "int32"' }) }),
  offset: count(),
  length: count(),
}, { invalid_type_error: 'expected an object {name, shape, dtype, offset, length}' }), { invalid_type_error: 'expected an array of tensor entries' }).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((m, i) => {
    const want = m.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[m.dtype];
    if (want !== m.length) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'length'], message: `${m.length} bytes, but shape [${m.shape.join(', ')}] of ${m.dtype} needs ${want}` });
    if (seen.has(m.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'name'], message: `"${m.name}" appears twice` });
    seen.add(m.name);
  });
});

/** `beforeTensors` runs once the files are validated and before any tensor is made (e.g. to pick the backend the tensors belong to). */
export async function readCheckpoint(dir: string, beforeTensors?: (state: CheckpointState) => Promise<unknown>): Promise<{ state: CheckpointState; tensors: Map<string, tf.Tensor> }> {
  const where = `--resume ${dir}`;
  const bad = (msg: string) => new InputError(`${where}: ${msg}; the checkpoint is damaged — start a new training (or resume from an intact copy)`);
  for (const f of ['state.json', 'tensors.json', 'tensors.bin'])
    if (!existsSync(join(dir, f))) throw new InputError(`${where}: not a Flawscope checkpoint (missing ${f})`);
  const read = async (f: string) => {
    try {
      return await fs.readFile(join(dir, f));
    } catch (e) {
      throw new InputError(`${where}: cannot read ${join(dir, f)}: ${readReason(e)}`);
    }
  };
  const json = async (f: string) => {
    try {
      return JSON.parse((await read(f)).toString('utf8'));
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`${where}: checkpoint files are corrupt (${f}: ${(e as Error).message})`);
    }
  };
  const rawState = await json('state.json');
  const rawManifest = await json('tensors.json');
  // The version first: a newer Flawscope's checkpoint may well fail the checks below, and "update
  // Flawscope" is the useful answer then.
  if (!rawState || typeof rawState !== 'object' || Array.isArray(rawState)) throw bad('state.json: expected a JSON object');
  const version = (rawState as { version?: unknown }).version;
  if (typeof version !== 'number') throw bad(`state.json field "version": expected ${READABLE_VERSIONS.join(' or ')}`);
  if (!READABLE_VERSIONS.includes(version)) throw new InputError(`${where}: checkpoint version ${version} is not supported (this Flawscope reads versions ${READABLE_VERSIONS.join(' and ')}: a newer Flawscope wrote it — update Flawscope, or start a new training)`);
  const st = StateSchema.safeParse(rawState);
  if (!st.success) throw bad(`state.json${issueText(st.error.issues[0])}`);
  const mf = ManifestSchema.safeParse(rawManifest);
  if (!mf.success) {
    const issue = mf.error.issues[0];
    const [i, ...rest] = issue.path;
    const name = typeof i === 'number' ? (rawManifest as { name?: unknown }[])[i]?.name : undefined;
    throw bad(typeof i === 'number' ? `tensors.json entry ${i}${typeof name === 'string' ? ` ("${name}")` : ''}${issueText({ ...issue, path: rest })}` : `tensors.json${issueText(issue)}`);
  }
  const bin = await read('tensors.bin');
  await beforeTensors?.(st.data as CheckpointState);
  const tensors = new Map<string, tf.Tensor>();
  for (const m of mf.data) {
    if (m.offset + m.length > bin.length) {
      tensors.forEach((t) => t.dispose());
      throw new InputError(`${where}: tensors.bin is cut short (tensor ${m.name} needs bytes ${m.offset}..${m.offset + m.length}, the file has ${bin.length})`);
    }
    const copy = new Uint8Array(bin.subarray(m.offset, m.offset + m.length)).buffer;
    const arr = m.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    tensors.set(m.name, tf.tensor(arr, m.shape, m.dtype));
  }
  return { state: st.data as CheckpointState, tensors };
}

function issueText(issue: z.ZodIssue): string {
  const field = issue.path.join('.');
  return field ? ` field "${field}": ${issue.message}` : `: ${issue.message}`;
}

function readReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EACCES' || code === 'EPERM' ? `permission denied (${code}); make it readable` : code === 'EISDIR' ? 'a folder, not a file' : (e as Error).message;
}
