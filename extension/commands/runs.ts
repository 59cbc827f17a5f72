/**
 * Cleaning up the Runs view: Delete Run (with the checkpoint a cancelled run left, after asking),
 * Clear Finished Runs, and Reveal Run Output in Explorer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import type { Host } from '../host';
import { runIdOf } from '../host';
import type { Restorer } from '../restore';
import { isClearable, isLive, leftoverCheckpoint } from '../run-lifecycle';
import type { Training } from './train';

/** What Delete Run did, for tests. */
export type DeleteOutcome = { deleted: false; reason: string } | { deleted: true; checkpointRemoved: string | null };

/**
 * Deletes a run's row and log. A cancelled run's checkpoint is only useful to that run: the user is
 * asked whether to remove it too (`removeCheckpoint` answers for tests). The model folder is never touched.
 */
export async function deleteRun(training: Training, id: string, removeCheckpoint?: boolean): Promise<DeleteOutcome> {
  const rec = training.findRun(id);
  if (!rec) return { deleted: false, reason: 'no such run' };
  if (isLive(rec.state)) {
    void vscode.window.showWarningMessage('Flawscope: this run is still training; cancel it first.');
    return { deleted: false, reason: 'still training' };
  }
  const ck = leftoverCheckpoint(rec, fs.existsSync);
  let removeCk = removeCheckpoint ?? false;
  if (ck && removeCheckpoint === undefined) {
    const c = await vscode.window.showWarningMessage(
      `Delete the run ${rec.title}? It left a resumable checkpoint (${ck}).`,
      { modal: true, detail: 'Deleting the checkpoint frees its disk space; the run can then no longer be resumed. The trained model folder, if any, is kept.' },
      'Delete Run and Checkpoint',
      'Delete Run Only',
    );
    if (!c) return { deleted: false, reason: 'not confirmed' };
    removeCk = c === 'Delete Run and Checkpoint';
  }
  if (ck && removeCk) await fs.promises.rm(ck, { recursive: true, force: true });
  await training.removeRuns([id]);
  return { deleted: true, checkpointRemoved: ck && removeCk ? ck : null };
}

/** Removes every ended run that offers nothing more (done, failed, resumed, cancelled without a checkpoint). */
export async function clearFinishedRuns(training: Training): Promise<number> {
  const ids = training.allRuns().filter((r) => isClearable(r, fs.existsSync)).map((r) => r.id);
  await training.removeRuns(ids);
  return ids.length;
}

/** Shows a run's output in the OS file manager: its model folder, else its checkpoint, else the folder they go in. */
function revealRun(training: Training, id: string): void {
  const rec = training.findRun(id);
  if (!rec) return;
  const target = [rec.spec.out, rec.checkpoint, path.dirname(rec.spec.out)].find((p): p is string => !!p && fs.existsSync(p));
  if (!target) {
    void vscode.window.showInformationMessage(`Flawscope: nothing of this run is on disk any more (${rec.spec.out}).`);
    return;
  }
  void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(target)).then(undefined, () => vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(target)));
}

export function registerRunCommands(host: Host, training: Training): void {
  host.command('flawscope.deleteRun', (a?: unknown, removeCheckpoint?: unknown) => {
    const id = runIdOf(a);
    return id ? deleteRun(training, id, typeof removeCheckpoint === 'boolean' ? removeCheckpoint : undefined) : undefined;
  });
  host.command('flawscope.clearFinishedRuns', () => clearFinishedRuns(training));
  host.command('flawscope.revealRun', (a?: unknown) => {
    const id = runIdOf(a);
    if (id) revealRun(training, id);
  });
}

/** The state a dashboard saves for a reload (DashboardPanel.restoreData): its run, whose log is in the run store. */
export const dashboardState = z.object({ runId: z.string() });

/** Brings back training dashboards after a reload, drawn from the stored event log. */
export function dashboardRestorer(training: Training): Restorer<z.output<typeof dashboardState>> {
  return {
    viewType: 'flawscope.dashboard',
    schema: dashboardState,
    restore: (panel, st) => {
      if (!training.openDashboard(st.runId, true, panel)) throw new Error(`its run ${st.runId} is no longer listed`);
    },
  };
}
