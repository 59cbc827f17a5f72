// The fast backend keeps kernel results in wasm memory and reuses freed blocks (kernels/
// wasm.ts, index.ts). These tests check the ownership rules that make that safe: what dataSync()
// returns is a copy that later kernels cannot overwrite; a stock kernel's view into a block (a
// simple Slice is a subarray) does not outlive the block; disposing frees; and training does not
// grow the memory step after step.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { disposeFastKernels, fastRuntime, installFastKernels } from '../../kernels/index';
import { Gan } from '../../trainer/gan';
import { PAPER_WEIGHTS } from '../../trainer/losses';
import { defaultPatchSpec } from '../../scorer/model-format';

function filled(shape: [number, number, number, number], v: number): tf.Tensor4D {
  return tf.fill(shape, v) as tf.Tensor4D;
}

describe('cpu-fast: tensors in wasm memory', () => {
  let backend = '';
  before(async () => {
    backend = (await installFastKernels({ threads: 2 })).backend;
    await tf.setBackend(backend);
  });
  after(async () => {
    await tf.setBackend('cpu');
    await disposeFastKernels();
  });

  it('a conv result lives in wasm memory; a later kernel reads it without a copy', () => {
    const rt = fastRuntime()!;
    const x = filled([2, 8, 8, 3], 0.5), w = filled([4, 4, 3, 5], 0.25);
    const y = tf.conv2d(x, w, 2, 'same');
    const values = (tf.engine().backend as unknown as { data: { get(id: object): { values: unknown } } }).data.get(y.dataId).values;
    assert.ok(rt.owns(values), 'the result is a view of wasm memory');
    const before = rt.heapBytes;
    const z = tf.conv2d(y, filled([1, 1, 5, 2], 1), 1, 'same');
    assert.ok(rt.heapBytes >= before);
    tf.dispose([x, w, y, z]);
  });

  it('dataSync() returns a copy: reusing the freed block does not change it', () => {
    const x = filled([2, 8, 8, 3], 1), w = filled([4, 4, 3, 4], 1);
    const y = tf.conv2d(x, w, 2, 'same');
    const got = y.dataSync();
    const expected = Float32Array.from(got);
    y.dispose();
    // Same shape: the allocator hands out the block y had.
    const y2 = tf.conv2d(tf.mul(x, -3) as tf.Tensor4D, w, 2, 'same');
    y2.dataSync();
    assert.deepEqual(Array.from(got), Array.from(expected));
    assert.ok(expected.some((v) => v !== 0));
    tf.dispose([x, w, y2]);
  });

  it('a stock Slice of a wasm-resident tensor keeps its values after the source is disposed', () => {
    const x = filled([1, 8, 8, 2], 1), w = filled([4, 4, 2, 3], 0.5);
    const y = tf.conv2d(x, w, 1, 'same');
    const s = tf.slice(y, [0, 0, 0, 0], [1, 2, 8, 3]); // leading rows: stock's subarray path
    const expected = Array.from(s.dataSync());
    y.dispose();
    for (let i = 0; i < 3; i++) tf.dispose(tf.conv2d(tf.mul(x, 7 + i) as tf.Tensor4D, w, 1, 'same'));
    assert.deepEqual(Array.from(s.dataSync()), expected);
    tf.dispose([x, w, s]);
  });

  it('variables assigned from kernel results keep their values across steps', () => {
    const v = tf.variable(tf.zeros([64]));
    for (let i = 1; i <= 3; i++) {
      v.assign(tf.add(v, tf.onesLike(v)));
      tf.dispose(tf.mul(tf.ones([64]), 100));
    }
    assert.deepEqual(Array.from(v.dataSync()), new Array(64).fill(3));
    v.dispose();
  });

  it('disposing frees: repeated kernels of one shape reuse the same memory', () => {
    const rt = fastRuntime()!;
    const x = filled([4, 16, 16, 3], 0.5), w = filled([4, 4, 3, 8], 0.1);
    const step = () => tf.tidy(() => { tf.relu(tf.conv2d(x, w, 2, 'same')); });
    for (let i = 0; i < 3; i++) step();
    const heap = rt.heapBytes;
    for (let i = 0; i < 20; i++) step();
    assert.equal(rt.heapBytes, heap);
    tf.dispose([x, w]);
  });

  it('asking for more than 4 GiB fails with a clear message, and the kernels keep working', () => {
    const rt = fastRuntime()!;
    assert.throws(() => rt.allocView(1.2e9), /out of WebAssembly memory .*smaller --batch or image size/);
    const y = tf.tidy(() => tf.sum(tf.add(filled([1, 64, 64, 4], 1), 1)));
    assert.equal(y.dataSync()[0], 2 * 64 * 64 * 4);
    y.dispose();
  });

  it('GAN training does not grow wasm memory after the first steps', () => {
    const rt = fastRuntime()!;
    const gan = new Gan({ shape: { height: 32, width: 32, channels: 3 }, weights: { ...PAPER_WEIGHTS }, patch: defaultPatchSpec(32), lr: 1e-3, beta1: 0.5, beta2: 0.999, seed: 1 });
    const xn = tf.randomUniform([8, 32, 32, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
    const xa = tf.randomUniform([8, 32, 32, 3], -1, 1, 'float32', 2) as tf.Tensor4D;
    const tensors = () => tf.memory().numTensors;
    for (let i = 0; i < 8; i++) gan.step(i % 2 ? xa : xn, i % 2 ? 'anomaly' : 'normal');
    const heap = rt.heapBytes, count = tensors();
    const losses: number[] = [];
    for (let i = 0; i < 12; i++) losses.push(gan.step(i % 2 ? xa : xn, i % 2 ? 'anomaly' : 'normal').generator);
    assert.equal(tensors(), count, 'no tensor leaks');
    assert.equal(rt.heapBytes, heap, 'wasm memory reused, not grown');
    assert.ok(losses.every(Number.isFinite));
    gan.dispose();
    tf.dispose([xn, xa]);
  });
});
