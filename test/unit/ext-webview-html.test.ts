// Parses the HTML each webview gets and asserts its CSP (default-src 'none', nonce scripts,
// 'wasm-unsafe-eval' only, no remote origins, styles/images/fonts from cspSource only) and the
// localResourceRoots. The same auditor runs on the live panels in the real extension host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { buildWebviewHtml, buildCsp, makeNonce, resourceRoots } from '../../extension/webview-html';
import { auditWebviewHtml } from '../../extension/csp-audit';
import { PANEL_KINDS, type PanelKind } from '../../shared/protocol';

// What VS Code 1.100 gives as webview.cspSource (desktop and code-server alike).
const CSP_SOURCE = 'https://*.vscode-cdn.net';
const EXT = '/opt/ext/flawscope';
const panels: readonly PanelKind[] = PANEL_KINDS;
/** Only the panels that run the scorer get WebAssembly. */
const runsScorer = (p: PanelKind) => p === 'score' || p === 'folder';
// code-server 4.100 gives two tokens.
const CSP_SOURCE_CS = "'self' https://*.vscode-cdn.net";

const html = (panel: PanelKind, nonce = makeNonce()) =>
  buildWebviewHtml({
    panel,
    title: `t <script>alert(1)</script> "${panel}"`,
    cspSource: CSP_SOURCE,
    nonce,
    scriptUri: `https://file+.vscode-resource.vscode-cdn.net${EXT}/dist/webview/${panel}.js`,
    styleUri: `https://file+.vscode-resource.vscode-cdn.net${EXT}/media/webview.css`,
    generation: 7,
  });

for (const panel of panels) {
  test(`${panel} webview HTML passes the CSP audit`, () => {
    const a = auditWebviewHtml(html(panel), { cspSource: CSP_SOURCE, expectWasm: runsScorer(panel) });
    assert.deepEqual(a.problems, []);
    assert.deepEqual(a.csp.get('default-src'), ["'none'"]);
    assert.ok(a.nonce && a.nonce.length >= 16);
    const script = a.csp.get('script-src')!;
    assert.equal(script.includes("'wasm-unsafe-eval'"), runsScorer(panel));
    assert.ok(!script.includes("'unsafe-eval'") && !script.includes("'unsafe-inline'"));
    for (const dir of ['style-src', 'img-src', 'font-src']) assert.deepEqual(a.csp.get(dir), [CSP_SOURCE]);
    assert.deepEqual(a.csp.get('connect-src'), [CSP_SOURCE]);
    assert.deepEqual(a.csp.get('frame-src'), ["'none'"]);
    assert.deepEqual(a.csp.get('worker-src'), ["'none'"]);
    assert.match(html(panel), /<body data-panel="[a-zA-Z]+" data-generation="7">/, 'the page knows which load it is');
  });
}

test('multi-token cspSource (code-server) passes; a foreign token does not', () => {
  for (const panel of panels) {
    const h = buildWebviewHtml({ panel, title: 't', cspSource: CSP_SOURCE_CS, nonce: makeNonce(), scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/x.js', styleUri: 'https://file+.vscode-resource.vscode-cdn.net/x.css', generation: 1 });
    assert.deepEqual(auditWebviewHtml(h, { cspSource: CSP_SOURCE_CS, expectWasm: runsScorer(panel) }).problems, []);
    assert.ok(auditWebviewHtml(h, { cspSource: CSP_SOURCE, expectWasm: runsScorer(panel) }).problems.length > 0);
  }
});

test('the title is escaped (no injected script)', () => {
  const h = html('score');
  assert.equal((h.match(/<script\b/g) ?? []).length, 1);
  assert.ok(h.includes('&lt;script&gt;'));
});

test('a fresh nonce per load', () => {
  const nonces = new Set(Array.from({ length: 200 }, () => makeNonce()));
  assert.equal(nonces.size, 200);
  for (const n of nonces) assert.match(n, /^[A-Za-z0-9]{16,}$/);
});

test('the auditor catches violations', () => {
  const bad = (mut: (h: string) => string, why: RegExp, panel: PanelKind = 'score', expectWasm = panel !== 'dashboard') => {
    const a = auditWebviewHtml(mut(html(panel, 'abcdefghijklmnop1234')), { cspSource: CSP_SOURCE, expectWasm });
    assert.ok(a.problems.some((p) => why.test(p)), `expected ${why} in ${JSON.stringify(a.problems)}`);
  };
  bad((h) => h.replace('&#39;wasm-unsafe-eval&#39;', '&#39;unsafe-eval&#39;'), /unsafe-eval/);
  bad((h) => h.replace('default-src &#39;none&#39;', 'default-src *'), /default-src/);
  bad((h) => h.replace(`img-src ${CSP_SOURCE}`, `img-src ${CSP_SOURCE} https://evil.example`), /img-src|remote/);
  bad((h) => h.replace(`style-src ${CSP_SOURCE}`, `style-src ${CSP_SOURCE} &#39;unsafe-inline&#39;`), /unsafe-inline/);
  bad((h) => h.replace('</body>', '<script>alert(1)</script></body>'), /without the nonce/);
  bad((h) => h.replace('</body>', '<img src="https://evil.example/x.png"></body>'), /remote URL/);
  bad((h) => h.replace('</body>', '<div onclick="x()"></div></body>'), /event handler/);
  bad((h) => h.replace('</body>', '<div style="color:red"></div></body>'), /inline style/);
  bad((h) => h.replace(`connect-src ${CSP_SOURCE}`, 'connect-src *'), /connect-src|remote/);
  bad((h) => h, /wasm-unsafe-eval' where no WASM/, 'score', false);
  bad((h) => h, /lacks 'wasm-unsafe-eval'/, 'dashboard', true);
  bad((h) => h.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''), /exactly one CSP/);
});

test('buildCsp has no wasm for the dashboard', () => {
  assert.ok(!buildCsp(CSP_SOURCE, 'n'.repeat(16), { wasm: false }).includes('wasm'));
});

test('localResourceRoots: media, built webviews, scorer bundle and the folders in use — nothing else', () => {
  const model = '/data/models/m1';
  const images = '/data/images';
  assert.deepEqual(resourceRoots(EXT, 'score', [model, images]), [
    path.join(EXT, 'media'), path.join(EXT, 'dist', 'webview'), path.join(EXT, 'dist', 'scorer'), model, images,
  ]);
  assert.deepEqual(resourceRoots(EXT, 'dashboard'), [path.join(EXT, 'media'), path.join(EXT, 'dist', 'webview')]);
  // Reports show pictures only: no scorer bundle, just the data folder their thumbnails come from.
  assert.deepEqual(resourceRoots(EXT, 'evalReport', [images]), [path.join(EXT, 'media'), path.join(EXT, 'dist', 'webview'), images]);
  const roots = resourceRoots(EXT, 'folder', [model, images, null, undefined, model]);
  assert.equal(new Set(roots).size, roots.length);
  for (const r of roots) {
    assert.notEqual(r, EXT, 'the extension root itself is not a resource root');
    assert.notEqual(r, '/', 'never the file system root');
    assert.ok(path.isAbsolute(r));
  }
  assert.ok(!roots.includes(path.join(EXT, 'dist')), 'not all of dist/ (the CLI is not webview content)');
  assert.ok(!roots.includes(path.join(EXT, 'node_modules')));
});
