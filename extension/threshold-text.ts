/**
 * The Models view tooltip's threshold lines: how the threshold was chosen and the false-alarm and
 * detection rates it is expected to give, as percentages (no `vscode`: unit-tested).
 */
import type { ModelInfo } from '../scorer/model-format';

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.1 ? 2 : 1)} %`;

export function thresholdTooltipLines(info: Pick<ModelInfo, 'threshold' | 'thresholdRule'>): string[] {
  const r = info.thresholdRule;
  if (!r) return ['threshold rule: not recorded (a model from before rules were recorded); set one with flawscope calibrate'];
  const on = r.source === 'validation' ? `the ${r.validationNormals} normal validation images` : `${r.validationNormals} normal images of ${r.source}`;
  const rule = r.method === 'defect-rate'
    ? `threshold rule: best F1 at an expected defect rate of ${pct(r.target)}`
    : r.confidence !== undefined
      ? `threshold rule: at most ${pct(r.target)} false alarms on new normal images, with ${pct(r.confidence)} confidence (${r.bound === 'order-statistic' ? 'distribution-free bound' : r.bound === 'too-few' ? 'too few normal images for a bound: their highest score' : `${r.bound} tolerance bound`} from ${on})`
      : `threshold rule: at most ${pct(r.target)} false alarms on ${on}`;
  const fa = `expected false alarms: ${pct(r.expectedFalseAlarmRate)} of ${on}`;
  const det = r.expectedDetectionRate === null ? 'expected detection: not measured (no anomalies)' : `expected detection: ${pct(r.expectedDetectionRate)} of ${r.validationAnomalies} anomalies`;
  return [rule, fa, det];
}
