/** The Runs view: this workspace's training runs (kept across reloads), newest first. */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Training } from '../commands/train';
import { isLive, offersResume, stateText } from '../run-lifecycle';
import type { RunRecord } from '../runs';

const ICONS: Readonly<Record<RunRecord['state'], string>> = { starting: 'loading~spin', running: 'sync~spin', done: 'pass', cancelled: 'debug-pause', resumed: 'debug-continue', failed: 'error' };

/** The menus' `viewItem`: which commands a run offers (package.json contributes.menus). */
export function runContextValue(r: RunRecord, checkpointExists: (p: string) => boolean = fs.existsSync): string {
  if (isLive(r.state)) return 'flawscope.run.running';
  return offersResume(r, checkpointExists) ? 'flawscope.run.resumable' : 'flawscope.run.finished';
}

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
    t.iconPath = new vscode.ThemeIcon(ICONS[r.state]);
    t.description = stateText(r, fs.existsSync);
    t.tooltip = [r.spec.out, r.error ?? '', r.checkpoint ? `checkpoint: ${r.checkpoint}` : ''].filter(Boolean).join('\n');
    t.contextValue = runContextValue(r);
    t.command = { title: 'Show dashboard', command: 'flawscope.showDashboard', arguments: [r.id] };
    return t;
  }

  getChildren(r?: RunRecord): RunRecord[] {
    return r ? [] : this.training.allRuns();
  }
}
