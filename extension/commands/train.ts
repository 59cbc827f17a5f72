/**
 * Training: the Train Model wizard (dataset, normal class, preset), runs of the trainer CLI with
 * progress notification, dashboard and status bar, and Cancel / Resume Training / Show Dashboard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProgressEvent } from '../../trainer/progress';
import { RESTRICTED_MSG } from '../cli-client';
import type { Host } from '../host';
import { runIdOf } from '../host';
import { listImages, readModel } from '../models';
import { confirmText, presetEstimate, trainingImageCount } from '../preset-estimate';
import { DashboardPanel } from '../panels';
import { offersResume, runLabel } from '../run-lifecycle';
import type { RunStore } from '../run-store';
import { TrainingRun, runViewOf, type RunRecord } from '../runs';
import { readSettings } from '../settings';
import { settingProblem, settingValue, untrainableReason, type WizardSetting } from '../train-input';
import { PRESET_NAMES, presetDescription, presetSpec, budgetFraction, describeEvent, epochText, formatEta, fractionDone, type PresetName, type TrainSpec } from '../training';
import { announceTrainedModel } from './model-announce';
import type { DatasetNode } from '../views/datasets';
import type { Datasets } from './datasets';
import type { Models } from './models';

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

export class Training implements vscode.Disposable {
  /** This session's runs, by id. */
  readonly runs = new Map<string, TrainingRun>();
  /** Runs of earlier sessions (and this one's ended ones), from the run store. */
  private stored: RunRecord[];
  readonly dashboards = new Map<string, DashboardPanel>();
  private readonly runsChanged = new vscode.EventEmitter<void>();
  /** A run started, changed state, saved a checkpoint or ended (the Runs view follows). */
  readonly onDidChangeRuns = this.runsChanged.event;
  private readonly progressed = new vscode.EventEmitter<void>();
  /** Any event of a run, and its start and end (the status bar follows). */
  readonly onDidProgress = this.progressed.event;

  constructor(
    private readonly host: Host,
    private readonly models: Models,
    private readonly datasets: Datasets,
    readonly store: RunStore,
  ) {
    this.stored = store.loadRuns();
    void vscode.commands.executeCommand('setContext', 'flawscope.training', false);
  }

  refresh(): void {
    this.runsChanged.fire();
  }

  /** Every run the Runs view lists, newest first: a run that failed before training started is only a message, not a row. */
  allRuns(): RunRecord[] {
    const session = [...this.runs.values()].filter((r) => r.started || r.record.state !== 'failed').map((r) => r.record);
    const ids = new Set(session.map((r) => r.id));
    return [...session, ...this.stored.filter((r) => !ids.has(r.id))].sort((a, b) => b.startedAt - a.startedAt);
  }

  findRun(id: string): RunRecord | undefined {
    return this.runs.get(id)?.record ?? this.stored.find((r) => r.id === id);
  }

  /** A run's events: the live ones this session, else its stored log. */
  events(id: string): ProgressEvent[] {
    return this.runs.get(id)?.events ?? this.store.loadEvents(id);
  }

  /** Forgets runs (Delete Run, Clear Finished): their rows, stored records and event logs. Live runs are not removed. */
  async removeRuns(ids: readonly string[]): Promise<void> {
    const gone = new Set(ids.filter((id) => !this.runs.get(id)?.running));
    for (const id of gone) {
      this.runs.delete(id);
      this.dashboards.get(id)?.dispose();
    }
    this.stored = this.stored.filter((r) => !gone.has(r.id));
    await this.persistRuns();
    await Promise.all([...gone].map((id) => this.store.deleteEvents(id)));
    this.runsChanged.fire();
  }

  liveRuns(): TrainingRun[] {
    return [...this.runs.values()].filter((r) => r.running);
  }

  /** Saves every listed run (live ones too: after a reload they read as cancelled or failed, see RunStore.loadRuns). */
  private async persistRuns(): Promise<void> {
    await this.store.saveRuns(this.allRuns());
  }

  async train(args: TrainCommandArgs = {}): Promise<TrainOutcome> {
    if (this.host.blockedByTrust()) return { status: 'blocked', reason: RESTRICTED_MSG };
    const nodePath = await this.host.cli.nodeOk();
    if (!nodePath) return { status: 'aborted', reason: 'Node.js or the trainer CLI is not available' };

    let data = args.data;
    if (!data) {
      const ds = this.datasets.list();
      const items: (vscode.QuickPickItem & { p?: string })[] = ds.map((d) => {
        const why = untrainableReason(this.datasets.report(d));
        return { label: `${why ? '$(error) ' : ''}${path.basename(d)}`, description: d, detail: why ? `cannot train on it: ${why}` : undefined, p: d };
      });
      items.push({ label: '$(folder-opened) Browse for a dataset folder…' });
      const pick = await vscode.window.showQuickPick(items, { title: 'Train Model (1/3): dataset' });
      if (!pick) return { status: 'aborted', reason: 'no dataset chosen' };
      data = pick.p ?? (await this.datasets.add()) ?? undefined;
      if (!data) return { status: 'aborted', reason: 'no dataset chosen' };
    }
    const untrainable = untrainableReason(this.datasets.report(data));
    if (untrainable) {
      const reason = `Flawscope: cannot train on ${path.basename(data)}: ${untrainable}. Fix the folder, then run Inspect Dataset again.`;
      void vscode.window.showErrorMessage(reason, 'Inspect Again').then((c) => c && void this.datasets.inspect(data!, true));
      return { status: 'aborted', reason };
    }
    const normal = args.normal ?? (await this.datasets.pickNormalClass(data, 'Train Model (2/3): the normal class (everything else is anomaly)'));
    if (!normal) return { status: 'aborted', reason: 'no normal class chosen' };
    const spec: TrainSpec = { data, normal, out: args.out ?? '', size: args.size, epochs: args.epochs, batch: args.batch, lr: args.lr, lrDecayEvery: args.lrDecayEvery, augment: args.augment, seed: args.seed, backend: args.backend, resume: args.resume, weights: args.weights, config: args.config, extraArgs: args.extraArgs };
    let presetName: string | null = args.preset ?? null;
    const needPreset = args.size === undefined && args.epochs === undefined && args.batch === undefined && !args.resume && !args.config;
    if (needPreset) {
      let preset = args.preset;
      if (!preset) {
        const def = readSettings().defaultPreset;
        // Each preset's expected time for this dataset, before anything starts.
        const trainImages = trainingImageCount(data, listImages(data, 1_000_000));
        const items = [
          ...PRESET_NAMES.map((n) => ({ label: n, description: `${presetEstimate(n, trainImages).text} · ${presetDescription(n)}`, picked: def === n })),
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
        } else {
          preset = pick.label as PresetName;
          const est = preset !== 'custom' ? presetEstimate(preset, trainImages) : null;
          if (est?.confirm && (await vscode.window.showWarningMessage(confirmText(preset as Exclude<PresetName, 'custom'>, est), { modal: true }, 'Start')) !== 'Start')
            return { status: 'aborted', reason: `the ${preset} preset's expected time (${est.text}) was not confirmed` };
        }
        if (preset === 'custom' && spec.size === undefined) {
          // Each box refuses what `flawscope train` would refuse, with its message (extension/train-input.ts).
          const ask = (key: WizardSetting, title: string, value: string, placeHolder?: string) => vscode.window.showInputBox({ title, value, placeHolder, validateInput: (v) => settingProblem(key, v) });
          const size = await ask('size', 'Image size (multiple of 16)', '32');
          const epochs = size && (await ask('epochs', 'Epochs', '20'));
          const batch = epochs && (await ask('batch', 'Batch size', '32'));
          const lr = batch && (await ask('lr', 'Learning rate', '0.001'));
          if (!size || !epochs || !batch || !lr) return { status: 'aborted', reason: 'custom preset abandoned' };
          Object.assign(spec, { size: settingValue('size', size), epochs: settingValue('epochs', epochs), batch: settingValue('batch', batch), lr: settingValue('lr', lr) });
          const w = await ask('weights', 'Loss weights (optional; empty = the paper defaults)', '', 'recon=1.5,abc=0.5,normalAdv=0.5,patch=1.5,latent=0.5,anomalyAdv=1');
          if (w === undefined) return { status: 'aborted', reason: 'custom preset abandoned' };
          if (w.trim()) spec.weights = w.trim();
        }
      }
      if (spec.size === -1) spec.size = undefined;
      if (preset && preset !== 'custom') Object.assign(spec, presetSpec(preset));
      presetName = preset ?? null;
    }
    if (!spec.out) {
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      spec.out = path.join(this.models.folder(), `${path.basename(data)}-${normal}-${stamp}`.replace(/[^\w.-]+/g, '_'));
    }
    fs.mkdirSync(path.dirname(spec.out), { recursive: true });
    return this.startRun(nodePath, spec, args, presetName);
  }

  private startRun(nodePath: string, spec: TrainSpec, args: TrainCommandArgs, preset: string | null): Promise<TrainOutcome> | TrainOutcome {
    const id = `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const base = `${path.basename(spec.data)} / ${spec.normal}${spec.resume ? ' (resumed)' : ''}`;
    const origin = spec.resume ? this.allRuns().find((r) => r.checkpoint === spec.resume && r.state === 'cancelled') : undefined;
    const record: RunRecord = { id, title: base, spec, preset: origin?.preset ?? preset, state: 'starting', startedAt: Date.now(), endedAt: null, checkpoint: null, error: null, lastEpoch: 0, epochs: spec.epochs ?? null, metrics: null, resumedFrom: origin?.id ?? null, resumedBy: null };
    record.title = runLabel({ ...record, title: base, size: spec.size });
    const title = record.title;
    const run = new TrainingRun(record);
    this.runs.set(id, run);
    this.host.log.info(`training ${title} → ${spec.out}`);
    let budget: { seconds: number; since: number } | null = null;
    run.on('event', (e: ProgressEvent) => {
      if (e.type !== 'step') this.host.log.info(`[${title}] ${describeEvent(e)}`);
      if (e.type === 'warning') void vscode.window.showWarningMessage(`Flawscope training: ${e.message}`);
      if (e.type === 'start' && e.timeBudget) budget = { seconds: e.timeBudget, since: Date.now() };
      const f = budget ? budgetFraction(e, budget.seconds, (Date.now() - budget.since) / 1000) : fractionDone(e, run.epochs, run.startEpoch);
      if (f !== null) run.fraction = f;
      this.dashboards.get(id)?.progress(id, e);
      this.progressed.fire();
      if (e.type === 'start') this.onStarted(run, origin, args);
      if (e.type === 'start' || e.type === 'epoch' || e.type === 'done' || e.type === 'cancelled' || e.type === 'error' || e.type === 'checkpoint') {
        this.runsChanged.fire();
        this.dashboards.get(id)?.state(run.view());
        // The log the dashboard draws after a reload; saved at each epoch-level event, not per step.
        if (run.started) void this.store.saveEvents(id, run.events);
      }
    });
    this.host.cli.startRun(run, nodePath);
    void vscode.commands.executeCommand('setContext', 'flawscope.training', true);
    this.runsChanged.fire();
    this.progressed.fire();

    const ended = run.finished.then(async (rec) => {
      this.host.log.info(`[${title}] ${rec.state}${rec.error ? `: ${rec.error}` : ''}`);
      this.dashboards.get(id)?.state(run.view());
      await this.persistRuns();
      void vscode.commands.executeCommand('setContext', 'flawscope.training', this.liveRuns().length > 0);
      this.runsChanged.fire();
      this.models.refresh();
      this.progressed.fire();
      if (rec.state === 'done') {
        if (!args.quiet) void announceTrainedModel(this.host, this.models, spec.out, rec, run.epochs);
      } else if (rec.state === 'cancelled') {
        if (!args.quiet) void vscode.window.showInformationMessage(`Flawscope: training cancelled after epoch ${rec.lastEpoch}.${rec.checkpoint ? ' A resumable checkpoint was kept.' : ''}${readModel(spec.out).info ? ' The best epoch so far was saved as a model.' : ''}`, ...(rec.checkpoint ? ['Resume'] : [])).then((c) => { if (c) void this.resume(id); });
      } else if (rec.state === 'failed') {
        void vscode.window.showErrorMessage(`Flawscope: training failed: ${rec.error ?? 'unknown error'}`, 'Show Log').then((c) => c && this.host.log.show());
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
          const msg = `${pct}%${e.type === 'step' || e.type === 'epoch' ? ` · ${epochText(e.epoch, run.epochs)}` : ''}${eta >= 0 ? ` · ETA ${formatEta(eta)}` : ''}`;
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
    const live = this.liveRuns();
    const run = id ? this.runs.get(id) : live[live.length - 1];
    if (!run || !run.running) {
      if (!id) void vscode.window.showInformationMessage('Flawscope: no training is running.');
      return false;
    }
    this.host.log.info(`cancelling ${run.record.title} (SIGTERM; the trainer keeps a resumable checkpoint)`);
    run.cancel();
    return true;
  }

  /** The trainer's first event: training really runs. The dashboard opens now (a failed start opens none), and the run it resumed is done offering Resume. */
  private onStarted(run: TrainingRun, origin: RunRecord | undefined, args: TrainCommandArgs): void {
    if (origin && origin.state === 'cancelled') {
      origin.state = 'resumed';
      origin.resumedBy = run.id;
    }
    void this.persistRuns();
    if (!args.quiet) this.openDashboard(run.id, true);
  }

  async resume(id: string): Promise<TrainOutcome> {
    const rec = this.findRun(id);
    if (!rec || !offersResume(rec, fs.existsSync)) {
      const why = !rec ? 'it is no longer listed' : rec.state === 'resumed' ? 'it was already resumed in a later run' : rec.checkpoint ? `its checkpoint ${rec.checkpoint} is gone` : 'it has no checkpoint';
      void vscode.window.showErrorMessage(`Flawscope: this run cannot be resumed: ${why}.`);
      this.runsChanged.fire();
      return { status: 'aborted', reason: why };
    }
    return this.train({ ...rec.spec, resume: rec.checkpoint! });
  }

  /** Opens (or reveals) a run's dashboard; `restored`: the panel VS Code brought back after a reload. */
  openDashboard(id: string, background = false, restored?: vscode.WebviewPanel): boolean {
    const rec = this.findRun(id);
    if (!rec) {
      if (!restored) void vscode.window.showInformationMessage('Flawscope: that run is no longer listed (it was deleted or cleared).');
      return false;
    }
    const existing = this.dashboards.get(id);
    if (existing && !existing.isDisposed) {
      if (restored) restored.dispose();
      else existing.panel.reveal(undefined, background);
      return true;
    }
    const live = this.runs.get(id);
    const d = new DashboardPanel(this.host.panelEnv, live ? live.view() : runViewOf(rec), () => this.events(id), restored);
    d.onDidDispose(() => this.dashboards.delete(id));
    this.dashboards.set(id, d);
    return true;
  }

  dispose(): void {
    for (const r of this.runs.values()) if (r.running) r.cancel(5000);
  }
}

export function registerTrainCommands(host: Host, training: Training): void {
  host.command('flawscope.trainModel', (a?: unknown) => {
    if (a && typeof a === 'object' && 'kind' in a && (a as DatasetNode).kind === 'dataset') return training.train({ data: (a as DatasetNode).path });
    if (a instanceof vscode.Uri) return training.train({ data: a.fsPath });
    return training.train((a as TrainCommandArgs) ?? {});
  });
  host.command('flawscope.cancelTraining', (a?: unknown) => training.cancel(runIdOf(a)));
  host.command('flawscope.resumeTraining', (a?: unknown) => {
    const id = runIdOf(a);
    return id ? training.resume(id) : undefined;
  });
  host.command('flawscope.showDashboard', (a?: unknown) => {
    const id = runIdOf(a) ?? training.allRuns()[0]?.id;
    if (id) training.openDashboard(id);
  });
}
