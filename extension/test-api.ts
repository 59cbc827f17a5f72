/**
 * The API `activate` returns to the real-VS-Code tests (test/vscode/suite): runs, models, panel
 * internals and counters the UI does not show. Only when the test runner sets FLAWSCOPE_TEST_API=1
 * (test/vscode/run.mjs and electron.mjs); otherwise the extension exports nothing.
 */
import * as vscode from 'vscode';
import type { PanelRestorer } from './restore';
import type { StatusBar } from './status-bar';
import type { ProgressEvent } from '../trainer/progress';
import type { PanelKind, ReportKind, ScoreSummary, ViewMode } from '../shared/protocol';
import type { ReportPanel, Reports } from './reports/report-panels';
import type { Datasets } from './commands/datasets';
import type { Models } from './commands/models';
import type { Scoring } from './commands/score';
import type { Training } from './commands/train';
import type { Host } from './host';
import type { ModelEntry } from './models';
import type { FolderOutcome, FolderView, ReadyFaults } from './panels';
import { resultColumnsInUse } from './panels';
import type { FolderSort, Verdict } from '../shared/protocol';
import type { RunRecord } from './runs';
import type { DatasetsProvider } from './views/datasets';
import type { ModelsProvider } from './views/models';
import type { RunsProvider } from './views/runs';

export interface FlawscopeApi {
  readonly runs: () => RunRecord[];
  readonly models: () => ModelEntry[];
  readonly datasets: () => string[];
  readonly activeModel: () => string | null;
  readonly waitForRun: (id: string) => Promise<RunRecord>;
  readonly runEvents: (id: string) => ProgressEvent[];
  /** The arguments the run's trainer process got (`<cli> train --data …`); null before it started. */
  readonly runArgs: (id: string) => string[] | null;
  readonly panelsReplaced: () => number;
  readonly scorePanel: () => { title: string; html: string; cspSource: string; roots: string[]; lastResult: (ScoreSummary & { path: string }) | null; lastDropRefusal: string | null; receive(raw: unknown): boolean; reloads: number; faults: ReadyFaults; reloadPage(): void; viewMode: ViewMode; restoreData(): unknown } | null;
  readonly folderPanel: () => {
    html: string; cspSource: string; roots: string[]; lastOutcome: FolderOutcome | null; lastCsvPath: string | null; busy: boolean;
    setCsvTarget(p: string | null): void; receive(raw: unknown): boolean; view(sort?: FolderSort, filter?: Verdict[]): Promise<FolderView>; stop(): void;
  } | null;
  /** How many editor groups hold Flawscope panels (one results column: 1). */
  readonly resultColumns: () => number;
  /** "Use this folder to set the threshold" on the open folder table, answered yes. */
  readonly calibrateFolder: () => Promise<number | null>;
  readonly dashboard: (runId: string) => { html: string; cspSource: string; roots: string[] } | null;
  readonly treeLabels: (view: 'datasets' | 'models' | 'runs') => Promise<string[]>;
  readonly rejectedMessages: () => { panel: PanelKind; reason: string }[];
  readonly processLaunches: () => number;
  readonly cliPath: string;
  /** The status bar item's text. */
  readonly statusBarText: () => string;
  /** Run life cycle: the run store's folder and the dashboard's run state as the page got it. */
  readonly storeDir: string;
  readonly dashboardRun: (runId: string) => { title: string; state: string } | null;
  /** Restores a panel as VS Code would after a reload: the restorer of `viewType` on a fresh panel with `state` (the page's saved state). */
  readonly restorePanel: (viewType: string, state: unknown) => Promise<string | null>;
  /** The open report panel of a kind: its HTML, roots, the view it was sent, and what its page drew. */
  readonly notADatasetMessages: () => string[];
  readonly report: (kind: ReportKind) => { html: string; cspSource: string; roots: string[]; title: string; view: ReportPanel['view']; rendered: Record<string, number> | null; waitRendered(ms: number): Promise<Record<string, number>>; receive(raw: unknown): boolean; restoreData(): unknown } | null;
}

/** Whether the test runner asked for the API. */
export function testApiEnabled(): boolean {
  return process.env.FLAWSCOPE_TEST_API === '1';
}

export interface TestApiParts {
  host: Host;
  models: Models;
  datasets: Datasets;
  training: Training;
  scoring: Scoring;
  views: { datasets: DatasetsProvider; models: ModelsProvider; runs: RunsProvider };
  status: StatusBar;
  restorers: PanelRestorer[];
  reports: Reports;
}

