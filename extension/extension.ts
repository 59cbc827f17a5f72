/**
 * Flawscope for VS Code: Datasets / Models / Runs views, training through the trainer CLI run by
 * system Node, scoring in a webview with the scorer bundle, and the training dashboard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { ProgressEvent } from '../trainer/progress';
import { DATASET_IMAGE_EXTENSIONS } from '../scorer/image-extensions';
import { labelFor } from '../shared/folder-math';
import { isImagePath, listImages, listModels, modelDescription, modelNormalClass, modelTooltip, readModel, type ModelEntry } from './models';
import { DashboardPanel, FolderPanel, ScorePanel, type FolderOutcome, type ModelSpec, type PanelEnv, type ReadyFaults, WebviewSilentError } from './panels';
import { COLORMAPS, type Colormap, type PanelKind, type ScoreSummary } from '../shared/protocol';
import { TrainingRun, type RunRecord } from './runs';
import { PRESET_NAMES, checkNode, presetDescription, presetSpec, describeEvent, formatEta, fractionDone, type PresetName, type TrainSpec } from './training';

const RESTRICTED_MSG =
  'Flawscope: training and running the trainer are disabled in Restricted Mode, because they start processes from this workspace. Trust the workspace to enable them. Scoring images still works.';

export interface DatasetReport {
  layout?: string;
  normalClass?: string | null;
  classes?: { name: string; count: number; anomaly?: boolean }[];
  imbalanceRatio?: number | null;
  imbalance?: { ratio?: number | null; normalToAnomaly?: number | null } | null;
  normalClassNote?: string;
  total?: number;
  imageSizes?: { common?: { size: string; count: number }[] } | null;
  channels?: Record<string, number> | null;
  ignoredFiles?: number;
  skipped?: { path: string; reason: string }[] | number;
  warnings?: string[];
  [k: string]: unknown;
}

export interface TrainCommandArgs extends Partial<TrainSpec> {
  preset?: PresetName;
  /** Resolve the command when the run ends (default) or as soon as it starts. */
  wait?: boolean;
  /** Do not show the progress notification / dashboard (tests). */
  quiet?: boolean;
}

export type TrainOutcome =
  | { status: 'blocked'; reason: string }
  | { status: 'aborted'; reason: string }
  | { status: 'started'; runId: string }
  | { status: RunRecord['state']; runId: string; record: RunRecord };

export interface FlawscopeApi {
  readonly runs: () => RunRecord[];
  readonly models: () => ModelEntry[];
  readonly datasets: () => string[];
  readonly activeModel: () => string | null;
  readonly waitForRun: (id: string) => Promise<RunRecord>;
  readonly runEvents: (id: string) => ProgressEvent[];
  readonly panelsReplaced: () => number;
  readonly scorePanel: () => { html: string; cspSource: string; roots: string[]; lastResult: (ScoreSummary & { path: string }) | null; receive(raw: unknown): boolean; reloads: number; faults: ReadyFaults; reloadPage(): void } | null;
  readonly folderPanel: () => { html: string; cspSource: string; roots: string[]; lastOutcome: FolderOutcome | null; lastCsvPath: string | null; setCsvTarget(p: string | null): void; receive(raw: unknown): boolean } | null;
  readonly dashboard: (runId: string) => { html: string; cspSource: string; roots: string[] } | null;
  readonly treeLabels: (view: 'datasets' | 'models' | 'runs') => Promise<string[]>;
  readonly rejectedMessages: () => { panel: PanelKind; reason: string }[];
  readonly processLaunches: () => number;
  readonly cliPath: string;
}

class Flawscope {
  readonly log: vscode.LogOutputChannel;
  private readonly runs = new Map<string, TrainingRun>();
  private readonly finishedRuns: RunRecord[];
  private scorePanel: ScorePanel | null = null;
  private folderPanel: FolderPanel | null = null;
  private readonly dashboards = new Map<string, DashboardPanel>();
  private readonly rejected: { panel: PanelKind; reason: string }[] = [];
  private launches = 0;
  private readonly status: vscode.StatusBarItem;
  private readonly reports = new Map<string, DatasetReport | { error: string }>();
  readonly datasetsView = new DatasetsProvider(this);
  readonly modelsView = new ModelsProvider(this);
  readonly runsView = new RunsProvider(this);
  readonly cliPath: string;

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Flawscope', { log: true });
    this.cliPath = path.join(context.extensionPath, 'dist', 'cli.js');
    this.finishedRuns = context.workspaceState.get<RunRecord[]>('flawscope.runs', []);
    this.status = vscode.window.createStatusBarItem('flawscope.status', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'Flawscope';
    context.subscriptions.push(this.log, this.status);
    this.updateStatus();
    this.status.show();
    void vscode.commands.executeCommand('setContext', 'flawscope.training', false);
  }

  // ------------------------------------------------------------------------------ settings
  cfg() {
    const c = vscode.workspace.getConfiguration('flawscope');
    const cm = c.get<string>('colormap', 'turbo');
    const t = c.get<number | null>('thresholdOverride', null);
    return {
      nodePath: c.get<string>('nodePath', '') || 'node',
      defaultPreset: c.get<PresetName>('defaultPreset', 'quick'),
      colormap: ((COLORMAPS as readonly string[]).includes(cm) ? cm : 'turbo') as Colormap,
      opacity: Math.min(1, Math.max(0, c.get<number>('overlayOpacity', 0.5))),
      thresholdOverride: typeof t === 'number' && Number.isFinite(t) ? t : null,
      modelsFolder: c.get<string>('modelsFolder', ''),
    };
  }

  modelsFolder(): string {
    const s = this.cfg().modelsFolder;
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (s) return path.isAbsolute(s) ? s : path.resolve(ws ?? this.context.globalStorageUri.fsPath, s);
    if (ws) return path.join(ws, '.flawscope', 'models');
    return path.join(this.context.globalStorageUri.fsPath, 'models');
  }

