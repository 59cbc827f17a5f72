/**
 * Datasets: the data folders added to this workspace, their `flawscope datasets inspect --json`
 * reports, and the commands Add Dataset, Inspect Dataset and Remove Dataset.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetReport } from '../../trainer/data/inspect';
import type { Host } from '../host';
import type { RunStore } from '../run-store';
import { pathOf } from '../host';

export type { DatasetReport };
/** A dataset's report, or why inspecting it failed. */
export type ReportOrError = DatasetReport | { error: string };

export class Datasets {
  /** Inspection reports by dataset path, kept in the run store so a reload keeps them. */
  private readonly reports: Map<string, ReportOrError>;
  private readonly changed = new vscode.EventEmitter<void>();
  /** The list or a report changed (the Datasets view follows). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly host: Host,
    private readonly store: RunStore,
  ) {
    // The stored reports passed the store's schema (the fields the views read); the CLI's type describes the rest.
    this.reports = store.loadReports() as Map<string, ReportOrError>;
  }

  private saveReports(): void {
    void this.store.saveReports(this.reports);
  }

  refresh(): void {
    this.changed.fire();
  }

  list(): string[] {
    return this.host.context.workspaceState.get<string[]>('flawscope.datasets', []);
  }

  report(p: string): ReportOrError | undefined {
    return this.reports.get(p);
  }

  async add(uri?: vscode.Uri): Promise<string | null> {
    let p = uri?.fsPath;
    if (!p) {
      const u = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title: 'Dataset folder (one sub-folder per class, MVTec AD, IDX or CIFAR)' });
      p = u?.[0]?.fsPath;
    }
    if (!p) return null;
    const list = this.list();
    if (!list.includes(p)) await this.host.context.workspaceState.update('flawscope.datasets', [...list, p]);
    this.changed.fire();
    if (this.host.trusted()) void this.inspect(p).catch(() => undefined);
    return p;
  }

  async remove(p: string): Promise<void> {
    await this.host.context.workspaceState.update('flawscope.datasets', this.list().filter((d) => d !== p));
    this.reports.delete(p);
    this.saveReports();
    this.changed.fire();
  }

  /** Runs `datasets inspect` on `p` and keeps the report; `show` puts it in the log (or the error in a message). */
  async inspect(p: string, show = false): Promise<DatasetReport | null> {
    if (this.host.blockedByTrust()) return null;
    try {
      const r = await this.host.cli.json<DatasetReport>(['datasets', 'inspect', p, '--json']);
      this.reports.set(p, r);
      this.saveReports();
      this.changed.fire();
      if (show) {
        this.host.log.info(`dataset ${p}:\n${JSON.stringify(r, null, 2)}`);
        this.host.log.show(true);
      }
      return r;
    } catch (e) {
      const msg = (e as Error).message;
      this.reports.set(p, { error: msg });
      this.saveReports();
      this.changed.fire();
      if (show) void vscode.window.showErrorMessage(`Flawscope: inspecting ${path.basename(p)} failed: ${msg}`);
      return null;
    }
  }

  /** QuickPick of a dataset's classes (from its inspect report, else its sub-folders). */
  async pickNormalClass(data: string, title: string): Promise<string | undefined> {
    const rep = this.reports.get(data) ?? (await this.inspect(data));
    const known = rep && !('error' in rep) ? rep.classes : [];
    let classes = known.map((c) => c.name);
    if (classes.length === 0) {
      try {
        classes = fs.readdirSync(data, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
      } catch {
        /* not a folder */
      }
    }
    const counts = new Map(known.map((c) => [c.name, c.count]));
    return classes.length > 0
      ? (await vscode.window.showQuickPick(classes.map((c) => ({ label: c, description: counts.has(c) ? `${counts.get(c)} images` : undefined })), { title }))?.label
      : await vscode.window.showInputBox({ title });
  }

  /** QuickPick of the added datasets (path in `description`). */
  async pick(title: string): Promise<string | undefined> {
    return (await vscode.window.showQuickPick(this.list().map((d) => ({ label: path.basename(d), description: d })), { title }))?.description;
  }
}

export function registerDatasetCommands(host: Host, datasets: Datasets): void {
  host.command('flawscope.addDataset', (a?: unknown) => datasets.add(pathOf(a) ? vscode.Uri.file(pathOf(a)!) : undefined));
  host.command('flawscope.inspectDataset', async (a?: unknown) => {
    const p = pathOf(a) ?? (await vscode.window.showQuickPick(datasets.list(), { title: 'Inspect which dataset?' }));
    return p ? datasets.inspect(p, true) : null;
  });
  host.command('flawscope.removeDataset', (a?: unknown) => {
    const p = pathOf(a);
    return p ? datasets.remove(p) : undefined;
  });
}
