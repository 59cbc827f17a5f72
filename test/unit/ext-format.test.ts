// shared/format.ts: how durations, counts, rates and metrics read, and that every AUROC names its split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAuroc, formatCount, formatDuration, formatMetric, formatMetricValue, formatPercent, headlineAuroc, keptEpochText, metricLabel, trainedSummary } from '../../shared/format';

test('durations read as hours and minutes, never as thousands of seconds', () => {
  assert.equal(formatDuration(17075), '4 h 45 min');
  assert.equal(formatDuration(3725), '1 h 2 min');
  assert.equal(formatDuration(10790), '3 h'); // 2 h 59.8 min rounds to a whole hour, not "2 h 60 min"
  assert.equal(formatDuration(185), '3 min 5 s');
  assert.equal(formatDuration(59.6), '1 min');
  assert.equal(formatDuration(-1), '');
});

test('AUROC three decimals; missing figures a dash', () => {
  assert.equal(formatAuroc(0.91234), '0.912');
  assert.equal(formatAuroc(null), '–');
  assert.equal(formatCount(2.0), '2');
  assert.equal(formatPercent(0.01), '1.0 %');
});

test('metric values by what the key measures', () => {
  assert.equal(formatMetricValue('bestEpoch', 2), '2');
  assert.equal(formatMetricValue('testAuroc', 0.8), '0.800');
  assert.equal(formatMetricValue('falseAlarmRate', 0.012), '1.2 %');
  assert.equal(formatMetricValue('trainSeconds', 17075), '4 h 45 min');
  assert.equal(formatMetricValue('meanScore', 1.23456), '1.235');
  assert.equal(formatMetricValue('valAuroc', null), '–');
});

test('every AUROC says which split it is from', () => {
  assert.equal(metricLabel('testAuroc'), 'test AUROC');
  assert.equal(metricLabel('valAuroc'), 'validation AUROC');
  assert.equal(metricLabel('bestValAuroc'), 'best validation AUROC');
  assert.equal(metricLabel('falseAlarmRate'), 'false alarm rate');
  assert.equal(formatMetric('testAuroc', 0.9), 'test AUROC 0.900');
  assert.equal(formatMetric('bestEpoch', 2), 'kept epoch 2');
});

test('the headline AUROC is the test one when measured, else validation', () => {
  assert.deepEqual(headlineAuroc({ valAuroc: 0.7, testAuroc: 0.8 }), { key: 'testAuroc', value: 0.8 });
  assert.deepEqual(headlineAuroc({ valAuroc: 0.7, testAuroc: null }), { key: 'valAuroc', value: 0.7 });
  assert.equal(headlineAuroc({ bestEpoch: 3 }), null);
});

test('the kept epoch says why', () => {
  assert.equal(keptEpochText(2, 30, 0.9512), 'kept epoch 2 of 30: validation AUROC peaked there (0.951)');
  assert.match(keptEpochText(1, 5, null), /^kept epoch 1 of 5: validation has no anomalies/);
});

test('a finished training is summed up with every figure labelled and the kept epoch explained', () => {
  assert.equal(trainedSummary({ testAuroc: 0.9123, valAuroc: 0.95, bestEpoch: 2 }, 30), 'test AUROC 0.912 · validation AUROC 0.950 · kept epoch 2 of 30: validation AUROC peaked there (0.950)');
  assert.equal(trainedSummary({ testAuroc: null, valAuroc: null, bestEpoch: 1 }, 3), 'no test split · kept epoch 1 of 3: validation has no anomalies to choose an epoch by, so the first was kept');
});