  panelEnv(): PanelEnv {
    return {
      extensionUri: this.context.extensionUri,
      log: this.log,
      onRejected: (panel, reason) => {
        this.rejected.push({ panel, reason });
        if (this.rejected.length > 1000) this.rejected.shift();
      },
      settings: () => ({ colormap: this.cfg().colormap, opacity: this.cfg().opacity }),
      saveSetting: (key, value) => {
        void vscode.workspace.getConfiguration('flawscope').update(key, value, vscode.ConfigurationTarget.Global);
      },
    };
  }

  // ------------------------------------------------------------------------------ models
  extraModels(): string[] {
    return this.context.workspaceState.get<string[]>('flawscope.extraModels', []);
  }

  models(): ModelEntry[] {
    return listModels(this.modelsFolder(), this.extraModels());
  }

  activeModelPath(): string | null {
    const p = this.context.workspaceState.get<string>('flawscope.activeModel');
    return p && fs.existsSync(path.join(p, 'flawscope.json')) ? p : null;
  }

  async setActiveModel(p: string): Promise<void> {
    await this.context.workspaceState.update('flawscope.activeModel', p);
    const extra = this.extraModels();
    if (!path.resolve(p).startsWith(path.resolve(this.modelsFolder()) + path.sep) && !extra.includes(p))
      await this.context.workspaceState.update('flawscope.extraModels', [...extra, p]);
    this.modelsView.refresh();
    this.updateStatus();
    const m = this.modelSpec(p);
    if (m && this.scorePanel && !this.scorePanel.isDisposed) await this.scorePanel.setModel(m);
  }

  modelSpec(p: string): ModelSpec | null {
    const e = readModel(p);
    if (!e.info) {
      void vscode.window.showErrorMessage(`Flawscope: cannot use the model in ${p}: ${e.error}`);
      return null;
    }
    return { path: e.path, name: e.name, info: e.info, thresholdOverride: this.cfg().thresholdOverride };
  }

  /** The active model, asking the user to pick one when none is set. */
  async requireModel(): Promise<ModelSpec | null> {
    let p = this.activeModelPath();
    if (!p) {
      const models = this.models().filter((m) => m.info);
      if (models.length === 1) p = models[0].path;
      else if (models.length > 1) p = (await this.pickModel('No active model: pick the model to score with'))?.path ?? null;
      if (!p) {
        const choice = await vscode.window.showWarningMessage('Flawscope: no trained model yet. Train one first, or pick a model folder.', 'Train Model', 'Pick Model Folder…');
        if (choice === 'Train Model') void vscode.commands.executeCommand('flawscope.trainModel');
        if (choice === 'Pick Model Folder…') {
          const u = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Folder with model.json and flawscope.json' });
          if (u?.[0]) p = u[0].fsPath;
        }
        if (!p) return null;
      }
      await this.setActiveModel(p);
    }
    return this.modelSpec(p);
  }

  async pickModel(title: string): Promise<ModelEntry | undefined> {
    const active = this.activeModelPath();
    const items = this.models().map((m) => ({ label: `${m.path === active ? '$(check) ' : ''}${m.name}`, description: modelDescription(m), detail: m.path, m }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage('Flawscope: no models yet in ' + this.modelsFolder());
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { title, matchOnDetail: true }))?.m;
  }

  // ------------------------------------------------------------------------------ trust & node
  trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  blockedByTrust(): boolean {
    if (this.trusted()) return false;
    this.log.warn('blocked: ' + RESTRICTED_MSG);
    void vscode.window.showWarningMessage(RESTRICTED_MSG, 'Manage Workspace Trust').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return true;
  }

  async nodeOk(): Promise<string | null> {
    const nodePath = this.cfg().nodePath;
    const r = await checkNode(nodePath);
    if (!r.ok) {
      this.log.error(r.message);
      void vscode.window.showErrorMessage(`Flawscope: ${r.message}`, 'Open Settings').then((c) => {
        if (c) void vscode.commands.executeCommand('workbench.action.openSettings', 'flawscope.nodePath');
      });
      return null;
    }
    if (!fs.existsSync(this.cliPath)) {
      const msg = `the trainer CLI is missing (${this.cliPath}); reinstall Flawscope or run "npm run build".`;
      this.log.error(msg);
      void vscode.window.showErrorMessage('Flawscope: ' + msg);
      return null;
    }
    return nodePath;
  }

  /** Runs the CLI once with --json and parses its (last JSON) stdout. Trust-gated. */
  async runCliJson<T>(args: string[], timeoutMs = 120000, signal?: AbortSignal): Promise<T> {
    if (!this.trusted()) throw new Error(RESTRICTED_MSG);
    const nodePath = await this.nodeOk();
    if (!nodePath) throw new Error('Node.js is not available (see the Flawscope output)');
    this.launches++;
    this.log.info(`$ ${nodePath} ${this.cliPath} ${args.join(' ')}`);
    return new Promise<T>((resolve, reject) => {
      execFile(nodePath, [this.cliPath, ...args], { cwd: this.context.extensionPath, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, windowsHide: true, signal, killSignal: 'SIGTERM' }, (err, stdout, stderr) => {
        if (stderr.trim()) this.log.info(stderr.trim());
        const lines = stdout.trim().split('\n').filter((l) => l.trim().startsWith('{') || l.trim().startsWith('['));
        if (err && lines.length === 0) return reject(new Error(stderr.trim().split('\n').slice(-3).join(' ') || err.message));
        try {
          // One JSON document, or JSON lines (progress events, then the result last).
          let parsed: any;
          try {
            parsed = JSON.parse(stdout);
          } catch {
            const events = lines.map((l) => JSON.parse(l));
            const failed = events.find((e) => e && typeof e === 'object' && e.type === 'error');
            if (failed) return reject(new Error(failed.message));
            parsed = events[events.length - 1];
          }
          if (parsed && typeof parsed === 'object' && parsed.type === 'error') return reject(new Error(parsed.message));
          resolve(parsed as T);
        } catch {
          reject(new Error(`unexpected output from the CLI: ${stdout.slice(0, 300)}`));
        }
      });
    });
  }

