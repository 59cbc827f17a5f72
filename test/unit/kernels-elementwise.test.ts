// Fast element-wise / reduction / concat / pooling kernels of 'cpu-fast' against the stock tfjs
// cpu backend, including their gradients and every broadcast fast path (and a fallback one).
// Relative error = max_i |fast_i - stock_i| / max(1e-6, max_i |stock_i|), ≤ 1e-4 (most are exact).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { disposeFastKernels, fastRuntime, installFastKernels } from '../../kernels/index';
import { profileKernels } from '../../kernels/profile';

const TOL = 1e-4;

function rand(shape: number[], seed: number): tf.Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 4294967296 * 4 - 2;
  }
  return tf.tensor(a, shape);
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
    if (!Number.isNaN(x)) num = Math.max(num, Math.abs(x - y));
    den = Math.max(den, Number.isNaN(y) ? 0 : Math.abs(y));
  }
  return num / Math.max(1e-6, den);
}

/** Runs `f` (inputs built from shapes/seeds) on a backend; returns output values and input grads. */
function run(backend: string, shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor, withGrad: boolean): { y: Float32Array | Int32Array | Uint8Array; shape: number[]; dtype: string; grads: Float32Array[] } {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = shapes.map((s, i) => rand(s, 7 + i * 13));
    const y = f(...xs);
    let grads: Float32Array[] = [];
    if (withGrad) {
      const r = rand(y.shape, 99);
      grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(xs).map((g) => g.dataSync() as Float32Array);
    }
    return { y: y.dataSync() as Float32Array, shape: y.shape, dtype: y.dtype, grads };
  });
}

type Case = [string, number[][], (...xs: tf.Tensor[]) => tf.Tensor, boolean];

const N4 = [64, 5, 6, 3];
const cases: Case[] = [
  // binary: same shape, scalar, trailing vector (bias), leading block ([N,1,1,1]), generic fallback
  ['add same', [N4, N4], (a, b) => tf.add(a, b), true],
  ['add bias [C]', [N4, [3]], (a, b) => tf.add(a, b), true],
  ['add bias [1,1,W,C]', [N4, [1, 1, 6, 3]], (a, b) => tf.add(a, b), true],
  ['sub scalar right', [N4, []], (a, b) => tf.sub(a, b), true],
  ['sub scalar left', [[], N4], (a, b) => tf.sub(a, b), true],
  ['mul per-image [N,1,1,1]', [N4, [64, 1, 1, 1]], (a, b) => tf.mul(a, b), true],
  ['mul per-row [N,H,1,1] left', [[64, 5, 1, 1], N4], (a, b) => tf.mul(a, b), true],
  ['mul generic broadcast (fallback) [N,1,W,1]', [N4, [64, 1, 6, 1]], (a, b) => tf.mul(a, b), true],
  ['div', [N4, N4], (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5)), true],
  ['maximum/minimum', [N4, N4], (a, b) => tf.add(tf.maximum(a, b), tf.minimum(a, 0.3)), true],
  ['squaredDifference', [N4, N4], (a, b) => tf.squaredDifference(a, b), true],
  ['greater/less (bool)', [N4, N4], (a, b) => tf.add(tf.cast(tf.greater(a, b), 'float32'), tf.cast(tf.lessEqual(a, 0.1), 'float32')), false],
  ['where', [N4, N4, N4], (c, t, e) => tf.where(tf.greaterEqual(c, 0), t, e), true],
  // unary
  ['relu', [N4], (a) => tf.relu(a), true],
  ['leakyRelu', [N4], (a) => tf.leakyRelu(a, 0.2), true],
  ['step', [N4], (a) => tf.step(a, 0.3), false],
  ['tanh', [N4], (a) => tf.tanh(a), true],
  ['abs/neg/sign', [N4], (a) => tf.add(tf.abs(a), tf.mul(tf.neg(a), tf.sign(a))), true],
  ['sqrt/square/exp/log', [N4], (a) => tf.add(tf.sqrt(tf.add(tf.square(a), 1)), tf.log(tf.add(tf.exp(a), 1))), true],
  // reductions
  ['sum all', [N4], (a) => tf.sum(a), true],
  ['sum leading [0,1,2] (bias grad)', [N4], (a) => tf.sum(a, [0, 1, 2]), true],
  ['sum trailing [1,2,3] keepDims', [N4], (a) => tf.sum(a, [1, 2, 3], true), true],
  ['sum middle [1,2]', [N4], (a) => tf.sum(a, [1, 2]), true],
  ['sum non-contiguous (fallback) [0,2]', [N4], (a) => tf.sum(a, [0, 2]), true],
  ['mean last axis', [N4], (a) => tf.mean(a, 3), true],
  ['mean all', [N4], (a) => tf.mean(a), true],
  // concat / split
  ['concat last axis', [N4, [64, 5, 6, 5]], (a, b) => tf.concat([a, b], 3), true],
  ['concat axis 1 (big rows)', [[4, 3, 70], [4, 2, 70]], (a, b) => tf.concat([a, b], 1), true],
  ['split last axis', [[64, 5, 6, 8]], (a) => { const [p, q] = tf.split(a, [3, 5], 3); return tf.add(tf.sum(p!, 3), tf.sum(q!, 3)); }, true],
  ['addN', [N4, N4, N4], (a, b, c) => tf.addN([a, b, c]), true],
  // pooling (patch loss)
  ['avgPool 4/2 valid', [[64, 32, 32, 1]], (a) => tf.avgPool(a as tf.Tensor4D, 4, 2, 'valid'), true],
  ['avgPool 3/2 same, 3 channels', [[8, 9, 10, 3]], (a) => tf.avgPool(a as tf.Tensor4D, 3, 2, 'same'), true],
];

