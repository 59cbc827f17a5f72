/**
 * The report panels (Evaluate Model, Inspect Dataset, Grid Search): one panel per kind, reused
 * and revealed, showing a report view built by the pure modules beside this one. The page only
 * draws; every message it sends is validated (extension/validate.ts) before the host acts on it.
 * Its resource roots are the extension's media and webview scripts plus the data folder its
 * thumbnails come from, nothing else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetReportView, EvalReportView, GridReportView, HostToWebview, ReportImage, ReportKind } from '../../shared/protocol';
import { restoreStateMessage } from '../restore';
import { describeForLog, isInsideRoots, validateWebviewMessage } from '../validate';
import { resourceRoots } from '../webview-html';
import { panelPageHtml } from '../panels/page-html';
import { isImageFile } from './eval-model';
import { resultsColumn, trackPanel } from '../panels/results-column';

export type ReportInit = Extract<HostToWebview, { type: 'init'; panel: ReportKind }>;

/** How long a shown report page may take to say ready before it is loaded again (slow, busy machines). */
const READY_MS = 20000;

export const REPORT_VIEW_TYPES: Record<ReportKind, string> = { evalReport: 'flawscope.evalReport', datasetReport: 'flawscope.datasetReport', gridReport: 'flawscope.gridReport' };

/** What the report panels need from the host (kept small so the panels stay testable in the real host). */
export interface ReportEnv {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  onRejected(kind: ReportKind, reason: string): void;
  /** Show this image's heatmap in the score panel (Scoring.showHeatmap, as a folder-table row does). */
  showHeatmap(imagePath: string): void;
  /** Start Train Model with this --weights setting, on the grid's data and normal class. */
  trainWithWeights(weights: string, grid: GridReportView): void;
}

