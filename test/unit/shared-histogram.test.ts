import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binSeries } from '../../shared/histogram';

test('two series share one range; the maximum lands in the last bin', () => {
  const h = binSeries([[0, 1, 2], [3, 4]], 4);
  assert.equal(h.start, 0);
  assert.equal(h.width, 1);
  assert.deepEqual(h.counts, [[1, 1, 1, 0], [0, 0, 0, 2]]);
});

test('every finite value is counted exactly once; NaN and Infinity are left out', () => {
  const a = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
  const h = binSeries([[...a, NaN, Infinity]], 7);
  assert.equal(h.counts[0].reduce((s, c) => s + c, 0), 1000);
  assert.equal(h.counts[0].length, 7);
});

test('all values equal: one bin holds them all, no division by zero', () => {
  const h = binSeries([[2, 2, 2]], 5);
  assert.ok(Number.isFinite(h.width) && h.width > 0);
  assert.equal(h.counts[0].reduce((s, c) => s + c, 0), 3);
});

test('no values: empty bins, and a bad bin count is refused', () => {
  assert.deepEqual(binSeries([[], []], 2).counts, [[0, 0], [0, 0]]);
  assert.throws(() => binSeries([[1]], 0), /positive integer/);
});
