/**
 * The webgpu training backend (scorer/node/webgpu.ts), checked without a GPU on SwiftShader:
 * - parity: three whole GAN steps (normal, anomaly, normal: all nine losses, both discriminators,
 *   Adam) on webgpu and on the fast CPU kernels, same seed and data. Tolerance: per weight tensor
 *   max |webgpu − cpu| ≤ 1e-4 · max(1, max |w|), losses relative 1e-4 (SwiftShader computes in
 *   float32 like the CPU kernels; a real GPU's reordered sums are expected near 1e-5 relative).
 *   The comparison is not vacuous: training moves weights far beyond the tolerance.
 * - `auto` never picks a software adapter; `--backend webgpu` trains end to end (tiny data, one
 *   epoch) and, without an adapter, exits 2 saying why.
 * In CI (CI=true) a missing SwiftShader or `webgpu` package fails these tests; elsewhere they skip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, tempDir } from '../helpers/cli';
import { runWithSwiftShader, skipWithoutSwiftShader, swiftShaderEnv } from '../helpers/swiftshader';

const CHILD = join(ROOT, 'test/helpers/webgpu-gan-child.ts');
const skip = skipWithoutSwiftShader();
const TOL = 1e-4;

interface Parity {
  adapter: { isFallbackAdapter: boolean; vendor: string; architecture: string };
  backends: string[];
  tensors: { diff: number; scale: number; moved: number; sameStart: boolean }[];
  losses: { webgpu: Record<string, number>[]; cpu: Record<string, number>[] };
}

/** Throws on the first disagreement beyond the tolerance; returns the worst relative differences. */
export function checkParity(p: Parity): { weight: number; loss: number; moved: number } {
  let weight = 0, loss = 0, moved = 0;
  p.tensors.forEach((t, i) => {
    assert.ok(t.sameStart, `weight tensor ${i}: both backends start from the same seeded weights`);
    assert.ok(t.diff <= TOL * t.scale, `weight tensor ${i}: max |webgpu − cpu| ${t.diff} > ${TOL} · ${t.scale}`);
    weight = Math.max(weight, t.diff / t.scale);
    moved = Math.max(moved, t.moved);
  });
  assert.equal(p.losses.webgpu.length, p.losses.cpu.length);
  p.losses.cpu.forEach((step, k) => {
    assert.deepEqual(Object.keys(p.losses.webgpu[k]!).sort(), Object.keys(step).sort(), `step ${k}: the same losses`);
    for (const [name, v] of Object.entries(step)) {
      const e = Math.abs(p.losses.webgpu[k]![name]! - v) / Math.max(1e-6, Math.abs(v));
      assert.ok(e <= TOL, `step ${k} loss ${name}: webgpu ${p.losses.webgpu[k]![name]} cpu ${v}`);
      loss = Math.max(loss, e);
    }
  });
  assert.ok(moved > 10 * TOL, `training barely moved the weights (${moved}): agreement would say nothing`);
  return { weight, loss, moved };
}

test('webgpu (SwiftShader) and the fast CPU kernels agree over GAN steps of every loss', { skip }, () => {
  const r = runWithSwiftShader(CHILD, ['parity', '16', '3', '2', 'normal,anomaly,normal']);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const p = JSON.parse(r.stdout.trim().split('\n').pop()!) as Parity;
  assert.equal(p.backends[0], 'webgpu');
  assert.ok(p.adapter.isFallbackAdapter, 'this is SwiftShader, not a GPU');
  const names = new Set(p.losses.cpu.flatMap((l) => Object.keys(l)));
  for (const k of ['generator', 'dNormal', 'dAnomaly', 'recon', 'patch', 'latent', 'normalAdv', 'abc', 'anomalyAdv']) assert.ok(names.has(k), `loss ${k} was compared`);
  const worst = checkParity(p);
  console.log(`  webgpu vs ${p.backends[1]}: worst weight diff ${worst.weight.toExponential(2)} (of max(1,|w|)), worst loss ${worst.loss.toExponential(2)} (relative), largest move ${worst.moved.toExponential(2)}`);
  // The check itself can fail: one weight moved by 10x the tolerance is caught.
  const bad: Parity = JSON.parse(JSON.stringify(p));
  bad.tensors[0]!.diff = 10 * TOL * bad.tensors[0]!.scale;
  assert.throws(() => checkParity(bad), /weight tensor 0/);
});

