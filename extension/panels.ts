/**
 * Webview panels: the score panel (one, reused, beside the editor), the Score Folder panel and one
 * training dashboard per run. Every message from a webview is validated (extension/validate.ts)
 * before it is acted on; rejected ones are logged and dropped, and the panel keeps working.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Colormap, FolderItem, HostToWebview, ModelRef, PanelKind, RunView, ScoreSummary, ScorerRef, WebviewToHost, FolderRow } from '../shared/protocol';
import { restoreStateMessage } from './restore';
import { describeForLog, validateWebviewMessage } from './validate';
import { buildWebviewHtml, makeNonce, resourceRoots } from './webview-html';
import type { ProgressEvent } from '../trainer/progress';

export interface PanelEnv {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  onRejected(kind: PanelKind, reason: string): void;
  settings(): { colormap: Colormap; opacity: number };
  saveSetting(key: 'colormap' | 'overlayOpacity', value: Colormap | number): void;
}

interface Pending<T> {
  resolve(v: T): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  /** The message, kept so it can be sent again if the page is replaced before it answers. */
  message: HostToWebview;
  /** Which running page (counted by `ready` messages) it was last sent to. */
  incarnation: number;
}

/** Largest image file the score panel takes (it is posted to the webview whole). */
export const MAX_IMAGE_BYTES = 256 * 2 ** 20;

/**
 * How long the first page load may take to say `ready` before the panel loads it again. A loaded
 * machine is the common case, a blank page the rare one: with both cores busy (a training
 * beside the editor) a cold code-server webview took 20–30 s to start, so the waits are long.
 */
const READY_ATTEMPT_MS = 15000;

/** The page stayed silent through every reload: the caller may replace the whole panel. */
export class WebviewSilentError extends Error {}

/** Test hooks: make pages look silent (drop their `ready`) and retry sooner. */
export interface ReadyFaults {
  dropReadies: number;
  attemptMs: number;
  /** Replaces whenReady's total timeout (default: the first wait plus one retry wait) when set. */
  totalMs?: number;
  /** How long a page loaded again gets (default 2 × attemptMs: a reload on a slow machine starts no faster). */
  retryAttemptMs?: number;
}

