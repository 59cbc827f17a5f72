/** The Runs view: this workspace's training runs, newest first (live ones, then the last 30 finished). */
import * as vscode from 'vscode';
import type { Training } from '../commands/train';
import type { RunRecord } from '../runs';

export class RunsProvider implements vscode.TreeDataProvider<RunRecord> {
  private em = new vscode.EventEmitter<RunRecord | undefined>();
  readonly onDidChangeTreeData = this.em.event;

  constructor(private readonly training: Training) {
    training.onDidChangeRuns(() => this.refresh());
  }

  refresh(): void {
    this.em.fire(undefined);
  }

  getTreeItem(r: RunRecord): vscode.TreeItem {
    const t = new vscode.TreeItem(r.title, vscode.TreeItemCollapsibleState.None);
    t.id = r.id;
    const icon = { starting: 'loading~spin', running: 'sync~spin', done: 'pass', cancelled: 'debug-pause', failed: 'error' }[r.state];
    t.iconPath = new vscode.ThemeIcon(icon);
    t.description = `${r.state}${r.lastEpoch ? ` · epoch ${r.lastEpoch}` : ''}${r.state === 'cancelled' && r.checkpoint ? ' · resumable' : ''}`;
    t.tooltip = [r.spec.out, r.error ?? '', r.checkpoint ? `checkpoint: ${r.checkpoint}` : ''].filter(Boolean).join('\n');
    t.contextValue = r.state === 'running' || r.state === 'starting' ? 'flawscope.run.running' : r.state === 'cancelled' && r.checkpoint ? 'flawscope.run.resumable' : 'flawscope.run';
    t.command = { title: 'Show dashboard', command: 'flawscope.showDashboard', arguments: [r.id] };
    return t;
  }

  getChildren(r?: RunRecord): RunRecord[] {
    return r ? [] : this.training.allRuns();
  }
}
