// `npm run demo`: the main job on the built-in sample data. Trains a model on the committed MNIST
// sample (digit 1 = normal, the other digits = anomalies), then scores held-out test images and
// writes heatmap overlays. Output in ./demo-out (replaced on each run).
import { spawnSync } from 'node:child_process';
import { rmSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/cli.js');
const data = join(root, 'test/fixtures/mnist-small');
const out = join(root, 'demo-out');
const run = (args) => {
  console.log(`\n$ flawscope ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
rmSync(out, { recursive: true, force: true });
run(['train', '--data', data, '--normal', '1', '--out', join(out, 'model'), '--epochs', '25', '--batch', '16', '--seed', '1']);
const pick = (digit, n) => readdirSync(join(data, 'test', digit)).slice(0, n).map((f) => join(data, 'test', digit, f));
run(['score', '--model', join(out, 'model'), ...pick('1', 3), ...pick('7', 2), ...pick('3', 2), '--heatmap', join(out, 'heatmaps')]);
console.log(`\nModel: ${join(out, 'model')}\nHeatmaps: ${join(out, 'heatmaps')}`);