  // ------------------------------------------------------------------------------ datasets
  datasets(): string[] {
    return this.context.workspaceState.get<string[]>('flawscope.datasets', []);
  }

  report(p: string): DatasetReport | { error: string } | undefined {
    return this.reports.get(p);
  }

  async addDataset(uri?: vscode.Uri): Promise<string | null> {
    let p = uri?.fsPath;
    if (!p) {
      const u = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title: 'Dataset folder (one sub-folder per class, MVTec AD, IDX or CIFAR)' });
      p = u?.[0]?.fsPath;
    }
    if (!p) return null;
    const list = this.datasets();
    if (!list.includes(p)) await this.context.workspaceState.update('flawscope.datasets', [...list, p]);
    this.datasetsView.refresh();
    if (this.trusted()) void this.inspect(p).catch(() => undefined);
    return p;
  }

  async removeDataset(p: string): Promise<void> {
    await this.context.workspaceState.update('flawscope.datasets', this.datasets().filter((d) => d !== p));
    this.reports.delete(p);
    this.datasetsView.refresh();
  }

  async inspect(p: string, show = false): Promise<DatasetReport | null> {
    if (this.blockedByTrust()) return null;
    try {
      const r = await this.runCliJson<DatasetReport>(['datasets', 'inspect', p, '--json']);
      this.reports.set(p, r);
      this.datasetsView.refresh();
      if (show) {
        this.log.info(`dataset ${p}:\n${JSON.stringify(r, null, 2)}`);
        this.log.show(true);
      }
      return r;
    } catch (e) {
      const msg = (e as Error).message;
      this.reports.set(p, { error: msg });
      this.datasetsView.refresh();
      if (show) void vscode.window.showErrorMessage(`Flawscope: inspecting ${path.basename(p)} failed: ${msg}`);
      return null;
    }
  }

  // ------------------------------------------------------------------------------ training
  allRuns(): RunRecord[] {
    const live = [...this.runs.values()].map((r) => r.record);
    const ids = new Set(live.map((r) => r.id));
    return [...live, ...this.finishedRuns.filter((r) => !ids.has(r.id))].sort((a, b) => b.startedAt - a.startedAt);
  }

  private async persistRuns(): Promise<void> {
    const done = this.allRuns().filter((r) => r.endedAt !== null).slice(0, 30);
    this.finishedRuns.splice(0, this.finishedRuns.length, ...done);
    await this.context.workspaceState.update('flawscope.runs', done);
  }

  async train(args: TrainCommandArgs = {}): Promise<TrainOutcome> {
    if (this.blockedByTrust()) return { status: 'blocked', reason: RESTRICTED_MSG };
    const nodePath = await this.nodeOk();
    if (!nodePath) return { status: 'aborted', reason: 'Node.js or the trainer CLI is not available' };

    let data = args.data;
    if (!data) {
      const ds = this.datasets();
      const items: (vscode.QuickPickItem & { p?: string })[] = ds.map((d) => ({ label: path.basename(d), description: d, p: d }));
      items.push({ label: '$(folder-opened) Browse for a dataset folder…' });
      const pick = await vscode.window.showQuickPick(items, { title: 'Train Model (1/3): dataset' });
      if (!pick) return { status: 'aborted', reason: 'no dataset chosen' };
      data = pick.p ?? (await this.addDataset()) ?? undefined;
      if (!data) return { status: 'aborted', reason: 'no dataset chosen' };
    }
    const normal = args.normal ?? (await this.pickNormalClass(data, 'Train Model (2/3): the normal class (everything else is anomaly)'));
    if (!normal) return { status: 'aborted', reason: 'no normal class chosen' };
    const spec: TrainSpec = { data, normal, out: args.out ?? '', size: args.size, epochs: args.epochs, batch: args.batch, lr: args.lr, lrDecayEvery: args.lrDecayEvery, augment: args.augment, seed: args.seed, backend: args.backend, resume: args.resume, weights: args.weights, config: args.config, extraArgs: args.extraArgs };
    const needPreset = args.size === undefined && args.epochs === undefined && args.batch === undefined && !args.resume && !args.config;
    if (needPreset) {
      let preset = args.preset;
      if (!preset) {
        const def = this.cfg().defaultPreset;
        const items = [
          ...PRESET_NAMES.map((n) => ({ label: n, description: presetDescription(n), picked: def === n })),
          { label: 'custom', description: 'choose size, epochs, batch and loss weights' },
          { label: 'config file…', description: 'a saved JSON config: {"size":…, "epochs":…, "batch":…, "seed":…, "weights":{…}}' },
        ].sort((a, b) => Number(b.label === def) - Number(a.label === def));
        const pick = await vscode.window.showQuickPick(items, { title: 'Train Model (3/3): preset' });
        if (!pick) return { status: 'aborted', reason: 'no preset chosen' };
        if (pick.label === 'config file…') {
          const u = await vscode.window.showOpenDialog({ filters: { JSON: ['json'] }, title: 'Training config (flawscope train --config)' });
          if (!u?.[0]) return { status: 'aborted', reason: 'no config chosen' };
          spec.config = u[0].fsPath;
          spec.size = -1; // the config decides; nothing more to ask
          preset = 'custom';
        } else preset = pick.label as PresetName;
        if (preset === 'custom' && spec.size === undefined) {
          const ask = async (title: string, value: string) => vscode.window.showInputBox({ title, value, validateInput: (v) => (/^\d+$/.test(v) && Number(v) > 0 ? null : 'a positive integer') });
          const size = await ask('Image size (multiple of 16)', '32');
          const epochs = size && (await ask('Epochs', '20'));
          const batch = epochs && (await ask('Batch size', '32'));
          if (!size || !epochs || !batch) return { status: 'aborted', reason: 'custom preset abandoned' };
          Object.assign(spec, { size: Number(size), epochs: Number(epochs), batch: Number(batch) });
          const w = await vscode.window.showInputBox({
            title: 'Loss weights (optional; empty = the paper defaults)',
            placeHolder: 'recon=1.5,abc=0.5,normalAdv=0.5,patch=1.5,latent=0.5,anomalyAdv=1',
            validateInput: (v) => (v === '' || /^\s*\w+\s*=\s*[\d.]+\s*(,\s*\w+\s*=\s*[\d.]+\s*)*$/.test(v) ? null : 'name=number pairs separated by commas'),
          });
          if (w === undefined) return { status: 'aborted', reason: 'custom preset abandoned' };
          if (w) spec.weights = w.replace(/\s+/g, '');
        }
      }
      if (spec.size === -1) spec.size = undefined;
      if (preset && preset !== 'custom') Object.assign(spec, presetSpec(preset));
    }
    if (!spec.out) {
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      spec.out = path.join(this.modelsFolder(), `${path.basename(data)}-${normal}-${stamp}`.replace(/[^\w.-]+/g, '_'));
    }
    fs.mkdirSync(path.dirname(spec.out), { recursive: true });
    return this.startRun(nodePath, spec, args);
  }

  private startRun(nodePath: string, spec: TrainSpec, args: TrainCommandArgs): Promise<TrainOutcome> | TrainOutcome {
    const id = `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const title = `${path.basename(spec.data)} / ${spec.normal}${spec.resume ? ' (resumed)' : ''}`;
    const run = new TrainingRun({ id, title, spec, state: 'starting', startedAt: Date.now(), endedAt: null, checkpoint: null, error: null, lastEpoch: 0, metrics: null });
    this.runs.set(id, run);
    this.launches++;
    this.log.info(`training ${title} → ${spec.out}`);
    run.on('event', (e: ProgressEvent) => {
      if (e.type !== 'step') this.log.info(`[${title}] ${describeEvent(e)}`);
      if (e.type === 'warning') void vscode.window.showWarningMessage(`Flawscope training: ${e.message}`);
      const f = fractionDone(e, run.epochs, run.startEpoch);
      if (f !== null) run.fraction = f;
      this.dashboards.get(id)?.progress(id, e);
      this.updateStatus();
      if (e.type === 'start' || e.type === 'epoch' || e.type === 'done' || e.type === 'cancelled' || e.type === 'error' || e.type === 'checkpoint') {
        this.runsView.refresh();
        this.dashboards.get(id)?.state(run.view());
      }
    });
    run.start(nodePath, this.cliPath, this.context.extensionPath, (line, stream) => (stream === 'stderr' ? this.log.warn(`[trainer] ${line}`) : this.log.info(`[trainer] ${line}`)));
    void vscode.commands.executeCommand('setContext', 'flawscope.training', true);
    this.runsView.refresh();
    this.updateStatus();
    if (!args.quiet) this.openDashboard(id, true);

    const ended = run.finished.then(async (rec) => {
      this.log.info(`[${title}] ${rec.state}${rec.error ? `: ${rec.error}` : ''}`);
      this.dashboards.get(id)?.state(run.view());
      await this.persistRuns();
      void vscode.commands.executeCommand('setContext', 'flawscope.training', [...this.runs.values()].some((r) => r.running));
      this.runsView.refresh();
      this.modelsView.refresh();
      this.updateStatus();
      if (rec.state === 'done') {
        const m = readModel(spec.out);
        if (!args.quiet)
          void vscode.window.showInformationMessage(`Flawscope: model trained — ${m.name} (${modelDescription(m)}).`, 'Make Active', 'Score Image…').then(async (c) => {
            if (c === 'Make Active' || c === 'Score Image…') await this.setActiveModel(spec.out);
            if (c === 'Score Image…') void vscode.commands.executeCommand('flawscope.scoreImage');
          });
      } else if (rec.state === 'cancelled') {
        if (!args.quiet) void vscode.window.showInformationMessage(`Flawscope: training cancelled after epoch ${rec.lastEpoch}.${rec.checkpoint ? ' A resumable checkpoint was kept.' : ''}`, ...(rec.checkpoint ? ['Resume'] : [])).then((c) => { if (c) void this.resume(id); });
      } else if (rec.state === 'failed') {
        void vscode.window.showErrorMessage(`Flawscope: training failed: ${rec.error ?? 'unknown error'}`, 'Show Log').then((c) => c && this.log.show());
      }
      return { status: rec.state, runId: id, record: rec } as TrainOutcome;
    });

    if (!args.quiet) {
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flawscope: training ${title}`, cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => this.cancel(id));
        let reported = 0;
        const onEv = (e: ProgressEvent) => {
          const pct = Math.round(run.fraction * 100);
          const eta = e.type === 'step' || e.type === 'epoch' ? e.etaSec : -1;
          const msg = `${pct}%${e.type === 'step' || e.type === 'epoch' ? ` · epoch ${e.epoch}/${run.epochs}` : ''}${eta >= 0 ? ` · ETA ${formatEta(eta)}` : ''}`;
          progress.report({ increment: Math.max(0, pct - reported), message: msg });
          reported = Math.max(reported, pct);
        };
        run.on('event', onEv);
        await run.finished;
        run.off('event', onEv);
      });
    }
    return args.wait === false ? { status: 'started', runId: id } : ended;
  }

  cancel(id?: string): boolean {
    const live = [...this.runs.values()].filter((r) => r.running);
    const run = id ? this.runs.get(id) : live[live.length - 1];
    if (!run || !run.running) {
      if (!id) void vscode.window.showInformationMessage('Flawscope: no training is running.');
      return false;
    }
    this.log.info(`cancelling ${run.record.title} (SIGTERM; the trainer keeps a resumable checkpoint)`);
    run.cancel();
    return true;
  }

  async resume(id: string): Promise<TrainOutcome> {
    const rec = this.allRuns().find((r) => r.id === id);
    if (!rec?.checkpoint) {
      void vscode.window.showErrorMessage('Flawscope: this run has no checkpoint to resume from.');
      return { status: 'aborted', reason: 'no checkpoint' };
    }
    return this.train({ ...rec.spec, resume: rec.checkpoint });
  }

  openDashboard(id: string, background = false): void {
    const run = this.runs.get(id);
    if (!run) {
      void vscode.window.showInformationMessage('Flawscope: the dashboard shows runs of this session only.');
      return;
    }
    const existing = this.dashboards.get(id);
    if (existing && !existing.isDisposed) {
      existing.panel.reveal(undefined, background);
      return;
    }
    const d = new DashboardPanel(this.panelEnv(), run.view(), () => run.events);
    d.onDidDispose(() => this.dashboards.delete(id));
    this.dashboards.set(id, d);
  }

  updateStatus(): void {
    const live = [...this.runs.values()].filter((r) => r.running);
    if (live.length) {
      const r = live[live.length - 1];
      this.status.text = `$(sync~spin) Flawscope ${Math.round(r.fraction * 100)}%`;
      this.status.tooltip = `Training ${r.record.title} — click for the dashboard`;
      this.status.command = { title: 'Show dashboard', command: 'flawscope.showDashboard', arguments: [r.id] };
    } else {
      const a = this.activeModelPath();
      this.status.text = `$(telescope) ${a ? path.basename(a) : 'Flawscope: no model'}`;
      this.status.tooltip = a ? `Active Flawscope model: ${a}\nClick to change` : 'Select or train a Flawscope model';
      this.status.command = 'flawscope.selectActiveModel';
    }
  }

  // ------------------------------------------------------------------------------ scoring
  async scoreImage(uri?: vscode.Uri): Promise<ScoreSummary | null> {
    let p = uri?.fsPath;
    if (!p) {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      const u = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
      if (u && isImagePath(u.fsPath)) p = u.fsPath;
    }
    if (!p) {
      const u = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Images: DATASET_IMAGE_EXTENSIONS.map((e) => e.slice(1)) }, title: 'Image to score' });
      p = u?.[0]?.fsPath;
    }
    if (!p) return null;
    if (!isImagePath(p)) {
      void vscode.window.showErrorMessage(`Flawscope: ${path.basename(p)} is not a supported image (${DATASET_IMAGE_EXTENSIONS.map((e) => e.slice(1)).join(', ')}).`);
      return null;
    }
    const model = await this.requireModel();
    if (!model) return null;
    try {
      return await this.onFreshPanelIfSilent(
        async () => {
          const panel = this.ensureScorePanel(model);
          await panel.setModel(model);
          return panel.score(p!);
        },
        () => this.scorePanel?.dispose(),
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Flawscope: scoring ${path.basename(p)} failed: ${(e as Error).message}`);
      return null;
    }
  }

  /**
   * Runs `use` on a panel; when its page never starts even after reloads (seen in code-server),
   * closes that panel and tries once more on a new one.
   */
  private async onFreshPanelIfSilent<T>(use: () => Promise<T>, close: () => void): Promise<T> {
    try {
      return await use();
    } catch (e) {
      if (!(e instanceof WebviewSilentError)) throw e;
      this.log.warn(`${e.message}; opening a new panel`);
      this.panelsReplaced++;
      close();
      return use();
    }
  }

  /** Panels replaced because their page never started (for tests and logs). */
  panelsReplaced = 0;

  ensureScorePanel(model: ModelSpec | null): ScorePanel {
    if (!this.scorePanel || this.scorePanel.isDisposed) {
      this.scorePanel = new ScorePanel(this.panelEnv(), model);
      this.context.subscriptions.push(this.scorePanel);
    }
    return this.scorePanel;
  }

  pushSettings(): void {
    if (this.scorePanel && !this.scorePanel.isDisposed) this.scorePanel.pushSettings();
  }

  async openHeatmapPanel(): Promise<void> {
    const a = this.activeModelPath();
    const panel = this.ensureScorePanel(a ? this.modelSpec(a) : null);
    panel.panel.reveal(vscode.ViewColumn.Beside);
  }

  async scoreFolder(uri?: vscode.Uri): Promise<FolderOutcome | null> {
    let p = uri?.fsPath;
    if (!p) p = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Folder of images to score' }))?.[0]?.fsPath;
    if (!p) return null;
    const model = await this.requireModel();
    if (!model) return null;
    const images = listImages(p);
    if (images.length === 0) {
      void vscode.window.showWarningMessage(`Flawscope: no images in ${p}.`);
      return null;
    }
    const folderNames = (() => {
      try {
        return fs.readdirSync(p!, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
      } catch {
        return [];
      }
    })();
    const normal = modelNormalClass(model.info);
    const items = images.map((i) => {
      const name = path.relative(p!, i);
      return { path: i, name, label: labelFor(name, normal, folderNames) };
    });
    try {
      return await this.onFreshPanelIfSilent(
        () => {
          if (!this.folderPanel || this.folderPanel.isDisposed) {
            this.folderPanel = new FolderPanel(this.panelEnv(), model, p!);
            this.context.subscriptions.push(this.folderPanel);
          }
          return this.folderPanel.scoreFolder(model, p!, items);
        },
        () => this.folderPanel?.dispose(),
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Flawscope: scoring ${p} failed: ${(e as Error).message}`);
      return null;
    }
  }

  /** QuickPick of a dataset's classes (from its inspect report, else its sub-folders). */
  async pickNormalClass(data: string, title: string): Promise<string | undefined> {
    let classes: string[] = [];
    const rep = this.reports.get(data) ?? (await this.inspect(data));
    if (rep && 'classes' in rep && Array.isArray(rep.classes)) classes = rep.classes.map((c) => c.name);
    if (classes.length === 0) {
      try {
        classes = fs.readdirSync(data, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
      } catch {
        /* not a folder */
      }
    }
    const counts = new Map(rep && 'classes' in rep && rep.classes ? rep.classes.map((c) => [c.name, c.count]) : []);
    return classes.length > 0
      ? (await vscode.window.showQuickPick(classes.map((c) => ({ label: c, description: counts.has(c) ? `${counts.get(c)} images` : undefined })), { title }))?.label
      : await vscode.window.showInputBox({ title });
  }

  /**
   * Grid Search (paper §3.4) through the CLI's `grid`: a seeded sample of the valid loss-weight
   * combinations at a quick budget, ranked on validation; opens the results table when done.
   */
  async gridSearch(args: { data?: string; normal?: string; sample?: number; budget?: string; extraArgs?: string[] } = {}): Promise<unknown> {
    if (this.blockedByTrust()) return null;
    const data = args.data ?? (await vscode.window.showQuickPick(this.datasets().map((d) => ({ label: path.basename(d), description: d })), { title: 'Grid Search (1/2): dataset' }))?.description;
    if (!data) return null;
    const normal = args.normal ?? (await this.pickNormalClass(data, 'Grid Search (2/2): the normal class'));
    if (!normal) return null;
    const out = path.join(this.modelsFolder(), `grid-${normal.replace(/[^\w.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const cliArgs = ['grid', '--data', data, '--normal', normal, '--out', out, '--sample', String(args.sample ?? 8), '--budget', args.budget ?? 'quick', '--json', ...(args.extraArgs ?? [])];
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flawscope: grid search on ${path.basename(data)} (normal: ${normal})`, cancellable: true }, async (_p, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      try {
        const r = await this.runCliJson<Record<string, unknown>>(cliArgs, 12 * 3600_000, abort.signal);
        this.log.info(`grid search done: ${JSON.stringify(r)}`);
        const table = path.join(out, 'grid.md');
        if (fs.existsSync(table)) await vscode.window.showTextDocument(vscode.Uri.file(table), { preview: true });
        return { ...r, out };
      } catch (e) {
        if (!abort.signal.aborted) void vscode.window.showErrorMessage(`Flawscope: grid search failed: ${(e as Error).message}`);
        return null;
      }
    });
  }

  async evaluate(modelPath?: string, dataPath?: string): Promise<unknown> {
    if (this.blockedByTrust()) return null;
    const m = modelPath ?? (await this.pickModel('Evaluate which model?'))?.path;
    if (!m) return null;
    const data = dataPath ?? (await vscode.window.showQuickPick(this.datasets().map((d) => ({ label: path.basename(d), description: d })), { title: 'Evaluate on which dataset?' }))?.description;
    if (!data) return null;
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flawscope: evaluating ${path.basename(m)}` }, async () => {
      try {
        const args = ['eval', '--model', m, '--data', data, '--json'];
        const r = await this.runCliJson<Record<string, unknown>>(args, 30 * 60000).catch((e: Error) => {
          // Folders without an official test split: measure on the held-out validation split.
          if (!/no test split/.test(e.message)) throw e;
          this.log.info(`${data} has no test split: evaluating on its validation split`);
          return this.runCliJson<Record<string, unknown>>([...args, '--split', 'validation'], 30 * 60000);
        });
        this.log.info(`evaluation of ${m} on ${data}:\n${JSON.stringify(r, null, 2)}`);
        this.log.show(true);
        return r;
      } catch (e) {
        void vscode.window.showErrorMessage(`Flawscope: evaluation failed: ${(e as Error).message}`);
        return null;
      }
    });
  }

  async deleteModel(p: string, confirmed = false): Promise<boolean> {
    if (!confirmed) {
      const c = await vscode.window.showWarningMessage(`Delete the model ${path.basename(p)}? Its folder (${p}) is moved to the trash.`, { modal: true }, 'Delete');
      if (c !== 'Delete') return false;
    }
    await vscode.workspace.fs.delete(vscode.Uri.file(p), { recursive: true, useTrash: true }).then(undefined, () => vscode.workspace.fs.delete(vscode.Uri.file(p), { recursive: true, useTrash: false }));
    if (this.activeModelPath() === p) await this.context.workspaceState.update('flawscope.activeModel', undefined);
    await this.context.workspaceState.update('flawscope.extraModels', this.extraModels().filter((e) => e !== p));
    this.modelsView.refresh();
    this.updateStatus();
    return true;
  }

  api(): FlawscopeApi {
    return {
      runs: () => this.allRuns(),
      models: () => this.models(),
      datasets: () => this.datasets(),
      activeModel: () => this.activeModelPath(),
      runEvents: (id) => [...(this.runs.get(id)?.events ?? [])],
      waitForRun: (id) => this.runs.get(id)?.finished ?? Promise.reject(new Error(`no run ${id}`)),
      panelsReplaced: () => this.panelsReplaced,
      scorePanel: () => {
        const p = this.scorePanel;
        return p && !p.isDisposed ? { html: p.html, cspSource: p.panel.webview.cspSource, roots: p.localResourceRoots(), lastResult: p.lastResult, receive: (raw: unknown) => p.receive(raw), reloads: p.reloads, faults: p.faults, reloadPage: () => p.reloadPage() } : null;
      },
      folderPanel: () => {
        const p = this.folderPanel;
        return p && !p.isDisposed
          ? { html: p.html, cspSource: p.panel.webview.cspSource, roots: p.localResourceRoots(), lastOutcome: p.lastOutcome, lastCsvPath: p.lastCsvPath, setCsvTarget: (t: string | null) => (p.csvTarget = t), receive: (raw: unknown) => p.receive(raw) }
          : null;
      },
      dashboard: (id) => {
        const d = this.dashboards.get(id);
        return d && !d.isDisposed ? { html: d.html, cspSource: d.panel.webview.cspSource, roots: d.localResourceRoots() } : null;
      },
      treeLabels: async (view) => {
        const label = (t: vscode.TreeItem) => `${typeof t.label === 'string' ? t.label : t.label?.label ?? ''}${t.description ? ` — ${t.description}` : ''}`;
        if (view === 'models') return this.modelsView.getChildren().map((m) => label(this.modelsView.getTreeItem(m)));
        if (view === 'runs') return this.runsView.getChildren().map((r) => label(this.runsView.getTreeItem(r)));
        return this.datasetsView.getChildren().flatMap((d) => [label(this.datasetsView.getTreeItem(d)), ...this.datasetsView.getChildren(d).map((c) => '  ' + c.label)]);
      },
      rejectedMessages: () => [...this.rejected],
      processLaunches: () => this.launches,
      cliPath: this.cliPath,
    };
  }

  dispose(): void {
    for (const r of this.runs.values()) if (r.running) r.cancel(5000);
  }
}

// ------------------------------------------------------------------------------------ trees
type Node = { kind: string; label: string; path?: string; runId?: string };

class DatasetsProvider implements vscode.TreeDataProvider<Node> {
  private em = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.em.event;
  constructor(private readonly fx: Flawscope) {}
  refresh(): void {
    this.em.fire(undefined);
  }
  getTreeItem(n: Node): vscode.TreeItem {
    if (n.kind === 'dataset') {
      const r = this.fx.report(n.path!);
      const t = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Collapsed);
      t.contextValue = 'flawscope.dataset';
      t.iconPath = new vscode.ThemeIcon('database');
      t.tooltip = n.path;
      t.resourceUri = vscode.Uri.file(n.path!);
      t.description = !r ? (this.fx.trusted() ? 'not inspected' : 'inspect needs a trusted workspace') : 'error' in r ? 'inspect failed' : `${r.layout ?? 'unknown layout'} · ${r.classes?.length ?? 0} classes`;
      return t;
    }
    const t = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
    t.contextValue = `flawscope.${n.kind}`;
    return t;
  }
  getChildren(n?: Node): Node[] {
    if (!n) return this.fx.datasets().map((p) => ({ kind: 'dataset', label: path.basename(p), path: p }));
    const r = this.fx.report(n.path!);
    if (!r) return [{ kind: 'info', label: this.fx.trusted() ? 'Not inspected yet: use Inspect' : 'Inspect needs a trusted workspace' }];
    if ('error' in r) return [{ kind: 'info', label: `Error: ${r.error}` }];
    const out: Node[] = [{ kind: 'info', label: `Layout: ${r.layout ?? 'unknown'}${typeof r.total === 'number' ? ` · ${r.total} images` : ''}` }];
    for (const c of r.classes ?? []) out.push({ kind: 'class', label: `${c.name}: ${c.count}${c.name === r.normalClass ? ' (normal)' : c.anomaly === true ? ' (anomaly)' : ''}` });
    const ratio = r.imbalance?.ratio ?? r.imbalanceRatio;
    if (typeof ratio === 'number') out.push({ kind: 'info', label: `Imbalance ratio (largest/smallest class): ${+ratio.toFixed(2)}` });
    if (typeof r.imbalance?.normalToAnomaly === 'number') out.push({ kind: 'info', label: `Normal : anomaly = ${+r.imbalance.normalToAnomaly.toFixed(2)} : 1` });
    const sizes = r.imageSizes?.common?.map((c) => `${c.size} (${c.count})`).join(', ');
    if (sizes) out.push({ kind: 'info', label: `Image sizes: ${sizes}` });
    if (r.channels) out.push({ kind: 'info', label: `Channels: ${Object.entries(r.channels).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')}` });
    const sk = Array.isArray(r.skipped) ? r.skipped.length : typeof r.skipped === 'number' ? r.skipped : 0;
    out.push({ kind: 'info', label: `Skipped files: ${sk}${r.ignoredFiles ? ` · ignored non-images: ${r.ignoredFiles}` : ''}` });
    if (Array.isArray(r.skipped)) for (const f of r.skipped.slice(0, 20)) out.push({ kind: 'info', label: `  ${path.basename(f.path)}: ${f.reason}` });
    if (r.normalClassNote) out.push({ kind: 'info', label: `ℹ ${r.normalClassNote}` });
    for (const w of r.warnings ?? []) out.push({ kind: 'info', label: `⚠ ${w}` });
    return out;
  }
}

