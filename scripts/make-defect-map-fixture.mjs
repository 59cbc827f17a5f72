// Writes the small committed model folder with a defect map (test/fixtures/defect-map), format 6.
// Both networks have hand-set weights so a test can compute every output on its own:
// - the "generator" G is a 5x5 box blur (zero padding at the tile's edges, so stitching overlapped
//   tiles matters), 16x16x1 → 16x16x1;
// - the defect map D is a 1x1 convolution that reads only the |x - r| channel:
//   p = sigmoid(DIFF_GAIN * |x - r| - DIFF_BIAS), 16x16x3 → 16x16x1.
// Usage: node scripts/make-defect-map-fixture.mjs [OUT_DIR]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'test/fixtures/defect-map');
export const SIZE = 16, BLUR = 5, DIFF_GAIN = 20, DIFF_BIAS = 4;

await tf.setBackend('cpu');

const gIn = tfl.input({ shape: [SIZE, SIZE, 1], name: 'image' });
const gConv = tfl.layers.conv2d({ filters: 1, kernelSize: BLUR, padding: 'same', name: 'blur' });
const generator = tfl.model({ inputs: gIn, outputs: gConv.apply(gIn), name: 'box_blur_generator' });
gConv.setWeights([tf.fill([BLUR, BLUR, 1, 1], 1 / (BLUR * BLUR)), tf.zeros([1])]);

const dIn = tfl.input({ shape: [SIZE, SIZE, 3], name: 'image_reconstruction_difference' });
const dConv = tfl.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid', name: 'difference_gate' });
const defectMap = tfl.model({ inputs: dIn, outputs: dConv.apply(dIn), name: 'difference_defect_map' });
dConv.setWeights([tf.tensor4d([0, 0, DIFF_GAIN], [1, 1, 3, 1]), tf.tensor1d([-DIFF_BIAS])]);

async function save(model, jsonName, binName) {
  await model.save(tf.io.withSaveHandler(async (a) => {
    const json = { format: 'layers-model', generatedBy: 'scripts/make-defect-map-fixture.mjs', convertedBy: null, modelTopology: a.modelTopology, weightsManifest: [{ paths: [binName], weights: a.weightSpecs }] };
    writeFileSync(join(out, jsonName), JSON.stringify(json));
    writeFileSync(join(out, binName), new Uint8Array(a.weightData));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

mkdirSync(out, { recursive: true });
await save(generator, 'model.json', 'weights.bin');
await save(defectMap, 'defect-map.json', 'defect-map.bin');
const info = {
  formatVersion: 6,
  input: { height: SIZE, width: SIZE, channels: 1 },
  normalization: { scale: 1 / 127.5, offset: -1 },
  score: { kind: 'mean', patch: { size: 2, stride: 1, topN: 3 } },
  preprocess: { mode: 'tile', scale: 1, tileStride: 8 },
  defectMap: { file: 'defect-map.json', inputs: ['image', 'reconstruction', 'difference'], imageScore: { kind: 'max', smooth: 3 } },
  threshold: 0.5,
  normalStats: { mean: 0.02, std: 0.01, p95: 0.04, p99: 0.06, count: 10 },
  dataset: { name: 'defect-map fixture (hand-set weights)' },
  config: { generator: `${BLUR}x${BLUR} box blur`, defectMap: `sigmoid(${DIFF_GAIN}*|x-r| - ${DIFF_BIAS})` },
  metrics: {},
  backend: 'cpu',
  createdAt: '2025-01-01T00:00:00.000Z',
  trainingSeconds: 0,
};
writeFileSync(join(out, 'flawscope.json'), JSON.stringify(info, null, 2) + '\n');
console.log(`wrote ${out}`);