// Big tensors (>= 65536 elements) take the threaded wasm path; those results are bit-exact.
// (From 4096 elements the wasm kernels run on one thread: the N4 cases above.)
const BIG = [64, 16, 16, 8];
const bigCases: Case[] = [
  ['big add same', [BIG, BIG], (a, b) => tf.add(a, b), true],
  ['big add bias [C]', [BIG, [8]], (a, b) => tf.add(a, b), true],
  ['big add bias [W,C] (period 128)', [BIG, [16, 8]], (a, b) => tf.add(a, b), true],
  ['big multiply same', [BIG, BIG], (a, b) => tf.mul(a, b), true],
  ['big leakyRelu', [BIG], (a) => tf.leakyRelu(a, 0.2), true],
  ['big relu', [BIG], (a) => tf.relu(a), true],
  ['big abs', [BIG], (a) => tf.abs(a), true],
  ['big odd length relu/leaky (tails)', [[65539]], (a) => tf.add(tf.relu(a), tf.leakyRelu(a, 0.3)), true],
  ['big sub same', [BIG, BIG], (a, b) => tf.sub(a, b), true],
  ['big multiply by a scalar (both sides)', [BIG, []], (a, b) => tf.add(tf.mul(a, b), tf.mul(b, a)), true],
  ['big divide by a scalar', [BIG, []], (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5)), true],
  ['big neg, square', [BIG], (a) => tf.add(tf.neg(a), tf.square(a)), true],
  ['big sqrt', [BIG], (a) => tf.sqrt(tf.abs(a)), false],
  ['big sum over [0,1,2] (bias gradient)', [BIG], (a) => tf.sum(a, [0, 1, 2]), true],
  ['big sum over [1,2] per image', [BIG], (a) => tf.sum(a, [1, 2]), true],
  ['big sum, odd channel count [N,H,W,3] over [0,1,2]', [[64, 32, 33, 3]], (a) => tf.sum(a, [0, 1, 2]), true],
  ['big concat on channels (U-Net skip), odd widths', [BIG, [64, 16, 16, 5]], (a, b) => tf.concat([a, b], 3), true],
  ['big split on channels', [[64, 16, 16, 13]], (a) => { const [p, q] = tf.split(a, [8, 5], 3); return tf.add(tf.sum(p!, 3), tf.sum(q!, 3)); }, true],
];
// Whole-tensor sums add fixed slots' double partial sums; means divide each element (stock divides
// the sum): equal to stock within rounding.
const bigCloseCases: Case[] = [
  ['big sum all', [BIG], (a) => tf.sum(a), true],
  ['big mean all', [[65539]], (a) => tf.mean(a), true],
  ['big mean per image [1,2,3]', [BIG], (a) => tf.mean(a, [1, 2, 3]), true],
  ['big mean over channels [N,H,W,3] -> [N,H,W,1] (patch loss)', [[64, 32, 33, 3]], (a) => tf.mean(a, 3, true), true],
];

