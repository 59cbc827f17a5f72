/**
 * The threshold rules (trainer/threshold.ts) on hand-made score lists: exact thresholds, ties,
 * small validation sets, no anomalies; the defect-rate rule against a brute-force F1 over every
 * candidate, and the record flawscope.json keeps checked by the model-format validator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedFalseAlarms, binomialTail, smallSampleWarning, chooseThreshold, defectRateThreshold, falseAlarmRateThreshold, normalQuantile, ruleRecord, ThresholdRuleError, toleranceFactor, toleranceThreshold } from '../../trainer/threshold';
import { thresholdRuleSchema } from '../../scorer/model-info';
import { thresholdRequest } from '../../trainer/train-config';
import { createRng } from '../../trainer/rng';
import { thresholdRecordError, validateModelInfo } from '../../scorer/model-format';

const TEN = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const shuffled = [0.5, 1.0, 0.2, 0.7, 0.1, 0.9, 0.4, 0.3, 0.8, 0.6];

test('false-alarm rate: the (floor(R·n)+1)-th highest normal score; at most R of the normals score above it', () => {
  assert.equal(falseAlarmRateThreshold(shuffled, 0.1), 0.9, 'k = 1: only 1.0 is above');
  assert.equal(falseAlarmRateThreshold(shuffled, 0.2), 0.8);
  assert.equal(falseAlarmRateThreshold(shuffled, 0.25), 0.8, 'floor(2.5) = 2');
  assert.equal(falseAlarmRateThreshold(shuffled, 0.5), 0.5);
  assert.equal(falseAlarmRateThreshold(shuffled, 0.05), 1.0, 'R·n < 1: the highest normal, so no normal is flagged');
  const c = chooseThreshold(shuffled, [], { method: 'false-alarm-rate', target: 0.3 });
  assert.deepEqual(c, { threshold: 0.7, expectedFalseAlarmRate: 0.3, expectedDetectionRate: null, normals: 10, anomalies: 0 });
});

test('false-alarm rate on small sets: 30 normals at 1 % → above the highest; one normal → its score', () => {
  const thirty = Array.from({ length: 30 }, (_, i) => 0.8 + i / 1000);
  const c = chooseThreshold(thirty, [0.5, thirty[29], 0.9], { method: 'false-alarm-rate', target: 0.01 });
  assert.equal(c.threshold, thirty[29]);
  assert.equal(c.expectedFalseAlarmRate, 0);
  assert.equal(c.expectedDetectionRate, 1 / 3, 'an anomaly tied with the highest normal is not flagged (score must be above)');
  assert.equal(falseAlarmRateThreshold([0.7], 0.5), 0.7);
  assert.equal(falseAlarmRateThreshold([0.7], 0.01), 0.7);
});

test('false-alarm rate with ties: normals tied at the threshold are not flagged, so fewer than R may be', () => {
  const n = [5, 5, 5, 4, 3, 2, 1, 1, 1, 1];
  const one = chooseThreshold(n, [], { method: 'false-alarm-rate', target: 0.1 });
  assert.equal(one.threshold, 5);
  assert.equal(one.expectedFalseAlarmRate, 0, 'three tied at the top: flagging one of them is impossible');
  const three = chooseThreshold(n, [], { method: 'false-alarm-rate', target: 0.3 });
  assert.equal(three.threshold, 4);
  assert.equal(three.expectedFalseAlarmRate, 0.3);
  assert.equal(falseAlarmRateThreshold([2, 2, 2, 2], 0.5), 2, 'all tied: nothing flagged');
});

test('R·n is floored with a tolerance for floating point (0.29 × 100 is 28.999…)', () => {
  assert.equal(allowedFalseAlarms(0.29, 100), 29);
  assert.equal(allowedFalseAlarms(0.05, 40), 2);
  assert.equal(allowedFalseAlarms(0.01, 30), 0);
  assert.equal(allowedFalseAlarms(0.01, 99), 0);
  assert.equal(allowedFalseAlarms(0.01, 100), 1);
  const hundred = Array.from({ length: 100 }, (_, i) => i);
  assert.equal(falseAlarmRateThreshold(hundred, 0.29), 70, '29 normals (71..99) above 70');
});

test('detection rate: the share of anomalies strictly above the threshold', () => {
  const c = chooseThreshold([1, 2, 3, 4], [2.5, 3, 3.5, 10], { method: 'false-alarm-rate', target: 0.25 });
  assert.equal(c.threshold, 3);
  assert.equal(c.expectedFalseAlarmRate, 0.25);
  assert.equal(c.expectedDetectionRate, 0.5);
});

test('defect rate: F1 with the anomalies weighted to the prior, not the split\'s class mix', () => {
  const n = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const a = [5.5, 9.5, 11];
  // P = 0.1: wA = 0.1·10 / (0.9·3) = 0.370; best F1 0.519 at 9 (flags 11, 10, 9.5).
  assert.equal(defectRateThreshold(n, a, 0.1), 9);
  // P = 0.5: wA = 3.33; best F1 0.8 at 5 (flags every anomaly and five normals).
  assert.equal(defectRateThreshold(n, a, 0.5), 5);
  const c = chooseThreshold(n, a, { method: 'defect-rate', target: 0.1 });
  assert.deepEqual(c, { threshold: 9, expectedFalseAlarmRate: 0.1, expectedDetectionRate: 2 / 3, normals: 10, anomalies: 3 });
});

test('defect rate: equal F1 goes to the higher threshold (fewer alarms)', () => {
  // P = 0.25, wA = 0.5: threshold 3 (flags 5) and 0 (flags 5, 3, 2) both give F1 2/3.
  assert.equal(defectRateThreshold([3, 0, 0], [5, 2], 0.25), 3);
});

/** Every distinct score tried, F1 computed from scratch; first best in descending order. */
function bruteForce(n: number[], a: number[], p: number): number {
  const wA = (p * n.length) / ((1 - p) * a.length);
  let best = { t: NaN, f1: -1 };
  for (const t of [...new Set([...n, ...a])].sort((x, y) => y - x)) {
    const tp = a.filter((v) => v > t).length, fp = n.filter((v) => v > t).length;
    const f1 = tp === 0 ? 0 : (2 * wA * tp) / (2 * wA * tp + fp + wA * (a.length - tp));
    if (f1 > best.f1 + 1e-12) best = { t, f1 };
  }
  return best.t;
}

