// The webview scripts type their messages against the zod schemas (shared/webview-messages.ts)
// through shared/protocol.ts's type-only re-export: the schemas must stay out of every webview
// bundle, so a page does not ship the host's validator (or zod) for types it only compiles against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(import.meta.dirname, '../..');
const entries = fs.readdirSync(path.join(root, 'media/webview')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));

test('no webview bundle contains the webview-message schemas', async () => {
  assert.ok(entries.length >= 6, `webview entry points: ${entries.join(', ')}`);
  const withProtocol: string[] = [];
  for (const f of entries) {
    // The bundle options of esbuild.mjs's webview builds; only the module graph is looked at.
    const r = await esbuild.build({
      entryPoints: [path.join(root, 'media/webview', f)], bundle: true, write: false, metafile: true, platform: 'browser', format: 'iife', target: 'es2022', loader: { '.wasm': 'binary' }, logLevel: 'silent', absWorkingDir: root,
    });
    const inputs = Object.keys(r.metafile.inputs);
    if (inputs.includes('shared/protocol.ts')) withProtocol.push(f);
    assert.ok(!inputs.includes('shared/webview-messages.ts'), `${f} bundles shared/webview-messages.ts (import its types with \`import type\`)`);
  }
  // The pages that use protocol.ts's values (COLORMAPS, LIMITS, …) bundle it: the check above is of a graph that has the re-export in it.
  assert.ok(withProtocol.includes('score.ts') && withProtocol.includes('folder.ts'), `bundles with shared/protocol.ts: ${withProtocol.join(', ')}`);
});
