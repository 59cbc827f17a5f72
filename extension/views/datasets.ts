/** The Datasets view: each added data folder, expanded into its inspect report. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Datasets } from '../commands/datasets';

export type DatasetNode = { kind: 'dataset' | 'class' | 'info'; label: string; path?: string };

export class DatasetsProvider implements vscode.TreeDataProvider<DatasetNode> {
  private em = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.em.event;

  constructor(
    private readonly datasets: Datasets,
    private readonly trusted: () => boolean,
  ) {
    datasets.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.em.fire(undefined);
  }

  getTreeItem(n: DatasetNode): vscode.TreeItem {
    if (n.kind === 'dataset') {
      const r = this.datasets.report(n.path!);
      const t = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Collapsed);
      t.contextValue = 'flawscope.dataset';
      t.iconPath = new vscode.ThemeIcon('database');
      t.tooltip = n.path;
      t.resourceUri = vscode.Uri.file(n.path!);
      t.description = !r ? (this.trusted() ? 'not inspected' : 'inspect needs a trusted workspace') : 'error' in r ? 'inspect failed' : `${r.layout} · ${r.classes.length} classes`;
      return t;
    }
    const t = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
    t.contextValue = `flawscope.${n.kind}`;
    return t;
  }

  getChildren(n?: DatasetNode): DatasetNode[] {
    if (!n) return this.datasets.list().map((p) => ({ kind: 'dataset', label: path.basename(p), path: p }));
    const r = this.datasets.report(n.path!);
    if (!r) return [{ kind: 'info', label: this.trusted() ? 'Not inspected yet: use Inspect' : 'Inspect needs a trusted workspace' }];
    if ('error' in r) return [{ kind: 'info', label: `Error: ${r.error}` }];
    const info = (label: string): DatasetNode => ({ kind: 'info', label });
    const out: DatasetNode[] = [info(`Layout: ${r.layout} · ${r.total} images`)];
    for (const c of r.classes) out.push({ kind: 'class', label: `${c.name}: ${c.count}${c.name === r.normalClass ? ' (normal)' : c.anomaly === true ? ' (anomaly)' : ''}` });
    if (r.imbalance.ratio !== null) out.push(info(`Imbalance ratio (largest/smallest class): ${+r.imbalance.ratio.toFixed(2)}`));
    if (r.imbalance.normalToAnomaly !== null) out.push(info(`Normal : anomaly = ${+r.imbalance.normalToAnomaly.toFixed(2)} : 1`));
    const sizes = r.imageSizes.common.map((c) => `${c.size} (${c.count})`).join(', ');
    if (sizes) out.push(info(`Image sizes: ${sizes}`));
    out.push(info(`Channels: ${Object.entries(r.channels).filter(([, count]) => count > 0).map(([name, count]) => `${name} ${count}`).join(', ')}`));
    out.push(info(`Skipped files: ${r.skipped.length}${r.ignoredFiles ? ` · ignored non-images: ${r.ignoredFiles}` : ''}`));
    for (const f of r.skipped.slice(0, 20)) out.push(info(`  ${path.basename(f.path)}: ${f.reason}`));
    if (r.normalClassNote) out.push(info(`ℹ ${r.normalClassNote}`));
    for (const w of r.warnings) out.push(info(`⚠ ${w}`));
    return out;
  }
}
