/**
 * The defects preset's stage-2 checkpoint, OUT.checkpoint: the GAN checkpoint's files and checks
 * (trainer/checkpoint.ts: tensors.bin + tensors.json + state.json, written atomically, every field
 * validated before a tensor is made), with the map's own state under state.json "defectMap" and
 * the frozen generator (stage 1's model folder) in generator/. Tensors: the map's weights
 * (map/i), Adam's slots (adam/i, in getWeights order: the step count, then first and second
 * moments), the best epoch's weights (best/i) and the sampler's two tile orders (sampler/*).
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { z } from 'zod';
import { INFO_FILE, MODEL_FILE } from '../../scorer/model-format';
import { CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint, type CheckpointState } from '../checkpoint';
import { InputError } from '../errors';
import { writeFolderAtomically } from '../fs-safe';
import { WEIGHTS_FILE } from '../model-folder';
import { savedConfig } from '../train-config';
import type { DefectsConfig } from './train-map';
import { MAP_ARCHITECTURES } from './network';

export const GENERATOR_DIR = 'generator';

const count = z.number({ invalid_type_error: 'expected an integer ≥ 0', required_error: 'missing; expected an integer ≥ 0' }).int({ message: 'expected an integer ≥ 0' }).min(0, { message: 'expected an integer ≥ 0' });
const u32 = z.number({ invalid_type_error: 'expected an integer 0..2^32-1', required_error: 'missing; expected an integer 0..2^32-1' }).int({ message: 'expected an integer 0..2^32-1' }).min(0, { message: 'expected an integer 0..2^32-1' }).max(2 ** 32 - 1, { message: 'expected an integer 0..2^32-1' });
const secs = z.number({ invalid_type_error: 'expected a number ≥ 0', required_error: 'missing; expected a number ≥ 0' }).finite({ message: 'expected a number ≥ 0' }).min(0, { message: 'expected a number ≥ 0' });
const finite = z.number({ invalid_type_error: 'expected a finite number', required_error: 'missing; expected a finite number' }).finite({ message: 'expected a finite number' });

/** What stage 2 keeps beyond the GAN checkpoint's fields (epoch, step, partial sums, the sampler's rng, best epoch, history, config, elapsed). */
const MapStateSchema = z.object({
  stage: z.literal('defect-map', { errorMap: () => ({ message: 'expected "defect-map"' }) }),
  /** Steps an epoch (fixed by the data); a resume on other data is refused. */
  stepsPerEpoch: count.min(1, { message: 'expected an integer ≥ 1' }),
  /** Map updates done in all. */
  updates: count,
  /** The synthetic-defect stream's position. */
  synRngState: u32,
  /** Each tile order's position (the order itself is the tensor sampler/<name>). */
  samplerPos: z.object({ normal: count, defect: count.nullable() }, { invalid_type_error: 'expected an object {normal, defect}', required_error: 'missing; expected an object {normal, defect}' }),
  /** The map's measured start (network.ts): kept for the model's record and to rebuild the same network. */
  init: z.object({ mean: z.array(finite), std: z.array(finite), prior: z.number().gt(0, { message: 'expected a number in (0, 1)' }).lt(1, { message: 'expected a number in (0, 1)' }) }, { invalid_type_error: 'expected an object {mean, std, prior}', required_error: 'missing; expected an object {mean, std, prior}' }),
  /** Whether the map trains with batch normalisation (its moving statistics are map/i tensors); absent in older checkpoints: false. */
  batchNorm: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
  /** Which map network (network.ts MAP_ARCHITECTURES); absent in older checkpoints: 'unet'. */
  architecture: z.enum(MAP_ARCHITECTURES, { errorMap: () => ({ message: `expected one of ${MAP_ARCHITECTURES.join(', ')}` }) }).optional(),
  /** The best epoch's validation selection figure (null before any epoch). */
  bestSelect: finite.nullable(),
  seconds: z.object({ generator: secs, map: secs }, { invalid_type_error: 'expected an object {generator, map}', required_error: 'missing; expected an object {generator, map}' }),
}, { invalid_type_error: 'expected an object (the defect map\'s state)', required_error: 'missing; expected an object (the defect map\'s state)' });

export type MapState = z.infer<typeof MapStateSchema>;

export interface MapCheckpoint {
  state: CheckpointState & { defectMap: MapState };
  cfg: DefectsConfig;
  tensors: Map<string, tf.Tensor>;
}

/**
 * A stop during stage 1 leaves train()'s own checkpoint of the generator as OUT.checkpoint, with
 * this file beside its state.json: the defects settings and the share of the crops stage 1 trains
 * on (stage1.ts picks it from a timing, which a resume must not repeat).
 */
export const STAGE1_FILE = 'defects-stage1.json';

const Stage1Schema = z.object({
  stage: z.literal('generator', { errorMap: () => ({ message: 'expected "generator"' }) }),
  fraction: z.number({ invalid_type_error: 'expected a number in (0, 1]', required_error: 'missing; expected a number in (0, 1]' }).gt(0, { message: 'expected a number in (0, 1]' }).max(1, { message: 'expected a number in (0, 1]' }),
  seconds: secs,
  config: z.record(z.unknown(), { invalid_type_error: 'expected an object (the training config)', required_error: 'missing; expected an object (the training config)' }),
}, { invalid_type_error: 'expected a JSON object' });

export interface Stage1Resume { cfg: DefectsConfig; fraction: number; seconds: number }

