// One-pass gradients for the activations of the GAN. Stock tfjs computes
//   LeakyRelu': where(greater(x, 0), dy, mul(dy, alpha))    (3 passes, 3 tensors)
//   Relu':      mul(dy, cast(step(x), 'float32'))             (3 passes)
//   Tanh':      mul(sub(1, square(y)), dy)                    (3 passes)
//   Abs':       mul(dy, step(cast(x, 'float32'), -1))         (3 passes; the L1 losses)
// Gradients are registered per kernel name for every backend, so the override below keeps the
// stock gradient function for any backend other than ours and, on ours, runs one fused kernel
// that computes exactly the same float32 values (same operations, same roundings).
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelFunc, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import type { KernelArgs } from './conv';
import { EW, EW_MIN, type WasmRuntime } from './wasm';

const fr = Math.fround;

function vals(args: KernelArgs, name: string): Float32Array {
  const t = args.inputs[name]!;
  const v = args.backend.data.get(t.dataId).values;
  if (!(v instanceof Float32Array)) throw new Error(`${name}: float32 expected`);
  return v;
}

/** The fused gradient kernels; with `rt`, big tensors run in wasm on all threads. */
export function makeGradKernels(rt?: WasmRuntime): Record<string, KernelFunc> {
  const big = (args: KernelArgs, kind: number, alpha = 0): TensorInfoOrNull => {
    const dy = vals(args, 'dy');
    if (!rt || dy.length < EW_MIN) return null;
    const other = args.inputs.x ? vals(args, 'x') : null;
    if (!other) return null;
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', rt.elementwise(kind, dy, other, alpha));
  };
  return {
  FlawscopeLeakyReluGrad: (a) => {
    const args = a as unknown as KernelArgs;
    const dy = vals(args, 'dy'), x = vals(args, 'x');
    const alpha = fr(Number((args.attrs as { alpha: number }).alpha));
    const w = big(args, EW.LEAKY_GRAD, alpha);
    if (w) return w;
    const o = new Float32Array(dy.length);
    for (let i = 0; i < o.length; i++) { const d = dy[i]!; o[i] = x[i]! > 0 ? d : d * alpha; }
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', o);
  },
  FlawscopeReluGrad: (a) => {
    const args = a as unknown as KernelArgs;
    const w = big(args, EW.RELU_GRAD);
    if (w) return w;
    const dy = vals(args, 'dy'), x = vals(args, 'x');
    const o = new Float32Array(dy.length);
    for (let i = 0; i < o.length; i++) { const v = x[i]!; o[i] = dy[i]! * (v !== v ? NaN : v > 0 ? 1 : 0); }
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', o);
  },
  FlawscopeAbsGrad: (a) => {
    const args = a as unknown as KernelArgs;
    const w = big(args, EW.ABS_GRAD);
    if (w) return w;
    const dy = vals(args, 'dy'), x = vals(args, 'x');
    const o = new Float32Array(dy.length);
    for (let i = 0; i < o.length; i++) { const v = x[i]!; o[i] = dy[i]! * (v !== v ? NaN : v > 0 ? 1 : -1); }
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', o);
  },
  FlawscopeTanhGrad: (a) => {
    const args = a as unknown as KernelArgs;
    const dy = vals(args, 'dy'), y = vals(args, 'y');
    const o = new Float32Array(dy.length);
    for (let i = 0; i < o.length; i++) { const v = y[i]!; o[i] = fr(1 - fr(v * v)) * dy[i]!; }
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', o);
  },
  };
}

type TensorInfoOrNull = ReturnType<KernelFunc> & object | null;

const originals = new Map<string, GradConfig>();

function fastOk(dy: Tensor, t: Tensor): boolean {
  return dy.dtype === 'float32' && t.dtype === 'float32' && dy.size === t.size;
}

/** Overrides the gradients of LeakyRelu, Relu, Abs and Tanh; on backends other than `backend` the stock
 * gradient runs unchanged. */
export function installFusedGradients(backend: string): string[] {
  const run = (kernel: string, inputs: Record<string, Tensor>, attrs: NamedAttrMap = {}) =>
    tf.engine().runKernel(kernel, inputs, attrs) as Tensor;
  const defs: Record<string, (orig: GradConfig) => GradConfig['gradFunc']> = {
    LeakyRelu: (orig) => (dy, saved, attrs) => {
      const d = dy as Tensor, x = saved[0]!;
      if (tf.getBackend() !== backend || !fastOk(d, x)) return orig.gradFunc(dy, saved, attrs);
      return { x: () => run('FlawscopeLeakyReluGrad', { dy: d, x }, { alpha: (attrs as { alpha: number }).alpha }) };
    },
    Relu: (orig) => (dy, saved, attrs) => {
      const d = dy as Tensor, x = saved[0]!;
      if (tf.getBackend() !== backend || !fastOk(d, x)) return orig.gradFunc(dy, saved, attrs);
      return { x: () => run('FlawscopeReluGrad', { dy: d, x }) };
    },
    Abs: (orig) => (dy, saved, attrs) => {
      const d = dy as Tensor, x = saved[0]!;
      if (tf.getBackend() !== backend || !fastOk(d, x)) return orig.gradFunc(dy, saved, attrs);
      return { x: () => run('FlawscopeAbsGrad', { dy: d, x }) };
    },
    Tanh: (orig) => (dy, saved, attrs) => {
      const d = dy as Tensor, y = saved[0]!;
      if (tf.getBackend() !== backend || !fastOk(d, y)) return orig.gradFunc(dy, saved, attrs);
      return { x: () => run('FlawscopeTanhGrad', { dy: d, y }) };
    },
  };
  const done: string[] = [];
  for (const [name, make] of Object.entries(defs)) {
    const orig = originals.get(name) ?? tf.getGradient(name);
    if (!orig) continue; // gradients not registered (register_all_gradients not imported)
    originals.set(name, orig);
    tf.registerGradient({ ...orig, gradFunc: make(orig) });
    done.push(`${name}Grad`);
  }
  return done;
}

export function restoreGradients(): void {
  for (const g of originals.values()) tf.registerGradient(g);
  originals.clear();
}
