// One build config for every bundle: extension host, trainer CLI, scorer (browser ESM + wasm
// files), webview scripts and the static web page. `node esbuild.mjs [--watch]`.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embedKernels } from './kernels/native/embed.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const here = (p) => join(root, p);
const watch = process.argv.includes('--watch');
// The WASM training kernels are committed once (kernels/native/*.wasm) and embedded at bundle
// time by embedKernels with the binary loader.
const common = {
  bundle: true, sourcemap: true, logLevel: 'warning', target: 'es2022', legalComments: 'none',
  loader: { '.wasm': 'binary' }, plugins: [embedKernels],
};

const builds = [
  // VS Code extension host: CommonJS, `vscode` provided by the host.
  { entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  // Trainer / CLI: runs under system Node; native and optional packages stay in node_modules.
  { entryPoints: ['trainer/cli.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', packages: 'external', banner: { js: '#!/usr/bin/env node' } },
  // Scorer: portable browser ESM used by the webview, the static page and tests.
  { entryPoints: ['scorer/index.ts'], outfile: 'dist/scorer/index.js', platform: 'browser', format: 'esm', minify: true },
  // Webview and static page scripts (browser IIFE).
  ...(existsSync(here('media/webview'))
    ? readdirSync(here('media/webview')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => ({
        entryPoints: [`media/webview/${f}`], outfile: `dist/webview/${f.replace(/\.ts$/, '.js')}`, platform: 'browser', format: 'iife', minify: true,
      }))
    : []),
  { entryPoints: ['scorer/web/app.ts'], outfile: 'dist/web/app.js', platform: 'browser', format: 'esm', minify: true },
].filter((b) => existsSync(here(b.entryPoints[0])));

function copyStatic() {
  // The WASM backend fetches its .wasm files from beside the bundle (setWasmPaths).
  const wasmDir = here('node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const dest of ['dist/scorer', 'dist/web']) {
    mkdirSync(here(dest), { recursive: true });
    for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmDir, f), here(join(dest, f)));
  }
  if (existsSync(here('scorer/web/index.html'))) cpSync(here('scorer/web/index.html'), here('dist/web/index.html'));
}

const opts = builds.map((b) => ({ ...common, ...b, absWorkingDir: root }));
if (watch) {
  for (const o of opts) await (await esbuild.context(o)).watch();
  copyStatic();
} else {
  await Promise.all(opts.map((o) => esbuild.build(o)));
  copyStatic();
}
