// The fused convolution on the fast backend (kernels/grads.ts): same values and
// gradients as stock tfjs, and gradient parts computed only when something needs them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { disposeFastKernels, installFastKernels } from '../../kernels/index';
import { profileKernels } from '../../kernels/profile';

function seeded(shape: number[], seed: number): tf.Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    v[i] = s / 4294967296 - 0.5;
  }
  return tf.tensor(v, shape);
}

function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 1e-6;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

type Act = 'linear' | 'relu' | 'leakyrelu';

function run(backend: string, act: Act, withBias: boolean) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = seeded([3, 9, 8, 3], 1), w = seeded([4, 4, 3, 5], 2), b = seeded([5], 3);
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) =>
      tf.sum(tf.mul(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, bias: bb, strides: 2, pad: 'same', activation: act, leakyreluAlpha: 0.2 }), tf.reshape(tf.range(1, 3 * 5 * 4 * 5 + 1), [3, 5, 4, 5])));
    const y = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: withBias ? b : undefined, strides: 2, pad: 'same', activation: act, leakyreluAlpha: 0.2 });
    const g = withBias ? tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => f(xx, ww, bb))([x, w, b]) : tf.grads((xx: tf.Tensor, ww: tf.Tensor) => f(xx, ww))([x, w]);
    return { y: y.dataSync() as Float32Array, g: g.map((t) => t.dataSync() as Float32Array) };
  });
}

describe('fused conv2d on the fast backend', () => {
  let backend = '';
  before(async () => {
    backend = (await installFastKernels({ threads: 2 })).backend;
  });
  after(async () => {
    tf.setBackend('cpu');
    await disposeFastKernels();
  });

  for (const act of ['linear', 'relu', 'leakyrelu'] as Act[]) {
    for (const withBias of [true, false]) {
      it(`${act}${withBias ? ' + bias' : ''}: value and the x, filter, bias gradients equal stock (≤1e-4)`, () => {
        const a = run(backend, act, withBias), b = run('cpu', act, withBias);
        assert.ok(relErr(a.y, b.y) <= 1e-4, `value ${relErr(a.y, b.y)}`);
        a.g.forEach((ga, i) => assert.ok(relErr(ga, b.g[i]!) <= 1e-4, `grad ${i}: ${relErr(ga, b.g[i]!)}`));
        assert.equal(a.g.length, withBias ? 3 : 2);
      });
    }
  }

  it('computes only the gradient parts asked for (no dx for an input batch, no dW for frozen weights)', () => {
    tf.setBackend(backend);
    const x = seeded([4, 16, 16, 3], 4), w = tf.variable(seeded([4, 4, 3, 8], 5)), b = tf.variable(seeded([8], 6));
    const loss = () => tf.sum(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as unknown as tf.Tensor4D, bias: b, strides: 2, pad: 'same' })) as tf.Scalar;
    const prof = profileKernels(backend);
    try {
      tf.dispose(tf.variableGrads(loss, [w]).grads);
      let ran = prof.table().map((r) => r.kernel);
      assert.ok(ran.includes('Conv2DBackpropFilter'), 'dW computed');
      assert.ok(!ran.includes('Conv2DBackpropInput'), 'no dx for the input batch');
      prof.reset();
      tf.dispose(tf.grad((xx: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: w as unknown as tf.Tensor4D, bias: b, strides: 2, pad: 'same' })))(x));
      ran = prof.table().map((r) => r.kernel);
      assert.ok(ran.includes('Conv2DBackpropInput'), 'dx computed');
      assert.ok(!ran.includes('Conv2DBackpropFilter'), 'no dW for weights nobody asked about');
    } finally {
      prof.stop();
      tf.dispose([x, w, b]);
    }
  });
});
