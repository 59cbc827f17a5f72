// End to end: a few whole GAN steps (trainer/gan.ts: generator with the six losses, both
// discriminators, Adam) on the fast path ('cpu-fast') and on stock tfjs cpu, from the same seed
// and data, give the same losses and the same weights.
// Weights: per tensor, max |fast - stock| ≤ 1e-4 · max(1, max |stock|) (Adam normalises each
// gradient, so a rounding-level difference in a gradient that is itself at rounding level could
// move a weight by up to 2·lr; that does not happen here, the measured worst case is printed).
// Losses: relative error ≤ 1e-4.
// The test also checks that training moved the weights by much more than the tolerance, so
// agreement is not vacuous.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { disposeFastKernels, fastRuntime, installFastKernels } from '../../kernels/index';
import { Gan, type Group } from '../../trainer/gan';
import { PAPER_WEIGHTS } from '../../trainer/losses';
import { defaultPatchSpec } from '../../scorer/model-format';

const LR = 1e-3;

function batch(n: number, size: number, c: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n * size * size * c);
  for (let i = 0; i < a.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 4294967296 * 2 - 1;
  }
  return a;
}

interface Run { losses: Record<string, number>[]; initial: Float32Array[]; final: Float32Array[] }

function train(backend: string, size: number, c: 1 | 3, n: number, groups: Group[]): Run {
  tf.setBackend(backend);
  const gan = new Gan({ shape: { height: size, width: size, channels: c }, weights: { ...PAPER_WEIGHTS }, patch: defaultPatchSpec(size), lr: LR, beta1: 0.5, beta2: 0.999, seed: 3 });
  const all = () => [gan.generator, gan.dNormal, gan.dAnomaly].flatMap((m) => m.weights.map((w) => w.read().dataSync().slice() as Float32Array));
  const initial = all();
  const xn = tf.tensor4d(batch(n, size, c, 1), [n, size, size, c]);
  const xa = tf.tensor4d(batch(n, size, c, 2), [n, size, size, c]);
  const losses = groups.map((g) => gan.step(g === 'normal' ? xn : xa, g));
  const final = all();
  tf.dispose([xn, xa]);
  gan.dispose();
  return { losses, initial, final };
}

function compare(fast: Run, stock: Run): void {
  assert.equal(fast.final.length, stock.final.length);
  let moved = 0, worst = 0;
  fast.final.forEach((f, i) => {
    const s = stock.final[i]!;
    let scale = 1, diff = 0, mv = 0;
    for (let j = 0; j < s.length; j++) {
      scale = Math.max(scale, Math.abs(s[j]!));
      diff = Math.max(diff, Math.abs(f[j]! - s[j]!));
      mv = Math.max(mv, Math.abs(s[j]! - stock.initial[i]![j]!));
    }
    worst = Math.max(worst, diff / scale);
    moved = Math.max(moved, mv);
    assert.ok(diff <= 1e-4 * scale, `weight tensor ${i}: max diff ${diff}`);
  });
  // Both paths start from the same weights (same seeded initialisers) and training moved them.
  fast.initial.forEach((f, i) => assert.deepEqual(f, stock.initial[i]));
  console.log(`  worst weight diff ${worst.toExponential(2)} (relative to max(1, max|w|)), largest move ${moved.toExponential(2)}`);
  assert.ok(moved > 10 * 1e-4, `weights barely moved (${moved})`);
  fast.losses.forEach((l, k) => {
    for (const [name, v] of Object.entries(stock.losses[k]!)) {
      const e = Math.abs(l[name]! - v) / Math.max(1e-6, Math.abs(v));
      assert.ok(e <= 1e-4, `step ${k} loss ${name}: fast ${l[name]} stock ${v}`);
    }
  });
}

describe('GAN training on the fast path matches stock tfjs cpu', () => {
  let backend = '';
  before(async () => {
    backend = (await installFastKernels({ threads: 2 })).backend;
    fastRuntime()!.parallelThreshold = 0; // exercise the threaded kernels even at test sizes
  });
  after(async () => {
    tf.setBackend('cpu');
    await disposeFastKernels();
  });

  it('16x16x3, batch 3: normal, anomaly, normal steps', () => {
    const groups: Group[] = ['normal', 'anomaly', 'normal'];
    const before = fastRuntime()!.stats.conv;
    const fast = train(backend, 16, 3, 3, groups);
    assert.ok(fastRuntime()!.stats.conv - before > 100, 'the wasm conv kernels ran');
    compare(fast, train('cpu', 16, 3, 3, groups));
  });

  it('16x16x1, batch 2: normal, anomaly steps', () => {
    const groups: Group[] = ['normal', 'anomaly'];
    compare(train(backend, 16, 1, 2, groups), train('cpu', 16, 1, 2, groups));
  });

  it('the comparison can fail: a perturbed weight is caught', () => {
    const fast = train(backend, 16, 1, 2, ['normal']);
    const stock = train('cpu', 16, 1, 2, ['normal']);
    // Perturb one weight of the fast run by 10x the tolerance.
    const t = fast.final[0]!;
    t[0] = t[0]! + 1e-3 * Math.max(1, ...Array.from(stock.final[0]!, Math.abs));
    assert.throws(() => compare(fast, stock));
  });
});