describe('fast element-wise kernels vs stock cpu', () => {
  let backend = '';
  before(async () => {
    backend = (await installFastKernels({ threads: 2 })).backend;
  });
  after(async () => {
    tf.setBackend('cpu');
    await disposeFastKernels();
  });

  for (const [name, shapes, f, g] of cases) {
    it(name, () => {
      const a = run(backend, shapes, f, g), b = run('cpu', shapes, f, g);
      assert.deepEqual(a.shape, b.shape);
      assert.equal(a.dtype, b.dtype);
      const e = relErr(a.y, b.y);
      assert.ok(e <= TOL, `forward rel err ${e}`);
      a.grads.forEach((ga, i) => {
        const eg = relErr(ga, b.grads[i]!);
        assert.ok(eg <= TOL, `grad ${i} rel err ${eg}`);
      });
    });
  }

  for (const [name, shapes, f, g] of bigCases) {
    it(`${name}: bit-exact`, () => {
      const before = fastRuntime()!.stats.parallel;
      const a = run(backend, shapes, f, g);
      assert.ok(fastRuntime()!.stats.parallel > before, 'ran on the threaded wasm path');
      const b = run('cpu', shapes, f, g);
      assert.deepEqual(a.shape, b.shape);
      assert.ok(Buffer.from(a.y.buffer, a.y.byteOffset, a.y.byteLength).equals(Buffer.from(b.y.buffer, b.y.byteOffset, b.y.byteLength)), 'forward differs');
      a.grads.forEach((ga, i) => {
        const gb = b.grads[i]!;
        assert.ok(Buffer.from(ga.buffer, ga.byteOffset, ga.byteLength).equals(Buffer.from(gb.buffer, gb.byteOffset, gb.byteLength)), `grad ${i} differs`);
      });
    });
  }

  for (const [name, shapes, f, g] of bigCloseCases) {
    it(`${name}: within ${TOL}`, () => {
      const before = fastRuntime()!.stats.parallel;
      const a = run(backend, shapes, f, g);
      assert.ok(fastRuntime()!.stats.parallel > before, 'ran on the threaded wasm path');
      const b = run('cpu', shapes, f, g);
      assert.deepEqual(a.shape, b.shape);
      assert.ok(relErr(a.y, b.y) <= TOL, `forward rel err ${relErr(a.y, b.y)}`);
      a.grads.forEach((ga, i) => assert.ok(relErr(ga, b.grads[i]!) <= TOL, `grad ${i}`));
    });
  }

  it('Tanh: the wasm kernel (big tensors) equals the JS loop (small ones) bit for bit', () => {
    const v = new Float32Array(131072);
    for (let i = 0; i < v.length; i++) v[i] = Math.sinh((i / v.length - 0.5) * 8) * (i % 3 ? 1 : 1e-3);
    v.set([NaN, 0, -0, Infinity, -Infinity, 4e-4, -3.99e-4, 9, -9.0001], 0);
    tf.setBackend(backend);
    const whole = tf.tidy(() => tf.tanh(tf.tensor1d(v)).dataSync());
    const pieces = new Float32Array(v.length);
    for (let i = 0; i < v.length; i += 1000) pieces.set(tf.tidy(() => tf.tanh(tf.tensor1d(v.subarray(i, i + 1000))).dataSync()), i);
    assert.ok(Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength).equals(Buffer.from(pieces.buffer)), 'wasm and JS tanh differ');
  });

  it('big tensors with NaN, -0 and infinities: wasm path equals stock', () => {
    const f = () => {
      const v = new Float32Array(70000);
      for (let i = 0; i < v.length; i++) v[i] = [NaN, -0, 0, Infinity, -Infinity, 1e-40, -2.5, 3][i % 8]!;
      const x = tf.tensor1d(v);
      const ys = [tf.relu(x), tf.leakyRelu(x, 0.2), tf.add(x, x), tf.mul(x, x), tf.sub(x, tf.reverse(x)), tf.neg(x), tf.abs(x), tf.square(x), tf.sqrt(x), tf.mul(x, -0.5), tf.div(x, 3), tf.sum(tf.reshape(x, [35000, 2]), 0)];
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.add(tf.add(tf.relu(t), tf.leakyRelu(t, 0.2)), tf.abs(t))))(x);
      return [...ys, g].map((t) => Array.from(t.dataSync()));
    };
    tf.setBackend(backend);
    const a = tf.tidy(f);
    tf.setBackend('cpu');
    const b = tf.tidy(f);
    assert.deepEqual(a, b);
  });

  it('NaN propagates like stock (relu, step, maximum)', () => {
    const f = () => {
      const x = tf.tensor1d([NaN, -1, 0, 2]);
      return [tf.relu(x), tf.step(x, 0.5), tf.maximum(x, 0), tf.leakyRelu(x, 0.2)].map((t) => Array.from(t.dataSync()));
    };
    tf.setBackend(backend);
    const a = tf.tidy(f);
    tf.setBackend('cpu');
    const b = tf.tidy(f);
    assert.deepEqual(a, b);
  });

  it('one-pass activation gradients run on the fast backend and equal stock bit for bit', () => {
    // Tanh's gradient is taken at its forward output, and the fast Tanh forward is an approximation:
    // TanhGrad is checked bit for bit on equal y in the next test.
    const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.add(tf.leakyRelu(a, 0.2), tf.relu(tf.neg(a))), tf.abs(a)), tf.range(0, a.size)));
    const grad = (b: string) => {
      tf.setBackend(b);
      return tf.tidy(() => Array.from(tf.grad(f)(tf.concat([rand([500], 5), tf.tensor1d([0, -0, NaN, 1e-30, -1e-30])])).dataSync()));
    };
    const prof = profileKernels(backend);
    let fast: number[];
    try {
      fast = grad(backend);
    } finally {
      prof.stop();
    }
    const ran = prof.table().map((r) => r.kernel);
    for (const k of ['FlawscopeLeakyReluGrad', 'FlawscopeReluGrad', 'FlawscopeAbsGrad']) assert.ok(ran.includes(k), `${k} ran`);
    assert.deepEqual(fast, grad('cpu'));
  });

  it('Tanh: within 6e-8 of Math.tanh everywhere (NaN, ±0, ±Infinity, tiny, large); TanhGrad bit-exact on equal y', () => {
    const v = new Float32Array(200000);
    for (let i = 0; i < v.length; i++) v[i] = (i / v.length - 0.5) * 30;
    v.set([NaN, 0, -0, Infinity, -Infinity, 1e-30, -1e-30, 3.9e-4, 4.1e-4, 8.99, 9.01, -9.5], 0);
    tf.setBackend(backend);
    const fast = tf.tidy(() => tf.tanh(tf.tensor1d(v)).dataSync());
    for (let i = 0; i < v.length; i++) {
      const want = Math.fround(Math.tanh(v[i]!));
      if (Number.isNaN(want)) assert.ok(Number.isNaN(fast[i]), `tanh(${v[i]}) should be NaN`);
      else assert.ok(Math.abs(fast[i]! - want) <= 6e-8 && Math.abs(fast[i]!) <= 1, `tanh(${v[i]}) = ${fast[i]}, want ${want}`);
      if (v[i] === 0) assert.equal(Object.is(fast[i], -0), Object.is(v[i], -0), 'sign of zero kept');
    }
    // TanhGrad on equal (y, dy): the fused kernel vs the stock formula (1 - y²)·dy, bit for bit.
    const y = tf.tensor1d(Array.from(fast.slice(12, 5012)));
    const dy = tf.tensor1d(Array.from({ length: 5000 }, (_, i) => Math.sin(i)));
    tf.setBackend(backend);
    const prof = profileKernels(backend);
    let a: Float32Array;
    try {
      a = tf.tidy(() => (tf.engine().runKernel('FlawscopeTanhGrad', { dy, y }) as tf.Tensor).dataSync() as Float32Array);
      tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.tanh(x)))(tf.ones([4])));
    } finally {
      prof.stop();
    }
    assert.ok(prof.table().some((r) => r.kernel === 'FlawscopeTanhGrad'), 'tanh gradient runs the fused kernel');
    tf.setBackend('cpu');
    const b = tf.tidy(() => tf.mul(tf.sub(1, tf.square(y)), dy).dataSync() as Float32Array);
    assert.ok(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)), 'TanhGrad differs from stock');
    tf.dispose([y, dy]);
  });

  it('the fast kernels are the ones registered', () => {
    for (const k of ['Add', 'Multiply', 'Sum', 'Concat', 'SplitV', 'AvgPoolGrad', 'LeakyRelu', 'Select']) {
      assert.notEqual(tf.getKernel(k, backend)!.kernelFunc, tf.getKernel(k, 'cpu')!.kernelFunc, k);
    }
  });
});
