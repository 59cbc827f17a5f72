// Fast conv kernels ('cpu-fast', WASM SIMD, 2 threads) against the stock tfjs cpu backend:
// forward values and gradients (dx, dfilter) of conv2d, fused conv2d and conv2dTranspose.
// Relative error = max_i |fast_i - stock_i| / max(1e-6, max_i |stock_i|)  (max-norm relative), ≤ 1e-4.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { disposeFastKernels, fastRuntime, installFastKernels } from '../../kernels/index';

const TOL = 1e-4;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296 * 2 - 1;
  };
}
function rand(n: number, seed: number): Float32Array {
  const r = rng(seed), a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= num)) num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(1e-6, den);
}

interface Case {
  n: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: 'same' | 'valid';
}

/** Runs conv2d forward + grads on `backend`; returns [y, dx, dw]. */
function convGrads(backend: string, c: Case, seed: number): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(rand(c.n * c.h * c.w * c.ci, seed), [c.n, c.h, c.w, c.ci]);
    const f = tf.tensor4d(rand(c.k * c.k * c.ci * c.co, seed + 1), [c.k, c.k, c.ci, c.co]);
    const y = tf.conv2d(x, f, c.s, c.pad);
    const r = tf.tensor(rand(y.size, seed + 2), y.shape);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), r)));
    const [dx, dw] = g([x, f]);
    return [y.dataSync() as Float32Array, dx!.dataSync() as Float32Array, dw!.dataSync() as Float32Array];
  });
}

/** conv2dTranspose (input c.h x c.w x c.ci -> c.co channels) forward + grads. */
function convTGrads(backend: string, c: Case, seed: number): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(rand(c.n * c.h * c.w * c.ci, seed), [c.n, c.h, c.w, c.ci]);
    const f = tf.tensor4d(rand(c.k * c.k * c.co * c.ci, seed + 1), [c.k, c.k, c.co, c.ci]);
    const oh = c.pad === 'same' ? c.h * c.s : (c.h - 1) * c.s + c.k;
    const ow = c.pad === 'same' ? c.w * c.s : (c.w - 1) * c.s + c.k;
    const shape: [number, number, number, number] = [c.n, oh, ow, c.co];
    const fn = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, shape, c.s, c.pad);
    const y = fn(x, f);
    const r = tf.tensor(rand(y.size, seed + 2), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a, b), r)))([x, f]);
    return [y.dataSync() as Float32Array, dx!.dataSync() as Float32Array, dw!.dataSync() as Float32Array];
  });
}

function fusedFwd(backend: string, c: Case, act: 'relu' | 'leakyrelu' | 'linear', seed: number): Float32Array {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(rand(c.n * c.h * c.w * c.ci, seed), [c.n, c.h, c.w, c.ci]);
    const f = tf.tensor4d(rand(c.k * c.k * c.ci * c.co, seed + 1), [c.k, c.k, c.ci, c.co]);
    const b = tf.tensor1d(rand(c.co, seed + 3));
    return tf.fused.conv2d({ x, filter: f, strides: c.s, pad: c.pad, bias: b, activation: act, leakyreluAlpha: 0.2 }).dataSync() as Float32Array;
  });
}

// Grid: stride 1/2 x same/valid x odd/even sizes x channels 1/3 (in and out) x batch 1; plus
// batch 64 (small spatial) and the model's real layer shapes.
const cases: Case[] = [];
for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) for (const hw of [7, 8]) for (const ci of [1, 3]) {
  cases.push({ n: 1, h: hw, w: hw + 1, ci, co: ci === 1 ? 3 : 1, k: 4, s, pad });
}
for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) {
  cases.push({ n: 64, h: 5, w: 6, ci: 3, co: 8, k: 4, s, pad });
  cases.push({ n: 64, h: 6, w: 5, ci: 1, co: 3, k: 3, s, pad });
}
// Model layers (batch 2 keeps it quick; big-channel paths of the micro-kernels).
cases.push({ n: 2, h: 32, w: 32, ci: 3, co: 8, k: 4, s: 2, pad: 'same' });
cases.push({ n: 2, h: 8, w: 8, ci: 16, co: 32, k: 4, s: 2, pad: 'same' });
cases.push({ n: 2, h: 4, w: 4, ci: 32, co: 64, k: 4, s: 1, pad: 'same' });
cases.push({ n: 2, h: 4, w: 4, ci: 64, co: 32, k: 4, s: 1, pad: 'same' });
cases.push({ n: 3, h: 9, w: 11, ci: 13, co: 21, k: 5, s: 3, pad: 'same' });
// Up to 4 output channels (conv_fwd's dot-product path; gemm_dot1_ptrs for one): the defect map's
// 3x3 probability layer and its 1x1 input standardisation, 2 channels with a row count that is
// not a multiple of 4, and CI not a multiple of 4.
cases.push({ n: 3, h: 16, w: 15, ci: 16, co: 1, k: 3, s: 1, pad: 'same' });
cases.push({ n: 2, h: 8, w: 9, ci: 3, co: 3, k: 1, s: 1, pad: 'valid' });
cases.push({ n: 5, h: 7, w: 6, ci: 9, co: 2, k: 3, s: 2, pad: 'same' });
cases.push({ n: 1, h: 5, w: 7, ci: 6, co: 4, k: 3, s: 1, pad: 'same' });

