/**
 * The generator's weight average (GanOptions.weightAverage, `flawscope train --weight-average`):
 * the update rule and its ramp computed by hand, the training trajectory left as it is, the swap in
 * and out for validation, and the checkpoint round trip.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Gan } from '../../trainer/gan';
import { PAPER_WEIGHTS } from '../../trainer/losses';
import { defaultPatchSpec } from '../../scorer/model-format';

before(() => tf.setBackend('cpu'));

const SIZE = 16;
const make = (weightAverage?: number) =>
  new Gan({ shape: { height: SIZE, width: SIZE, channels: 1 }, weights: { ...PAPER_WEIGHTS }, patch: defaultPatchSpec(SIZE), lr: 1e-2, beta1: 0.5, beta2: 0.999, seed: 5, weightAverage });
const batch = (k: number) => tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([4, SIZE, SIZE, 1], 0, 1, 'float32', k), 2), 1) as tf.Tensor4D);
const gWeights = (g: Gan) => g.generator.weights.map((w) => w.read().dataSync().slice() as Float32Array);
const values = (ts: tf.Tensor[]) => ts.map((t) => t.dataSync().slice() as Float32Array);

function assertClose(a: Float32Array[], b: Float32Array[], tol: number, what: string) {
  assert.equal(a.length, b.length, what);
  a.forEach((x, i) => x.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) <= tol, `${what}: weight ${i}[${j}] ${v} vs ${b[i][j]}`)));
}

test('after generator steps 1 and 2 the average is d·avg + (1−d)·w with d = 2/11, then 3/12 (the ramp), not the decay itself', () => {
  const gan = make(0.999);
  const w0 = gWeights(gan);
  const x = batch(1);
  gan.step(x, 'normal');
  const w1 = gWeights(gan);
  const a1 = gan.averagedWeights()!;
  const want1 = w0.map((w, i) => w.map((v, j) => (2 / 11) * v + (9 / 11) * w1[i][j]));
  assertClose(values(a1), want1, 1e-6, 'step 1');
  assert.ok(w0.some((w, i) => w.some((v, j) => Math.abs(v - w1[i][j]) > 1e-4)), 'the step moved the weights (else the check proves nothing)');
  gan.step(x, 'anomaly');
  const w2 = gWeights(gan);
  const want2 = want1.map((w, i) => w.map((v, j) => (3 / 12) * v + (9 / 12) * w2[i][j]));
  assertClose(values(gan.averagedWeights()!), want2, 1e-6, 'step 2');
  tf.dispose([x, ...a1]);
  gan.dispose();
});

test('the average leaves training as it is: same seed, same trained weights with and without it', () => {
  const [plain, averaged] = [make(), make(0.9)];
  assert.equal(plain.averaging, false);
  assert.equal(plain.averagedWeights(), null);
  assert.equal(averaged.averaging, true);
  for (const [k, g] of [[1, 'normal'], [2, 'anomaly'], [3, 'normal']] as const) {
    const x = batch(k);
    plain.step(x, g);
    averaged.step(x, g);
    x.dispose();
  }
  assertClose(gWeights(plain), gWeights(averaged), 0, 'trained weights');
  plain.dispose();
  averaged.dispose();
});

test('withAveragedWeights: the generator predicts with the average inside, the trained weights come back after (also on a throw)', async () => {
  const gan = make(0.9);
  const x = batch(4);
  for (let i = 0; i < 3; i++) gan.step(x, 'normal');
  const trained = gWeights(gan);
  const avg = values(gan.averagedWeights()!);
  const inside = await gan.withAveragedWeights(async () => gWeights(gan));
  assertClose(inside, avg, 0, 'inside');
  assertClose(gWeights(gan), trained, 0, 'after');
  await assert.rejects(gan.withAveragedWeights(async () => { throw new Error('boom'); }), /boom/);
  assertClose(gWeights(gan), trained, 0, 'after a throw');
  const before = tf.memory().numTensors;
  await gan.withAveragedWeights(async () => undefined);
  assert.equal(tf.memory().numTensors, before, 'no tensors leak from the swap');
  x.dispose();
  gan.dispose();
});

test('checkpoint state carries the average; a restored Gan continues the same average (and the same ramp)', async () => {
  const a = make(0.99);
  const x = batch(6);
  a.step(x, 'normal');
  a.step(x, 'anomaly');
  const state = await a.stateTensors();
  assert.ok(state.some((t) => t.name === 'avg/0'), 'average in the checkpoint');
  const b = make(0.99);
  await b.restoreState(new Map(state.map((t) => [t.name, t.tensor])));
  assertClose(values(b.averagedWeights()!), values(a.averagedWeights()!), 0, 'restored average');
  a.step(x, 'normal');
  b.step(x, 'normal');
  assertClose(values(b.averagedWeights()!), values(a.averagedWeights()!), 1e-6, 'one step after restoring');
  const plain = make();
  await assert.rejects(b.restoreState(new Map((await plain.stateTensors()).map((t) => [t.name, t.tensor]))), /missing tensor "avg\/0"/);
  x.dispose();
  for (const g of [a, b, plain]) g.dispose();
});
