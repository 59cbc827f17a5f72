/**
 * The typed host ↔ webview protocol, imported by both sides (extension host and the webview
 * scripts in media/webview). Messages are discriminated unions on `type`. Requests that expect an
 * answer carry a numeric `requestId`; the answer echoes it (as microsoft/vscode-hexeditor does).
 *
 * The host never trusts what a webview sends: every WebviewToHost message goes through
 * `validateWebviewMessage` (extension/validate.ts) before it is acted on.
 *
 * No `vscode` import here: the module is bundled into browser scripts and unit-tested in Node.
 */
import type { ModelInfo } from '../scorer/model-format';
import type { ProgressEvent } from '../trainer/progress';

export type Colormap = 'turbo' | 'viridis' | 'grey';
export const COLORMAPS: readonly Colormap[] = ['turbo', 'viridis', 'grey'];
export type PanelKind = 'score' | 'folder' | 'dashboard';

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
  backend: 'auto' | 'webgpu' | 'wasm' | 'cpu';
}

export interface FolderItem {
  path: string;
  url: string;
  /** Path relative to the scored folder, for display and labels. */
  name: string;
  /** 0 = normal, 1 = anomaly, null = no label derivable from folder names. */
  label: 0 | 1 | null;
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

// ---------------------------------------------------------------- host → webview
export type HostToWebview =
  | { type: 'init'; panel: 'score'; scorer: ScorerRef; model: ModelRef | null; colormap: Colormap; opacity: number }
  | { type: 'init'; panel: 'folder'; scorer: ScorerRef; model: ModelRef; colormap: Colormap; folder: string }
  | { type: 'init'; panel: 'dashboard'; run: RunView; history: ProgressEvent[] }
  | { type: 'setModel'; model: ModelRef }
  /** The file's bytes travel with the request, so the panel needs no resource root per image folder. */
  | { type: 'scoreImage'; requestId: number; path: string; bytes: Uint8Array; name: string }
  | { type: 'scoreFolder'; requestId: number; folder: string; items: FolderItem[] }
  | { type: 'settings'; colormap: Colormap; opacity: number }
  | { type: 'progress'; runId: string; event: ProgressEvent }
  | { type: 'runState'; run: RunView }
  | { type: 'response'; requestId: number; ok: boolean; error?: string }
  /** What the host needs to rebuild this panel after a reload (extension/restore.ts); the page keeps it with setState. */
  | { type: 'restoreState'; state: { flawscopeRestore: 1; viewType: string; data: unknown } };

// ---------------------------------------------------------------- webview → host
export interface ScoreSummary {
  score: number;
  normalized: number;
  isAnomaly: boolean;
  /** 'unfamiliar': not the kind of image the model was trained on (scorer/familiarity.ts); else by the threshold in use. */
  verdict: 'normal' | 'anomaly' | 'unfamiliar';
  /** Why unfamiliar, in words. */
  reasons: string[];
  /** 0..100 among the validation normal scores (scorer/percentile.ts); null when the model recorded none. */
  percentile: number | null;
  threshold: number;
  backend: string;
  ms: number;
  topPatches: { x: number; y: number; w: number; h: number; score: number }[];
}

export interface FolderRow {
  path: string;
  score: number;
  isAnomaly: boolean;
  verdict: 'normal' | 'anomaly' | 'unfamiliar';
  label: 0 | 1 | null;
}

export type WebviewToHost =
  | { type: 'ready'; panel: PanelKind; generation: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'scored'; requestId: number; path: string; result: ScoreSummary }
  | { type: 'scoreFailed'; requestId: number; path: string; message: string }
  | { type: 'folderScored'; requestId: number; folder: string; rows: FolderRow[]; auroc: number | null; backend: string }
  | { type: 'exportCsv'; requestId: number; suggestedName: string; csv: string }
  | { type: 'openFile'; path: string }
  | { type: 'setSetting'; key: 'colormap'; value: Colormap }
  | { type: 'setSetting'; key: 'overlayOpacity'; value: number };

export type WebviewMessageType = WebviewToHost['type'];
export const WEBVIEW_MESSAGE_TYPES: readonly WebviewMessageType[] = [
  'ready', 'log', 'scored', 'scoreFailed', 'folderScored', 'exportCsv', 'openFile', 'setSetting',
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
} as const;
