/**
 * The messages a finished or failed report command gives: a notification with an action that
 * does the next step, and the failure in the log at error level (never `[info]`).
 */
import * as vscode from 'vscode';
import type { ReportPanel } from './report-panels';

/** "Evaluation finished: …" with Open Report (reveals the panel, or says it was closed). */
export function notifyReport(message: string, panel: ReportPanel): void {
  void vscode.window.showInformationMessage(`Flawscope: ${message}`, 'Open Report').then((c) => {
    if (c && !panel.isDisposed) panel.panel.reveal(undefined, false);
    else if (c) void vscode.window.showInformationMessage('Flawscope: that report was closed; run the command again to see it.');
  });
}

/** Logs `what failed: why` at error level and shows it with Show Log (the CLI's full output is there). */
export function notifyFailure(log: vscode.LogOutputChannel, what: string, e: unknown, nextStep: string): void {
  const why = e instanceof Error ? e.message : String(e);
  log.error(`${what}: ${why}`);
  void vscode.window.showErrorMessage(`Flawscope: ${what}: ${why} ${nextStep}`, 'Show Log').then((c) => {
    if (c) log.show(true);
  });
}
