// @vscode/test-electron configuration, for machines that can download VS Code (not this CI box:
// it has no internet beyond the npm registry — there use `npm run test:vscode`, i.e. code-server).
// Runs the same mocha suite (test/vscode/suite/extension.test.ts) inside a desktop VS Code.
// Usage: node esbuild.mjs && node test/vscode/electron.mjs [--version 1.100.3]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import sharp from 'sharp';
import { runTests } from '@vscode/test-electron';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const version = process.argv.includes('--version') ? process.argv[process.argv.indexOf('--version') + 1] : 'stable';
const suiteDir = path.join(repo, '.vscode-test', 'build', 'suite');
await esbuild.build({
  entryPoints: ['index', 'extension.test'].map((f) => path.join(repo, 'test/vscode/suite', `${f}.ts`)),
  outdir: suiteDir, bundle: true, platform: 'node', format: 'cjs', target: 'node18', external: ['vscode', 'mocha'], sourcemap: 'inline',
});
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-electron-'));
const ws = path.join(work, 'ws');
const testSet = path.join(repo, 'test/fixtures/mnist-small/test');
const pngs = (d) => fs.readdirSync(d).filter((f) => f.endsWith('.png')).sort();
for (const [dst, src, n] of [['normal', '1', 12], ['anomaly', '0', 4], ['anomaly', '4', 4], ['anomaly', '7', 4]]) {
  fs.mkdirSync(path.join(ws, 'images', dst), { recursive: true });
  for (const f of pngs(path.join(testSet, src)).slice(0, n)) fs.copyFileSync(path.join(testSet, src, f), path.join(ws, 'images', dst, dst === 'normal' ? f : `${src}-${f}`));
}
fs.copyFileSync(path.join(testSet, '7', pngs(path.join(testSet, '7'))[0]), path.join(ws, 'sample.png'));
await sharp(path.join(ws, 'sample.png')).tiff({ compression: 'lzw' }).toFile(path.join(ws, 'sample.tif'));
const out = path.join(repo, '.vscode-test', 'out', 'electron');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(suiteDir, 'config.json'), JSON.stringify({
  suites: ['extension'], resultFile: path.join(out, 'results.json'), repo, workspace: ws,
  dataset: path.join(repo, 'test/fixtures/mnist-small/train'), normalClass: '1', nodePath: process.execPath, out,
}));
try {
  await runTests({
    version,
    extensionDevelopmentPath: repo,
    extensionTestsPath: path.join(suiteDir, 'index'),
    // activate() returns the test API (extension/test-api.ts) only with this flag.
    extensionTestsEnv: { FLAWSCOPE_TEST_API: '1' },
    launchArgs: [ws, '--disable-workspace-trust', '--disable-extensions', '--skip-welcome', '--skip-release-notes'],
  });
} catch (e) {
  console.error('test-electron run failed:', e);
  process.exitCode = 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
