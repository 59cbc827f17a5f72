import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc, f1OptimalThreshold, rocCurve } from '../../trainer/metrics';

test('AUROC on a hand-computed case (0.75) and the perfect/inverted cases', () => {
  assert.equal(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(auroc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
  assert.equal(auroc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
});

test('AUROC counts ties as half', () => {
  assert.equal(auroc([1, 1], [0, 1]), 0.5);
  // pairs (anomaly, normal): (2 vs 1) win, (2 vs 2) tie, (3 vs 1) win, (3 vs 2) win → 3.5 / 4
  assert.equal(auroc([1, 2, 2, 3], [0, 0, 1, 1]), 0.875);
});

test('AUROC is NaN when one class is missing', () => {
  assert.ok(Number.isNaN(auroc([1, 2], [0, 0])));
});

test('ROC curve points and F1-optimal threshold', () => {
  const pts = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
  assert.deepEqual(pts.map((p) => [p.fpr, p.tpr]), [[0, 0], [0, 0.5], [0.5, 0.5], [0.5, 1], [1, 1]]);
  // thresholds: ≥0.8 → F1 2/3; ≥0.4 → tp1 fp1 → 0.5; ≥0.35 → tp2 fp1 → 0.8; ≥0.1 → 2/3
  const best = f1OptimalThreshold([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
  assert.equal(best.threshold, 0.35);
  assert.ok(Math.abs(best.f1 - 0.8) < 1e-12);
});
