/**
 * The Score Folder table (media/webview/folder.ts): every image of a folder scored in the webview,
 * sortable and filterable, a row opening its heatmap in the score panel, ROC and CSV export, Stop,
 * and "Use this folder to set the threshold" on a labelled folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FolderItem, FolderRow, FolderSort, Verdict, WebviewToHost } from '../../shared/protocol';
import { modelRef, scorerRef, type ModelSpec } from './model-ref';
import { PanelHost, type PanelEnv } from './panel-host';
import type { FolderPanelState } from './score-states';

export interface FolderOutcome {
  rows: FolderRow[];
  auroc: number | null;
  backend: string;
  /** True when Stop ended the work before every image was scored. */
  stopped: boolean;
}

export interface FolderView {
  order: string[];
  sort: FolderSort;
  filter: Verdict[];
}

/** What the table asks its owner (commands/score.ts) to do. */
export interface FolderPanelActions {
  /** Show this row's heatmap in the score panel (Scoring.showHeatmap, as a report thumbnail does). */
  showHeatmap(imagePath: string): void;
  calibrate(panel: FolderPanel): void;
}

export class FolderPanel extends PanelHost {
  lastOutcome: FolderOutcome | null = null;
  lastCsvPath: string | null = null;
  /** Tests set this to skip the save dialog. */
  csvTarget: string | null = null;
  /** True from sending a folder to score until its answer. */
  busy = false;

  constructor(env: PanelEnv, private model: ModelSpec, private folder: string, private readonly actions: FolderPanelActions, existing?: vscode.WebviewPanel) {
    super(env, 'folder', 'flawscope.folder', `Flawscope: ${path.basename(folder)}`, undefined, [model.path, folder], false, existing);
  }

  /** The model and folder (scored again when the panel is restored). */
  override restoreData(): FolderPanelState {
    return { model: this.model.path, folder: this.folder };
  }

  get modelSpec(): ModelSpec {
    return this.model;
  }

  get folderPath(): string {
    return this.folder;
  }

  protected onReady(): void {
    void this.post({
      type: 'init',
      panel: 'folder',
      scorer: scorerRef(this.panel.webview, this.env.extensionUri),
      model: modelRef(this.panel.webview, this.model),
      colormap: this.env.settings().colormap,
      folder: this.folder,
    });
  }

  async scoreFolder(model: ModelSpec, folder: string, items: Omit<FolderItem, 'url'>[], timeoutMs = 600000): Promise<FolderOutcome> {
    const reloaded = await this.ensureRoots([model.path, folder]);
    if (this.model.path !== model.path || this.folder !== folder || this.model.info.threshold !== model.info.threshold) {
      this.model = model;
      this.folder = folder;
      if (!reloaded) void this.post({ type: 'setModel', model: modelRef(this.panel.webview, model) });
      this.saveRestoreState();
    }
    this.panel.title = `Flawscope: ${path.basename(folder)}`;
    this.show();
    await this.whenReady();
    const w = this.panel.webview;
    const full: FolderItem[] = items.map((i) => ({ ...i, url: w.asWebviewUri(vscode.Uri.file(i.path)).toString() }));
    this.busy = true;
    try {
      return await this.request<FolderOutcome>((requestId) => ({ type: 'scoreFolder', requestId, folder, items: full }), timeoutMs);
    } finally {
      this.busy = false;
    }
  }

  /** Stops the folder being scored; its request answers with the rows scored so far. */
  stop(): void {
    void this.post({ type: 'stopFolder' });
  }

  /** Sorts and/or filters the table as the user would; answers what it shows. */
  async view(sort?: FolderSort, filter?: Verdict[], timeoutMs = 30000): Promise<FolderView> {
    await this.whenReady();
    return this.request<FolderView>((requestId) => ({ type: 'folderView', requestId, sort, filter }), timeoutMs);
  }

  /** The model's threshold changed (calibrated): the table recomputes its verdicts. */
  async setModel(m: ModelSpec): Promise<void> {
    this.model = m;
    if (!(await this.ensureRoots([m.path]))) void this.post({ type: 'setModel', model: modelRef(this.panel.webview, m) });
  }

  /** Shows (or hides) "Use this folder to set the threshold" with what it would do. */
  offerCalibration(available: boolean, text: string): void {
    void this.post({ type: 'calibration', available, text });
  }

  protected handle(m: WebviewToHost): boolean {
    switch (m.type) {
      case 'folderScored':
        this.lastOutcome = { rows: m.rows, auroc: m.auroc, backend: m.backend, stopped: m.stopped };
        this.env.log.info(`scored folder ${m.folder}: ${m.rows.length} images${m.stopped ? ' (stopped early)' : ''}${m.auroc === null ? '' : `, AUROC ${m.auroc.toFixed(4)}`} (${m.backend})`);
        this.settle(m.requestId, this.lastOutcome);
        return true;
      case 'scoreFailed':
        this.env.log.error(`scoring ${m.path} failed: ${m.message}`);
        this.settle(m.requestId, null, new Error(m.message));
        return true;
      case 'folderViewState':
        this.settle(m.requestId, { order: m.order, sort: m.sort, filter: m.filter } satisfies FolderView);
        return true;
      case 'exportCsv':
        void this.exportCsv(m.suggestedName, m.csv).catch((e: Error) => {
          this.env.log.error(`CSV export failed: ${e.message}`);
          void vscode.window.showErrorMessage(`Flawscope: could not write the CSV: ${e.message}. Choose a folder you can write to.`);
        });
        return true;
      case 'openFile':
        void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(m.path));
        return true;
      case 'showHeatmap':
        this.actions.showHeatmap(m.path);
        return true;
      case 'calibrate':
        this.actions.calibrate(this);
        return true;
      default:
        this.env.log.warn(`[folder] message ${m.type} is not for this panel; ignored`);
        return false;
    }
  }

  private async exportCsv(name: string, csv: string): Promise<void> {
    let target = this.csvTarget;
    if (!target) {
      const uri = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(path.dirname(this.folder), name)),
        filters: { CSV: ['csv'] },
        title: 'Export scores as CSV',
      });
      if (!uri) return;
      target = uri.fsPath;
    }
    // Temp file then rename: an interrupted export never leaves half a CSV under the chosen name.
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}`);
    try {
      await fs.promises.writeFile(tmp, csv, { encoding: 'utf8', flag: 'wx' });
      await fs.promises.rename(tmp, target);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    this.lastCsvPath = target;
    this.env.log.info(`exported ${csv.split('\n').length - 2} rows to ${target}`);
    if (this.csvTarget) return;
    const open = await vscode.window.showInformationMessage(`Flawscope: scores exported to ${target}`, 'Open');
    if (open) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(target));
  }
}