/** Shared plumbing: HTML with CSP, roots, ready handshake, validated messages, requests by id. */
abstract class PanelHost implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  readonly viewType: string;
  protected dataRoots: string[] = [];
  private ready!: Promise<void>;
  private markReady!: () => void;
  /** Counts page loads; a `ready` from an older page is stale and ignored. */
  private generation = 0;
  /** Counts `ready` messages: a page VS Code re-runs (hidden and shown again) starts empty too. */
  private incarnation = 0;
  protected nextId = 1;
  protected pending = new Map<number, Pending<unknown>>();
  private disposables: vscode.Disposable[] = [];
  private disposed = false;
  readonly onDidDispose: vscode.Event<void>;
  private disposeEmitter = new vscode.EventEmitter<void>();

  constructor(
    protected readonly env: PanelEnv,
    readonly kind: PanelKind,
    viewType: string,
    title: string,
    column: vscode.ViewColumn,
    dataRoots: string[],
    preserveFocus = false,
    /** A panel VS Code restored after a reload (extension/restore.ts): adopted instead of creating one. */
    existing?: vscode.WebviewPanel,
  ) {
    this.dataRoots = dataRoots.map((r) => path.resolve(r));
    this.viewType = viewType;
    this.onDidDispose = this.disposeEmitter.event;
    if (existing) {
      this.panel = existing;
      this.panel.title = title;
      this.panel.webview.options = this.webviewOptions();
    } else this.panel = vscode.window.createWebviewPanel(viewType, title, { viewColumn: column, preserveFocus }, this.webviewOptions());
    this.panel.iconPath = vscode.Uri.joinPath(env.extensionUri, 'media', 'icon.svg');
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m) => this.receive(m)),
      this.panel.onDidDispose(() => this.dispose()),
    );
    this.load();
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      enableForms: false,
      retainContextWhenHidden: this.kind !== 'dashboard' ? true : false,
      localResourceRoots: this.localResourceRoots().map((r) => vscode.Uri.file(r)),
    };
  }

  /** The roots given to the webview (see resourceRoots); exposed for tests. */
  localResourceRoots(): string[] {
    return resourceRoots(this.env.extensionUri.fsPath, this.kind, this.dataRoots);
  }

  /** The exact HTML last given to the webview (for tests). */
  html = '';

  private load(): void {
    this.generation++;
    this.ready = new Promise((r) => (this.markReady = r));
    const w = this.panel.webview;
    const uri = (...p: string[]) => w.asWebviewUri(vscode.Uri.joinPath(this.env.extensionUri, ...p)).toString();
    this.html = buildWebviewHtml({
      panel: this.kind,
      title: this.panel.title,
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: uri('dist', 'webview', `${this.kind}.js`),
      styleUri: uri('media', 'webview.css'),
      generation: this.generation,
    });
    w.html = this.html;
  }

  /** Loads the page afresh (new HTML, new nonce); the panel re-sends init when it says ready. */
  reloadPage(): void {
    this.load();
  }

  /** Makes sure `roots` are readable by the webview; reloads it (new HTML, new nonce) if not. */
  protected async ensureRoots(roots: string[]): Promise<boolean> {
    const missing = roots.map((r) => path.resolve(r)).filter((r) => !this.dataRoots.includes(r));
    if (missing.length === 0) return false;
    this.dataRoots.push(...missing);
    this.panel.webview.options = this.webviewOptions();
    this.load();
    return true;
  }

  /**
   * Resolves once the current page has said `ready`. code-server now and then leaves a new webview
   * page blank (no script runs, no error reaches us): a silent page is loaded again once, and if
   * that stays silent too, WebviewSilentError tells the caller to replace the whole panel, which
   * has always recovered in our runs.
   */
  async whenReady(timeoutMs = this.faults.totalMs ?? this.faults.attemptMs + this.retryWait()): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let loads = 1;
    for (;;) {
      if (this.disposed) throw new Error(`the ${this.kind} panel was closed`);
      const left = deadline - Date.now();
      if (left <= 0) throw new WebviewSilentError(`the ${this.kind} webview did not start within ${timeoutMs / 1000} s (${loads} page loads tried)`);
      const wait = Math.min(left, loads === 1 ? this.faults.attemptMs : this.retryWait());
      let timer: NodeJS.Timeout | undefined;
      const started = await Promise.race([
        this.ready.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), wait))),
      ]);
      clearTimeout(timer);
      if (started) return;
      if (deadline - Date.now() > 0) {
        this.env.log.warn(`[${this.kind}] page ${this.generation} did not say ready within ${wait / 1000} s; loading it again`);
        this.reloads++;
        loads++;
        this.load();
      }
    }
  }

  private retryWait(): number {
    return this.faults.retryAttemptMs ?? 2 * this.faults.attemptMs;
  }

  /** How many times whenReady had to load a silent page again (for tests and logs). */
  reloads = 0;
  /** Set by tests only. */
  faults: ReadyFaults = { dropReadies: 0, attemptMs: READY_ATTEMPT_MS };

  post(msg: HostToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(msg);
  }

  /** Registers a request; the webview's answer with the same requestId settles it. */
  protected request<T>(send: (requestId: number) => HostToWebview, timeoutMs: number): Promise<T> {
    const requestId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`no answer from the ${this.kind} webview within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const message = send(requestId);
      this.pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject, timer, message, incarnation: this.incarnation });
      void this.post(message);
    });
  }

  protected settle(requestId: number, value: unknown, error?: Error): void {
    const p = this.pending.get(requestId);
    if (!p) {
      this.env.log.warn(`[${this.kind}] answer to unknown request ${requestId} ignored`);
      return;
    }
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(value);
  }

  /** Entry point for every message from the webview (also used by the fuzzing tests). */
  receive(raw: unknown): boolean {
    const v = validateWebviewMessage(raw, { allowedRoots: this.messageRoots(), realpath: fs.realpathSync.native });
    if (!v.ok) {
      this.env.log.warn(`[${this.kind}] rejected webview message (${describeForLog(raw)}): ${v.reason}`);
      this.env.onRejected(this.kind, v.reason);
      return false;
    }
    const m = v.value;
    try {
      switch (m.type) {
        case 'ready':
          if (m.panel !== this.kind) {
            this.env.log.warn(`[${this.kind}] ready from a ${m.panel} webview ignored`);
            return false;
          }
          if (m.generation !== this.generation) {
            this.env.log.info(`[${this.kind}] ready from replaced page ${m.generation} ignored (current ${this.generation})`);
            return false;
          }
          if (this.faults.dropReadies > 0) {
            this.faults.dropReadies--;
            this.env.log.warn(`[${this.kind}] ready from page ${m.generation} dropped (test fault)`);
            return true;
          }
          this.incarnation++;
          this.onReady();
          this.saveRestoreState();
          this.markReady();
          this.resendPending();
          return true;
        case 'log':
          this.env.log[m.level](`[${this.kind} webview] ${m.message}`);
          return true;
        case 'setSetting':
          this.env.saveSetting(m.key, m.value);
          return true;
        default:
          return this.handle(m);
      }
    } catch (e) {
      this.env.log.error(`[${this.kind}] handling ${m.type} failed: ${(e as Error).message}`);
      return false;
    }
  }

  /** Requests sent to a page that has since been replaced would never be answered: send them again. */
  private resendPending(): void {
    for (const p of this.pending.values()) {
      if (p.incarnation === this.incarnation) continue;
      p.incarnation = this.incarnation;
      this.env.log.info(`[${this.kind}] request ${p.message.type} sent again to the reloaded page`);
      void this.post(p.message);
    }
  }

  /** Folders whose files the webview may name in its messages; by default its resource roots. */
  protected messageRoots(): string[] {
    return this.dataRoots;
  }

  protected abstract onReady(): void;
  protected abstract handle(m: WebviewToHost): boolean;

  /** What extension/restore.ts needs to rebuild this panel after a reload; null: not restorable. */
  restoreData(): unknown {
    return null;
  }

  /** Gives the page the current restore state (VS Code keeps it across a reload). Call when restoreData changes. */
  protected saveRestoreState(): void {
    const data = this.restoreData();
    if (data !== null) void this.post(restoreStateMessage(this.viewType, data));
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`the ${this.kind} panel was closed`));
    }
    this.pending.clear();
    this.panel.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
  }
}

export function scorerRef(webview: vscode.Webview, extensionUri: vscode.Uri): ScorerRef {
  const dir = vscode.Uri.joinPath(extensionUri, 'dist', 'scorer');
  return {
    moduleUrl: webview.asWebviewUri(vscode.Uri.joinPath(dir, 'index.js')).toString(),
    wasmPrefix: webview.asWebviewUri(dir).toString().replace(/\/?$/, '/'),
    backend: 'auto',
  };
}

export interface ModelSpec {
  path: string;
  name: string;
  info: ModelRef['info'];
  thresholdOverride: number | null;
}

function modelRef(webview: vscode.Webview, m: ModelSpec): ModelRef {
  return { path: m.path, name: m.name, info: m.info, thresholdOverride: m.thresholdOverride, url: webview.asWebviewUri(vscode.Uri.file(m.path)).toString().replace(/\/$/, '') };
}

// -------------------------------------------------------------------------------------- score
export class ScorePanel extends PanelHost {
  private model: ModelSpec | null;
  lastResult: (ScoreSummary & { path: string }) | null = null;

  constructor(env: PanelEnv, model: ModelSpec | null, existing?: vscode.WebviewPanel) {
    super(env, 'score', 'flawscope.score', 'Flawscope Heatmap', vscode.ViewColumn.Beside, model ? [model.path] : [], true, existing);
    this.model = model;
  }

  /** The model and the image last scored (scored again when the panel is restored). */
  override restoreData(): { model: string | null; image: string | null } {
    return { model: this.model?.path ?? null, image: this.lastImage };
  }

  private lastImage: string | null = null;

  protected onReady(): void {
    const s = this.env.settings();
    void this.post({
      type: 'init',
      panel: 'score',
      scorer: scorerRef(this.panel.webview, this.env.extensionUri),
      model: this.model ? modelRef(this.panel.webview, this.model) : null,
      colormap: s.colormap,
      opacity: s.opacity,
    });
  }

  async setModel(m: ModelSpec): Promise<void> {
    const changed = this.model?.path !== m.path || this.model.thresholdOverride !== m.thresholdOverride;
    this.model = m;
    if (changed) {
      // The page drops the old result on a new model: the title must not keep naming its image.
      this.panel.title = `Flawscope Heatmap: ${m.name}`;
      this.lastImage = null;
      this.lastResult = null;
      this.saveRestoreState();
    }
    if (!(await this.ensureRoots([m.path])) && changed) void this.post({ type: 'setModel', model: modelRef(this.panel.webview, m) });
  }

  /** Folders of the images this panel was asked to score: its messages may name files there. */
  private imageDirs: string[] = [];

  protected override messageRoots(): string[] {
    return [...this.dataRoots, ...this.imageDirs];
  }

  async score(imagePath: string, timeoutMs = 120000): Promise<ScoreSummary> {
    // The host reads the file and posts its bytes: scoring an image in a new folder neither
    // widens localResourceRoots nor reloads the page.
    const st = await fs.promises.stat(imagePath);
    if (!st.isFile()) throw new Error(`${imagePath} is not a file`);
    if (st.size > MAX_IMAGE_BYTES) throw new Error(`${imagePath} is ${(st.size / 2 ** 20).toFixed(0)} MB; the panel scores images up to ${MAX_IMAGE_BYTES / 2 ** 20} MB — use \`flawscope score\` for larger files`);
    const file = await fs.promises.readFile(imagePath);
    const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
    const dir = path.resolve(path.dirname(imagePath));
    if (!this.imageDirs.includes(dir)) this.imageDirs.push(dir);
    this.panel.title = `Flawscope: ${path.basename(imagePath)}`;
    this.lastImage = imagePath;
    this.saveRestoreState();
    this.panel.reveal(vscode.ViewColumn.Beside, true);
    await this.whenReady();
    return this.request<ScoreSummary>((requestId) => ({ type: 'scoreImage', requestId, path: imagePath, bytes, name: path.basename(imagePath) }), timeoutMs);
  }

  pushSettings(): void {
    const s = this.env.settings();
    void this.post({ type: 'settings', colormap: s.colormap, opacity: s.opacity });
  }

  protected handle(m: WebviewToHost): boolean {
    if (m.type === 'scored') {
      this.lastResult = { ...m.result, path: m.path };
      this.env.log.info(`scored ${m.path}: ${m.result.score.toPrecision(6)} (${m.result.verdict}${m.result.reasons.length ? `: ${m.result.reasons.join('; ')}` : ''}, threshold ${m.result.threshold.toPrecision(4)}, ${m.result.backend}, ${m.result.ms.toFixed(0)} ms)`);
      this.settle(m.requestId, m.result);
      return true;
    }
    if (m.type === 'scoreFailed') {
      this.env.log.error(`scoring ${m.path} failed: ${m.message}`);
      this.settle(m.requestId, null, new Error(m.message));
      return true;
    }
    if (m.type === 'openFile') {
      void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(m.path));
      return true;
    }
    this.env.log.warn(`[score] message ${m.type} is not for this panel; ignored`);
    return false;
  }
}

