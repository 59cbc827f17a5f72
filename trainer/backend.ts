/**
 * Picks the fastest training backend present: TensorFlow native with CUDA, then TensorFlow
 * native on CPU, then our fast pure-JS/WASM kernels (trainer/kernels). Native packages are
 * optionalDependencies, loaded at run time only.
 */
import { InputError } from './errors';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BACKEND_REQUESTS, type BackendRequest } from './setting-values';

export { BACKEND_REQUESTS, type BackendRequest } from './setting-values';

export interface BackendChoice {
  name: string;
  reason: string;
}

export class BackendUnavailableError extends InputError {}

const requireHere = createRequire(__filename);

function hasCudaDevice(): boolean {
  return existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');
}

/** Loads @tensorflow/tfjs-node-gpu or -node; returns why not when neither loads. */
function tryNative(): { ok: true; reason: string } | { ok: false; why: string } {
  const whys: string[] = [];
  if (hasCudaDevice()) {
    try {
      requireHere('@tensorflow/tfjs-node-gpu');
      return { ok: true, reason: '@tensorflow/tfjs-node-gpu loaded and a CUDA device is present' };
    } catch (e) {
      whys.push(`@tensorflow/tfjs-node-gpu: ${firstLine(e)}`);
    }
  } else whys.push('no CUDA device (/dev/nvidia0)');
  try {
    requireHere('@tensorflow/tfjs-node');
    return { ok: true, reason: `@tensorflow/tfjs-node loaded (CPU; ${whys.join('; ')})` };
  } catch (e) {
    whys.push(`@tensorflow/tfjs-node: ${firstLine(e)}`);
  }
  return { ok: false, why: whys.join('; ') };
}

function firstLine(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  return /Cannot find module/.test(m) ? 'not installed' : m.split('\n')[0];
}

/** Sets the tfjs backend for training and says which runs and why. */
export async function selectTrainingBackend(req: BackendRequest): Promise<BackendChoice> {
  if (!BACKEND_REQUESTS.includes(req)) throw new BackendUnavailableError(`--backend ${req}: unknown; use one of ${BACKEND_REQUESTS.join(', ')}`);
  if (req === 'auto' || req === 'tensorflow') {
    const native = tryNative();
    if (native.ok) {
      await tf.setBackend('tensorflow');
      await tf.ready();
      return { name: 'tensorflow', reason: native.reason };
    }
    if (req === 'tensorflow')
      throw new BackendUnavailableError(
        `--backend tensorflow: TensorFlow native is not available (${native.why}). Install it with "npm install @tensorflow/tfjs-node" (or -gpu with CUDA), or use --backend auto`,
      );
    const fast = await fastBackend('cpu');
    return { name: fast.name, reason: `${fast.reason}; TensorFlow native not available (${native.why})` };
  }
  return fastBackend(req);
}

async function fastBackend(req: 'cpu' | 'wasm'): Promise<BackendChoice> {
  const { installFastKernels } = await import('../kernels/index');
  const info = await installFastKernels();
  if (req === 'wasm' && info.backend !== 'wasm')
    throw new BackendUnavailableError(`--backend wasm: the WASM backend cannot train (tfjs has no training kernels for it); use --backend cpu, which runs Flawscope's fast ${info.backend} kernels`);
  await tf.setBackend(info.backend);
  await tf.ready();
  return { name: info.backend, reason: `fast ${info.backend} kernels (${info.kernels.length} kernels, ${info.threads} threads, WASM ${info.variant})` };
}
