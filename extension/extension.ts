/**
 * Flawscope for VS Code: Datasets / Models / Runs views, training through the trainer CLI run by
 * system Node, scoring in a webview with the scorer bundle, and the training dashboard.
 * This file only wires the parts together; each command family is in commands/, each view in views/.
 */
import * as vscode from 'vscode';
import { Datasets, registerDatasetCommands } from './commands/datasets';
import { registerEvaluateCommands } from './commands/evaluate';
import { registerGridCommands } from './commands/grid';
import { Models, registerModelCommands } from './commands/models';
import { dashboardRestorer, registerRunCommands } from './commands/runs';
import { Scoring, registerScoreCommands, scoreRestorers } from './commands/score';
import { Training, registerTrainCommands } from './commands/train';
import { Host } from './host';
import { REPORT_KINDS } from '../shared/protocol';
import { Reports } from './reports/report-panels';
import { reportRestorer } from './reports/report-restore';
import { panelRestorer, registerRestorer, type PanelRestorer } from './restore';
import { RunStore } from './run-store';
import { onDidChangeSettings } from './settings';
import { StatusBar } from './status-bar';
import { createTestApi, testApiEnabled, type FlawscopeApi } from './test-api';
import { DatasetsProvider } from './views/datasets';
import { ModelsProvider } from './views/models';
import { RunsProvider } from './views/runs';

let activeTraining: Training | null = null;

export function activate(context: vscode.ExtensionContext): FlawscopeApi | undefined {
  const host = new Host(context);
  // Runs, their event logs and dataset reports live in this workspace's storage (global storage without a folder open).
  const store = new RunStore((context.storageUri ?? context.globalStorageUri).fsPath, (m) => host.log.warn(m));
  // The score panel, once open, follows the active model.
  const models: Models = new Models(host, (m) => scoring.setModelIfOpen(m));
  const datasets = new Datasets(host, store);
  const scoring: Scoring = new Scoring(host, models);
  const training = (activeTraining = new Training(host, models, datasets, store));
  const reports = new Reports({
    extensionUri: context.extensionUri,
    log: host.log,
    onRejected: (panel, reason) => host.panelEnv.onRejected(panel, reason),
    showHeatmap: (p) => scoring.showHeatmap(p),
    trainWithWeights: (weights, grid) => void vscode.commands.executeCommand('flawscope.trainModel', { data: grid.data, normal: grid.normal, weights }),
  });
  context.subscriptions.push(reports);
  // Every panel that comes back after a reload (extension/restore.ts; package.json onWebviewPanel:<viewType>).
  // Registered before anything awaits: VS Code restores panels only through serializers registered during activation.
  const restorers: PanelRestorer[] = [panelRestorer(dashboardRestorer(training)), ...scoreRestorers(host, scoring, models), ...REPORT_KINDS.map((k) => panelRestorer(reportRestorer(reports, k)))];
  context.subscriptions.push(...restorers.map((r) => registerRestorer(r, host.log)));
  const status = new StatusBar(() => models.activePath(), () => training.liveRuns());
  context.subscriptions.push(status, models.onDidChange(() => status.update()), training.onDidProgress(() => status.update()));
  status.update();
  status.show();

  const views = { datasets: new DatasetsProvider(datasets, () => host.trusted()), models: new ModelsProvider(models), runs: new RunsProvider(training) };
  context.subscriptions.push(
    vscode.window.registerTreeDataProvider('flawscope.datasets', views.datasets),
    vscode.window.registerTreeDataProvider('flawscope.models', views.models),
    vscode.window.registerTreeDataProvider('flawscope.runs', views.runs),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      host.log.info('workspace trusted: training enabled');
      datasets.refresh();
    }),
    onDidChangeSettings({ modelsFolder: () => views.models.refresh(), overlay: () => scoring.pushSettings() }),
    training,
  );

  registerDatasetCommands(host, datasets, reports);
  registerTrainCommands(host, training);
  registerRunCommands(host, training);
  registerScoreCommands(host, scoring);
  registerModelCommands(host, models);
  registerEvaluateCommands(host, reports, models, datasets);
  registerGridCommands(host, reports, models, datasets);
  host.command('flawscope.refresh', () => {
    views.models.refresh();
    views.datasets.refresh();
    views.runs.refresh();
  });
  host.command('flawscope.showLog', () => host.log.show());
  host.log.info(`Flawscope activated (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'in Restricted Mode'}; models folder ${models.folder()})`);
  return testApiEnabled() ? createTestApi({ host, models, datasets, training, scoring, views, status, restorers, reports }) : undefined;
}

export function deactivate(): void {
  activeTraining?.dispose();
  activeTraining = null;
}