// ------------------------------------------------------------------------------------- folder
export interface FolderOutcome {
  rows: FolderRow[];
  auroc: number | null;
  backend: string;
}

export class FolderPanel extends PanelHost {
  lastOutcome: FolderOutcome | null = null;
  lastCsvPath: string | null = null;
  /** Tests set this to skip the save dialog. */
  csvTarget: string | null = null;

  constructor(env: PanelEnv, private model: ModelSpec, private folder: string, existing?: vscode.WebviewPanel) {
    super(env, 'folder', 'flawscope.folder', `Flawscope: ${path.basename(folder)}`, vscode.ViewColumn.Beside, [model.path, folder], false, existing);
  }

  /** The model and folder (scored again when the panel is restored). */
  override restoreData(): { model: string; folder: string } {
    return { model: this.model.path, folder: this.folder };
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
    if (this.model.path !== model.path || this.folder !== folder) {
      this.model = model;
      this.folder = folder;
      if (!reloaded) void this.post({ type: 'setModel', model: modelRef(this.panel.webview, model) });
      this.saveRestoreState();
    }
    this.panel.title = `Flawscope: ${path.basename(folder)}`;
    this.panel.reveal(undefined, true);
    await this.whenReady();
    const w = this.panel.webview;
    const full: FolderItem[] = items.map((i) => ({ ...i, url: w.asWebviewUri(vscode.Uri.file(i.path)).toString() }));
    return this.request<FolderOutcome>((requestId) => ({ type: 'scoreFolder', requestId, folder, items: full }), timeoutMs);
  }

