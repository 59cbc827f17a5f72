/**
 * Picks the fastest training backend present, in this order: TensorFlow native with CUDA, a
 * WebGPU hardware adapter (never a software fallback such as SwiftShader: correct, but far slower
 * than the CPU kernels), TensorFlow native on CPU, then our fast WASM kernels (kernels/). Native
 * and GPU packages are optionalDependencies, loaded at run time only; `auto` skips what cannot
 * load, a forced backend that cannot load exits 2 saying why.
 */
import { InputError } from './errors';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { adapterText, NO_ADAPTER_HINT, probeWebGpu, startWebGpuBackend } from '../scorer/node/webgpu';
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

type Loaded = { ok: true; reason: string } | { ok: false; why: string };

function tryNativeGpu(): Loaded {
  if (!hasCudaDevice()) return { ok: false, why: 'no CUDA device (/dev/nvidia0)' };
  try {
    requireHere('@tensorflow/tfjs-node-gpu');
    return { ok: true, reason: '@tensorflow/tfjs-node-gpu loaded and a CUDA device is present' };
  } catch (e) {
    return { ok: false, why: `@tensorflow/tfjs-node-gpu: ${firstLine(e)}` };
  }
}

function tryNativeCpu(): Loaded {
  try {
    requireHere('@tensorflow/tfjs-node');
    return { ok: true, reason: '@tensorflow/tfjs-node loaded (CPU)' };
  } catch (e) {
    return { ok: false, why: `@tensorflow/tfjs-node: ${firstLine(e)}` };
  }
}

async function useTensorflow(reason: string): Promise<BackendChoice> {
  await tf.setBackend('tensorflow');
  await tf.ready();
  return { name: 'tensorflow', reason };
}

/** The WebGPU backend on the probed adapter; `requireHardware` refuses a software adapter. */
async function tryWebGpu(requireHardware: boolean): Promise<{ ok: true; choice: BackendChoice } | { ok: false; why: string }> {
  const probe = await probeWebGpu();
  if (!probe.ok) return { ok: false, why: `WebGPU: ${probe.why}` };
  if (requireHardware && probe.adapter.isFallbackAdapter)
    return { ok: false, why: `WebGPU: only a software adapter (${adapterText(probe.adapter)}), slower than the CPU kernels; --backend webgpu forces it` };
  try {
    const adapter = await startWebGpuBackend();
    const how = adapter.isFallbackAdapter ? `forced onto ${adapterText(adapter)}: correct but slower than --backend fast` : `hardware adapter ${adapterText(adapter)}`;
    return { ok: true, choice: { name: 'webgpu', reason: `WebGPU (tfjs-backend-webgpu through Dawn): ${how}` } };
  } catch (e) {
    return { ok: false, why: `WebGPU: ${firstLine(e)}` };
  }
}

/** Sets the tfjs backend for training and says which runs and why. */
export async function selectTrainingBackend(req: BackendRequest): Promise<BackendChoice> {
  if (!BACKEND_REQUESTS.includes(req)) throw new BackendUnavailableError(`--backend ${req}: unknown; use one of ${BACKEND_REQUESTS.join(', ')}`);
  if (req === 'tensorflow') {
    const gpu = tryNativeGpu();
    if (gpu.ok) return useTensorflow(gpu.reason);
    const cpu = tryNativeCpu();
    if (cpu.ok) return useTensorflow(`${cpu.reason}; ${gpu.why}`);
    throw new BackendUnavailableError(
      `--backend tensorflow: TensorFlow native is not available (${gpu.why}; ${cpu.why}). Install it with "npm install @tensorflow/tfjs-node" (or -gpu with CUDA), or use --backend auto`,
    );
  }
  if (req === 'webgpu') {
    const w = await tryWebGpu(false);
    if (w.ok) return w.choice;
    throw new BackendUnavailableError(`--backend webgpu: not available (${w.why}). ${NO_ADAPTER_HINT}. Or use --backend auto or fast to train on the CPU`);
  }
  if (req === 'fast') return fastBackend();
  // auto: the order in the header.
  const whys: string[] = [];
  const gpu = tryNativeGpu();
  if (gpu.ok) return useTensorflow(gpu.reason);
  whys.push(gpu.why);
  const w = await tryWebGpu(true);
  if (w.ok) return { ...w.choice, reason: `${w.choice.reason} (${whys.join('; ')})` };
  whys.push(w.why);
  const cpu = tryNativeCpu();
  if (cpu.ok) return useTensorflow(`${cpu.reason}; ${whys.join('; ')}`);
  whys.push(cpu.why);
  const fast = await fastBackend();
  return { name: fast.name, reason: `${fast.reason}; ${whys.join('; ')}` };
}

function firstLine(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  return /Cannot find module/.test(m) ? 'not installed' : m.split('\n')[0];
}

async function fastBackend(): Promise<BackendChoice> {
  const { installFastKernels } = await import('../kernels/index');
  const info = await installFastKernels();
  await tf.setBackend(info.backend);
  await tf.ready();
  return { name: info.backend, reason: `fast ${info.backend} kernels (${info.kernels.length} kernels, ${info.threads} threads, WASM ${info.variant})` };
}
