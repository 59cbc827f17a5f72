/** Evaluation metrics on hand-computed cases: pixel AUROC, per-class AUROC, confusion at a threshold, ROC thinning. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pixelAuroc } from '../../trainer/eval/pixel';
import { confusionAt, perClassAuroc, thinRoc } from '../../trainer/eval/evaluate';
import { meanSd } from '../../trainer/eval/report';
import { rocCurve } from '../../trainer/metrics';

test('pixel AUROC pools every pixel of every image (hand-computed 0.75)', () => {
  // image A: pixels 0.1 (normal) 0.8 (defect); image B: 0.4 (normal) 0.35 (defect)
  // pairs defect>normal: 0.8>0.1, 0.8>0.4, 0.35>0.1, 0.35<0.4 → 3/4
  assert.equal(pixelAuroc([[0.1, 0.8], [0.4, 0.35]], [[0, 1], [0, 1]]), 0.75);
  // ties count half
  assert.equal(pixelAuroc([[1, 1]], [[0, 1]]), 0.5);
  // no defect pixel at all → no AUROC
  assert.equal(pixelAuroc([[0.1, 0.2]], [[0, 0]]), null);
  assert.throws(() => pixelAuroc([[0.1, 0.2]], [[0]]), /mask pixels/);
});

test('pixel AUROC thins very large inputs deterministically, keeping the answer on a separable case', () => {
  const e = Float32Array.from({ length: 10000 }, (_, i) => (i % 2 ? 1 + i / 1e5 : i / 1e5));
  const l = Uint8Array.from({ length: 10000 }, (_, i) => i % 2);
  // stride 3 keeps both labels; still perfectly separable
  assert.equal(pixelAuroc([e], [l], 4000), 1);
});

test('per-class AUROC compares the normal images with one anomaly class at a time', () => {
  const scores = [0.1, 0.2, 0.9, 0.8, 0.15, 0.3];
  const labels = Uint8Array.from([0, 0, 1, 1, 1, 1]);
  const classes = ['n', 'n', 'a', 'a', 'b', 'b'];
  const r = perClassAuroc(scores, labels, classes);
  assert.deepEqual(r.map((c) => c.className), ['a', 'b', 'n']);
  assert.equal(r[0].auroc, 1);
  // b: 0.15 vs {0.1, 0.2} → 1 win 1 loss; 0.3 → 2 wins → 3/4
  assert.equal(r[1].auroc, 0.75);
  assert.equal(r[2].anomaly, false);
  assert.equal(r[2].auroc, null);
  assert.ok(Math.abs(r[2].meanScore - 0.15) < 1e-12);
  assert.deepEqual(perClassAuroc(scores, labels, undefined), []);
});

test('precision, recall and F1 at a threshold (anomaly when score > threshold)', () => {
  const c = confusionAt([0.1, 0.5, 0.6, 0.9], [0, 1, 0, 1], 0.5);
  assert.deepEqual([c.tp, c.fp, c.fn, c.tn], [1, 1, 1, 1]);
  assert.equal(c.precision, 0.5);
  assert.equal(c.recall, 0.5);
  assert.equal(c.f1, 0.5);
  assert.equal(c.accuracy, 0.5);
  const none = confusionAt([0.1, 0.2], [0, 1], 1);
  assert.equal(none.precision, null);
  assert.equal(none.recall, 0);
});

test('ROC thinning keeps both ends and the point count bounded', () => {
  const s = Array.from({ length: 5000 }, (_, i) => Math.sin(i) + (i % 3 === 0 ? 1 : 0));
  const l = s.map((_, i) => (i % 3 === 0 ? 1 : 0));
  const full = rocCurve(s, l);
  const t = thinRoc(full, 100);
  assert.equal(t.length, 100);
  assert.deepEqual(t[0], full[0]);
  assert.deepEqual(t[99], full[full.length - 1]);
  assert.equal(thinRoc(full.slice(0, 10), 100).length, 10);
});

test('mean and population SD over classes', () => {
  assert.deepEqual(meanSd([0.9, 1.0]), { mean: 0.95, sd: 0.04999999999999999 });
  assert.deepEqual(meanSd([]), { mean: null, sd: null });
});
