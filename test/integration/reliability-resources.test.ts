/**
 * Resources: scoring 1,000 images in a row with one Scorer (the real U-Net generator,
 * 16x16x1, Node WASM backend) leaves the tfjs tensor count exactly where it was after each image,
 * and the JS heap grows by less than HEAP_BOUND_MB between image 200 and image 1,000.
 * (Training memory over epochs: `npm run bench:memory`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ROOT, tempDir } from '../helpers/cli';
import { buildGenerator } from '../../trainer/model';
import { modelArtifacts } from '../../trainer/model-folder';
import { decodeImageFile, loadScorerFromDir } from '../../scorer/node';
import { tensorCount } from '../../scorer/scorer';

const N = 1000;
const HEAP_BOUND_MB = 8;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMB = () => { gc(); gc(); return process.memoryUsage().heapUsed / 2 ** 20; };

test(`scoring ${N} images in a row: tensor count flat, heap growth < ${HEAP_BOUND_MB} MB`, { timeout: 300_000 }, async () => {
  // A real generator (random weights are enough for a resource test) as a model folder.
  const dir = join(tempDir('flawscope-rel-res-'), 'model');
  mkdirSync(dir);
  await tf.setBackend('cpu');
  const g = buildGenerator({ height: 16, width: 16, channels: 1 }, 1);
  const { modelJson, weights } = await modelArtifacts(g);
  g.dispose();
  writeFileSync(join(dir, 'model.json'), modelJson);
  writeFileSync(join(dir, 'weights.bin'), weights);
  const info = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/bad/models/ok/flawscope.json'), 'utf8'));
  writeFileSync(join(dir, 'flawscope.json'), JSON.stringify({ ...info, score: { kind: 'topPatch', patch: { size: 2, stride: 1, topN: 3 } } }));

  const before = tensorCount();
  const scorer = await loadScorerFromDir(dir);
  const loaded = tensorCount();
  const src = join(ROOT, 'test/fixtures/mnist-small/test');
  const files = readdirSync(src).flatMap((d) => readdirSync(join(src, d)).map((f) => join(src, d, f)));
  const images = await Promise.all(files.map((f) => decodeImageFile(f)));
  let heap200 = 0, peakHeap = 0;
  const t0 = Date.now();
  for (let i = 1; i <= N; i++) {
    const r = await scorer.score(images[i % images.length]);
    assert.ok(Number.isFinite(r.score));
    assert.equal(tensorCount(), loaded, `tensors after image ${i}`);
    if (i === 200) heap200 = heapMB();
    if (i % 100 === 0) peakHeap = Math.max(peakHeap, heapMB());
  }
  const heap1000 = heapMB();
  const secs = (Date.now() - t0) / 1000;
  scorer.dispose();
  assert.equal(tensorCount(), before, 'dispose() frees every tensor');
  const growth = heap1000 - heap200;
  process.stdout.write(`# ${N} images (28x28 → 4 tiles each) in ${secs.toFixed(1)} s; tensors ${loaded} throughout; heap after 200: ${heap200.toFixed(1)} MB, after ${N}: ${heap1000.toFixed(1)} MB (growth ${growth.toFixed(2)} MB, peak ${peakHeap.toFixed(1)} MB); RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB\n`);
  assert.ok(growth < HEAP_BOUND_MB, `heap grew ${growth.toFixed(2)} MB over ${N - 200} images`);
});
