/**
 * Browser side of the photo benchmark (score-photo.ts): bundled with the scorer into one module,
 * so the page times the generator's raw pass on the scorer's own tfjs engine. Each step is its own
 * call, so the Node side can read the browser's CPU time around exactly that step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Scorer } from '../../scorer/index';

const scorers = new Map<string, Scorer>();
const photos = new Map<string, Blob>();

export async function load(key: string, model: string, backend: 'wasm' | 'webgpu', photo: string): Promise<string> {
  const s = await Scorer.load(model, { backend });
  scorers.set(key, s);
  photos.set(key, await (await fetch(photo)).blob());
  return s.backendReason;
}

/** As the static page scores a file (scorer/web/app.ts): decode, score with the defaults (or another tile stride), overlay. */
export async function endToEnd(key: string, stride: number | null): Promise<{ ms: number; tiles: number }> {
  const s = scorers.get(key)!;
  const t = performance.now();
  const bmp = await createImageBitmap(photos.get(key)!);
  const r = await s.score(bmp, stride ? { stride } : {});
  s.overlay(r);
  const ms = performance.now() - t;
  bmp.close();
  return { ms, tiles: r.tiles };
}

/** The generator's forward pass alone over `tiles` random tiles, `batch` at a time (the scorer's batching). */
export async function generatorPass(key: string, tiles: number, batch: number): Promise<number> {
  const s = scorers.get(key)!;
  const { height: H, width: W, channels: C } = s.inputSize;
  let ms = 0;
  for (let left = tiles; left > 0; left -= batch) {
    const x = tf.randomUniform([Math.min(left, batch), H, W, C], -1, 1) as tf.Tensor4D;
    await x.data();
    const t = performance.now();
    const y = s.predict(x);
    await y.data();
    ms += performance.now() - t;
    tf.dispose([x, y]);
  }
  return ms;
}

export function dispose(key: string): void {
  scorers.get(key)?.dispose();
  scorers.delete(key);
}
