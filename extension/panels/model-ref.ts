/** What a panel needs to load the scorer bundle and a model inside its webview. */
import * as vscode from 'vscode';
import type { ModelRef, ScorerRef } from '../../shared/protocol';

export function scorerRef(webview: vscode.Webview, extensionUri: vscode.Uri): ScorerRef {
  const dir = vscode.Uri.joinPath(extensionUri, 'dist', 'scorer');
  return {
    moduleUrl: webview.asWebviewUri(vscode.Uri.joinPath(dir, 'index.js')).toString(),
    wasmPrefix: webview.asWebviewUri(dir).toString().replace(/\/?$/, '/'),
    backend: 'auto',
  };
}

export interface ModelSpec {
  path: string;
  name: string;
  info: ModelRef['info'];
  thresholdOverride: number | null;
}

export function modelRef(webview: vscode.Webview, m: ModelSpec): ModelRef {
  return { path: m.path, name: m.name, info: m.info, thresholdOverride: m.thresholdOverride, url: webview.asWebviewUri(vscode.Uri.file(m.path)).toString().replace(/\/$/, '') };
}

