/**
 * The webview panels, one file per kind under panels/ (as microsoft/vscode-hexeditor keeps its
 * editors): the shared host (panel-host.ts), the score panel, the folder table and the training
 * dashboards. All of them open in one results column (panels/results-column.ts).
 */
export { PanelHost, WebviewSilentError, type PanelEnv, type ReadyFaults } from './panels/panel-host';
export { scorerRef, modelRef, type ModelSpec } from './panels/model-ref';
export { ScorePanel, MAX_IMAGE_BYTES, type ScorePanelActions } from './panels/score-panel';
export { FolderPanel, type FolderOutcome, type FolderPanelActions, type FolderView } from './panels/folder-panel';
export { DashboardPanel } from './panels/dashboard-panel';
export { resultColumnsInUse, resultsColumn } from './panels/results-column';
