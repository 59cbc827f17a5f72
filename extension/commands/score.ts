/**
 * Scoring: Score Image (the score panel), Score Folder (the folder panel) and Open Heatmap Panel.
 * The scorer runs in the webview; the host sends it the image bytes and gets the result back.
 * A folder-table row shows its heatmap in the score panel; both share the one results column.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DATASET_IMAGE_EXTENSIONS } from '../../scorer/image-extensions';
import type { FolderItem, ScoreSummary, ViewMode } from '../../shared/protocol';
import { labelFor } from '../../shared/folder-math';
import { classNameOf } from '../../shared/folder-table';
import type { Host } from '../host';
import { pathOf } from '../host';
import { isImagePath, isModelDir, listImages, modelNormalClass } from '../models';
import { FolderPanel, ScorePanel, WebviewSilentError, type FolderOutcome, type FolderPanelActions, type ModelSpec, type ScorePanelActions } from '../panels';
import { folderPanelState, scorePanelState } from '../panels/score-states';
import { panelRestorer, type PanelRestorer } from '../restore';
import { calibrateFromFolder, offerCalibration } from './calibrate-folder';
import type { Models } from './models';

export class Scoring {
  scorePanel: ScorePanel | null = null;
  folderPanel: FolderPanel | null = null;
  /** Panels replaced because their page never started (for tests and logs). */
  panelsReplaced = 0;

  constructor(
    private readonly host: Host,
    private readonly models: Models,
  ) {}

  /** Switches the open score panel (if any) to the model `m`. */
  async setModelIfOpen(m: ModelSpec): Promise<void> {
    if (this.scorePanel && !this.scorePanel.isDisposed) await this.scorePanel.setModel(m);
  }

  /** After a calibration: the panels showing that model take its new threshold. */
  private async thresholdChanged(m: ModelSpec): Promise<void> {
    if (this.scorePanel && !this.scorePanel.isDisposed && this.models.activePath() === m.path) await this.scorePanel.setModel(m);
    const f = this.folderPanel;
    if (f && !f.isDisposed && f.modelSpec.path === m.path) {
      await f.setModel(m);
      offerCalibration(f);
    }
  }

  /** "Use this folder to set the threshold" on the open folder table; `confirmed` skips the question (tests). */
  calibrateFolder(confirmed = false): Promise<number | null> {
    const f = this.folderPanel;
    if (!f || f.isDisposed) return Promise.resolve(null);
    return calibrateFromFolder(this.host, this.models, f, (m) => this.thresholdChanged(m), confirmed);
  }

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
    const model = await this.models.require();
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
   * A `showHeatmap` message, from a folder-table row or an evaluation report's thumbnail: the
   * image scored in the score panel, as Score Image would. Errors are shown by scoreImage.
   */
  showHeatmap(imagePath: string): void {
    void this.scoreImage(vscode.Uri.file(imagePath));
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
      this.host.log.warn(`${e.message}; opening a new panel`);
      this.panelsReplaced++;
      close();
      return use();
    }
  }

  /** Takes a score panel VS Code restored after a reload (one score panel at a time: an open one is replaced). */
  adoptScorePanel(restored: vscode.WebviewPanel, model: ModelSpec | null, viewMode: ViewMode): ScorePanel {
    this.scorePanel?.dispose();
    this.scorePanel = new ScorePanel(this.host.panelEnv, model, this.scorePanelActions(), restored, viewMode);
    this.host.context.subscriptions.push(this.scorePanel);
    return this.scorePanel;
  }

  adoptFolderPanel(restored: vscode.WebviewPanel, model: ModelSpec, folder: string): FolderPanel {
    this.folderPanel?.dispose();
    this.folderPanel = new FolderPanel(this.host.panelEnv, model, folder, this.folderPanelActions(), restored);
    this.host.context.subscriptions.push(this.folderPanel);
    return this.folderPanel;
  }

  ensureScorePanel(model: ModelSpec | null): ScorePanel {
    if (!this.scorePanel || this.scorePanel.isDisposed) {
      this.scorePanel = new ScorePanel(this.host.panelEnv, model, this.scorePanelActions());
      this.host.context.subscriptions.push(this.scorePanel);
    }
    return this.scorePanel;
  }

  pushSettings(): void {
    if (this.scorePanel && !this.scorePanel.isDisposed) this.scorePanel.pushSettings();
  }

  /** The panel's "Choose image…": an open dialog, then Score Image. */
  private async pickAndScore(): Promise<void> {
    const u = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Images: DATASET_IMAGE_EXTENSIONS.map((e) => e.slice(1)) }, title: 'Image to score' });
    if (u?.[0]) await this.scoreImage(u[0]);
  }

  /** Opens (or shows) the score panel; empty, it offers "Choose image…" and takes dropped images. */
  async openHeatmapPanel(): Promise<void> {
    const a = this.models.activePath();
    const panel = this.ensureScorePanel(a ? this.models.spec(a) : null);
    panel.show(false);
  }

  async scoreFolder(uri?: vscode.Uri): Promise<FolderOutcome | null> {
    let p = uri?.fsPath;
    if (!p) p = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Folder of images to score' }))?.[0]?.fsPath;
    if (!p) return null;
    const model = await this.models.require();
    if (!model) return null;
    const items = folderItems(p, model);
    if (items.length === 0) {
      void vscode.window.showWarningMessage(`Flawscope: no images in ${p}.`);
      return null;
    }
    try {
      // Cancel in the notification stops the work in the webview, as the table's Stop button does.
      const outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Flawscope: scoring ${items.length} images in ${path.basename(p)}`, cancellable: true },
        (_progress, token) =>
          this.onFreshPanelIfSilent(
            () => {
              const panel = this.ensureFolderPanel(model, p!);
              const stop = token.onCancellationRequested(() => panel.stop());
              return panel.scoreFolder(model, p!, items).finally(() => stop.dispose());
            },
            () => this.folderPanel?.dispose(),
          ),
      );
      if (this.folderPanel && !this.folderPanel.isDisposed) offerCalibration(this.folderPanel);
      return outcome;
    } catch (e) {
      void vscode.window.showErrorMessage(`Flawscope: scoring ${p} failed: ${(e as Error).message}`);
      return null;
    }
  }

  private scorePanelActions(): ScorePanelActions {
    return { scoreImage: (p) => void this.scoreImage(vscode.Uri.file(p)), pickImage: () => void this.pickAndScore() };
  }

  private folderPanelActions(): FolderPanelActions {
    return { showHeatmap: (img) => this.showHeatmap(img), calibrate: () => void this.calibrateFolder() };
  }

  private ensureFolderPanel(model: ModelSpec, folder: string): FolderPanel {
    if (!this.folderPanel || this.folderPanel.isDisposed) {
      this.folderPanel = new FolderPanel(this.host.panelEnv, model, folder, this.folderPanelActions());
      this.host.context.subscriptions.push(this.folderPanel);
    }
    return this.folderPanel;
  }
}

/** The images of `folder` to score, labelled from the folder names where they say normal or anomaly. */
function folderItems(folder: string, model: ModelSpec): Omit<FolderItem, 'url'>[] {
  const folderNames = (() => {
    try {
      return fs.readdirSync(folder, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  })();
  const normal = modelNormalClass(model.info);
  return listImages(folder).map((i) => {
    const name = path.relative(folder, i);
    return { path: i, name, label: labelFor(name, normal, folderNames), className: classNameOf(name) };
  });
}

/** Bring back the score and folder panels after a reload, each with its model and its image or folder scored again. */
export function scoreRestorers(host: Host, scoring: Scoring, models: Models): PanelRestorer[] {
  const quietSpec = (p: string | null) => (p && isModelDir(p) ? models.spec(p) : null);
  return [
    panelRestorer({
      viewType: 'flawscope.score',
      schema: scorePanelState,
      restore: (panel, st) => {
        const model = quietSpec(st.model) ?? quietSpec(models.activePath());
        const p = scoring.adoptScorePanel(panel, model, st.viewMode);
        if (model && st.image && fs.existsSync(st.image)) void p.score(st.image).catch((e: Error) => host.log.warn(`[restore] scoring ${st.image} again failed: ${e.message}`));
      },
    }),
    panelRestorer({
      viewType: 'flawscope.folder',
      schema: folderPanelState,
      restore: (panel, st) => {
        const model = quietSpec(st.model);
        if (!model) throw new Error(`its model ${st.model} is gone`);
        if (!fs.existsSync(st.folder)) throw new Error(`its folder ${st.folder} is gone`);
        const p = scoring.adoptFolderPanel(panel, model, st.folder);
        // Scored again as Score Folder would, with its threshold offer once the rows are back.
        void p
          .scoreFolder(model, st.folder, folderItems(st.folder, model))
          .then(() => !p.isDisposed && offerCalibration(p))
          .catch((e: Error) => host.log.warn(`[restore] scoring ${st.folder} again failed: ${e.message}`));
      },
    }),
  ];
}

/** A Uri, or anything pathOf reads, as a file Uri. */
const uriOf = (a: unknown): vscode.Uri | undefined => (a instanceof vscode.Uri ? a : pathOf(a) ? vscode.Uri.file(pathOf(a)!) : undefined);

export function registerScoreCommands(host: Host, scoring: Scoring): void {
  host.command('flawscope.scoreImage', (a?: unknown) => scoring.scoreImage(uriOf(a)));
  host.command('flawscope.scoreFolder', (a?: unknown) => scoring.scoreFolder(uriOf(a)));
  host.command('flawscope.openHeatmapPanel', () => scoring.openHeatmapPanel());
}
