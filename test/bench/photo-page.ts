/**
 * Browser side of the photo benchmark (score-photo.ts): bundled with the scorer into one module,
 * so the page times the generator's raw pass on the scorer's own tfjs engine.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Scorer } from '../../scorer/index';

export interface PhotoPageArgs { model: string; genOnly: string; photo: string; backend: 'wasm' | 'webgpu'; batch: number }

export async function run(a: PhotoPageArgs): Promise<{ total: number; genOnlyTotal: number; generator: number; tiles: number; reason: string }> {
  const blob = await (await fetch(a.photo)).blob();
  // As the static page scores a file (scorer/web/app.ts): decode, score with the defaults, overlay.
  const e2e = async (model: string) => {
    const s = await Scorer.load(model, { backend: a.backend });
    try {
      const t = performance.now();
      const bmp = await createImageBitmap(blob);
      const r = await s.score(bmp);
      s.overlay(r);
      const ms = performance.now() - t;
      bmp.close();
      return { ms, tiles: r.tiles, reason: s.backendReason };
    } finally {
      s.dispose();
    }
  };
  const withMap = await e2e(a.model);
  const genOnly = await e2e(a.genOnly);
  const g = await Scorer.load(a.genOnly, { backend: a.backend });
  let generator = 0;
  try {
    const { height: H, width: W, channels: C } = g.inputSize;
    for (let left = withMap.tiles; left > 0; left -= a.batch) {
      const x = tf.randomUniform([Math.min(left, a.batch), H, W, C], -1, 1) as tf.Tensor4D;
      await x.data();
      const t = performance.now();
      const y = g.predict(x);
      await y.data();
      generator += performance.now() - t;
      tf.dispose([x, y]);
    }
  } finally {
    g.dispose();
  }
  return { total: withMap.ms, genOnlyTotal: genOnly.ms, generator, tiles: withMap.tiles, reason: withMap.reason };
}
