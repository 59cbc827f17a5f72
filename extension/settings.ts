/**
 * The `flawscope.*` settings (package.json contributes.configuration): every read, write and
 * change listener of the extension's configuration is here.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COLORMAPS, type Colormap } from '../shared/protocol';
import type { PresetName } from './training';

export interface Settings {
  /** flawscope.nodePath, or `node` (on PATH) when empty. */
  nodePath: string;
  defaultPreset: PresetName;
  colormap: Colormap;
  /** flawscope.overlayOpacity clamped to 0–1. */
  opacity: number;
  /** flawscope.thresholdOverride when it is a finite number, else null. */
  thresholdOverride: number | null;
  /** flawscope.modelsFolder as written (see modelsFolder() for the folder it names). */
  modelsFolder: string;
}

const section = () => vscode.workspace.getConfiguration('flawscope');

export function readSettings(): Settings {
  const c = section();
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

/** Where models are saved and listed: the setting (relative to the workspace), else `.flawscope/models` in the workspace, else global storage. */
export function modelsFolder(context: vscode.ExtensionContext): string {
  const s = readSettings().modelsFolder;
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (s) return path.isAbsolute(s) ? s : path.resolve(ws ?? context.globalStorageUri.fsPath, s);
  if (ws) return path.join(ws, '.flawscope', 'models');
  return path.join(context.globalStorageUri.fsPath, 'models');
}

/** A setting the score panel changes (user settings). */
export function saveSetting(key: 'colormap' | 'overlayOpacity', value: Colormap | number): void {
  void section().update(key, value, vscode.ConfigurationTarget.Global);
}

/** Opens the Settings editor on flawscope.nodePath. */
export function openNodePathSetting(): void {
  void vscode.commands.executeCommand('workbench.action.openSettings', 'flawscope.nodePath');
}

/** Calls `modelsFolder` when flawscope.modelsFolder changes and `overlay` when the colormap or opacity does. */
export function onDidChangeSettings(on: { modelsFolder(): void; overlay(): void }): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('flawscope.modelsFolder')) on.modelsFolder();
    if (e.affectsConfiguration('flawscope.colormap') || e.affectsConfiguration('flawscope.overlayOpacity')) on.overlay();
  });
}
