import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelRegions, ProCurve } from '../../trainer/metrics/aupro';

// 3 x 4 map; two regions: A = the top-left pair, B = the bottom-right pixel; 9 normal pixels.
const MASK = [
  1, 1, 0, 0,
  0, 0, 0, 0,
  0, 0, 0, 1,
];
const MAP = [
  0.9, 0.3, 0.8, 0.1,
  0.1, 0.1, 0.1, 0.1,
  0.1, 0.1, 0.1, 0.7,
];

test('AUPRO matches the hand-computed curve (per-region overlap, integrated to FPR 0.3)', () => {
  // Thresholds down: 0.9 → PRO (1/2 + 0)/2 = 0.25 at FPR 0; 0.8 → FPR 1/9; 0.7 → PRO 0.75; 0.3 → PRO 1;
  // 0.1 → FPR 1. Area to 0.3: 0.25 · 1/9 (the flat start) + 1 · (0.3 − 1/9); divided by 0.3.
  const expected = (0.25 / 9 + (0.3 - 1 / 9)) / 0.3;
  const c = new ProCurve();
  c.add(MAP, MASK, 4, 3);
  assert.ok(Math.abs(c.aupro() - expected) < 1e-9, `${c.aupro()} vs ${expected}`);
  // Per pixel (pixel AUROC's weighting) the first point would be 1/3 of the defect pixels, not 0.25.
});

test('AUPRO is 1 for a map that separates every region, NaN without regions', () => {
  const c = new ProCurve();
  c.add(MASK.map((m) => (m ? 0.9 : 0.2)), MASK, 4, 3);
  assert.equal(c.aupro(), 1);
  const none = new ProCurve();
  none.add(MAP, new Array(12).fill(0), 4, 3);
  assert.ok(Number.isNaN(none.aupro()));
});

test('labelRegions joins diagonal neighbours (8-connected, as MVTec labels regions)', () => {
  const { labels, sizes } = labelRegions([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], 3, 4);
  assert.deepEqual(sizes, [0, 3]);
  assert.deepEqual(Array.from(labels), [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
  const two = labelRegions([1, 1, 0, 0, 0, 0, 0, 0, 1], 3, 3);
  assert.deepEqual(two.sizes, [0, 2, 1]);
});
