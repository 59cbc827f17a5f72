/**
 * Datasets: the data folders added to this workspace, their `flawscope datasets inspect --json`
 * reports, and the commands Add Dataset, Inspect Dataset and Remove Dataset.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetReport } from '../../trainer/data/inspect';
import { formatCount } from '../../shared/format';
import type { Host } from '../host';
import type { RunStore } from '../run-store';
import { pathOf } from '../host';
import { buildDatasetReport, parseDatasetJson } from '../reports/dataset-model';
import { notifyFailure, notifyReport } from '../reports/notify';
import type { Reports } from '../reports/report-panels';

export type { DatasetReport };

/** The folder layouts the trainer reads (trainer/data/read.ts), in the words a notification uses. */
export const SUPPORTED_LAYOUTS =
  'one sub-folder of images per class (e.g. good/ and defect/), MVTec AD (train/good, test/<defect>, ground_truth), images with masks, MNIST IDX files or CIFAR-10 binary batches';
/** A dataset's report, or why inspecting it failed. */
export type ReportOrError = DatasetReport | { error: string };

export class Datasets {
  /** Inspection reports by dataset path, kept in the run store so a reload keeps them. */
  private readonly reports: Map<string, ReportOrError>;
  private readonly changed = new vscode.EventEmitter<void>();
  /** The list or a report changed (the Datasets view follows). */
  readonly onDidChange = this.changed.event;

  /** The "not a dataset" notifications shown (for tests; the UI shows them as toasts). */
  readonly notADatasetMessages: string[] = [];

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
    if (this.host.trusted()) void this.inspect(p).then((r) => (r ? undefined : this.explainNotADataset(p))).catch(() => undefined);
    return p;
  }

  /** A folder was added that the trainer cannot read: say why, which layouts work, and offer to take it off the list. */
  private async explainNotADataset(p: string): Promise<void> {
    const rep = this.reports.get(p);
    const why = rep && 'error' in rep ? rep.error : 'it could not be inspected';
    this.host.log.error(`${p} is not a dataset Flawscope can read: ${why}`);
    const message = `Flawscope: "${path.basename(p)}" is not a dataset Flawscope can read: ${why} Supported layouts: ${SUPPORTED_LAYOUTS}.`;
    this.notADatasetMessages.push(message);
    const c = await vscode.window.showWarningMessage(message, 'Remove From List', 'Show Log');
    if (c === 'Remove From List') await this.remove(p);
    else if (c === 'Show Log') this.host.log.show(true);
  }

  async remove(p: string): Promise<void> {
    await this.host.context.workspaceState.update('flawscope.datasets', this.list().filter((d) => d !== p));
    this.reports.delete(p);
    this.saveReports();
    this.changed.fire();
  }

  /** Runs `datasets inspect` on `p` and keeps the report; `show` also says so when it fails (at error level, with a notification). */
  async inspect(p: string, show = false): Promise<DatasetReport | null> {
    if (this.host.blockedByTrust()) return null;
    try {
      const r = await this.host.cli.json<DatasetReport>(['datasets', 'inspect', p, '--json']);
      this.reports.set(p, r);
      this.saveReports();
      this.changed.fire();
      return r;
    } catch (e) {
      const msg = (e as Error).message;
      this.reports.set(p, { error: msg });
      this.saveReports();
      this.changed.fire();
      if (show) notifyFailure(this.host.log, `inspecting ${path.basename(p)} failed`, e, `Flawscope reads ${SUPPORTED_LAYOUTS}.`);
      else this.host.log.warn(`inspecting ${p} failed: ${msg}`);
      return null;
    }
  }

  /** Inspect Dataset: the report as a rendered panel, and a notification that brings it back. */
  async showReport(p: string, reports: Reports): Promise<DatasetReport | null> {
    const r = await this.inspect(p, true);
    if (!r) return null;
    try {
      const report = buildDatasetReport(parseDatasetJson(r));
      const panel = reports.open({ type: 'init', panel: 'datasetReport', title: `Dataset: ${path.basename(p)}`, report }, [p]);
      this.host.log.info(`inspected ${p}: ${report.layout}, ${formatCount(report.total)} images in ${report.classes.length} classes, ${report.skipped.length} skipped`);
      notifyReport(`${path.basename(p)}: ${formatCount(report.total)} images in ${report.classes.length} classes${report.skipped.length ? `, ${report.skipped.length} skipped` : ''}.`, panel);
    } catch (e) {
      notifyFailure(this.host.log, `showing the report of ${path.basename(p)} failed`, e, '');
    }
    return r;
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

export function registerDatasetCommands(host: Host, datasets: Datasets, reports: Reports): void {
  host.command('flawscope.addDataset', (a?: unknown) => datasets.add(pathOf(a) ? vscode.Uri.file(pathOf(a)!) : undefined));
  host.command('flawscope.inspectDataset', async (a?: unknown) => {
    const p = pathOf(a) ?? (await vscode.window.showQuickPick(datasets.list(), { title: 'Inspect which dataset?' }));
    return p ? datasets.showReport(p, reports) : null;
  });
  host.command('flawscope.removeDataset', (a?: unknown) => {
    const p = pathOf(a);
    return p ? datasets.remove(p) : undefined;
  });
}
