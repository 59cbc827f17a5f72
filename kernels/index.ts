// Fast CPU training path for tfjs: a backend 'cpu-fast' = the stock tfjs cpu backend with the
// kernels that dominate GAN training replaced by multi-threaded WebAssembly SIMD implementations
// (see native/kernels.c and wasm.ts), and their results kept in the kernels' wasm memory.
//
//   const { backend } = await installFastKernels();
//   await tf.setBackend(backend);          // 'cpu-fast'
//   ... train ...
//   await disposeFastKernels();            // stops the worker threads
//
// The stock 'cpu' backend is left untouched (tests compare against it in the same process).
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
// The stock gradients must be registered before installFusedGradients wraps three of them.
// tfjs-layers registers all of them on import (CJS and ESM); the deep import
// tfjs-core/dist/register_all_gradients is ESM with extensionless imports and fails under plain
// Node (dist/cli.js): ERR_MODULE_NOT_FOUND .../gradients/Abs_grad.
import '@tensorflow/tfjs-layers';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { makeConvKernels } from './conv';
import { makeElementwiseKernels } from './elementwise';
import { installFusedGradients, makeGradKernels, restoreGradients } from './grads';
import { WasmRuntime, type KernelVariant } from './wasm';

export const FAST_BACKEND = 'cpu-fast';

let runtime: WasmRuntime | null = null;
let installing: Promise<FastKernelInfo> | null = null;
let installedKernels: string[] = [];

export interface FastKernelOptions {
  /** Threads to compute on (the calling thread included). Default: all cores (os.availableParallelism(), at most 16). */
  threads?: number;
}

/** The running wasm runtime (after installFastKernels), for benchmarks and tests. */
export function fastRuntime(): WasmRuntime | null {
  return runtime;
}

type DataId = object;
type BackendValues = ReturnType<MathBackendCPU['readSync']>;

/**
 * The stock cpu backend, except that tensors computed by the wasm kernels keep their values in
 * wasm memory (see WasmRuntime.take): the next kernel reads them in place. Values leave that
 * memory only as copies (readSync: what dataSync()/data() return may be kept after dispose),
 * and a stored view that is not a fresh kernel result (e.g. a stock Slice's subarray of one) is
 * copied, so every block has exactly one owner, freed when tfjs disposes it.
 */
class WasmResidentBackend extends MathBackendCPU {
  private own(values: unknown): unknown {
    if (!(values instanceof Float32Array) || !(values.buffer instanceof SharedArrayBuffer)) return values;
    return runtime?.claim(values) ? values : values.slice();
  }
  override write(values: BackendValues, shape: number[], dtype: tf.DataType): DataId {
    return super.write(this.own(values) as BackendValues, shape, dtype);
  }
  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    super.move(dataId, this.own(values) as BackendValues, shape, dtype, refCount);
  }
  override readSync(dataId: DataId): BackendValues {
    const v = super.readSync(dataId);
    return v instanceof Float32Array && v.buffer instanceof SharedArrayBuffer ? v.slice() : v;
  }
  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const gone = super.disposeData(dataId, force);
    if (gone && values instanceof Float32Array && !this.data.has(dataId)) runtime?.free(values);
    return gone;
  }
}

export interface FastKernelInfo {
  backend: string;
  kernels: string[];
  threads: number;
  /** Which build of the WASM kernels runs (relaxed-simd: fused multiply-add). */
  variant: KernelVariant;
}

export function installFastKernels(opts: FastKernelOptions = {}): Promise<FastKernelInfo> {
  if (installing) return installing;
  installing = (async () => {
    runtime = await WasmRuntime.create(opts.threads);
    const rt = runtime;
    if (tf.findBackendFactory(FAST_BACKEND) == null) {
      // Priority 0: never picked automatically; the trainer selects it with tf.setBackend.
      tf.registerBackend(FAST_BACKEND, () => {
        const b = new WasmResidentBackend();
        // Its first write would print tfjs's "install the node backend to speed things up" banner;
        // on this backend that advice is wrong (the trainer says which backend runs and why).
        (b as unknown as { firstUse: boolean }).firstUse = false;
        return b;
      }, 0);
      for (const k of tf.getKernelsForBackend('cpu')) {
        tf.registerKernel({ ...k, backendName: FAST_BACKEND });
      }
    }
    const stock: Record<string, KernelFunc> = {};
    for (const name of ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']) {
      const k = tf.getKernel(name, 'cpu');
      if (!k) throw new Error(`stock cpu kernel ${name} missing`);
      stock[name] = k.kernelFunc;
    }
    const stockKernel = (name: string): KernelFunc => {
      const k = tf.getKernel(name, 'cpu');
      if (!k) throw new Error(`stock cpu kernel ${name} missing`);
      return k.kernelFunc;
    };
    const fast: Record<string, KernelFunc> = { ...makeElementwiseKernels(stockKernel, rt), ...makeConvKernels(rt, stock), ...makeGradKernels(rt) };
    installedKernels = [];
    for (const [name, kernelFunc] of Object.entries(fast)) {
      if (tf.getKernel(name, FAST_BACKEND)) tf.unregisterKernel(name, FAST_BACKEND);
      tf.registerKernel({ kernelName: name, backendName: FAST_BACKEND, kernelFunc });
      installedKernels.push(name);
    }
    const grads = installFusedGradients(FAST_BACKEND);
    return { backend: FAST_BACKEND, kernels: [...installedKernels, ...grads], threads: rt.threads, variant: rt.variant };
  })();
  installing.catch(() => { installing = null; });
  return installing;
}

/** Stops the worker threads. The backend stays registered but falls back to nothing: call
 * installFastKernels again before using it. */
export async function disposeFastKernels(): Promise<void> {
  const rt = runtime;
  runtime = null;
  installing = null;
  if (rt) await rt.dispose();
  restoreGradients();
  if (tf.findBackendFactory(FAST_BACKEND) != null) {
    for (const name of installedKernels) tf.unregisterKernel(name, FAST_BACKEND);
    // Put the stock kernels back so the backend keeps working (slowly) after disposal.
    for (const name of installedKernels) {
      const k = tf.getKernel(name, 'cpu');
      if (k) tf.registerKernel({ ...k, backendName: FAST_BACKEND });
    }
  }
  installedKernels = [];
}