class ModelsProvider implements vscode.TreeDataProvider<ModelEntry> {
  private em = new vscode.EventEmitter<ModelEntry | undefined>();
  readonly onDidChangeTreeData = this.em.event;
  constructor(private readonly fx: Flawscope) {}
  refresh(): void {
    this.em.fire(undefined);
  }
  getTreeItem(m: ModelEntry): vscode.TreeItem {
    const active = this.fx.activeModelPath() === m.path;
    const t = new vscode.TreeItem(active ? `${m.name} (active)` : m.name, vscode.TreeItemCollapsibleState.None);
    t.id = m.path;
    t.description = modelDescription(m) + (m.info ? ` · ${new Date(m.info.createdAt).toLocaleDateString()}` : '');
    t.tooltip = modelTooltip(m);
    t.iconPath = new vscode.ThemeIcon(active ? 'pass-filled' : m.info ? 'beaker' : 'warning');
    t.contextValue = active ? 'flawscope.model.active' : 'flawscope.model';
    t.command = { title: 'Set Active', command: 'flawscope.selectActiveModel', arguments: [m] };
    return t;
  }
  getChildren(m?: ModelEntry): ModelEntry[] {
    return m ? [] : this.fx.models();
  }
}

class RunsProvider implements vscode.TreeDataProvider<RunRecord> {
  private em = new vscode.EventEmitter<RunRecord | undefined>();
  readonly onDidChangeTreeData = this.em.event;
  constructor(private readonly fx: Flawscope) {}
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
    return r ? [] : this.fx.allRuns();
  }
}

