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
import { listImages, modelDescription, readModel } from '../models';
import { confirmText, presetEstimate, trainingImageCount } from '../preset-estimate';
import { DashboardPanel } from '../panels';
import { TrainingRun, type RunRecord } from '../runs';
import { readSettings } from '../settings';
import { PRESET_NAMES, presetDescription, presetSpec, budgetFraction, describeEvent, epochText, formatEta, fractionDone, type PresetName, type TrainSpec } from '../training';
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
  /** Finished runs kept in the workspace state (the last 30). */
  private readonly finishedRuns: RunRecord[];
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
  ) {
    this.finishedRuns = host.context.workspaceState.get<RunRecord[]>('flawscope.runs', []);
    void vscode.commands.executeCommand('setContext', 'flawscope.training', false);
  }

  refresh(): void {
    this.runsChanged.fire();
  }

  allRuns(): RunRecord[] {
    const live = [...this.runs.values()].map((r) => r.record);
    const ids = new Set(live.map((r) => r.id));
    return [...live, ...this.finishedRuns.filter((r) => !ids.has(r.id))].sort((a, b) => b.startedAt - a.startedAt);
  }

  liveRuns(): TrainingRun[] {
    return [...this.runs.values()].filter((r) => r.running);
  }

  private async persistRuns(): Promise<void> {
    const done = this.allRuns().filter((r) => r.endedAt !== null).slice(0, 30);
    this.finishedRuns.splice(0, this.finishedRuns.length, ...done);
    await this.host.context.workspaceState.update('flawscope.runs', done);
  }

  async train(args: TrainCommandArgs = {}): Promise<TrainOutcome> {
    if (this.host.blockedByTrust()) return { status: 'blocked', reason: RESTRICTED_MSG };
    const nodePath = await this.host.cli.nodeOk();
    if (!nodePath) return { status: 'aborted', reason: 'Node.js or the trainer CLI is not available' };

    let data = args.data;
    if (!data) {
      const ds = this.datasets.list();
      const items: (vscode.QuickPickItem & { p?: string })[] = ds.map((d) => ({ label: path.basename(d), description: d, p: d }));
      items.push({ label: '$(folder-opened) Browse for a dataset folder…' });
      const pick = await vscode.window.showQuickPick(items, { title: 'Train Model (1/3): dataset' });
      if (!pick) return { status: 'aborted', reason: 'no dataset chosen' };
      data = pick.p ?? (await this.datasets.add()) ?? undefined;
      if (!data) return { status: 'aborted', reason: 'no dataset chosen' };
    }
    const normal = args.normal ?? (await this.datasets.pickNormalClass(data, 'Train Model (2/3): the normal class (everything else is anomaly)'));
    if (!normal) return { status: 'aborted', reason: 'no normal class chosen' };
    const spec: TrainSpec = { data, normal, out: args.out ?? '', size: args.size, epochs: args.epochs, batch: args.batch, lr: args.lr, lrDecayEvery: args.lrDecayEvery, augment: args.augment, seed: args.seed, backend: args.backend, resume: args.resume, weights: args.weights, config: args.config, extraArgs: args.extraArgs };
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
      spec.out = path.join(this.models.folder(), `${path.basename(data)}-${normal}-${stamp}`.replace(/[^\w.-]+/g, '_'));
    }
    fs.mkdirSync(path.dirname(spec.out), { recursive: true });
    return this.startRun(nodePath, spec, args);
  }

  private startRun(nodePath: string, spec: TrainSpec, args: TrainCommandArgs): Promise<TrainOutcome> | TrainOutcome {
    const id = `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const title = `${path.basename(spec.data)} / ${spec.normal}${spec.resume ? ' (resumed)' : ''}`;
    const run = new TrainingRun({ id, title, spec, state: 'starting', startedAt: Date.now(), endedAt: null, checkpoint: null, error: null, lastEpoch: 0, metrics: null });
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
      if (e.type === 'start' || e.type === 'epoch' || e.type === 'done' || e.type === 'cancelled' || e.type === 'error' || e.type === 'checkpoint') {
        this.runsChanged.fire();
        this.dashboards.get(id)?.state(run.view());
      }
    });
    this.host.cli.startRun(run, nodePath);
    void vscode.commands.executeCommand('setContext', 'flawscope.training', true);
    this.runsChanged.fire();
    this.progressed.fire();
    if (!args.quiet) this.openDashboard(id, true);

    const ended = run.finished.then(async (rec) => {
      this.host.log.info(`[${title}] ${rec.state}${rec.error ? `: ${rec.error}` : ''}`);
      this.dashboards.get(id)?.state(run.view());
      await this.persistRuns();
      void vscode.commands.executeCommand('setContext', 'flawscope.training', this.liveRuns().length > 0);
      this.runsChanged.fire();
      this.models.refresh();
      this.progressed.fire();
      if (rec.state === 'done') {
        const m = readModel(spec.out);
        if (!args.quiet)
          void vscode.window.showInformationMessage(`Flawscope: model trained — ${m.name} (${modelDescription(m)}).`, 'Make Active', 'Score Image…').then(async (c) => {
            if (c === 'Make Active' || c === 'Score Image…') await this.models.setActive(spec.out);
            if (c === 'Score Image…') void vscode.commands.executeCommand('flawscope.scoreImage');
          });
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
    const d = new DashboardPanel(this.host.panelEnv, run.view(), () => run.events);
    d.onDidDispose(() => this.dashboards.delete(id));
    this.dashboards.set(id, d);
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
