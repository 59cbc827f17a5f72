/**
 * scorer/wasm-kernels.ts: on the wasm backend the scorer replaces Conv2DBackpropInput (stride 2,
 * 4x4, 'same': a 3x3 phase convolution + DepthToSpace) and short-row Concat. Both must give the
 * stock cpu kernels' values (float32 rounding apart) for the shapes the networks use, and the
 * stock path for every other shape.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../scorer/backend';
import { buildDefectMap } from '../../trainer/defect-map/network';
import { buildGenerator } from '../../trainer/model';
import { join } from 'node:path';
import { presetModelFolder, tempDir, testImage } from '../browser/fixtures';
import { loadScorerFromDir } from '../../scorer/node';

const stockConvT = tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc;
const stockConcat = tf.getKernel('Concat', 'wasm')!.kernelFunc;

/** Runs `f` on `backend` and returns its values (the inputs are made there too). */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const y = f();
  const v = (await y.data()) as Float32Array;
  y.dispose();
  return v;
}

function close(a: Float32Array, b: Float32Array, what: string, tol = 1e-5): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  assert.ok(worst <= tol, `${what}: largest difference ${worst} over ${tol}`);
}

/** Seeded values in [-1, 1). */
const values = (n: number, seed: number) => {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 31) - 1);
};

describe('scorer wasm kernels', () => {
  before(async () => {
    const r = await selectBackend('wasm');
    assert.equal(r.backend, 'wasm');
  });

  test('selecting wasm replaces the stock Conv2DBackpropInput and Concat kernels', () => {
    assert.notEqual(tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc, stockConvT);
    assert.notEqual(tf.getKernel('Concat', 'wasm')!.kernelFunc, stockConcat);
  });

  // [N, h, w, D] → [N, 2h, 2w, C]: the generator's and the map's decoder shapes, odd channel counts, a 1x1 input.
  for (const [N, h, w, D, C] of [[3, 4, 4, 64, 32], [2, 8, 6, 96, 32], [5, 16, 16, 16, 1], [1, 1, 1, 7, 3], [4, 32, 32, 32, 8]]) {
    test(`conv2dTranspose stride 2, 4x4, same: [${N},${h},${w},${D}] → ${C} channels matches cpu`, async () => {
      const mk = () => {
        const x = tf.tensor4d(values(N * h * w * D, 1 + D), [N, h, w, D]);
        const f = tf.tensor4d(values(16 * C * D, 7 + C), [4, 4, C, D]);
        return tf.tidy(() => tf.conv2dTranspose(x, f, [N, 2 * h, 2 * w, C], 2, 'same'));
      };
      close(await on('wasm', mk), await on('cpu', mk), 'conv2dTranspose');
    });
  }

  for (const [what, stride, k, pad, out] of [['stride 1, 3x3, same', 1, 3, 'same', 8], ['stride 2, 4x4, valid', 2, 4, 'valid', 18], ['stride 2, 3x3, same', 2, 3, 'same', 16], ['stride 2, 4x4, same, odd output', 2, 4, 'same', 15]] as const) {
    test(`conv2dTranspose ${what} (the stock path) matches cpu`, async () => {
      const inSize = stride === 1 ? out : pad === 'valid' ? (out - k) / stride + 1 : Math.ceil(out / stride);
      const mk = () => {
        const x = tf.tensor4d(values(2 * inSize * inSize * 5, 3), [2, inSize, inSize, 5]);
        const f = tf.tensor4d(values(k * k * 4 * 5, 4), [k, k, 4, 5]);
        return tf.tidy(() => tf.conv2dTranspose(x, f, [2, out, out, 4], stride, pad));
      };
      close(await on('wasm', mk), await on('cpu', mk), what);
    });
  }

  test('concat on the channel axis (short rows) and on long rows matches cpu', async () => {
    for (const [shapes, axis] of [[[[2, 8, 8, 1], [2, 8, 8, 1], [2, 8, 8, 1]], 3], [[[2, 8, 8, 8], [2, 8, 8, 16]], 3], [[[2, 8, 100], [2, 8, 50]], 2], [[[3, 4], [2, 4]], 0]] as const) {
      const mk = () => tf.tidy(() => tf.concat(shapes.map((s, i) => tf.tensor(values((s as readonly number[]).reduce((a, b) => a * b, 1), 11 + i), [...s])), axis));
      close(await on('wasm', mk), await on('cpu', mk), `concat ${JSON.stringify(shapes)} axis ${axis}`, 0);
    }
  });

  test('the --preset defects networks (64x64 generator, defect map) give the cpu backend\'s outputs on wasm', async () => {
    for (const channels of [1, 3] as const) {
      const shape = { height: 64, width: 64, channels };
      const run = (backend: 'cpu' | 'wasm') => on(backend, () => {
        const g = buildGenerator(shape, 3);
        const m = buildDefectMap(shape, 3, { inputStats: { mean: Array(3 * channels).fill(0.01), std: Array(3 * channels).fill(0.3) } });
        const y = tf.tidy(() => {
          const x = tf.tensor4d(values(2 * 64 * 64 * channels, 5), [2, 64, 64, channels]);
          const r = g.predict(x) as tf.Tensor4D;
          return tf.concat([tf.reshape(r, [-1]), tf.reshape(m.predict(tf.concat([x, r, tf.abs(tf.sub(x, r))], 3)) as tf.Tensor, [-1])]);
        });
        g.dispose();
        m.dispose();
        return y;
      });
      close(await run('wasm'), await run('cpu'), `${channels}-channel networks`, 1e-4);
    }
  });

  test('a --preset defects model folder scores a photo alike on wasm and on the fast kernels (score, probability, error maps)', async () => {
    for (const channels of [1, 3] as const) {
      const dir = await presetModelFolder(join(tempDir(), `preset${channels}`), channels, 4);
      const photo = testImage(200, 150, channels, 9);
      const run = async (backend: 'wasm' | 'fast') => {
        const s = await loadScorerFromDir(dir, { backend });
        try {
          return await s.score(photo, { reconstruction: false });
        } finally {
          s.dispose();
        }
      };
      const w = await run('wasm'), f = await run('fast');
      assert.equal(w.tiles, 6 * 4); // 200x150 at stride 32: x 0..128 and 136, y 0, 32, 64 and 86
      assert.ok(Math.abs(w.score - f.score) <= 1e-4, `score wasm ${w.score} fast ${f.score}`);
      close(w.probability!, f.probability!, `${channels}-channel probability`, 1e-4);
      close(w.errorMap, f.errorMap, `${channels}-channel error map`, 1e-4);
    }
  });
});
