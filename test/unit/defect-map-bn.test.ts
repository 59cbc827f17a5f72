import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildDefectMap, bnName } from '../../trainer/defect-map/network';
import { foldBatchNorm } from '../../trainer/defect-map/fold-bn';
import { MapBatchNorm } from '../../trainer/defect-map/batch-norm';
import { Rng } from '../../trainer/rng';

before(() => tf.setBackend('cpu'));

const shape = { height: 32, width: 32, channels: 1 as const };
const stats = { inputStats: { mean: [0.1, -0.2, 0.05], std: [0.5, 0.4, 0.02] }, prior: 0.2 };

/** Gives every BN layer statistics far from the identity (as training would), so a missing or wrong fold shows. */
function randomiseBn(m: tfl.LayersModel, seed: number) {
  const rng = new Rng(seed);
  const u = (n: number, lo: number, hi: number) => tf.tensor1d(Array.from({ length: n }, () => lo + (hi - lo) * rng.next()));
  for (const l of m.layers) {
    if (!['BatchNormalization', 'MapBatchNorm'].includes(l.getClassName())) continue;
    const n = l.getWeights()[0].size;
    // MapBatchNorm's fifth weight, its batch count: past the warm start, so its update is Keras'.
    l.setWeights([u(n, 0.5, 2), u(n, -0.5, 0.5), u(n, -0.3, 0.3), u(n, 0.2, 3), ...(l.getWeights().length > 4 ? [tf.tensor1d([1000])] : [])]);
  }
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

test('batchNorm builds conv → BN → leaky ReLU after every hidden conv and transposed conv, not the input standardisation or the output', () => {
  const m = buildDefectMap(shape, 0, { ...stats, batchNorm: true });
  const bn = m.layers.filter((l) => l.getClassName() === 'MapBatchNorm').map((l) => l.name);
  assert.deepEqual(bn, ['map_stem', 'map_enc1', 'map_enc2', 'map_enc3', 'map_enc4', 'map_context', 'map_dec1', 'map_dec2', 'map_dec3', 'map_dec4'].map(bnName));
  assert.ok(m.getLayer('map_dec1').getClassName() === 'Conv2DTranspose');
  // The conv's bias would duplicate BN's β.
  assert.equal(m.getLayer('map_enc1').getWeights().length, 1);
  assert.equal(m.getLayer('map_out').getWeights().length, 2);
});

test('the folded plain map gives the BN map\'s inference output (moving statistics) within 1e-4, conv and transposed conv alike', () => {
  const bnNet = buildDefectMap(shape, 3, { ...stats, batchNorm: true });
  randomiseBn(bnNet, 7);
  const plain = buildDefectMap(shape, 11, stats);
  foldBatchNorm(bnNet, plain);
  // The plain topology: only the layer kinds the scorers load.
  assert.deepEqual([...new Set(plain.layers.map((l) => l.getClassName()))].sort(), ['Concatenate', 'Conv2D', 'Conv2DTranspose', 'InputLayer', 'LeakyReLU']);
  const x = tf.randomUniform([3, 32, 32, 3], -1, 1, 'float32', 5);
  // The output's pre-sigmoid logit is where a folding error is least hidden by saturation: compare the last hidden layer too.
  const hidden = (m: tfl.LayersModel) => tfl.model({ inputs: m.inputs, outputs: m.getLayer('map_skip4').output as tfl.SymbolicTensor });
  const hb = hidden(bnNet).predict(x) as tf.Tensor, hp = hidden(plain).predict(x) as tf.Tensor;
  assert.ok(maxDiff(hb, hp) <= 1e-4 * Math.max(1, tf.max(tf.abs(hb)).dataSync()[0]), `hidden max |diff| ${maxDiff(hb, hp)}`);
  const yb = bnNet.predict(x) as tf.Tensor, yp = plain.predict(x) as tf.Tensor;
  assert.ok(maxDiff(yb, yp) <= 1e-4, `output max |diff| ${maxDiff(yb, yp)}`);
  // Inference mode is not training mode: batch statistics would give another map (what the fold must not reproduce).
  const yt = bnNet.apply(x, { training: true }) as tf.Tensor;
  assert.ok(maxDiff(yt, yp) > 1e-3);
});

test('one conv2d and one conv2dTranspose with BN fold exactly (kernel layouts [kh,kw,in,out] and [kh,kw,out,in])', () => {
  for (const kind of ['conv2d', 'conv2dTranspose'] as const) {
    const make = (bn: boolean) => {
      const input = tfl.input({ shape: [8, 8, 3] });
      const layer = tfl.layers[kind]({ filters: 5, kernelSize: 4, strides: 2, padding: 'same', useBias: !bn, name: 'c', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) });
      let y = layer.apply(input) as tfl.SymbolicTensor;
      if (bn) y = tfl.layers.batchNormalization({ epsilon: 1e-3, name: bnName('c') }).apply(y) as tfl.SymbolicTensor;
      return tfl.model({ inputs: input, outputs: y });
    };
    const b = make(true), p = make(false);
    randomiseBn(b, 9);
    foldBatchNorm(b, p);
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 2);
    const d = maxDiff(b.predict(x) as tf.Tensor, p.predict(x) as tf.Tensor);
    assert.ok(d <= 1e-4, `${kind}: max |diff| ${d}`);
  }
});