  protected handle(m: WebviewToHost): boolean {
    if (m.type === 'folderScored') {
      this.lastOutcome = { rows: m.rows, auroc: m.auroc, backend: m.backend };
      this.env.log.info(`scored folder ${m.folder}: ${m.rows.length} images${m.auroc === null ? '' : `, AUROC ${m.auroc.toFixed(4)}`} (${m.backend})`);
      this.settle(m.requestId, this.lastOutcome);
      return true;
    }
    if (m.type === 'scoreFailed') {
      this.env.log.error(`scoring ${m.path} failed: ${m.message}`);
      this.settle(m.requestId, null, new Error(m.message));
      return true;
    }
    if (m.type === 'exportCsv') {
      void this.exportCsv(m.suggestedName, m.csv);
      return true;
    }
    if (m.type === 'openFile') {
      void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(m.path));
      return true;
    }
    this.env.log.warn(`[folder] message ${m.type} is not for this panel; ignored`);
    return false;
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
    await fs.promises.writeFile(target, csv, 'utf8');
    this.lastCsvPath = target;
    this.env.log.info(`exported ${csv.split('\n').length - 2} rows to ${target}`);
    if (!this.csvTarget) void vscode.window.showInformationMessage(`Scores exported to ${target}`);
  }
}

// ---------------------------------------------------------------------------------- dashboard
export class DashboardPanel extends PanelHost {
  constructor(env: PanelEnv, private run: RunView, private history: () => ProgressEvent[], existing?: vscode.WebviewPanel) {
    super(env, 'dashboard', 'flawscope.dashboard', `Training: ${run.title} (${run.state})`, vscode.ViewColumn.Beside, [], true, existing);
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
