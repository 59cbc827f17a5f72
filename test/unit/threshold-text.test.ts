// The Models view tooltip's threshold lines (extension/threshold-text.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thresholdTooltipLines } from '../../extension/threshold-text';
import type { ThresholdRule } from '../../scorer/model-format';

const base: ThresholdRule = { method: 'false-alarm-rate', target: 0.01, expectedFalseAlarmRate: 0, expectedDetectionRate: 0.9778, validationNormals: 15, validationAnomalies: 135, source: 'validation', chosenAt: '2026-12-05T00:00:00Z' };

test('the tolerance-bound rule with its expected rates as percentages', () => {
  assert.deepEqual(thresholdTooltipLines({ threshold: 0.12, thresholdRule: { ...base, confidence: 0.9, bound: 'log-normal' } }), [
    'threshold rule: at most 1.00 % false alarms on new normal images, with 90.0 % confidence (log-normal tolerance bound from the 15 normal validation images)',
    'expected false alarms: 0.0 % of the 15 normal validation images',
    'expected detection: 97.8 % of 135 anomalies',
  ]);
});

test('calibrated on a folder, the defect-rate rule, no anomalies, and a model without a rule', () => {
  const cal = thresholdTooltipLines({ threshold: 1, thresholdRule: { ...base, source: '/data/line-3', validationNormals: 300, expectedFalseAlarmRate: 0.0067, expectedDetectionRate: null } });
  assert.deepEqual(cal, ['threshold rule: at most 1.00 % false alarms on 300 normal images of /data/line-3', 'expected false alarms: 0.67 % of 300 normal images of /data/line-3', 'expected detection: not measured (no anomalies)']);
  assert.match(thresholdTooltipLines({ threshold: 1, thresholdRule: { ...base, method: 'defect-rate', target: 0.05 } })[0], /best F1 at an expected defect rate of 5.00 %/);
  assert.match(thresholdTooltipLines({ threshold: 1 })[0], /not recorded/);
});
