/**
 * What every command family shares: the extension context, the output channel, the trainer CLI
 * client, workspace trust and the environment the webview panels get.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PanelKind } from '../shared/protocol';
import { CliClient, RESTRICTED_MSG } from './cli-client';
import type { PanelEnv } from './panels';
import { openNodePathSetting, readSettings, saveSetting } from './settings';

export class Host {
  readonly log: vscode.LogOutputChannel;
  readonly cli: CliClient;
  readonly panelEnv: PanelEnv;
  /** Webview messages the host refused (the last 1000), for tests. */
  readonly rejected: { panel: PanelKind; reason: string }[] = [];

  constructor(readonly context: vscode.ExtensionContext) {
    const log = (this.log = vscode.window.createOutputChannel('Flawscope', { log: true }));
    context.subscriptions.push(log);
    this.cli = new CliClient({
      cliPath: path.join(context.extensionPath, 'dist', 'cli.js'),
      cwd: context.extensionPath,
      nodePath: () => readSettings().nodePath,
      trusted: () => this.trusted(),
      log,
      unavailable: (message, what) => {
        if (what === 'cli') {
          void vscode.window.showErrorMessage('Flawscope: ' + message);
          return;
        }
        void vscode.window.showErrorMessage(`Flawscope: ${message}`, 'Open Settings').then((c) => {
          if (c) openNodePathSetting();
        });
      },
    });
    this.panelEnv = {
      extensionUri: context.extensionUri,
      log,
      onRejected: (panel, reason) => {
        this.rejected.push({ panel, reason });
        if (this.rejected.length > 1000) this.rejected.shift();
      },
      settings: () => ({ colormap: readSettings().colormap, opacity: readSettings().opacity }),
      saveSetting,
    };
  }

  /** Registers command `id` for the life of the extension. */
  command(id: string, fn: (...args: any[]) => unknown): void {
    this.context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  }

  trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  /** True (after telling the user) when the workspace is in Restricted Mode, where no process may start. */
  blockedByTrust(): boolean {
    if (this.trusted()) return false;
    this.log.warn('blocked: ' + RESTRICTED_MSG);
    void vscode.window.showWarningMessage(RESTRICTED_MSG, 'Manage Workspace Trust').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return true;
  }
}

/** A command argument that names a file or folder: a Uri, a path, or a tree node / model entry with `path`. */
export function pathOf(a: unknown): string | undefined {
  return a instanceof vscode.Uri ? a.fsPath : typeof a === 'string' ? a : a && typeof a === 'object' && 'path' in a && typeof (a as { path: unknown }).path === 'string' ? (a as { path: string }).path : undefined;
}

/** A command argument that names a run: its id, or a run record. */
export function runIdOf(a: unknown): string | undefined {
  return typeof a === 'string' ? a : a && typeof a === 'object' && 'id' in a ? String((a as { id: unknown }).id) : undefined;
}