test('defect rate agrees with a brute-force search on random lists full of ties', () => {
  let s = 7;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let it = 0; it < 500; it++) {
    const n = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 8));
    const a = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => Math.floor(rnd() * 8) + 1);
    const p = [0.01, 0.05, 0.1, 0.3, 0.5][it % 5];
    assert.equal(defectRateThreshold(n, a, p), bruteForce(n, a, p), JSON.stringify({ n, a, p }));
  }
});

test('refusals: no normals, no anomalies for the defect rate, rates out of (0, 0.5], non-finite scores', () => {
  const refused = (fn: () => unknown, msg: RegExp) => assert.throws(fn, (e: Error) => e instanceof ThresholdRuleError && msg.test(e.message));
  refused(() => falseAlarmRateThreshold([], 0.01), /no normal images/);
  refused(() => defectRateThreshold([1, 2], [], 0.05), /no anomalies/);
  for (const r of [0, -0.1, 0.51, 1, NaN]) {
    refused(() => falseAlarmRateThreshold([1], r), /false-alarm-rate .*above 0 and at most 0.5/);
    refused(() => defectRateThreshold([1], [2], r), /defect-rate .*above 0 and at most 0.5/);
  }
  refused(() => falseAlarmRateThreshold([1, NaN], 0.1), /normal score 1 is NaN/);
  refused(() => defectRateThreshold([1], [Infinity], 0.1), /anomaly score 0 is Infinity/);
});

