/** The status bar item: the running training's progress (click: its dashboard), else the active model (click: change it). */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainingRun } from './runs';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(
    private readonly activeModel: () => string | null,
    private readonly liveRuns: () => TrainingRun[],
  ) {
    this.item = vscode.window.createStatusBarItem('flawscope.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Flawscope';
  }

  update(): void {
    const live = this.liveRuns();
    const s = this.item;
    if (live.length) {
      const r = live[live.length - 1];
      s.text = `$(sync~spin) Flawscope ${Math.round(r.fraction * 100)}%`;
      s.tooltip = `Training ${r.record.title} — click for the dashboard`;
      s.command = { title: 'Show dashboard', command: 'flawscope.showDashboard', arguments: [r.id] };
    } else {
      const a = this.activeModel();
      s.text = `$(telescope) ${a ? `Flawscope: ${path.basename(a)}` : 'Flawscope: no model'}`;
      s.tooltip = a ? `Active Flawscope model (Score Image and Score Folder use it): ${a}\nClick to change` : 'No active Flawscope model: click to select one, or train one';
      s.command = 'flawscope.selectActiveModel';
    }
  }

  /** What the item shows now (for tests). */
  get text(): string {
    return this.item.text;
  }

  show(): void {
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
