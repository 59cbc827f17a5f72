/**
 * Headless-Chromium harness for the scorer tests and benchmark: bundles scorer/index.ts and the
 * static page with the same esbuild options as esbuild.mjs (into a temp folder, so a test always
 * runs the current sources), serves it on 127.0.0.1 with the right MIME types, and launches
 * Debian's Chromium through playwright-core with WebGPU enabled (SwiftShader on this machine).
 */
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = () => existsSync(CHROMIUM);

/** Builds dist-like output: <dir>/scorer/index.js (+ .wasm), <dir>/web/{index.html,app.js} (+ .wasm). */
export async function buildBundle(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'flawscope-bundle-'));
  const common = { bundle: true, sourcemap: false, logLevel: 'error', target: 'es2022', legalComments: 'none', platform: 'browser', format: 'esm', minify: true, absWorkingDir: ROOT } as const;
  await esbuild.build({ ...common, entryPoints: ['scorer/index.ts'], outfile: join(out, 'scorer/index.js') });
  await esbuild.build({ ...common, entryPoints: ['scorer/web/app.ts'], outfile: join(out, 'web/app.js') });
  const wasmDir = join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const d of ['scorer', 'web']) for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmDir, f), join(out, d, f));
  cpSync(join(ROOT, 'scorer/web/index.html'), join(out, 'web/index.html'));
  return out;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json', '.bin': 'application/octet-stream', '.png': 'image/png', '.jpg': 'image/jpeg', '.map': 'application/json',
};

/** Serves `mounts` ({'/': dir, '/model/': dir, ...}) on 127.0.0.1; '/' also answers a blank page at '/blank'. */
export async function serve(mounts: Record<string, string>): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const entries = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/blank') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>blank</title>');
      return;
    }
    const m = entries.find(([p]) => path.startsWith(p));
    if (!m) return void res.writeHead(404).end();
    const file = normalize(join(m[1], path.slice(m[0].length)));
    if (!file.startsWith(normalize(m[1])) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A fresh headless Chromium (playwright gives every launch its own temporary user-data dir). */
export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
}

export function ensureDir(d: string): string {
  mkdirSync(d, { recursive: true });
  return d;
}