test('the rule record passes the model-format check; a malformed one is refused naming the field; older models without it stay valid', () => {
  const req = { method: 'false-alarm-rate', target: 0.01 } as const;
  const rule = ruleRecord(req, chooseThreshold(TEN, [], req), 'validation', new Date('2024-01-02T03:04:05Z'));
  assert.deepEqual(rule, { method: 'false-alarm-rate', target: 0.01, expectedFalseAlarmRate: 0, expectedDetectionRate: null, validationNormals: 10, validationAnomalies: 0, source: 'validation', chosenAt: '2024-01-02T03:04:05.000Z' });
  const info = {
    formatVersion: 1, input: { height: 16, width: 16, channels: 1 }, normalization: { scale: 1, offset: 0 },
    score: { kind: 'mean', patch: { size: 2, stride: 1, topN: 3 } }, threshold: 1,
  };
  assert.doesNotThrow(() => validateModelInfo(info), 'no rule: an older model folder');
  assert.doesNotThrow(() => validateModelInfo({ ...info, thresholdRule: rule, thresholdHistory: [{ threshold: 0.5, rule: null, replacedAt: 'x' }, { threshold: 0.7, rule, replacedAt: 'y' }] }));
  const bad: [unknown, RegExp][] = [
    [{ thresholdRule: { ...rule, method: 'f1' } }, /"thresholdRule.method" must be "false-alarm-rate" or "defect-rate"/],
    [{ thresholdRule: { ...rule, target: 0.9 } }, /"thresholdRule.target" must be a number in \(0, 0.5\]/],
    [{ thresholdRule: { ...rule, expectedDetectionRate: 2 } }, /"thresholdRule.expectedDetectionRate"/],
    [{ thresholdRule: { ...rule, validationNormals: 0 } }, /"thresholdRule.validationNormals"/],
    [{ thresholdRule: 'x' }, /"thresholdRule" must be an object/],
    [{ thresholdHistory: {} }, /"thresholdHistory" must be a list/],
    [{ thresholdHistory: [{ threshold: 'a', rule: null, replacedAt: 'x' }] }, /"thresholdHistory\[0\].threshold"/],
    [{ thresholdHistory: [{ threshold: 1, rule: { ...rule, target: 0 }, replacedAt: 'x' }] }, /"thresholdHistory\[0\].rule.target"/],
  ];
  for (const [extra, msg] of bad) {
    assert.match(thresholdRecordError(extra as object) ?? '', msg);
    assert.throws(() => validateModelInfo({ ...info, ...(extra as object) }), (e: Error) => /^flawscope\.json: /.test(e.message) && msg.test(e.message));
  }
});

test('too few normals for the rate asked: a warning with the share of new normals expected above, null once there are enough', () => {
  assert.match(smallSampleWarning(15, 0.01, 'the validation split') ?? '', /^15 normal images \(the validation split\) are too few .* highest of their scores.* about 6\.3 % .*at least 99 normal images/);
  assert.equal(smallSampleWarning(99, 0.01, 'x'), null, '1/100: the rate itself');
  assert.equal(smallSampleWarning(300, 0.01, 'x'), null, '4/301 = 1.3 %');
  assert.equal(smallSampleWarning(40, 0.05, 'x'), null, '3/41 = 7.3 %, within twice 5 %');
  assert.match(smallSampleWarning(30, 0.01, 'x') ?? '', /about 3\.2 %/);
});

// ---- the tolerance bound (train's default: R for new normal images, with confidence γ) ----

test('normalQuantile matches known values of Φ⁻¹', () => {
  for (const [p, z] of [[0.5, 0], [0.9, 1.2815515655], [0.99, 2.326347874], [0.01, -2.326347874], [0.999, 3.090232306], [1e-6, -4.753424309]] as const)
    assert.ok(Math.abs(normalQuantile(p) - z) < 1e-6, `Φ⁻¹(${p}) = ${normalQuantile(p)}, expected ${z}`);
  assert.throws(() => normalQuantile(0), RangeError);
});

test('toleranceFactor equals the published one-sided normal tolerance factors', () => {
  // NIST/SEMATECH e-Handbook 7.2.6.3 and Natrella (1963) Table A-7: [n, coverage, confidence, K].
  for (const [n, p, g, k] of [[10, 0.99, 0.9, 3.532], [15, 0.99, 0.9, 3.212], [20, 0.99, 0.9, 3.052], [10, 0.99, 0.95, 3.981], [10, 0.95, 0.95, 2.911], [3, 0.95, 0.95, 7.656], [100, 0.99, 0.95, 2.684]] as const) {
    const got = toleranceFactor(n, 1 - p, g)!;
    assert.ok(Math.abs(got - k) < 2e-3, `n ${n}, ${p}, ${g}: ${got} vs ${k}`);
  }
  assert.equal(toleranceFactor(2, 0.01, 0.9), null);
});