// ------------------------------------------------------------------------------------ activate
let instance: Flawscope | null = null;

export function activate(context: vscode.ExtensionContext): FlawscopeApi {
  const fx = new Flawscope(context);
  instance = fx;
  const reg = (id: string, fn: (...a: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  const pathOf = (a: unknown): string | undefined => (a instanceof vscode.Uri ? a.fsPath : typeof a === 'string' ? a : a && typeof a === 'object' && 'path' in a && typeof (a as { path: unknown }).path === 'string' ? (a as { path: string }).path : undefined);

  context.subscriptions.push(
    vscode.window.registerTreeDataProvider('flawscope.datasets', fx.datasetsView),
    vscode.window.registerTreeDataProvider('flawscope.models', fx.modelsView),
    vscode.window.registerTreeDataProvider('flawscope.runs', fx.runsView),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      fx.log.info('workspace trusted: training enabled');
      fx.datasetsView.refresh();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('flawscope.modelsFolder')) fx.modelsView.refresh();
      if (e.affectsConfiguration('flawscope.colormap') || e.affectsConfiguration('flawscope.overlayOpacity')) fx.pushSettings();
    }),
    { dispose: () => fx.dispose() },
  );

  reg('flawscope.addDataset', (a?: unknown) => fx.addDataset(pathOf(a) ? vscode.Uri.file(pathOf(a)!) : undefined));
  reg('flawscope.inspectDataset', async (a?: unknown) => {
    const p = pathOf(a) ?? (await vscode.window.showQuickPick(fx.datasets(), { title: 'Inspect which dataset?' }));
    return p ? fx.inspect(p, true) : null;
  });
  reg('flawscope.removeDataset', (a?: unknown) => {
    const p = pathOf(a);
    return p ? fx.removeDataset(p) : undefined;
  });
  reg('flawscope.trainModel', (a?: unknown) => {
    if (a && typeof a === 'object' && 'kind' in a && (a as Node).kind === 'dataset') return fx.train({ data: (a as Node).path });
    if (a instanceof vscode.Uri) return fx.train({ data: a.fsPath });
    return fx.train((a as TrainCommandArgs) ?? {});
  });
  reg('flawscope.cancelTraining', (a?: unknown) => fx.cancel(typeof a === 'string' ? a : a && typeof a === 'object' && 'id' in a ? String((a as RunRecord).id) : undefined));
  reg('flawscope.resumeTraining', (a?: unknown) => {
    const id = typeof a === 'string' ? a : a && typeof a === 'object' && 'id' in a ? String((a as RunRecord).id) : undefined;
    return id ? fx.resume(id) : undefined;
  });
  reg('flawscope.showDashboard', (a?: unknown) => {
    const id = typeof a === 'string' ? a : a && typeof a === 'object' && 'id' in a ? String((a as RunRecord).id) : fx.allRuns()[0]?.id;
    if (id) fx.openDashboard(id);
  });
  reg('flawscope.scoreImage', (a?: unknown) => fx.scoreImage(a instanceof vscode.Uri ? a : pathOf(a) ? vscode.Uri.file(pathOf(a)!) : undefined));
  reg('flawscope.scoreFolder', (a?: unknown) => fx.scoreFolder(a instanceof vscode.Uri ? a : pathOf(a) ? vscode.Uri.file(pathOf(a)!) : undefined));
  reg('flawscope.openHeatmapPanel', () => fx.openHeatmapPanel());
  reg('flawscope.selectActiveModel', async (a?: unknown) => {
    const p = pathOf(a) ?? (await fx.pickModel('Select the active model'))?.path;
    if (p) await fx.setActiveModel(p);
    return p ?? null;
  });
  reg('flawscope.evaluateModel', (a?: unknown, data?: unknown) => fx.evaluate(pathOf(a), typeof data === 'string' ? data : undefined));
  reg('flawscope.gridSearch', (a?: unknown) => fx.gridSearch(a && typeof a === 'object' && !(a instanceof vscode.Uri) ? (a as Parameters<typeof fx.gridSearch>[0]) : {}));
  reg('flawscope.revealModel', (a?: unknown) => {
    const p = pathOf(a) ?? fx.activeModelPath();
    if (p) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(p)).then(undefined, () => vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(p)));
  });
  reg('flawscope.deleteModel', (a?: unknown, confirmed?: unknown) => {
    const p = pathOf(a);
    return p ? fx.deleteModel(p, confirmed === true) : false;
  });
  reg('flawscope.refresh', () => {
    fx.modelsView.refresh();
    fx.datasetsView.refresh();
    fx.runsView.refresh();
  });
  reg('flawscope.showLog', () => fx.log.show());
  fx.log.info(`Flawscope activated (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'in Restricted Mode'}; models folder ${fx.modelsFolder()})`);
  return fx.api();
}

export function deactivate(): void {
  instance?.dispose();
  instance = null;
}
