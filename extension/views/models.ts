/** The Models view: the trained model folders, the active one marked. */
import * as vscode from 'vscode';
import type { Models } from '../commands/models';
import { modelDescription, modelTooltip, type ModelEntry } from '../models';
import { thresholdTooltipLines } from '../threshold-text';

export class ModelsProvider implements vscode.TreeDataProvider<ModelEntry> {
  private em = new vscode.EventEmitter<ModelEntry | undefined>();
  readonly onDidChangeTreeData = this.em.event;

  constructor(private readonly models: Models) {
    models.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.em.fire(undefined);
  }

  getTreeItem(m: ModelEntry): vscode.TreeItem {
    const active = this.models.activePath() === m.path;
    const t = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.None);
    t.id = m.path;
    t.description = (active ? 'active · ' : '') + modelDescription(m) + (m.info ? ` · ${new Date(m.info.createdAt).toLocaleDateString()}` : '');
    t.tooltip = (active ? 'The active model: Score Image and Score Folder use it.\n' : '') + (m.info ? [modelTooltip(m), ...thresholdTooltipLines(m.info)].join('\n') : modelTooltip(m));
    t.iconPath = new vscode.ThemeIcon(active ? 'check' : m.info ? 'beaker' : 'warning');
    t.contextValue = active ? 'flawscope.model.active' : 'flawscope.model';
    t.command = { title: 'Set Active', command: 'flawscope.selectActiveModel', arguments: [m] };
    return t;
  }

  getChildren(m?: ModelEntry): ModelEntry[] {
    return m ? [] : this.models.list();
  }
}
