import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount, formatDuration, formatPercent, formatScore } from '../../shared/format';

test('counts are integers with grouping; missing values are a dash', () => {
  assert.equal(formatCount(2), '2');
  assert.equal(formatCount(2.0), '2');
  assert.equal(formatCount(12345), '12,345');
  assert.equal(formatCount(2.6), '3');
  assert.equal(formatCount(null), '–');
  assert.equal(formatCount(NaN), '–');
});

test('rates are percentages', () => {
  assert.equal(formatPercent(0.93125), '93.1 %');
  assert.equal(formatPercent(1), '100.0 %');
  assert.equal(formatPercent(0.5, 0), '50 %');
  assert.equal(formatPercent(null), '–');
});

test('durations read as hours and minutes, not seconds', () => {
  assert.equal(formatDuration(17075), '4 h 45 min');
  assert.equal(formatDuration(7200), '2 h');
  assert.equal(formatDuration(425), '7 min 5 s');
  assert.equal(formatDuration(120), '2 min');
  assert.equal(formatDuration(42.4), '42 s');
  assert.equal(formatDuration(-1), '');
  assert.equal(formatDuration(Infinity), '');
});

test('scores keep four significant digits', () => {
  assert.equal(formatScore(1.066123), '1.066');
  assert.equal(formatScore(0.00012345), '1.23e-4');
  assert.equal(formatScore(0), '0');
  assert.equal(formatScore(undefined), '–');
});
