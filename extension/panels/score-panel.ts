/**
 * The score panel (one, reused, in the results column): the image with its heatmap, verdict and
 * details (media/webview/score.ts). Opened empty by "Open Heatmap Panel", it takes an image from
 * its "Choose image…" button or from files dropped on it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_VIEW_MODE, type ScoreSummary, type ViewMode, type WebviewToHost } from '../../shared/protocol';
import { isImagePath } from '../models';
import { droppedImage } from './dropped';
import { modelRef, scorerRef, type ModelSpec } from './model-ref';
import { PanelHost, type PanelEnv } from './panel-host';
import type { ScorePanelState } from './score-states';

/** Largest image file the score panel takes (it is posted to the webview whole). */
export const MAX_IMAGE_BYTES = 256 * 2 ** 20;

/** What the panel asks its owner (commands/score.ts) to do for the user. */
export interface ScorePanelActions {
  /** Score this image here (a dropped file, a folder-table row). */
  scoreImage(imagePath: string): void;
  /** Show an open dialog and score the image chosen. */
  pickImage(): void;
}

export class ScorePanel extends PanelHost {
  private model: ModelSpec | null;
  lastResult: (ScoreSummary & { path: string }) | null = null;
  /** Why the last drop was refused (for tests). */
  lastDropRefusal: string | null = null;

  constructor(
    env: PanelEnv,
    model: ModelSpec | null,
    private readonly actions: ScorePanelActions,
    existing?: vscode.WebviewPanel,
    /** The view the page opens in (a restored panel's saved one). */
    private mode: ViewMode = DEFAULT_VIEW_MODE,
  ) {
    super(env, 'score', 'flawscope.score', 'Flawscope Heatmap', undefined, model ? [model.path] : [], true, existing);
    this.model = model;
  }

  /** The image last scored (scored again when the panel is restored). */
  private lastImage: string | null = null;

  /** The view the page shows (side by side, swipe, toggle, blend), as it last said. */
  get viewMode(): ViewMode {
    return this.mode;
  }

  /** The model, the image last scored and the view it is shown in. */
  override restoreData(): ScorePanelState {
    return { model: this.model?.path ?? null, image: this.lastImage, viewMode: this.mode };
  }

  protected onReady(): void {
    const s = this.env.settings();
    void this.post({
      type: 'init',
      panel: 'score',
      scorer: scorerRef(this.panel.webview, this.env.extensionUri),
      model: this.model ? modelRef(this.panel.webview, this.model) : null,
      colormap: s.colormap,
      opacity: s.opacity,
      viewMode: this.mode,
    });
  }

  async setModel(m: ModelSpec): Promise<void> {
    const changed = this.model?.path !== m.path || this.model.thresholdOverride !== m.thresholdOverride || this.model.info.threshold !== m.info.threshold;
    const newModel = this.model?.path !== m.path;
    this.model = m;
    if (newModel) {
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
    this.show();
    await this.whenReady();
    return this.request<ScoreSummary>((requestId) => ({ type: 'scoreImage', requestId, path: imagePath, bytes, name: path.basename(imagePath) }), timeoutMs);
  }

  pushSettings(): void {
    const s = this.env.settings();
    void this.post({ type: 'settings', colormap: s.colormap, opacity: s.opacity });
  }

  protected handle(m: WebviewToHost): boolean {
    switch (m.type) {
      case 'scored':
        this.lastResult = { ...m.result, path: m.path };
        this.env.log.info(`scored ${m.path}: ${m.result.score.toPrecision(6)} (${m.result.verdict}${m.result.reasons.length ? `: ${m.result.reasons.join('; ')}` : ''}, threshold ${m.result.threshold.toPrecision(4)}, ${m.result.backend}, ${m.result.ms.toFixed(0)} ms)`);
        this.settle(m.requestId, m.result);
        return true;
      case 'scoreFailed':
        this.env.log.error(`scoring ${m.path} failed: ${m.message}`);
        this.settle(m.requestId, null, new Error(m.message));
        return true;
      case 'openFile':
        void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(m.path));
        return true;
      case 'pickImage':
        this.actions.pickImage();
        return true;
      case 'scoreDropped':
        return this.scoreDropped(m.uris);
      case 'setViewMode':
        this.mode = m.mode;
        this.saveRestoreState();
        return true;
      default:
        this.env.log.warn(`[score] message ${m.type} is not for this panel; ignored`);
        return false;
    }
  }

  /** A drop names files; only an image inside a workspace folder is read. */
  private scoreDropped(uris: string[]): boolean {
    const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const d = droppedImage(uris, { allowedRoots: roots, realpath: fs.realpathSync.native }, isImagePath);
    if (!d.ok) {
      this.lastDropRefusal = d.reason;
      this.env.log.warn(`[score] drop refused: ${d.reason}`);
      void vscode.window.showWarningMessage(`Flawscope: cannot score the dropped file: ${d.reason}. Drop an image from this workspace's Explorer (hold Shift while dragging), or use “Choose image…”.`);
      return false;
    }
    this.lastDropRefusal = null;
    this.actions.scoreImage(d.path);
    return true;
  }
}