test('auto never picks a software WebGPU adapter, and says why it skipped it', { skip }, () => {
  const r = runWithSwiftShader(CHILD, ['auto']);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const choice = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; reason: string };
  assert.notEqual(choice.name, 'webgpu');
  assert.match(choice.reason, /WebGPU: only a software adapter \(.*swiftshader.*\)/i);
});

/** 12 digit-1 images as normals and 4 others as anomalies, from the committed MNIST fixture. */
function microData(): string {
  const train = join(ROOT, 'test/fixtures/mnist-small/train');
  const d = join(tempDir('flawscope-webgpu-'), 'data');
  mkdirSync(join(d, 'good'), { recursive: true });
  mkdirSync(join(d, 'defect'));
  readdirSync(join(train, '1')).slice(0, 12).forEach((f) => cpSync(join(train, '1', f), join(d, 'good', f)));
  readdirSync(join(train, '7')).slice(0, 4).forEach((f) => cpSync(join(train, '7', f), join(d, 'defect', f)));
  return d;
}

function events(stdout: string): any[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

test('flawscope train --backend webgpu: one epoch end to end on SwiftShader; score --backend webgpu agrees with fast', { skip }, () => {
  const s = swiftShaderEnv();
  assert.ok('env' in s, 'missing' in s ? s.missing : '');
  const out = join(tempDir('flawscope-webgpu-'), 'model');
  const args = [CLI, 'train', '--data', microData(), '--normal', 'good', '--out', out, '--epochs', '1', '--size', '16', '--batch', '8', '--backend', 'webgpu', '--json'];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: s.env, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
  const ev = events(r.stdout);
  const start = ev.find((e) => e.type === 'start');
  assert.equal(start.backend, 'webgpu');
  assert.match(start.backendReason, /forced onto .*software fallback adapter/);
  const epoch = ev.find((e) => e.type === 'epoch');
  for (const [k, v] of Object.entries(epoch.losses)) assert.ok(Number.isFinite(v), `epoch loss ${k}`);
  assert.deepEqual(readdirSync(out).sort(), ['flawscope.json', 'model.json', 'weights.bin']);
  const img = join(ROOT, 'test/fixtures/mnist-small/test/1', readdirSync(join(ROOT, 'test/fixtures/mnist-small/test/1'))[0]!);
  // The same model scored on webgpu and on the fast kernels: one score, within the parity tolerance.
  const score = (backend: string) => {
    const r2 = spawnSync(process.execPath, [CLI, 'score', '--model', out, img, '--json', '--backend', backend], { cwd: ROOT, env: s.env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r2.status, 0, r2.stderr);
    const ev2 = events(r2.stdout);
    assert.equal(ev2.find((e) => e.event === 'model')?.backend, backend);
    return ev2.find((e) => e.event === 'result')!.score as number;
  };
  const [onGpu, onCpu] = [score('webgpu'), score('fast')];
  assert.ok(Number.isFinite(onCpu) && Math.abs(onGpu - onCpu) <= TOL * Math.max(1, Math.abs(onCpu)), `score webgpu ${onGpu} vs fast ${onCpu}`);
});

test('--backend webgpu without a WebGPU adapter exits 2 naming what is missing, writing nothing', () => {
  const out = join(tempDir('flawscope-webgpu-'), 'model');
  // No Vulkan driver: Dawn finds no adapter (on any machine, GPU or not).
  const env = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', LD_LIBRARY_PATH: '' };
  const r = spawnSync(process.execPath, [CLI, 'train', '--data', microData(), '--normal', 'good', '--out', out, '--epochs', '1', '--backend', 'webgpu'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--backend webgpu: not available \(WebGPU: (no Vulkan loader|no Vulkan driver|no WebGPU adapter|the optional package "webgpu" is not installed)/);
  assert.match(r.stderr, /--backend auto or fast/);
  assert.deepEqual(readdirSync(join(out, '..')), [], 'nothing written: no model folder, no checkpoint, no lock');
});

test('train --backend cpu (the old name of fast) still runs, with a note naming the new name', () => {
  // A missing data folder stops it right after the settings are read: quick, and nothing written.
  const r = spawnSync(process.execPath, [CLI, 'train', '--data', join(tempDir('flawscope-webgpu-'), 'none'), '--out', join(tempDir('flawscope-webgpu-'), 'm'), '--backend', 'cpu', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  const warning = events(r.stdout).find((e) => e.type === 'warning');
  assert.match(warning?.message ?? '', /--backend cpu is the old name of --backend fast in train/);
});

test('train --help lists the one vocabulary', () => {
  const r = spawnSync(process.execPath, [CLI, 'train', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--backend auto\|tensorflow\|webgpu\|fast/);
});
