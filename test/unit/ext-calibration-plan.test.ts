/** "Use this folder to set the threshold": the rates stated before calibrate runs, and its arguments (extension/calibration-plan.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationPlan } from '../../extension/calibration-plan';
import type { FolderRow } from '../../shared/protocol';

const folder = '/data/tiles';
const r = (cls: string | null, i: number, score: number, label: 0 | 1 | null): FolderRow => ({ path: cls ? `${folder}/${cls}/${i}.png` : `${folder}/${i}.png`, score, isAnomaly: false, verdict: 'normal', label });
// 200 normals scoring 0.000..0.199, 10 anomalies scoring 0.195..0.240: at 1 % false alarms 2 normals may be above.
const rows: FolderRow[] = [
  ...Array.from({ length: 200 }, (_, i) => r('good', i, i / 1000, 0)),
  ...Array.from({ length: 10 }, (_, i) => r('crack', i, 0.195 + i * 0.005, 1)),
  r(null, 999, 5, null),
];

test('the new threshold and its rates are the ones calibrate will pick (the third-highest normal score at 1 %)', () => {
  const p = calibrationPlan({ rows, folder, modelPath: '/m', modelNormalClass: 'good', threshold: 0.1, stopped: false });
  assert.ok(p.ok);
  if (!p.ok) return;
  assert.equal(p.next.threshold, 0.197);
  assert.equal(p.next.expectedFalseAlarmRate, 2 / 200);
  assert.equal(p.next.expectedDetectionRate, 9 / 10, "0.2 … 0.24 are above 0.197; 0.195 is not");
  assert.equal(p.current.expectedFalseAlarmRate, 99 / 200);
  assert.deepEqual(p.args, ['calibrate', '--model', '/m', '--data', folder, '--false-alarm-rate', '0.01', '--json']);
  assert.match(p.text, /^New threshold 0\.197 \(at most 1\.00 % false alarms\): on this folder it flags 1\.00 % of the 200 normal images and catches 90\.0 % of the 10 anomalies\. The threshold now, 0\.1, flags 49\.5 % /);
});

test('a normal folder named otherwise than the model\'s normal class is passed as --normal', () => {
  const p = calibrationPlan({ rows, folder, modelPath: '/m', modelNormalClass: '8', threshold: 0.1, stopped: false });
  assert.ok(p.ok && p.args.includes('--normal') && p.args[p.args.indexOf('--normal') + 1] === 'good');
});

test('too few normals are said; no anomalies leave the detection unmeasured', () => {
  const few = calibrationPlan({ rows: rows.slice(0, 30), folder, modelPath: '/m', modelNormalClass: 'good', threshold: 0.1, stopped: false });
  assert.ok(few.ok);
  assert.match(few.ok ? few.text : '', /no anomalies here to measure detection.*Only 30 normal images/);
});

test('refused with the reason: a stopped folder, no normal label, normals split over folders', () => {
  const stopped = calibrationPlan({ rows, folder, modelPath: '/m', modelNormalClass: 'good', threshold: 0.1, stopped: true });
  assert.match(!stopped.ok ? stopped.reason : '', /stopped/);
  const none = calibrationPlan({ rows: rows.filter((x) => x.label !== 0), folder, modelPath: '/m', modelNormalClass: 'good', threshold: 0.1, stopped: false });
  assert.match(!none.ok ? none.reason : '', /no normal images/);
  const split = calibrationPlan({ rows: [r('good', 1, 0.1, 0), r('ok', 2, 0.1, 0)], folder, modelPath: '/m', modelNormalClass: 'good', threshold: 0.1, stopped: false });
  assert.match(!split.ok ? split.reason : '', /one class folder/);
});
