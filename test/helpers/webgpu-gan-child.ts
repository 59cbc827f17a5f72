/**
 * Child process of test/integration/webgpu-backend.test.ts (Dawn needs its Vulkan variables at
 * process start). Modes, each printing one JSON line:
 *   parity SIZE CHANNELS BATCH GROUPS  a few whole GAN steps (trainer/gan.ts) from the same seed and
 *        data on the webgpu backend and on the fast CPU kernels; per weight tensor the largest
 *        difference, the tensor's scale and how far training moved it; the losses of each step.
 *   auto  what selectTrainingBackend('auto') picks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { installFastKernels, disposeFastKernels } from '../../kernels/index';
import { Gan, type Group } from '../../trainer/gan';
import { PAPER_WEIGHTS } from '../../trainer/losses';
import { defaultPatchSpec } from '../../scorer/model-format';
import { selectTrainingBackend } from '../../trainer/backend';
import { startWebGpuBackend } from '../../scorer/node/webgpu';

function batch(n: number, size: number, c: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n * size * size * c);
  for (let i = 0; i < a.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

async function run(backend: string, size: number, c: 1 | 3, n: number, groups: Group[]) {
  await tf.setBackend(backend);
  const gan = new Gan({ shape: { height: size, width: size, channels: c }, weights: { ...PAPER_WEIGHTS }, patch: defaultPatchSpec(size), lr: 1e-3, beta1: 0.5, beta2: 0.999, seed: 3 });
  const all = () => Promise.all([gan.generator, gan.dNormal, gan.dAnomaly].flatMap((m) => m.weights.map(async (w) => (await w.read().data()) as Float32Array)));
  const initial = await all();
  const xn = tf.tensor4d(batch(n, size, c, 1), [n, size, size, c]);
  const xa = tf.tensor4d(batch(n, size, c, 2), [n, size, size, c]);
  const losses = [];
  for (const g of groups) losses.push(await gan.stepAsync(g === 'normal' ? xn : xa, g));
  const final = await all();
  tf.dispose([xn, xa]);
  gan.dispose();
  return { losses, initial, final };
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'auto') {
    const choice = await selectTrainingBackend('auto');
    process.stdout.write(JSON.stringify(choice) + '\n');
    return;
  }
  const [size, c, n, groups] = [Number(rest[0]), Number(rest[1]) as 1 | 3, Number(rest[2]), rest[3]!.split(',') as Group[]];
  const adapter = await startWebGpuBackend();
  const gpu = await run('webgpu', size, c, n, groups);
  const fast = (await installFastKernels({ threads: 2 })).backend;
  const cpu = await run(fast, size, c, n, groups);
  await disposeFastKernels();
  const tensors = cpu.final.map((s, i) => {
    const g = gpu.final[i]!;
    let scale = 1, diff = 0, moved = 0, sameStart = true;
    for (let j = 0; j < s.length; j++) {
      scale = Math.max(scale, Math.abs(s[j]!));
      diff = Math.max(diff, Math.abs(g[j]! - s[j]!));
      moved = Math.max(moved, Math.abs(s[j]! - cpu.initial[i]![j]!));
      if (gpu.initial[i]![j] !== cpu.initial[i]![j]) sameStart = false;
    }
    return { diff, scale, moved, sameStart };
  });
  process.stdout.write(JSON.stringify({ adapter, backends: ['webgpu', fast], tensors, losses: { webgpu: gpu.losses, cpu: cpu.losses } }) + '\n');
}

main().then(
  () => process.exit(0), // Dawn's device keeps the event loop alive
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
