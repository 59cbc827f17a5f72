/**
 * A model folder whose defect map is the lite network (network.ts 'lite': a fixed bilinear 2x
 * upsampling of the logit as a 1 → 1 transposed conv, then a sigmoid Activation layer) scores
 * through the Node scorer on every CPU backend, and the fast kernels (the trainer's WASM SIMD
 * conv, transposed conv with one output channel included) and tfjs-backend-wasm's (scorer/
 * wasm-kernels.ts's phase split) give the stock cpu backend's probability map.
 */
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetModelFolder, tempDir, testImage } from '../browser/fixtures';
import { loadScorerFromDir } from '../../scorer/node';
import { LITE_UPSAMPLE_LAYER } from '../../trainer/defect-map/network';

before(() => tf.setBackend('cpu'));

test('a lite defect map scores through the Node scorer: cpu, wasm and fast give one probability map', { timeout: 240_000 }, async () => {
  const dir = await presetModelFolder(join(tempDir('flawscope-lite-'), 'model'), 1, 3, 'lite');
  const topology = readFileSync(join(dir, 'defect-map.json'), 'utf8');
  assert.ok(topology.includes(LITE_UPSAMPLE_LAYER) && !topology.includes('map_stem'));
  const img = testImage(150, 100, 1, 9);
  const maps: Record<string, Float32Array> = {};
  for (const backend of ['cpu', 'wasm', 'fast'] as const) {
    const s = await loadScorerFromDir(dir, { backend });
    try {
      const r = await s.score(img, { reconstruction: false, stride: 32 });
      assert.ok(r.probability, `${backend}: no probability map`);
      assert.equal(r.probability.length, img.width * img.height);
      maps[backend] = r.probability;
    } finally {
      s.dispose();
    }
  }
  const p = maps.cpu;
  assert.ok(p.every((v) => v >= 0 && v <= 1));
  assert.ok(Math.max(...p) - Math.min(...p) > 1e-3, 'the map should vary over the image');
  for (const backend of ['wasm', 'fast']) {
    let worst = 0;
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(maps[backend][i] - p[i]));
    assert.ok(worst <= 1e-4, `${backend} differs from cpu by ${worst}`);
  }
});
