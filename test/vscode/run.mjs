// Orchestrates the real-VS-Code tests (see ../shared recipe "real-vscode"):
//  1. build everything (node esbuild.mjs), the test suites, and the .vsix (npm run package);
//  2. mocha INSIDE the extension host of code-server, workspace trusted (extension.test);
//  3. mocha inside the extension host with the workspace in Restricted Mode (restricted.test);
//  4. UI through Debian chromium + playwright-core against code-server with the .vsix installed (ui.mjs).
// Exits non-zero when anything fails. Options: --only host|restricted|ui (repeatable), --no-package.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import sharp from 'sharp';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const only = argv.flatMap((a, i) => (a === '--only' ? [argv[i + 1]] : []));
const want = (k) => only.length === 0 || only.includes(k);
const codeServer = path.join(repo, '.vscode-test/tools/node_modules/.bin/code-server');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-vscode-'));
const outDir = path.join(repo, '.vscode-test', 'out');
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
const t0 = Date.now();
const say = (...a) => console.log(`[test:vscode ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const results = [];

function sh(cmd, args, opts = {}) {
  say('$', cmd, args.join(' '));
  const r = spawnSync(cmd, args, { cwd: repo, stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
}

// ---- 1. build
sh(process.execPath, ['esbuild.mjs']);
const suiteDir = path.join(repo, '.vscode-test', 'build', 'suite');
fs.rmSync(suiteDir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: ['index', 'extension.test', 'restricted.test'].map((f) => path.join(repo, 'test/vscode/suite', `${f}.ts`)),
  outdir: suiteDir, bundle: true, platform: 'node', format: 'cjs', target: 'node18', external: ['vscode', 'mocha'], sourcemap: 'inline', logLevel: 'warning',
});
const vsix = path.join(repo, 'flawscope.vsix');
if (want('ui') && !argv.includes('--no-package')) sh('npm', ['run', '--silent', 'package']);

// ---- workspace: a copy of some fixture images (the dataset itself is read in place)
const ws = path.join(work, 'ws');
const dataset = path.join(repo, 'test/fixtures/mnist-small/train');
const testSet = fs.existsSync(path.join(repo, 'test/fixtures/mnist-small/test')) ? path.join(repo, 'test/fixtures/mnist-small/test') : dataset;
const normalClass = '1';
fs.mkdirSync(path.join(ws, 'images', 'normal'), { recursive: true });
fs.mkdirSync(path.join(ws, 'images', 'anomaly'), { recursive: true });
const pngs = (d) => fs.readdirSync(d).filter((f) => f.endsWith('.png')).sort();
for (const f of pngs(path.join(testSet, normalClass)).slice(0, 12)) fs.copyFileSync(path.join(testSet, normalClass, f), path.join(ws, 'images', 'normal', f));
for (const c of ['0', '4', '7']) for (const f of pngs(path.join(testSet, c)).slice(0, 4)) fs.copyFileSync(path.join(testSet, c, f), path.join(ws, 'images', 'anomaly', `${c}-${f}`));
fs.copyFileSync(path.join(testSet, '7', pngs(path.join(testSet, '7'))[0]), path.join(ws, 'sample.png'));
// A TIFF (Chromium cannot decode it; the panel must): the same digit, LZW-compressed.
await sharp(path.join(ws, 'sample.png')).tiff({ compression: 'lzw' }).toFile(path.join(ws, 'sample.tif'));
// A colour photo, nothing like the grey digits the test model is trained on: the "unfamiliar" verdict.
await sharp({ create: { width: 300, height: 300, channels: 3, background: { r: 200, g: 60, b: 30 } } }).png().toFile(path.join(ws, 'colour-photo.png'));
fs.cpSync(dataset, path.join(ws, 'digits'), { recursive: true }); // for the UI test: Add Dataset from the explorer

// ---- code-server
let port = 18080 + Math.floor(Math.random() * 1000);
async function startServer(name, settings, extensionsDir, extraEnv = {}) {
  const home = path.join(work, name, 'home');
  const data = path.join(work, name, 'data');
  fs.mkdirSync(path.join(data, 'User'), { recursive: true });
  fs.mkdirSync(path.join(home, '.config'), { recursive: true });
  fs.writeFileSync(path.join(data, 'User', 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'telemetry.telemetryLevel': 'off', 'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'flawscope.nodePath': process.execPath, ...settings }, null, 2));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local/share'), ...extraEnv };
  const p = ++port;
  const args = ['--auth', 'none', '--bind-addr', `127.0.0.1:${p}`, '--user-data-dir', data, '--extensions-dir', extensionsDir, '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override'];
  if (settings['security.workspace.trust.enabled'] === false) args.push('--disable-workspace-trust');
  const log = fs.openSync(path.join(outDir, `code-server-${name}.log`), 'w');
  const child = spawn(codeServer, args, { env, detached: true, stdio: ['ignore', log, log] });
  const deadline = Date.now() + 60000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${p}/healthz`);
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`code-server ${name} did not start (see ${outDir}/code-server-${name}.log)`);
    await new Promise((r) => setTimeout(r, 300));
  }
  say(`code-server ${name} up on ${p}`);
  return { port: p, env, stop: () => { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ } } };
}

