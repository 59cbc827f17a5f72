/** One training dashboard per run: live progress plots (media/webview/dashboard.ts). */
import type * as vscode from 'vscode';
import type { RunView, WebviewToHost } from '../../shared/protocol';
import type { ProgressEvent } from '../../trainer/progress';
import { PanelHost, type PanelEnv } from './panel-host';

export class DashboardPanel extends PanelHost {
  constructor(env: PanelEnv, private run: RunView, private history: () => ProgressEvent[], existing?: vscode.WebviewPanel) {
    super(env, 'dashboard', 'flawscope.dashboard', `Training: ${run.title} (${run.state})`, undefined, [], true, existing);
  }

  get runState(): RunView['state'] {
    return this.run.state;
  }

  /** The run whose dashboard this is (its events are in the run store). */
  override restoreData(): { runId: string } {
    return { runId: this.run.id };
  }

  protected onReady(): void {
    void this.post({ type: 'init', panel: 'dashboard', run: this.run, history: this.history() });
  }

  progress(runId: string, event: ProgressEvent): void {
    void this.post({ type: 'progress', runId, event });
  }

  state(run: RunView): void {
    this.run = run;
    this.panel.title = `Training: ${run.title} (${run.state})`;
    void this.post({ type: 'runState', run });
  }

  protected handle(m: WebviewToHost): boolean {
    this.env.log.warn(`[dashboard] message ${m.type} is not for this panel; ignored`);
    return false;
  }
}
