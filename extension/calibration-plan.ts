/**
 * "Use this folder to set the threshold" (issue 25): what `flawscope calibrate` would do with a
 * scored folder, worked out from the scores the table already holds, so the confirmation can state
 * the new threshold's rates before anything is written. The webview's scores equal the CLI's
 * (the host tests check it), and the rule is trainer/threshold.ts's, the one calibrate applies.
 * No `vscode` import (unit-tested in Node).
 */
import * as path from 'node:path';
import type { FolderRow } from '../shared/protocol';
import { classNameOf } from '../shared/folder-table';
import { chooseThreshold, ratesAt, type ThresholdChoice } from '../trainer/threshold';

/** The CLI's default rule: at most 1 % of the normal images flagged. */
export const CALIBRATE_FALSE_ALARM_RATE = 0.01;

export type CalibrationPlan =
  | { ok: false; reason: string }
  | {
      ok: true;
      /** The folder of normal images (passed as --normal when it is not the model's normal class). */
      normalFolder: string;
      args: string[];
      next: ThresholdChoice;
      current: ThresholdChoice;
      /** The confirmation, in words. */
      text: string;
    };

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.1 ? 2 : 1)} %`;

function rates(c: ThresholdChoice): string {
  const det = c.expectedDetectionRate === null ? 'no anomalies here to measure detection' : `catches ${pct(c.expectedDetectionRate)} of the ${c.anomalies} anomalies`;
  return `flags ${pct(c.expectedFalseAlarmRate)} of the ${c.normals} normal images and ${det}`;
}

export function calibrationPlan(p: { rows: readonly FolderRow[]; folder: string; modelPath: string; modelNormalClass: string | null; threshold: number; stopped: boolean }): CalibrationPlan {
  if (p.stopped) return { ok: false, reason: 'the folder was stopped before every image was scored; score it to the end first' };
  const labelled = p.rows.filter((r) => r.label !== null && Number.isFinite(r.score));
  const normalRows = labelled.filter((r) => r.label === 0);
  if (normalRows.length === 0) return { ok: false, reason: 'no normal images could be told apart by their folder names (a folder named as the model\'s normal class, or good/normal/ok)' };
  const normalFolders = [...new Set(normalRows.map((r) => classNameOf(path.relative(p.folder, r.path))))];
  if (normalFolders.length !== 1 || normalFolders[0] === null) return { ok: false, reason: 'the normal images are not in one class folder' };
  const normalFolder = normalFolders[0];
  const normals = normalRows.map((r) => r.score);
  const anomalies = labelled.filter((r) => r.label === 1).map((r) => r.score);
  const next = chooseThreshold(normals, anomalies, { method: 'false-alarm-rate', target: CALIBRATE_FALSE_ALARM_RATE });
  const current = { threshold: p.threshold, ...ratesAt(normals, anomalies, p.threshold) };
  const args = ['calibrate', '--model', p.modelPath, '--data', p.folder, '--false-alarm-rate', String(CALIBRATE_FALSE_ALARM_RATE), ...(normalFolder !== p.modelNormalClass ? ['--normal', normalFolder] : []), '--json'];
  const text =
    `New threshold ${Number(next.threshold.toPrecision(5))} (at most ${pct(CALIBRATE_FALSE_ALARM_RATE)} false alarms): on this folder it ${rates(next)}. ` +
    `The threshold now, ${Number(p.threshold.toPrecision(5))}, ${rates(current)}.` +
    (normals.length < 1 / CALIBRATE_FALSE_ALARM_RATE ? ` Only ${normals.length} normal images: new normal images will be flagged more often than ${pct(CALIBRATE_FALSE_ALARM_RATE)}.` : '');
  return { ok: true, normalFolder, args, next, current, text };
}
