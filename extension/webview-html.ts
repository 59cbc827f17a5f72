/**
 * Builds the HTML each webview gets, with its Content-Security-Policy, and the list of
 * localResourceRoots. No `vscode` import: the unit tests parse exactly what the host sends.
 *
 * Policy: default-src 'none'; scripts only with the per-load nonce (modules the nonced script
 * imports inherit the nonce); 'wasm-unsafe-eval' for the tfjs WASM backend (never 'unsafe-eval' or
 * 'unsafe-inline'); images, styles and fonts only from the webview's own resource origin;
 * connect-src the same origin (fetching the model and the .wasm files); nothing remote.
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PanelKind } from '../shared/protocol';

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 24).padEnd(16, 'x');
}

export function buildCsp(cspSource: string, nonce: string, opts: { wasm: boolean }): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'${opts.wasm ? " 'wasm-unsafe-eval'" : ''}`,
    `style-src ${cspSource}`,
    `img-src ${cspSource}`,
    `font-src ${cspSource}`,
    `connect-src ${cspSource}`,
    "worker-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface HtmlParts {
  panel: PanelKind;
  title: string;
  cspSource: string;
  nonce: string;
  /** Webview URL of dist/webview/<panel>.js. */
  scriptUri: string;
  /** Webview URL of media/webview.css. */
  styleUri: string;
  /** Which load of this panel the page is; echoed in its `ready` so stale pages are told apart. */
  generation: number;
}

export function buildWebviewHtml(p: HtmlParts): string {
  // Only the panels that run the scorer need WebAssembly.
  const wasm = p.panel === 'score' || p.panel === 'folder';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(buildCsp(p.cspSource, p.nonce, { wasm }))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${esc(p.styleUri)}">
<title>${esc(p.title)}</title>
</head>
<body data-panel="${p.panel}" data-generation="${p.generation}">
<div id="app" class="panel-${p.panel}"><p id="status" class="muted">Loading…</p></div>
<script nonce="${p.nonce}" src="${esc(p.scriptUri)}"></script>
</body>
</html>`;
}

/**
 * localResourceRoots: media/, the built webview scripts, the scorer bundle, plus the model and
 * image/dataset folders in use for this panel — nothing else (not the extension root, not $HOME).
 */
export function resourceRoots(extensionPath: string, panel: PanelKind, extra: readonly (string | null | undefined)[] = []): string[] {
  const roots = [path.join(extensionPath, 'media'), path.join(extensionPath, 'dist', 'webview')];
  if (panel === 'score' || panel === 'folder') roots.push(path.join(extensionPath, 'dist', 'scorer'));
  for (const e of extra) if (e && !roots.includes(path.resolve(e))) roots.push(path.resolve(e));
  return roots;
}
