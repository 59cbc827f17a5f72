/**
 * `flawscope eval` on a crop-trained model: whole-photo image and pixel AUROC lead (text and
 * JSON `wholePhoto`), the crop figures are labelled patch-level (`patchLevel`), the old fields
 * stay; the fast backend (the default) gives the wasm backend's figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli';
import { paintedDefects } from '../helpers/painted-defects';

test('eval of a crop-trained model: whole photo first, patch-level labelled, same figures on fast and wasm', async () => {
  const data = await paintedDefects({ normal: 16, defect: 12 });
  const model = join(tempDir('flawscope-eval-levels-'), 'model');
  const t = runCli(['train', '--data', data, '--out', model, '--size', '16', '--epochs', '1', '--batch', '16', '--seed', '2',
    '--protocol', 'defect', '--patch-size', '32', '--patch-stride', '16', '--json']);
  assert.equal(t.code, 0, t.stderr);

  const text = runCli(['eval', '--model', model]);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.match(lines[0], /^whole-photo image AUROC \d\.\d{4}  whole-photo pixel AUROC \d\.\d{4}  AUPRO \d\.\d{4}$/);
  assert.match(lines[1], /^  5 photos \(3 normal, 2 defect\)/);
  const patchLines = lines.filter((l) => /test crops|crops\)|threshold|source-photo/.test(l));
  assert.ok(patchLines.length >= 3 && patchLines.every((l) => /patch-level/.test(l)), lines.join('\n'));
  assert.match(text.stderr, /on fast/);

  const evalJson = (backend: string) => {
    const r = runCli(['eval', '--model', model, '--json', '--backend', backend]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const fast = evalJson('fast');
  const wasm = evalJson('wasm');
  assert.equal(fast.backend, 'fast');
  assert.equal(wasm.backend, 'wasm');
  assert.deepEqual([fast.wholePhoto.photos, fast.wholePhoto.normals, fast.wholePhoto.anomalies], [5, 3, 2]);
  assert.equal(typeof fast.wholePhoto.pixelAuroc, 'number');
  assert.ok(fast.wholePhoto.pixelAupro > 0 && fast.wholePhoto.pixelAupro <= 1, 'whole-photo AUPRO over the same pixels');
  assert.equal(fast.patchLevel.patches, fast.count);
  // The old fields, kept for one release: patch figures under their old names.
  assert.equal(fast.auroc, fast.patchLevel.imageAuroc);
  assert.equal(fast.pixelAuroc, fast.patchLevel.pixelAuroc);
  assert.equal(fast.photoAuroc.auroc, fast.wholePhoto.imageAuroc);
  for (const [name, a, b] of [
    ['whole-photo image', fast.wholePhoto.imageAuroc, wasm.wholePhoto.imageAuroc],
    ['whole-photo pixel', fast.wholePhoto.pixelAuroc, wasm.wholePhoto.pixelAuroc],
    ['patch', fast.patchLevel.imageAuroc, wasm.patchLevel.imageAuroc],
    ['patch pixel', fast.patchLevel.pixelAuroc, wasm.patchLevel.pixelAuroc],
  ] as const) assert.ok(Math.abs(a - b) <= 1e-6, `${name} AUROC: fast ${a}, wasm ${b}`);
});