test('fold refuses networks that do not match layer for layer', () => {
  const bnNet = buildDefectMap(shape, 0, { ...stats, batchNorm: true });
  const other = buildDefectMap({ height: 32, width: 32, channels: 3 }, 0);
  assert.throws(() => foldBatchNorm(bnNet, other), /kernel|no layer/);
});

test('MapBatchNorm = tfjs-layers BatchNormalization: training output, input and γ/β gradients, moving statistics, inference output', () => {
  const make = (ours: boolean) => {
    const input = tfl.input({ shape: [6, 5, 4] });
    const layer = ours ? new MapBatchNorm({ name: 'n', epsilon: 1e-3 }) : tfl.layers.batchNormalization({ name: 'n', epsilon: 1e-3 });
    return { model: tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor }), layer };
  };
  const a = make(true), b = make(false);
  randomiseBn(a.model, 4);
  b.model.setWeights(a.model.getWeights().slice(0, 4));
  const x = tf.randomNormal([3, 6, 5, 4], 0.7, 2, 'float32', 8);
  const dy = tf.randomNormal([3, 6, 5, 4], 0, 1, 'float32', 9);
  const run = (m: tfl.LayersModel) => {
    const f = () => tf.sum(tf.mul(m.apply(x, { training: true }) as tf.Tensor, dy)) as tf.Scalar;
    const vars = m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const { value, grads: g } = tf.variableGrads(f, vars);
    const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(m.apply(xi, { training: true }) as tf.Tensor, dy)))(x);
    return { value: value.dataSync()[0], g: vars.map((v) => g[v.name]), dx };
  };
  const ra = run(a.model), rb = run(b.model);
  assert.ok(Math.abs(ra.value - rb.value) <= 1e-3 * Math.max(1, Math.abs(rb.value)), `${ra.value} vs ${rb.value}`);
  ra.g.forEach((g, i) => assert.ok(maxDiff(g, rb.g[i]) <= 1e-3, `γ/β gradient ${i}: ${maxDiff(g, rb.g[i])}`));
  assert.ok(maxDiff(ra.dx, rb.dx) <= 1e-4, `input gradient ${maxDiff(ra.dx, rb.dx)}`);
  // Both ran training mode three times (variableGrads, grad): the moving statistics moved alike.
  b.model.getWeights().forEach((w, i) => assert.ok(maxDiff(w, a.model.getWeights()[i]) <= 1e-5, `weight ${i}`));
  assert.ok(maxDiff(a.model.getWeights()[2], tf.zeros([4])) > 1e-3, 'the moving mean moved');
  assert.ok(maxDiff(a.model.predict(x) as tf.Tensor, b.model.predict(x) as tf.Tensor) <= 1e-4);
});

test('MapBatchNorm\'s moving statistics start as the plain average of the batches seen (not pulled toward 0 and 1), then move as Keras\'', () => {
  const input = tfl.input({ shape: [4, 4, 2] });
  const layer = new MapBatchNorm({ name: 'n', epsilon: 1e-3 });
  const m = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
  const xs = [tf.randomNormal([5, 4, 4, 2], 3, 2, 'float32', 1), tf.randomNormal([5, 4, 4, 2], -1, 0.5, 'float32', 2)];
  xs.forEach((x) => m.apply(x, { training: true }));
  const stats = (x: tf.Tensor) => tf.moments(x, [0, 1, 2]);
  const [s0, s1] = xs.map(stats);
  const w = m.getWeights();
  assert.ok(maxDiff(w[2], tf.div(tf.add(s0.mean, s1.mean), 2)) <= 1e-5, 'moving mean = average of the two batch means');
  assert.ok(maxDiff(w[3], tf.div(tf.add(s0.variance, s1.variance), 2)) <= 1e-4, 'moving variance = average of the two batch variances');
  assert.equal(w[4].dataSync()[0], 2);
});
