/**
 * The typed host ↔ webview protocol, imported by both sides (extension host and the webview
 * scripts in media/webview). Messages are discriminated unions on `type`. Requests that expect an
 * answer carry a numeric `requestId`; the answer echoes it (as microsoft/vscode-hexeditor does).
 *
 * The host never trusts what a webview sends: every WebviewToHost message is parsed by its zod
 * schema (shared/webview-messages.ts) in `validateWebviewMessage` (extension/validate.ts) before
 * it is acted on.
 *
 * No `vscode` import here: the module is bundled into browser scripts and unit-tested in Node.
 */
import type { ModelInfo } from '../scorer/model-format';
import type { ProgressEvent } from '../trainer/progress';
import type { BackendOf } from './backends';
import type { WebviewMessageType } from './webview-messages';

export type Colormap = 'turbo' | 'viridis' | 'grey';
export const COLORMAPS: readonly Colormap[] = ['turbo', 'viridis', 'grey'];
/** The rendered results of Evaluate Model, Inspect Dataset and Grid Search (extension/reports/). */
export type ReportKind = 'evalReport' | 'datasetReport' | 'gridReport';
export const REPORT_KINDS: readonly ReportKind[] = ['evalReport', 'datasetReport', 'gridReport'];
export type PanelKind = 'score' | 'folder' | 'dashboard' | ReportKind;
export const PANEL_KINDS: readonly PanelKind[] = ['score', 'folder', 'dashboard', ...REPORT_KINDS];

/** Where the webview finds the scorer bundle and the model (all `asWebviewUri` URLs). */
export interface ModelRef {
  /** Absolute folder path on the host (for display and for echoing back in results). */
  path: string;
  /** Webview URL of the model folder (no trailing slash). */
  url: string;
  name: string;
  info: ModelInfo;
  /** flawscope.thresholdOverride when set, else null (the model's own threshold applies). */
  thresholdOverride: number | null;
}

export interface ScorerRef {
  /** Webview URL of dist/scorer/index.js (browser ESM). */
  moduleUrl: string;
  /** Webview URL prefix (ending in '/') of the folder holding the tfjs .wasm files. */
  wasmPrefix: string;
  backend: BackendOf<'webview'>;
}

export interface FolderItem {
  path: string;
  url: string;
  /** Path relative to the scored folder, for display and labels. */
  name: string;
  /** 0 = normal, 1 = anomaly, null = no label derivable from folder names. */
  label: 0 | 1 | null;
  /** The class folder the image is in (the first folder of `name`); null for images directly in the scored folder. */
  className: string | null;
}

/** How the score panel shows the image and its heatmap (media/webview/lib/patches.ts lays them out). */
export const VIEW_MODE_NAMES = ['side', 'swipe', 'toggle', 'blend'] as const;
export type ViewMode = (typeof VIEW_MODE_NAMES)[number];
/** A new score panel's view, and a restored one's whose saved state predates the view being kept. */
export const DEFAULT_VIEW_MODE: ViewMode = 'side';

export type Verdict = 'normal' | 'anomaly' | 'unfamiliar';
export const VERDICTS: readonly Verdict[] = ['normal', 'anomaly', 'unfamiliar'];

/** Columns the folder table sorts by (shared/folder-table.ts). */
export type FolderSortKey = 'name' | 'className' | 'score' | 'verdict' | 'label';
export const FOLDER_SORT_KEYS: readonly FolderSortKey[] = ['name', 'className', 'score', 'verdict', 'label'];
export interface FolderSort {
  key: FolderSortKey;
  dir: 'asc' | 'desc';
}

export interface RunView {
  id: string;
  title: string;
  /** extension/run-lifecycle.ts RUN_STATES. */
  state: 'starting' | 'running' | 'cancelled' | 'resumed' | 'done' | 'failed';
  dataset: string;
  normalClass: string;
  out: string;
  epochs: number;
  /** The `done` event's metrics (kept epoch, validation and test AUROC) once the run finished. */
  metrics: Record<string, number | null> | null;
}

// ---------------------------------------------------------------- reports
/** An image a report shows as a thumbnail; `url` null where there is no file to show (a record inside an IDX/CIFAR file). */
export interface ReportImage {
  path: string;
  url: string | null;
  name: string;
  className: string | null;
  /** The model's score (evaluation reports); null elsewhere. */
  score: number | null;
}

export interface EvalReportView {
  model: string;
  data: string;
  split: 'test' | 'validation';
  normalClass: string;
  /** Whole-photo figures first for photo models; each label names its split. */
  headline: { label: string; value: number | null; kind: 'rate' | 'count'; note: string }[];
  roc: [number, number][];
  histogram: { start: number; width: number; normal: number[]; anomalous: number[] };
  threshold: number;
  /** Counts at the threshold over the listed images (per photo for crop-trained models). */
  confusion: { unit: 'image' | 'photo'; tp: number; fp: number; fn: number; tn: number };
  classes: { name: string; role: 'normal' | 'anomaly'; count: number; auroc: number | null; meanScore: number | null }[];
  /** Photo models: whole-photo AUROC of each defect type against the normal photos. */
  defectTypes: { name: string; photos: number; auroc: number | null }[];
  falsePositives: ReportImage[];
  missed: ReportImage[];
}