const name = (c: Case) => `n${c.n} ${c.h}x${c.w}x${c.ci}->${c.co} k${c.k} s${c.s} ${c.pad}`;

describe('fast conv kernels vs stock cpu', () => {
  let backend = '';
  before(async () => {
    const r = await installFastKernels({ threads: 2 });
    backend = r.backend;
    // Force the multi-threaded path even for the small test shapes.
    fastRuntime()!.parallelThreshold = 0;
  });
  after(async () => {
    tf.setBackend('cpu');
    await disposeFastKernels();
  });

  it('registers the conv kernels on its own backend, leaves cpu alone', () => {
    for (const k of ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']) {
      assert.notEqual(tf.getKernel(k, backend)!.kernelFunc, tf.getKernel(k, 'cpu')!.kernelFunc, k);
    }
  });

  for (const c of cases) {
    it(`conv2d ${name(c)}: y, dx, dw`, () => {
      const before = fastRuntime()!.stats.conv;
      const a = convGrads(backend, c, 11), b = convGrads('cpu', c, 11);
      // y, y again inside tf.grads, dx, dw: all four on the wasm kernels (no stock fallback).
      assert.equal(fastRuntime()!.stats.conv - before, 4);
      ['y', 'dx', 'dw'].forEach((what, i) => {
        const e = relErr(a[i]!, b[i]!);
        assert.ok(e <= TOL, `${what} rel err ${e}`);
      });
    });
    it(`conv2dTranspose ${name(c)}: y, dx, dw`, () => {
      const before = fastRuntime()!.stats.conv;
      const a = convTGrads(backend, c, 21), b = convTGrads('cpu', c, 21);
      assert.equal(fastRuntime()!.stats.conv - before, 4);
      ['y', 'dx', 'dw'].forEach((what, i) => {
        const e = relErr(a[i]!, b[i]!);
        assert.ok(e <= TOL, `${what} rel err ${e}`);
      });
    });
  }

  for (const act of ['linear', 'relu', 'leakyrelu'] as const) {
    it(`fused conv2d + bias + ${act}`, () => {
      const c: Case = { n: 3, h: 9, w: 8, ci: 3, co: 8, k: 4, s: 2, pad: 'same' };
      const e = relErr(fusedFwd(backend, c, act, 5), fusedFwd('cpu', c, act, 5));
      assert.ok(e <= TOL, `rel err ${e}`);
    });
  }

  it('fused conv2d + bias + leakyrelu, one output channel (the dot-product path)', () => {
    const c: Case = { n: 3, h: 9, w: 8, ci: 16, co: 1, k: 3, s: 1, pad: 'same' };
    const e = relErr(fusedFwd(backend, c, 'leakyrelu', 6), fusedFwd('cpu', c, 'leakyrelu', 6));
    assert.ok(e <= TOL, `rel err ${e}`);
  });

  it('single-thread and multi-thread paths agree', () => {
    const c: Case = { n: 4, h: 16, w: 16, ci: 8, co: 16, k: 4, s: 2, pad: 'same' };
    const rt = fastRuntime()!;
    rt.parallelThreshold = Infinity;
    const one = convGrads(backend, c, 3);
    rt.parallelThreshold = 0;
    const two = convGrads(backend, c, 3);
    for (let i = 0; i < 3; i++) assert.ok(relErr(two[i]!, one[i]!) <= TOL);
  });

  it('the comparison can fail: a perturbed result is caught', () => {
    const c = cases[0]!;
    const a = convGrads(backend, c, 11)[2]!, b = convGrads('cpu', c, 11)[2]!;
    a[a.length >> 1]! += 1e-2 * Math.max(...Array.from(b, Math.abs));
    assert.ok(relErr(a, b) > TOL);
  });
});