function runNode(script, env, timeoutMs) {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [script], { cwd: repo, env: { ...process.env, ...env }, stdio: 'inherit' });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code) => { clearTimeout(timer); resolve(code); });
  });
}

async function hostSuite(name, suites, settings) {
  const cfgFile = path.join(suiteDir, 'config.json');
  const resultFile = path.join(outDir, `${name}-results.json`);
  fs.writeFileSync(cfgFile, JSON.stringify({ suites, resultFile, repo, workspace: ws, dataset, normalClass, nodePath: process.execPath, out: path.join(outDir, name) }, null, 2));
  fs.mkdirSync(path.join(outDir, name), { recursive: true });
  const extDir = path.join(work, name, 'ext');
  fs.mkdirSync(extDir, { recursive: true });
  // The extension host inherits code-server's environment: FLAWSCOPE_TEST_API=1 makes activate()
  // return the test API (extension/test-api.ts) that the suites use. The UI test runs without it.
  const srv = await startServer(name, settings, extDir, { FLAWSCOPE_TEST_API: '1' });
  try {
    const code = await runNode(path.join(repo, 'test/vscode/host-tests.cjs'), { PORT: String(srv.port), WS: ws, EXT: repo, TESTS: path.join(suiteDir, 'index'), TIMEOUT_MS: '420000' }, 480000);
    let summary = 'no result file';
    if (fs.existsSync(resultFile)) {
      const r = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      for (const t of r.results) console.log(`  ${t.state === 'passed' ? '✔' : t.state === 'skipped' ? '-' : '✘'} ${t.title}${t.error ? `\n      ${t.error.split('\n').slice(0, 6).join('\n      ')}` : ''}`);
      const n = (s) => r.results.filter((t) => t.state === s).length;
      summary = `${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`;
      // Repeated in the final summary, so a CI log that keeps only its tail still names what failed.
      for (const t of r.results.filter((t) => t.state === 'failed')) summary += `\n    ✘ ${t.title}\n      ${String(t.error ?? '').split('\n').slice(0, 4).join('\n      ')}`;
    }
    results.push({ name, ok: code === 0 && fs.existsSync(resultFile), summary });
    say(name, code === 0 ? 'PASS' : 'FAIL', summary);
  } finally {
    srv.stop();
  }
}

try {
  if (want('host')) await hostSuite('host', ['extension'], { 'security.workspace.trust.enabled': false });
  if (want('restricted'))
    await hostSuite('restricted', ['restricted'], { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never', 'security.workspace.trust.emptyWindow': false });
  if (want('ui')) {
    const extDir = path.join(work, 'ui', 'ext');
    fs.mkdirSync(extDir, { recursive: true });
    const data = path.join(work, 'ui', 'data');
    fs.mkdirSync(data, { recursive: true });
    say('installing', vsix, 'into code-server');
    execFileSync(codeServer, ['--user-data-dir', data, '--extensions-dir', extDir, '--install-extension', vsix], { stdio: 'inherit', env: { ...process.env, HOME: path.join(work, 'ui', 'home') } });
    const srv = await startServer('ui', { 'security.workspace.trust.enabled': false, 'flawscope.overlayOpacity': 0.6 }, extDir);
    try {
      const code = await runNode(path.join(repo, 'test/vscode/ui.cjs'), { PORT: String(srv.port), WS: ws, SHOTS: path.join(outDir, 'screenshots'), NORMAL: normalClass }, 420000);
      results.push({ name: 'ui', ok: code === 0, summary: code === 0 ? 'passed' : `exit ${code}` });
    } finally {
      srv.stop();
    }
  }
} catch (e) {
  results.push({ name: 'harness', ok: false, summary: String(e?.stack ?? e) });
}
// Keep the extension's own output channel (one log per code-server) with the artefacts.
for (const name of ['host', 'restricted', 'ui']) {
  const walk = (d) => { try { return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)])); } catch { return []; } };
  walk(path.join(work, name, 'data', 'logs')).filter((f) => /Flawscope\.log$/.test(f)).forEach((f, i) => fs.copyFileSync(f, path.join(outDir, `flawscope-${name}${i ? `-${i}` : ''}.log`)));
}
say('summary:');
for (const r of results) console.log(`  ${r.ok ? 'PASS' : 'FAIL'} ${r.name}: ${r.summary}`);
console.log(`artefacts (logs, screenshots, results): ${outDir}`);
fs.rmSync(work, { recursive: true, force: true });
process.exit(results.length > 0 && results.every((r) => r.ok) ? 0 : 1);