test('binomialTail against direct sums', () => {
  const direct = (n: number, p: number, j: number) => {
    let s = 0, c = 1;
    for (let i = 0; i <= n; i++) { if (i >= j) s += c * p ** i * (1 - p) ** (n - i); c = (c * (n - i)) / (i + 1); }
    return s;
  };
  for (const [n, p, j] of [[10, 0.1, 1], [30, 0.01, 2], [230, 0.01, 1], [500, 0.05, 20]] as const)
    assert.ok(Math.abs(binomialTail(n, p, j) - direct(n, p, j)) < 1e-9, `${n} ${p} ${j}`);
});

/** Draws of a log-normal sample (seeded), like reconstruction errors. */
function logNormal(n: number, seed: number, mu = -2.5, sigma = 0.3): number[] {
  const next = createRng(seed);
  const u = () => 1 - next(); // (0, 1]: log(u) stays finite
  return Array.from({ length: n }, () => Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())));
}

test('few normals (15 at 1 %): the plain rule flags several % of new normals, the tolerance bound at most 1 % in ≥ 90 % of draws', () => {
  const mu = -2.5, sigma = 0.3;
  // The share of new normal images above t, exactly, for the log-normal the draws come from.
  const exceed = (t: number) => 1 - 0.5 * (1 + erf((Math.log(t) - mu) / (sigma * Math.SQRT2)));
  let plainAbove = 0, plainMean = 0, tolOk = 0;
  const draws = 400;
  for (let d = 0; d < draws; d++) {
    const normals = logNormal(15, 1000 + d, mu, sigma);
    const plain = exceed(falseAlarmRateThreshold(normals, 0.01));
    const c = chooseThreshold(normals, [], { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 });
    assert.equal(c.bound, 'log-normal');
    plainMean += plain / draws;
    if (plain > 0.01) plainAbove++;
    if (exceed(c.threshold) <= 0.01) tolOk++;
  }
  assert.ok(plainMean > 0.04, `plain rule: ${plainMean} of new normals flagged on average`);
  assert.ok(plainAbove / draws > 0.5, `plain rule above 1 % in ${plainAbove} of ${draws} draws`);
  assert.ok(tolOk / draws >= 0.87, `tolerance bound within 1 % in ${tolOk} of ${draws} draws (γ = 0.9)`);
});

test('many normals (≥ 230 at 1 %, γ 0.9): the distribution-free order statistic, never below the plain rule', () => {
  const normals = logNormal(1000, 7);
  const c = chooseThreshold(normals, [], { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 });
  assert.equal(c.bound, 'order-statistic');
  const sorted = [...normals].sort((a, b) => b - a);
  // j: the largest with P(Binomial(1000, 0.01) ≥ j) ≥ 0.9 — 6 (P(≥6) ≈ 0.93, P(≥7) ≈ 0.87).
  assert.equal(c.threshold, sorted[5]);
  assert.ok(c.threshold >= falseAlarmRateThreshold(normals, 0.01));
  assert.equal(chooseThreshold(logNormal(229, 3), [], { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 }).bound, 'log-normal');
  assert.equal(chooseThreshold(logNormal(230, 3), [], { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 }).bound, 'order-statistic');
});

test('tolerance bound edge cases: 2 normals → the plain rule, recorded as too-few; non-positive scores → normal on raw scores; recorded in the rule', () => {
  assert.deepEqual(toleranceThreshold([0.2, 0.3], 0.01, 0.9), { threshold: 0.3, bound: 'too-few' });
  const raw = toleranceThreshold([-1, 0, 1, 2, 3], 0.05, 0.9);
  assert.equal(raw.bound, 'normal');
  assert.ok(raw.threshold > 3);
  const c = chooseThreshold(logNormal(15, 1), [1, 2], { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 });
  const rec = ruleRecord({ method: 'false-alarm-rate', target: 0.01, confidence: 0.9 }, c, 'validation');
  assert.equal(rec.confidence, 0.9);
  assert.equal(rec.bound, 'log-normal');
  assert.equal(thresholdRecordError({ thresholdRule: rec }), null);
  assert.match(thresholdRecordError({ thresholdRule: { ...rec, bound: 'guess' } })!, /"thresholdRule.bound" must be/);
  assert.match(thresholdRecordError({ thresholdRule: { ...rec, confidence: 1 } })!, /"thresholdRule.confidence" must be a number in \(0, 1\)/);
  // The plain rule records neither field, as before.
  assert.equal(ruleRecord({ method: 'false-alarm-rate', target: 0.01 }, chooseThreshold([1, 2], [], { method: 'false-alarm-rate', target: 0.01 }), 'v').bound, undefined);
});

