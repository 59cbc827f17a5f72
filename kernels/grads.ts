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
import { outputAlloc } from './elementwise';

const fr = Math.fround;

function vals(args: KernelArgs, name: string): Float32Array {
  const t = args.inputs[name]!;
  const v = args.backend.data.get(t.dataId).values;
  if (!(v instanceof Float32Array)) throw new Error(`${name}: float32 expected`);
  return v;
}

/** The fused gradient kernels; with `rt`, big tensors run in wasm on all threads. */
export function makeGradKernels(rt?: WasmRuntime): Record<string, KernelFunc> {
  // Results in wasm memory on the fast backend: the next wasm kernel reads them in place.
  const alloc = outputAlloc(rt);
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
    const o = alloc(dy.length);
    for (let i = 0; i < o.length; i++) { const d = dy[i]!; o[i] = x[i]! > 0 ? d : d * alpha; }
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', o);
  },
  FlawscopeReluGrad: (a) => {
    const args = a as unknown as KernelArgs;
    const w = big(args, EW.RELU_GRAD);
    if (w) return w;
    const dy = vals(args, 'dy'), x = vals(args, 'x');
    const o = alloc(dy.length);
    for (let i = 0; i < o.length; i++) { const v = x[i]!; o[i] = dy[i]! * (v !== v ? NaN : v > 0 ? 1 : 0); }
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', o);
  },
  FlawscopeAbsGrad: (a) => {
    const args = a as unknown as KernelArgs;
    const w = big(args, EW.ABS_GRAD);
    if (w) return w;
    const dy = vals(args, 'dy'), x = vals(args, 'x');
    const o = alloc(dy.length);
    for (let i = 0; i < o.length; i++) { const v = x[i]!; o[i] = dy[i]! * (v !== v ? NaN : v > 0 ? 1 : -1); }
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', o);
  },
  FlawscopeTanhGrad: (a) => {
    const args = a as unknown as KernelArgs;
    const dy = vals(args, 'dy'), y = vals(args, 'y');
    if (rt && dy.length >= EW_MIN) return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', rt.elementwise(EW.TANH_GRAD, dy, y));
    const o = alloc(dy.length);
    for (let i = 0; i < o.length; i++) { const v = y[i]!; o[i] = fr(1 - fr(v * v)) * dy[i]!; }
    return args.backend.makeTensorInfo(args.inputs.dy!.shape, 'float32', o);
  },
  };
}

type TensorInfoOrNull = ReturnType<KernelFunc> & object | null;

const originals = new Map<string, GradConfig>();

// ---------------------------------------------------------------------------------------------
// Lazy gradients for the fused convolution. tfjs-core's fused.conv2d (what every tfjs-layers
// Conv2D calls) wraps the kernel in customGrad, whose gradient computes dx AND dW (and dbias)
// whatever is asked: dx of the first layer w.r.t. the image batch, and the discriminator's dW
// during the generator update, are computed and thrown away — about 3 + 5 convolutions a step.
// On our backend fused.conv2d (linear activation: what tfjs-layers uses in training) runs the
// FusedConv2D kernel directly, with a kernel gradient whose parts run only when needed.
type FusedConvArgs = Parameters<typeof tf.fused.conv2d>[0];
let fusedConvOriginal: typeof tf.fused.conv2d | null = null;

function installLazyFusedConv(backend: string): boolean {
  const ns = tf.fused as unknown as Record<string, unknown>;
  const desc = Object.getOwnPropertyDescriptor(ns, 'conv2d');
  if (!desc || !('value' in desc) || !desc.writable) return false; // an ESM namespace: leave it
  const orig = (fusedConvOriginal ??= tf.fused.conv2d);
  tf.registerGradient({
    kernelName: 'FusedConv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as { strides: [number, number] | number; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
      const d = dy as tf.Tensor4D;
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: d, filter }, { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode, inputShape: x.shape } as unknown as NamedAttrMap) as tf.Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: d }, { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode, filterShape: filter.shape } as unknown as NamedAttrMap) as tf.Tensor,
        bias: () => tf.sum(d, [0, 1, 2]),
      };
    },
  });
  ns.conv2d = (args: FusedConvArgs) => {
    const { x, filter, bias, strides, pad, dataFormat = 'NHWC', dilations = [1, 1], dimRoundingMode, activation = 'linear', preluActivationWeights } = args;
    const plain = x instanceof tf.Tensor && filter instanceof tf.Tensor && x.rank === 4 && filter.rank === 4 && x.dtype === 'float32' && filter.dtype === 'float32' &&
      (bias == null || (bias instanceof tf.Tensor && bias.rank === 1 && bias.dtype === 'float32' && bias.shape[0] === filter.shape[3]));
    const one = (d: number | [number, number]) => (Array.isArray(d) ? d.every((v) => v === 1) : d === 1);
    if (tf.getBackend() !== backend || !plain || activation !== 'linear' || preluActivationWeights != null || dataFormat !== 'NHWC' || !one(dilations)) return orig(args);
    const inputs: Record<string, tf.Tensor> = { x: x as tf.Tensor, filter: filter as tf.Tensor };
    if (bias != null) inputs.bias = bias as tf.Tensor;
    return tf.engine().runKernel('FusedConv2D', inputs, { strides, pad, dataFormat, dilations, dimRoundingMode, activation } as unknown as NamedAttrMap) as tf.Tensor4D;
  };
  return true;
}

function restoreFusedConv(): void {
  if (fusedConvOriginal) (tf.fused as unknown as Record<string, unknown>).conv2d = fusedConvOriginal;
}

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
  if (installLazyFusedConv(backend)) done.push('FusedConv2DGrad (lazy)');
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
  restoreFusedConv();
  for (const g of originals.values()) tf.registerGradient(g);
  originals.clear();
}
