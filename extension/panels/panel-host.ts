/**
 * Shared plumbing of every Flawscope webview panel: HTML with its CSP, resource roots, the ready
 * handshake (a silent page is loaded again), validated messages and requests answered by id. Every
 * message from a webview is validated (extension/validate.ts) before it is acted on; rejected ones
 * are logged and dropped, and the panel keeps working. Each panel kind is its own file beside this.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Colormap, HostToWebview, PanelKind, WebviewToHost } from '../../shared/protocol';
import { restoreStateMessage } from '../restore';
import { describeForLog, validateWebviewMessage } from '../validate';
import { resourceRoots } from '../webview-html';
import { panelPageHtml } from './page-html';
import { resultsColumn, trackPanel } from './results-column';

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
export abstract class PanelHost implements vscode.Disposable {
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
    /** Kept for callers that name one; every panel opens in the one results column (results-column.ts). */
    _column: vscode.ViewColumn | undefined,
    dataRoots: string[],
    preserveFocus = false,
    /** A panel VS Code restored after a reload (extension/restore.ts): adopted where it is instead of creating one. */
    existing?: vscode.WebviewPanel,
  ) {
    this.dataRoots = dataRoots.map((r) => path.resolve(r));
    this.viewType = viewType;
    this.onDidDispose = this.disposeEmitter.event;
    if (existing) {
      this.panel = existing;
      this.panel.title = title;
      this.panel.webview.options = this.webviewOptions();
    } else this.panel = vscode.window.createWebviewPanel(viewType, title, { viewColumn: resultsColumn(), preserveFocus }, this.webviewOptions());
    this.panel.iconPath = vscode.Uri.joinPath(env.extensionUri, 'media', 'icon.svg');
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m) => this.receive(m)),
      this.panel.onDidDispose(() => this.dispose()),
      trackPanel(this.panel),
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
    this.html = panelPageHtml(this.panel.webview, this.env.extensionUri, this.kind, this.panel.title, this.generation);
    this.panel.webview.html = this.html;
  }

  /** Brings the panel forward where it is (never into a new column). */
  show(preserveFocus = true): void {
    this.panel.reveal(this.panel.viewColumn, preserveFocus);
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