test('train asks for the tolerance bound by default; an explicit defect rate keeps F1', () => {
  assert.deepEqual(thresholdRequest({ falseAlarmRate: 0.01, defectRate: null }), { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 });
  assert.deepEqual(thresholdRequest({ falseAlarmRate: null, defectRate: 0.05 }), { method: 'defect-rate', target: 0.05 });
});

/** erf, Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

test('a second cluster of high normals: the tolerance bound is capped at the highest normal when it would drop most detections', () => {
  // 12 normals near 1, 3 near 2 (the second cluster), anomalies from 2.2 to 2.77: log sd is wide and
  // the uncapped bound lands above every anomaly.
  const normals = [...Array.from({ length: 12 }, (_, i) => 1 + i * 0.01), 1.9, 2, 2.1];
  const anomalies = Array.from({ length: 20 }, (_, i) => 2.2 + i * 0.03);
  const uncapped = toleranceThreshold(normals, 0.01, 0.9);
  assert.ok(uncapped.threshold > Math.max(...anomalies), `the bound alone passes every anomaly (${uncapped.threshold})`);
  const c = chooseThreshold(normals, anomalies, { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 });
  assert.equal(c.bound, 'highest-normal');
  assert.equal(c.threshold, 2.1);
  assert.equal(c.expectedDetectionRate, 1);
  // One cluster: the bound stays (it is above the highest normal and keeps most anomalies).
  const one = Array.from({ length: 15 }, (_, i) => 1 + i * 0.01);
  const far = Array.from({ length: 20 }, (_, i) => 3 + i * 0.1);
  const d = chooseThreshold(one, far, { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 });
  assert.equal(d.bound, 'log-normal');
  assert.ok(d.threshold > 1.14);
});

test('probability scores (a defect map): the bound is fitted on the logits and stays below 1, where one on the raw scores passes every possible score', () => {
  // 15 validation photos' map scores high in (0, 1), as J67's defect map gave (0.9990–0.9998), and anomalies at 0.99985–0.99999.
  const normals = Array.from({ length: 15 }, (_, i) => 0.999 + i * 0.00006);
  const anomalies = Array.from({ length: 10 }, (_, i) => 0.99985 + i * 0.000015);
  const raw = toleranceThreshold(normals, 0.01, 0.9);
  assert.ok(raw.threshold > 0.99999, `on the raw scale the bound passes every anomaly (${raw.threshold})`);
  const c = chooseThreshold(normals, anomalies, { method: 'false-alarm-rate', target: 0.01, confidence: 0.9 }, 'probability');
  assert.equal(c.bound, 'logit-normal');
  assert.ok(c.threshold < 1 && c.threshold >= Math.max(...normals), `${c.threshold} lies between the highest normal and 1`);
  // Saturated float32 sigmoids (exactly 0 or 1) still give a finite threshold below 1.
  const sat = toleranceThreshold([0, 0.01, 0.02, 0.015, 0.03, 0.005, 1e-9, 0.02], 0.01, 0.9, undefined, 'probability');
  assert.ok(Number.isFinite(sat.threshold) && sat.threshold > 0.03 && sat.threshold < 1, String(sat.threshold));
  assert.throws(() => toleranceThreshold([0.2, 0.5, 1.5], 0.01, 0.9, undefined, 'probability'), ThresholdRuleError);
});

test("a threshold rule with bound 'logit-normal' is a valid flawscope.json field", () => {
  const req = { method: 'false-alarm-rate' as const, target: 0.01, confidence: 0.9 };
  const normals = Array.from({ length: 15 }, (_, i) => 0.2 + i * 0.01);
  const rule = ruleRecord(req, chooseThreshold(normals, [], req, 'probability'), 'validation', new Date('2024-01-02T03:04:05Z'));
  assert.equal(rule.bound, 'logit-normal');
  assert.equal(thresholdRuleSchema.safeParse(rule).success, true);
});
