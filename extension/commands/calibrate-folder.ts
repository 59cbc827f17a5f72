/**
 * "Use this folder to set the threshold" from a Score Folder result: states the new threshold's
 * rates on the folder (extension/calibration-plan.ts), asks, runs `flawscope calibrate`, and moves
 * the open panels and the Models view to the new threshold.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { calibrationPlan, type CalibrationPlan } from '../calibration-plan';
import type { Host } from '../host';
import { modelNormalClass } from '../models';
import type { FolderPanel } from '../panels';
import type { Models } from './models';

interface CalibrateJson {
  new: { threshold: number; rule: { expectedFalseAlarmRate: number; expectedDetectionRate: number | null } };
}

export function planFor(panel: FolderPanel): CalibrationPlan {
  const o = panel.lastOutcome;
  if (!o) return { ok: false, reason: 'the folder has not been scored yet' };
  const m = panel.modelSpec;
  return calibrationPlan({ rows: o.rows, folder: panel.folderPath, modelPath: m.path, modelNormalClass: modelNormalClass(m.info), threshold: m.info.threshold, stopped: o.stopped });
}

/** Tells the table whether its button applies, with the rates it would give. */
export function offerCalibration(panel: FolderPanel): void {
  const plan = planFor(panel);
  panel.offerCalibration(plan.ok, plan.ok ? plan.text : `Cannot set the threshold from this folder: ${plan.reason}.`);
}

/**
 * Runs calibrate after the user confirmed (tests pass `confirmed`). Returns the new threshold, or
 * null when refused, cancelled or failed (each said to the user).
 */
export async function calibrateFromFolder(host: Host, models: Models, panel: FolderPanel, onModel: (m: NonNullable<ReturnType<Models['spec']>>) => Promise<void>, confirmed = false): Promise<number | null> {
  if (host.blockedByTrust()) return null;
  const plan = planFor(panel);
  if (!plan.ok) {
    void vscode.window.showWarningMessage(`Flawscope: cannot set the threshold from ${path.basename(panel.folderPath)}: ${plan.reason}.`);
    return null;
  }
  const model = panel.modelSpec;
  if (!confirmed) {
    const go = await vscode.window.showInformationMessage(
      `Set the threshold of ${model.name} from ${path.basename(panel.folderPath)}?`,
      { modal: true, detail: `${plan.text}\n\nThe old threshold is kept in the model's threshold history.` },
      'Set Threshold',
    );
    if (go !== 'Set Threshold') return null;
  }
  try {
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flawscope: setting the threshold of ${model.name}` }, () => host.cli.json<CalibrateJson>(plan.args, 30 * 60000));
    const spec = models.spec(model.path);
    models.refresh();
    if (spec) await onModel(spec);
    const rule = r.new.rule;
    const det = rule.expectedDetectionRate === null ? '' : `, ${(100 * rule.expectedDetectionRate).toFixed(1)} % of the anomalies caught`;
    void vscode.window.showInformationMessage(`Flawscope: ${model.name} now uses threshold ${Number(r.new.threshold.toPrecision(5))} (${(100 * rule.expectedFalseAlarmRate).toFixed(1)} % of this folder's normal images flagged${det}).`);
    host.log.info(`calibrated ${model.path} on ${panel.folderPath}: threshold ${r.new.threshold}`);
    return r.new.threshold;
  } catch (e) {
    host.log.error(`calibrate failed: ${(e as Error).message}`);
    void vscode.window.showErrorMessage(`Flawscope: setting the threshold failed: ${(e as Error).message}`);
    return null;
  }
}