export interface DatasetReportView {
  root: string;
  layout: string;
  normalClass: string | null;
  normalClassNote: string | null;
  total: number;
  splits: { train: number; test: number } | null;
  classes: { name: string; count: number; train: number | null; test: number | null; masks: number | null; role: 'normal' | 'anomaly' | 'unknown' }[];
  /** Most common image sizes (of the probed headers), largest count first. */
  sizes: { label: string; count: number }[];
  sizeNote: string;
  channels: { grey: number; colour: number; alpha: number; highBitDepth: number };
  samples: { className: string; images: ReportImage[] }[];
  skipped: { path: string; reason: string }[];
  warnings: string[];
}

export interface GridRowView {
  /** 1-based among finished runs by validation AUROC; null while running or when failed. */
  rank: number | null;
  id: string;
  /** "recon=1,patch=1,…" as `flawscope train --weights` takes it. */
  weights: string;
  status: 'running' | 'done' | 'failed';
  valAuroc: number | null;
  bestEpoch: number | null;
  seconds: number | null;
}

export interface GridReportView {
  data: string;
  normal: string;
  out: string;
  /** Combinations to run (null until the first event names it). */
  total: number | null;
  finished: number;
  elapsedSec: number;
  etaSec: number | null;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  rows: GridRowView[];
}

// ---------------------------------------------------------------- host → webview
export type HostToWebview =
  /** `viewMode`: the view the panel showed last (kept across a window reload, extension/restore.ts). */
  | { type: 'init'; panel: 'score'; scorer: ScorerRef; model: ModelRef | null; colormap: Colormap; opacity: number; viewMode: ViewMode }
  | { type: 'init'; panel: 'folder'; scorer: ScorerRef; model: ModelRef; colormap: Colormap; folder: string }
  | { type: 'init'; panel: 'dashboard'; run: RunView; history: ProgressEvent[] }
  | { type: 'init'; panel: 'evalReport'; title: string; report: EvalReportView }
  | { type: 'init'; panel: 'datasetReport'; title: string; report: DatasetReportView }
  | { type: 'init'; panel: 'gridReport'; title: string; report: GridReportView }
  /** A running grid search's table, progress count and ETA, redrawn in place. */
  | { type: 'gridUpdate'; report: GridReportView }
  | { type: 'setModel'; model: ModelRef }
  /** The file's bytes travel with the request, so the panel needs no resource root per image folder. */
  | { type: 'scoreImage'; requestId: number; path: string; bytes: Uint8Array; name: string }
  | { type: 'scoreFolder'; requestId: number; folder: string; items: FolderItem[] }
  | { type: 'settings'; colormap: Colormap; opacity: number }
  | { type: 'progress'; runId: string; event: ProgressEvent }
  | { type: 'runState'; run: RunView }
  /** Stop scoring the folder now (the notification's Cancel); the rows so far are answered as `stopped`. */
  | { type: 'stopFolder' }
  /** Sort and/or filter the folder table as a header click or the filter boxes would; answered by folderViewState. */
  | { type: 'folderView'; requestId: number; sort?: FolderSort; filter?: Verdict[] }
  /** Whether the folder's labels allow "Use this folder to set the threshold" (and what it would do). */
  | { type: 'calibration'; available: boolean; text: string }
  | { type: 'response'; requestId: number; ok: boolean; error?: string }
  /** What the host needs to rebuild this panel after a reload (extension/restore.ts); the page keeps it with setState. */
  | { type: 'restoreState'; state: { flawscopeRestore: 1; viewType: string; data: unknown } };

// ---------------------------------------------------------------- webview → host
// The messages, their fields and limits are zod schemas (shared/webview-messages.ts); their types
// come from there type-only, so the webview bundles that import this module carry no zod.
export type { FolderRow, ScoreSummary, WebviewMessageType, WebviewToHost } from './webview-messages';

/** Every message type a webview may post; the host refuses any other (extension/validate.ts). */
export const WEBVIEW_MESSAGE_TYPES: readonly WebviewMessageType[] = [
  'ready', 'log', 'scored', 'scoreFailed', 'folderScored', 'exportCsv', 'openFile', 'setSetting', 'trainWithWeights', 'reportRendered',
  'showHeatmap', 'setViewMode', 'pickImage', 'scoreDropped', 'folderViewState', 'calibrate',
];

/** Limits the validator enforces (a misbehaving or compromised webview cannot flood the host). */
export const LIMITS = {
  /** Longest string field in general (paths, names, log lines). */
  string: 4096,
  /** CSV export body. */
  csv: 16 * 1024 * 1024,
  /** Rows in one folderScored message. */
  rows: 20000,
  /** Top patches in one result. */
  patches: 64,
  /** Files in one drop on the score panel. */
  dropped: 64,
} as const;
