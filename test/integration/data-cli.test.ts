import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDatasetsCommand } from '../../trainer/data/cli-datasets';
import { pngHeaderOnly, writeClassFolder } from '../../trainer/data/synth';
import { loadTrainingData } from '../../trainer/data/index';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flawscope-data-cli-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Runs the command in-process, capturing stdout and stderr. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDatasetsCommand(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

test('inspect: JSON report and human-readable text', async () => {
  const root = path.join(tmp, 'set');
  await writeClassFolder(root, { good: 6, scratch: 2 }, { width: 20, height: 10 });
  await fs.writeFile(path.join(root, 'good', 'readme.txt'), 'not an image');
  await fs.writeFile(path.join(root, 'good', 'broken.png'), 'not a png');
  const j = await run(['inspect', root, '--json']);
  assert.equal(j.code, 0, j.err);
  const r = JSON.parse(j.out);
  assert.equal(r.layout, 'image-folder');
  assert.equal(r.normalClass, 'good');
  assert.deepEqual(r.classes.map((c: { name: string; count: number; anomaly: boolean }) => [c.name, c.count, c.anomaly]), [['good', 7, false], ['scratch', 2, true]]);
  assert.deepEqual(r.imageSizes.common, [{ size: '20x10', count: 8 }]);
  assert.deepEqual(r.channels, { grey: 8, colour: 0, alpha: 0, highBitDepth: 0 });
  assert.equal(r.imbalance.ratio, 3.5);
  assert.equal(r.imbalance.normalToAnomaly, 3.5);
  assert.equal(r.ignoredFiles, 1);
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0].path, /broken\.png$/);
  // Thumbnails for the extension's report: readable files of each class only.
  assert.deepEqual(Object.keys(r.samples), ['good', 'scratch']);
  assert.equal(r.samples.good.length, 6);
  assert.equal(r.samples.scratch.length, 2);
  assert.ok(Object.values<string[]>(r.samples).flat().every((p) => p.endsWith('.png') && !p.endsWith('broken.png') && existsSync(p)));
  const h = await run(['inspect', root]);
  assert.equal(h.code, 0);
  assert.match(h.out, /layout: image-folder/);
  assert.match(h.out, /scratch\s+2\s+anomaly/);
  assert.match(h.out, /broken\.png: not a readable image/);
});

test('inspect: bad input and usage exit 2 with a clear message', async () => {
  const missing = await run(['inspect', path.join(tmp, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /does not exist/);
  const idx = path.join(tmp, 'idx');
  await fs.mkdir(idx);
  await fs.writeFile(path.join(idx, 'train-images-idx3-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2]));
  await fs.writeFile(path.join(idx, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  const t = await run(['inspect', idx, '--json']);
  assert.equal(t.code, 2);
  assert.match(JSON.parse(t.out).error, /train-images-idx3-ubyte: truncated/);
  const cif = path.join(tmp, 'cifar');
  await fs.mkdir(cif);
  await fs.writeFile(path.join(cif, 'test_batch.bin'), Buffer.alloc(3073 + 5));
  const c = await run(['inspect', cif]);
  assert.equal(c.code, 2);
  assert.match(c.err, /test_batch\.bin: 3078 bytes is not a whole number of 3073-byte CIFAR-10 records/);
  assert.equal((await run([])).code, 2);
  assert.equal((await run(['list'])).code, 2);
  assert.equal((await run(['inspect'])).code, 2);
  const u = await run(['inspect', cif, '--colour']);
  assert.equal(u.code, 2);
  assert.match(u.err, /--colour: not a datasets inspect option; known: --category, --format, --help, --json, --mask-suffix, --max-pixels, --max-probe, --normal$/m);
  const bad = await run(['inspect', cif, '--max-probe', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--max-probe 0: expected an integer from 1 up/);
  const help = await run(['inspect', '--help']);
  assert.equal(help.code, 0);
  for (const f of ['--json', '--format', '--normal', '--max-probe', '--max-pixels', '--mask-suffix', '--category']) assert.ok(help.out.includes(`  ${f} `), `datasets inspect --help lists ${f}`);
  assert.equal((await run(['--help'])).code, 0);
});

test('the flawscope CLI entry point routes `datasets` here', { skip: !existsSync(path.resolve(__dirname, '../../trainer/cli.ts')) && 'trainer/cli.ts not present' }, async () => {
  const root = path.join(tmp, 'set2');
  await writeClassFolder(root, { ok: 2, bad: 1 });
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../../trainer/cli.ts'), 'datasets', 'inspect', root, '--json'], { encoding: 'utf8', timeout: 60000 });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).normalClass, 'ok');
  const bad = spawnSync(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../../trainer/cli.ts'), 'datasets', 'inspect', path.join(tmp, 'nope')], { encoding: 'utf8', timeout: 60000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /does not exist/);
});

test('a decompression bomb in a class folder: reported by inspect, skipped by loading', async () => {
  const root = path.join(tmp, 'bomb');
  await writeClassFolder(root, { good: 120, bad: 10 });
  await fs.writeFile(path.join(root, 'good', 'bomb.png'), pngHeaderOnly(100000, 100000));
  const t0 = Date.now();
  const j = await run(['inspect', root, '--json']);
  assert.equal(j.code, 0);
  const r = JSON.parse(j.out);
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0].reason, /100000x100000 pixels exceeds the limit of 50000000/);
  const d = await loadTrainingData({ root, size: 8, seed: 1 });
  assert.equal(d.summary.skipped.length, 1);
  assert.match(d.summary.skipped[0].path, /bomb\.png$/);
  assert.ok(Date.now() - t0 < 20000, 'bounded in time');
});
