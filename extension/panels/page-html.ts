/** The HTML of one Flawscope page in a webview panel: its bundle, the shared style, a fresh nonce. */
import * as vscode from 'vscode';
import type { PanelKind } from '../../shared/protocol';
import { buildWebviewHtml, makeNonce } from '../webview-html';

export function panelPageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, kind: PanelKind, title: string, generation: number): string {
  const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  return buildWebviewHtml({
    panel: kind,
    title,
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    scriptUri: uri('dist', 'webview', `${kind}.js`),
    styleUri: uri('media', 'webview.css'),
    generation,
  });
}