/** Resolves with what the page drew, now or when it next says so (a report page draws after `ready`). */
function waitRendered(p: ReportPanel, ms: number): Promise<Record<string, number>> {
  if (p.rendered) return Promise.resolve(p.rendered);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`the ${p.kind} page did not draw within ${ms / 1000} s`));
    }, ms);
    const sub = p.onDidRender((c) => {
      clearTimeout(timer);
      sub.dispose();
      resolve(c);
    });
  });
}

export function createTestApi({ host, models, datasets, training, scoring, views, status, restorers, reports }: TestApiParts): FlawscopeApi {
  return {
    runs: () => training.allRuns(),
    models: () => models.list(),
    datasets: () => datasets.list(),
    activeModel: () => models.activePath(),
    runEvents: (id) => [...(training.runs.get(id)?.events ?? [])],
    runArgs: (id) => {
      const args = training.runs.get(id)?.launchArgs;
      return args ? [...args] : null;
    },
    waitForRun: (id) => training.runs.get(id)?.finished ?? Promise.reject(new Error(`no run ${id}`)),
    panelsReplaced: () => scoring.panelsReplaced,
    scorePanel: () => {
      const p = scoring.scorePanel;
      return p && !p.isDisposed ? { title: p.panel.title, html: p.html, cspSource: p.panel.webview.cspSource, roots: p.localResourceRoots(), lastResult: p.lastResult, lastDropRefusal: p.lastDropRefusal, receive: (raw: unknown) => p.receive(raw), reloads: p.reloads, faults: p.faults, reloadPage: () => p.reloadPage(), get viewMode() { return p.viewMode; }, restoreData: () => p.restoreData() } : null;
    },
    folderPanel: () => {
      const p = scoring.folderPanel;
      return p && !p.isDisposed
        ? {
            html: p.html, cspSource: p.panel.webview.cspSource, roots: p.localResourceRoots(), lastOutcome: p.lastOutcome, lastCsvPath: p.lastCsvPath, busy: p.busy,
            setCsvTarget: (t: string | null) => (p.csvTarget = t), receive: (raw: unknown) => p.receive(raw), view: (sort, filter) => p.view(sort, filter), stop: () => p.stop(),
          }
        : null;
    },
    resultColumns: () => resultColumnsInUse(),
    calibrateFolder: () => scoring.calibrateFolder(true),
    dashboard: (id) => {
      const d = training.dashboards.get(id);
      return d && !d.isDisposed ? { html: d.html, cspSource: d.panel.webview.cspSource, roots: d.localResourceRoots() } : null;
    },
    treeLabels: async (view) => {
      const label = (t: vscode.TreeItem) => `${typeof t.label === 'string' ? t.label : t.label?.label ?? ''}${t.description ? ` — ${t.description}` : ''}`;
      if (view === 'models') return views.models.getChildren().map((m) => label(views.models.getTreeItem(m)));
      if (view === 'runs') return views.runs.getChildren().map((r) => label(views.runs.getTreeItem(r)));
      return views.datasets.getChildren().flatMap((d) => [label(views.datasets.getTreeItem(d)), ...views.datasets.getChildren(d).map((c) => '  ' + c.label)]);
    },
    rejectedMessages: () => [...host.rejected],
    processLaunches: () => host.cli.launches,
    cliPath: host.cli.cliPath,
    statusBarText: () => status.text,
    storeDir: training.store.dir,
    dashboardRun: (id) => {
      const d = training.dashboards.get(id);
      return d && !d.isDisposed ? { title: d.panel.title, state: d.runState } : null;
    },
    restorePanel: async (viewType, state) => {
      const r = restorers.find((x) => x.viewType === viewType);
      if (!r) return `no restorer for ${viewType}`;
      const panel = vscode.window.createWebviewPanel(viewType, 'restoring…', vscode.ViewColumn.Beside, { enableScripts: true });
      const problem = await r.restore(panel, state);
      if (problem) panel.dispose();
      return problem;
    },
    notADatasetMessages: () => [...datasets.notADatasetMessages],
    report: (kind) => {
      const p = reports.get(kind);
      return p
        ? {
            html: p.html,
            cspSource: p.panel.webview.cspSource,
            roots: p.localResourceRoots(),
            title: p.panel.title,
            // Getters: a test polls these on the object it got once.
            get view() { return p.view; },
            get rendered() { return p.rendered; },
            waitRendered: (ms: number) => waitRendered(p, ms),
            receive: (raw: unknown) => p.receive(raw),
            restoreData: () => p.restoreData(),
          }
        : null;
    },
  };
}