export class ReportPanel implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  private roots: string[] = [];
  private generation = 0;
  private init: ReportInit | null = null;
  /** What show() was given, before thumbnails got webview URLs (those are made again by the next window). */
  private shown: { init: ReportInit; dataRoots: string[] } | null = null;
  /** The exact HTML last given to the webview (tests audit its CSP). */
  html = '';
  /** What the page said it drew last (counts of rows, thumbnails, bars), or null before it has. */
  rendered: Record<string, number> | null = null;
  private readonly renderedEmitter = new vscode.EventEmitter<Record<string, number>>();
  readonly onDidRender = this.renderedEmitter.event;
  private disposed = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly env: ReportEnv,
    readonly kind: ReportKind,
    onDispose: () => void,
    /** A panel VS Code restored after a reload (extension/restore.ts): adopted where it is instead of creating one. */
    existing?: vscode.WebviewPanel,
  ) {
    const options = {
      enableScripts: true,
      enableCommandUris: false,
      enableForms: false,
      // The page holds only what it was sent; keeping it alive spares re-sending a large report.
      retainContextWhenHidden: true,
      localResourceRoots: this.localResourceRoots().map((r) => vscode.Uri.file(r)),
    };
    if (existing) {
      this.panel = existing;
      this.panel.webview.options = options;
    } else this.panel = vscode.window.createWebviewPanel(REPORT_VIEW_TYPES[kind], 'Flawscope report', { viewColumn: resultsColumn(), preserveFocus: false }, options);
    this.panel.iconPath = vscode.Uri.joinPath(env.extensionUri, 'media', 'icon.svg');
    this.subscriptions.push(
      trackPanel(this.panel),
      this.panel.webview.onDidReceiveMessage((m) => this.receive(m)),
      this.panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
  }

  localResourceRoots(): string[] {
    return resourceRoots(this.env.extensionUri.fsPath, this.kind, this.roots);
  }

  get view(): ReportInit['report'] | null {
    return this.init?.report ?? null;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Shows `init` (a new page, so the roots can change), beside the editor. */
  show(init: ReportInit, dataRoots: string[]): void {
    this.roots = [...new Set(dataRoots.map((r) => path.resolve(r)))];
    this.shown = { init, dataRoots: this.roots };
    this.panel.webview.options = { ...this.panel.webview.options, localResourceRoots: this.localResourceRoots().map((r) => vscode.Uri.file(r)) };
    this.init = { ...init, report: this.withUrls(init) } as ReportInit;
    this.rendered = null;
    this.panel.title = init.title;
    this.load();
    this.panel.reveal(undefined, false);
  }

  /** Redraws a running grid search in place (no page reload). */
  updateGrid(report: GridReportView): void {
    if (this.init?.panel !== 'gridReport') return;
    this.init = { ...this.init, report };
    if (this.shown?.init.panel === 'gridReport') this.shown = { ...this.shown, init: { ...this.shown.init, report } };
    void this.panel.webview.postMessage({ type: 'gridUpdate', report } satisfies HostToWebview);
    this.saveRestoreState();
  }

  /** Set while the page loaded by show() has not said ready; cleared by its ready. */
  private readyTimer: NodeJS.Timeout | undefined;

  private load(retry = true): void {
    this.generation++;
    clearTimeout(this.readyTimer);
    // code-server now and then leaves a new webview page blank (see PanelHost.whenReady): a
    // visible page that stays silent is loaded once more.
    if (retry)
      this.readyTimer = setTimeout(() => {
        if (this.disposed || !this.panel.visible) return;
        this.env.log.warn(`[${this.kind}] page ${this.generation} did not say ready within ${READY_MS / 1000} s; loading it again`);
        this.load(false);
      }, READY_MS);
    this.html = panelPageHtml(this.panel.webview, this.env.extensionUri, this.kind, this.panel.title, this.generation);
    this.panel.webview.html = this.html;
  }

  /** Thumbnails get webview URLs where they are image files inside the panel's roots. */
  private withUrls(init: ReportInit): ReportInit['report'] {
    const w = this.panel.webview;
    const url = (i: ReportImage): ReportImage => ({ ...i, url: isImageFile(i.path) && isInsideRoots(path.resolve(i.path), this.roots) ? w.asWebviewUri(vscode.Uri.file(i.path)).toString() : null });
    if (init.panel === 'evalReport') {
      const r: EvalReportView = init.report;
      return { ...r, falsePositives: r.falsePositives.map(url), missed: r.missed.map(url) };
    }
    if (init.panel === 'datasetReport') {
      const r: DatasetReportView = init.report;
      return { ...r, samples: r.samples.map((s) => ({ ...s, images: s.images.map(url) })) };
    }
    return init.report;
  }

  /** Every message from the page (public for the fuzzing tests in the real host). */
  receive(raw: unknown): boolean {
    const v = validateWebviewMessage(raw, { allowedRoots: this.roots, realpath: fs.realpathSync.native });
    if (!v.ok) {
      this.env.log.warn(`[${this.kind}] rejected webview message (${describeForLog(raw)}): ${v.reason}`);
      this.env.onRejected(this.kind, v.reason);
      return false;
    }
    const m = v.value;
    switch (m.type) {
      case 'ready':
        if (m.panel !== this.kind || m.generation !== this.generation || !this.init) return false;
        clearTimeout(this.readyTimer);
        void this.panel.webview.postMessage(this.init);
        this.saveRestoreState();
        return true;
      case 'log':
        this.env.log[m.level](`[${this.kind} webview] ${m.message}`);
        return true;
      case 'reportRendered':
        if (m.panel !== this.kind) return false;
        this.rendered = m.counts;
        this.renderedEmitter.fire(m.counts);
        return true;
      case 'showHeatmap':
        if (this.kind !== 'evalReport') return false;
        this.env.showHeatmap(m.path);
        return true;
      case 'openFile':
        void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(m.path));
        return true;
      case 'trainWithWeights':
        if (this.init?.panel !== 'gridReport') return false;
        this.env.trainWithWeights(m.weights, this.init.report);
        return true;
      default:
        this.env.log.warn(`[${this.kind}] message ${m.type} is not for this panel; ignored`);
        return false;
    }
  }

  /** The report as shown (its view and data folders): a restored panel shows it again without re-running anything. */
  restoreData(): { init: ReportInit; dataRoots: string[] } | null {
    return this.shown;
  }

  /** Gives the page the current restore state (VS Code keeps it across a reload). */
  private saveRestoreState(): void {
    const data = this.restoreData();
    if (data) void this.panel.webview.postMessage(restoreStateMessage(REPORT_VIEW_TYPES[this.kind], data));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.readyTimer);
    this.panel.dispose();
    this.renderedEmitter.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}

/** One report panel per kind: a second evaluation replaces the first one's report in the same panel. */
export class Reports implements vscode.Disposable {
  private readonly panels = new Map<ReportKind, ReportPanel>();

  constructor(private readonly env: ReportEnv) {}

  open(init: ReportInit, dataRoots: string[]): ReportPanel {
    let p = this.panels.get(init.panel);
    if (!p || p.isDisposed) {
      p = new ReportPanel(this.env, init.panel, () => this.panels.delete(init.panel));
      this.panels.set(init.panel, p);
    }
    p.show(init, dataRoots);
    return p;
  }

  /** Shows `init` in a panel VS Code restored after a reload (one panel per kind: an open one is replaced). */
  adopt(restored: vscode.WebviewPanel, init: ReportInit, dataRoots: string[]): ReportPanel {
    this.panels.get(init.panel)?.dispose();
    // The closed panel forgets only itself: the replaced one's late dispose must not drop this one.
    const p: ReportPanel = new ReportPanel(this.env, init.panel, () => this.panels.get(init.panel) === p && this.panels.delete(init.panel), restored);
    this.panels.set(init.panel, p);
    p.show(init, dataRoots);
    return p;
  }

  get(kind: ReportKind): ReportPanel | null {
    const p = this.panels.get(kind);
    return p && !p.isDisposed ? p : null;
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
  }
}