export async function writeStage1Checkpoint(dir: string, trainCkpt: string, marker: { fraction: number; seconds: number; config: DefectsConfig }): Promise<void> {
  await writeFolderAtomically(dir, async (tmp) => {
    await fs.cp(trainCkpt, tmp, { recursive: true });
    await fs.writeFile(join(tmp, STAGE1_FILE), JSON.stringify({ stage: 'generator', ...marker }, null, 1));
  }, { force: true });
}

/** The stage-1 marker of a checkpoint, checked; null when it has none (a stage-2 checkpoint). */
export async function readStage1Marker(dir: string): Promise<Stage1Resume | null> {
  const file = join(dir, STAGE1_FILE);
  if (!existsSync(file)) return null;
  const bad = (msg: string) => new InputError(`--resume ${dir}: ${STAGE1_FILE}${msg}; the checkpoint is damaged — start a new training`);
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw bad(`: ${(e as Error).message}`);
  }
  const m = Stage1Schema.safeParse(raw);
  if (!m.success) {
    const issue = m.error.issues[0];
    throw bad(issue.path.length ? ` field "${issue.path.join('.')}": ${issue.message}` : `: ${issue.message}`);
  }
  const cfg = savedConfig(m.data.config, dir) as DefectsConfig;
  if (cfg.preset !== 'defects' || typeof cfg.timeBudget !== 'number') throw bad(' field "config.preset": expected "defects" with a "timeBudget"');
  return { cfg, fraction: m.data.fraction, seconds: m.data.seconds };
}

/** True when DIR is a defects-preset checkpoint, of either stage (the CLI routes `--resume` by it). */
export async function isDefectsCheckpoint(dir: string): Promise<boolean> {
  if (existsSync(join(dir, STAGE1_FILE))) return true;
  try {
    const s = JSON.parse(await fs.readFile(join(dir, 'state.json'), 'utf8'));
    return !!s && typeof s === 'object' && 'defectMap' in s;
  } catch {
    return false; // readCheckpoint reports what is wrong with it
  }
}

export async function writeMapCheckpoint(dir: string, state: Omit<CheckpointState, 'version'> & { defectMap: MapState }, tensors: NamedTensor[], genDir: string): Promise<void> {
  await writeCheckpoint(dir, { version: CHECKPOINT_VERSION, ...state }, tensors, async (tmp) => {
    await fs.mkdir(join(tmp, GENERATOR_DIR));
    for (const f of [MODEL_FILE, WEIGHTS_FILE, INFO_FILE]) await fs.copyFile(join(genDir, f), join(tmp, GENERATOR_DIR, f));
  });
}

/** Reads and checks a stage-2 checkpoint; `beforeTensors` as in readCheckpoint (the backend goes up first). */
export async function readMapCheckpoint(dir: string, beforeTensors: (cfg: DefectsConfig) => Promise<unknown>): Promise<MapCheckpoint> {
  const bad = (msg: string) => new InputError(`--resume ${dir}: ${msg}; the checkpoint is damaged — start a new training (or resume from an intact copy)`);
  let cfg: DefectsConfig | undefined;
  let mapState: MapState | undefined;
  const { state, tensors } = await readCheckpoint(dir, async (s) => {
    const m = MapStateSchema.safeParse((s as { defectMap?: unknown }).defectMap);
    if (!m.success) {
      const issue = m.error.issues[0];
      throw bad(`state.json field "${['defectMap', ...issue.path].join('.')}": ${issue.message}`);
    }
    mapState = m.data;
    const c = savedConfig(s.config, dir) as DefectsConfig;
    if (c.preset !== 'defects' || typeof c.timeBudget !== 'number') throw bad('state.json field "config.preset": expected "defects" with a "timeBudget" (a defect-map checkpoint)');
    if (mapState.samplerPos.defect !== null && mapState.samplerPos.defect < 0) throw bad('state.json field "defectMap.samplerPos.defect": expected an integer ≥ 0 or null');
    cfg = c;
    await beforeTensors(c);
  });
  const fail = (msg: string) => { tensors.forEach((t) => t.dispose()); return bad(msg); };
  for (const f of [MODEL_FILE, WEIGHTS_FILE, INFO_FILE])
    if (!existsSync(join(dir, GENERATOR_DIR, f))) throw fail(`missing ${join(GENERATOR_DIR, f)} (the frozen generator)`);
  const st = mapState!;
  const order = (name: 'normal' | 'defect', pos: number | null) => {
    const t = tensors.get(`sampler/${name}`);
    if (pos === null) return;
    if (!t || t.dtype !== 'int32' || t.rank !== 1) throw fail(`tensors.json: missing the int32 tensor "sampler/${name}" (the ${name} tiles' order)`);
    if (pos > t.size) throw fail(`state.json field "defectMap.samplerPos.${name}": ${pos} is past the order's ${t.size} tiles`);
  };
  order('normal', st.samplerPos.normal);
  order('defect', st.samplerPos.defect);
  if (state.step !== undefined && state.step >= st.stepsPerEpoch) throw fail(`state.json field "step": ${state.step}, but an epoch has ${st.stepsPerEpoch} steps (defectMap.stepsPerEpoch)`);
  return { state: { ...state, defectMap: st }, cfg: cfg!, tensors };
}

/** The tensors named `prefix/0..` in order; null when none (e.g. no best epoch yet). */
export function numbered(tensors: Map<string, tf.Tensor>, prefix: string): tf.Tensor[] | null {
  const out: tf.Tensor[] = [];
  for (let i = 0; tensors.has(`${prefix}/${i}`); i++) out.push(tensors.get(`${prefix}/${i}`)!);
  return out.length ? out : null;
}
