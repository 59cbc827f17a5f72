// `npm run bench:train`: images/s of one whole GAN step (trainer/gan.ts: generator update with
// the six losses + discriminator update, Adam) at 32x32x3 batch 64 and 128x128x3 batch 16, for
// our fast CPU path ('cpu-fast': WASM SIMD conv kernels on all cores + fast JS element-wise
// kernels), for stock tfjs cpu, and — when /usr/bin/python3 has torch — for the PyTorch
// reference (/work/shared/bench/torch_ref.py, same model, sizes and batch), run alternately
// (ours, torch, ours, torch; medians) because the machine is shared and noisy. Also generator
// inference images/s at batch 256, 32x32x3. Each measurement runs in its own child process so
// peak RSS is per measurement.
//
// Options: --rounds R (default 2), --steps N (ours, default 6), --torch-steps N (default 5),
//          --stock-steps N (default 1; 0 skips stock), --stock-timeout S (default 300: a stock
//          run still going after S seconds is stopped and reported as an upper bound),
//          --sizes 32,128 ('none': inference only), --profile (per-kernel table of our path), --threads T (ours and
//          PyTorch; default: ours all cores, PyTorch 2).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = __dirname;
const root = join(here, '..', '..');
const TORCH_REF = process.env.TORCH_REF ?? join(root, '..', 'shared', 'bench', 'torch_ref.py');
const PY = '/usr/bin/python3';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const CONFIGS: Record<number, number> = { 32: 64, 128: 16 };

interface ChildResult { img_s: number; ms_step: number; rss_mb: number; profile?: { kernel: string; ms: number; calls: number }[] }

// ------------------------------------------------------------------------------------------
// Child mode: one measurement, prints one JSON line.
async function child(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const { installFastKernels, disposeFastKernels } = await import('../../kernels/index');
  const { profileKernels } = await import('../../kernels/profile');
  const { Gan } = await import('../../trainer/gan');
  const { PAPER_WEIGHTS } = await import('../../trainer/losses');
  const { defaultPatchSpec } = await import('../../scorer/model-format');
  const what = arg('child', 'ours');
  const size = Number(arg('size', '32')), batch = Number(arg('batch', '64')), steps = Number(arg('steps', '6'));
  const threads = arg('threads', '');
  if (what === 'stock') await tf.setBackend('cpu');
  else {
    const info = await installFastKernels(threads ? { threads: Number(threads) } : {});
    await tf.setBackend(info.backend);
  }
  const gan = new Gan({ shape: { height: size, width: size, channels: 3 }, weights: { ...PAPER_WEIGHTS }, patch: defaultPatchSpec(size), lr: 1e-4, beta1: 0.5, beta2: 0.999, seed: 0 });
  let result: ChildResult;
  if (what === 'infer') {
    const xb = tf.randomUniform([256, size, size, 3], -1, 1) as import('@tensorflow/tfjs-core').Tensor4D;
    // One batch of 256 (as torch_ref.py does), not predict()'s default sub-batches of 32.
    tf.dispose(gan.generator.predict(xb, { batchSize: 256 }) as import('@tensorflow/tfjs-core').Tensor);
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      const y = gan.generator.predict(xb, { batchSize: 256 }) as import('@tensorflow/tfjs-core').Tensor;
      y.dataSync();
      y.dispose();
    }
    const ms = (performance.now() - t0) / steps;
    result = { img_s: 256 / ms * 1000, ms_step: ms, rss_mb: process.resourceUsage().maxRSS / 1024 };
  } else {
    const xn = tf.randomUniform([batch, size, size, 3], -1, 1) as import('@tensorflow/tfjs-core').Tensor4D;
    const xa = tf.randomUniform([batch, size, size, 3], -1, 1) as import('@tensorflow/tfjs-core').Tensor4D;
    // Same schedule as torch_ref.py: alternate normal / anomaly steps; warm-up first.
    // Stock: no warm-up (one step takes minutes; its one-off costs are negligible next to that).
    const warm = what === 'stock' ? 0 : 2;
    for (let i = 0; i < warm; i++) gan.step(i % 2 ? xa : xn, i % 2 ? 'anomaly' : 'normal');
    const prof = flag('profile') ? profileKernels(tf.getBackend()) : null;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) gan.step(i % 2 ? xa : xn, i % 2 ? 'anomaly' : 'normal');
    const ms = (performance.now() - t0) / steps;
    result = { img_s: batch / ms * 1000, ms_step: ms, rss_mb: process.resourceUsage().maxRSS / 1024 };
    if (prof) {
      result.profile = prof.table().map((r) => ({ kernel: r.kernel, ms: r.ms / steps, calls: r.calls / steps }));
      prof.stop();
    }
  }
  gan.dispose();
  await disposeFastKernels();
  console.log(`RESULT ${JSON.stringify(result)}`);
}

// ------------------------------------------------------------------------------------------
// Parent mode.
function runChild(args: string[], timeoutS = 0): ChildResult | null {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, ...(timeoutS > 0 ? { timeout: timeoutS * 1000 } : {}) });
  if (timeoutS > 0 && r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return null;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`benchmark child ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(line.slice(7)) as ChildResult;
}

function torchAvailable(): boolean {
  if (!existsSync(PY) || !existsSync(TORCH_REF)) return false;
  try {
    execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface TorchResult { train: number; infer: number; rss_mb: number }
function runTorch(size: number, batch: number, steps: number, threads = 2): TorchResult {
  // Peak RSS through resource.getrusage in the same interpreter (torch_ref.py is not ours to edit).
  const code = `import runpy, resource, sys; sys.argv = ${JSON.stringify([TORCH_REF, '--size', String(size), '--batch', String(batch), '--steps', String(steps), '--threads', String(threads)])}; sys.path.insert(0, ${JSON.stringify(dirname(TORCH_REF))}); runpy.run_path(sys.argv[0], run_name='__main__'); print('RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)`;
  const r = spawnSync(PY, ['-W', 'ignore', '-c', code], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const m = /train_img_s=([\d.]+) infer_img_s=([\d.]+)/.exec(r.stdout ?? '');
  const rss = /RSS_KB (\d+)/.exec(r.stdout ?? '');
  if (!m) throw new Error(`torch_ref.py failed (${r.status}): ${r.stderr}`);
  return { train: Number(m[1]), infer: Number(m[2]), rss_mb: rss ? Number(rss[1]) / 1024 : NaN };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

async function parent(): Promise<void> {
  const rounds = Number(arg('rounds', '2'));
  const steps = arg('steps', '6');
  const torchSteps = Number(arg('torch-steps', '5'));
  const stockSteps = Number(arg('stock-steps', '1'));
  const stockTimeout = Number(arg('stock-timeout', '300'));
  const sizes = arg('sizes', '32,128').split(',').filter((x) => x !== 'none').map(Number);
  const threads = arg('threads', '');
  const tArgs = threads ? ['--threads', threads] : [];
  const torch = torchAvailable();
  console.log(`Flawscope training benchmark — whole GAN step (G + D, six losses, Adam); ${rounds} alternating rounds, medians.`);
  console.log(`PyTorch reference: ${torch ? TORCH_REF : 'not available (/usr/bin/python3 -c "import torch" failed)'}`);
  const summary: string[] = [];
  for (const size of sizes) {
    const batch = CONFIGS[size] ?? 16;
    const ours: ChildResult[] = [], tr: TorchResult[] = [];
    for (let r = 0; r < rounds; r++) {
      const o = runChild(['--child', 'ours', '--size', String(size), '--batch', String(batch), '--steps', steps, ...tArgs, ...(flag('profile') && r === 0 ? ['--profile'] : [])])!;
      ours.push(o);
      console.log(`  ${size}x${size}x3 b${batch} round ${r + 1}: ours ${f1(o.img_s)} img/s (${o.ms_step.toFixed(0)} ms/step, peak RSS ${o.rss_mb.toFixed(0)} MB)`);
      if (o.profile) {
        const tot = o.profile.reduce((s, p) => s + p.ms, 0);
        console.log(`    profile (ms/step, kernels sum ${tot.toFixed(0)} of ${o.ms_step.toFixed(0)} ms):`);
        for (const p of o.profile.slice(0, 15)) console.log(`      ${p.kernel.padEnd(22)} ${p.ms.toFixed(1).padStart(8)} ms ${(100 * p.ms / o.ms_step).toFixed(1).padStart(5)}%  ${p.calls} calls`);
      }
      if (torch) {
        const t = runTorch(size, batch, torchSteps, threads ? Number(threads) : 2);
        tr.push(t);
        console.log(`  ${size}x${size}x3 b${batch} round ${r + 1}: torch ${f1(t.train)} img/s (infer ${f1(t.infer)} img/s @b256, peak RSS ${t.rss_mb.toFixed(0)} MB)`);
      }
    }
    const oursMed = median(ours.map((o) => o.img_s));
    const torchMed = torch ? median(tr.map((t) => t.train)) : NaN;
    let stock = NaN, stockBound = '';
    if (stockSteps > 0) {
      const s = runChild(['--child', 'stock', '--size', String(size), '--batch', String(batch), '--steps', String(stockSteps)], stockTimeout);
      if (s) {
        stock = s.img_s;
        console.log(`  ${size}x${size}x3 b${batch}: stock tfjs cpu ${s.img_s.toFixed(2)} img/s (${s.ms_step.toFixed(0)} ms/step, ${stockSteps} step(s), peak RSS ${s.rss_mb.toFixed(0)} MB)`);
      } else {
        // Timed out: an upper bound on stock's speed, hence a lower bound on our ratio.
        stock = (batch * stockSteps) / stockTimeout;
        stockBound = '<';
        console.log(`  ${size}x${size}x3 b${batch}: stock tfjs cpu did not finish ${stockSteps} step(s) in ${stockTimeout} s: < ${stock.toFixed(3)} img/s`);
      }
    }
    const peak = Math.max(...ours.map((o) => o.rss_mb));
    summary.push(`train ${size}x${size}x3 b${batch}: ours ${f1(oursMed)} img/s | torch ${f1(torchMed)} | stock ${stockBound}${stock.toFixed(2)} | ours/torch ${(oursMed / torchMed).toFixed(2)}x | ours/stock ${stockBound ? '>' : ''}${(oursMed / stock).toFixed(1)}x | peak RSS ours ${peak.toFixed(0)} MB${torch ? `, torch ${Math.max(...tr.map((t) => t.rss_mb)).toFixed(0)} MB` : ''}`);
  }
  // Generator inference, batch 256, 32x32x3, alternating with torch_ref.py --size 32 (its
  // infer_img_s is the same measurement; --steps 1 keeps its training part short).
  const inf: number[] = [], tinf: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const o = runChild(['--child', 'infer', '--size', '32', '--steps', '5', ...tArgs])!;
    inf.push(o.img_s);
    console.log(`  inference 32x32x3 b256 round ${r + 1}: ours ${f1(o.img_s)} img/s (peak RSS ${o.rss_mb.toFixed(0)} MB)`);
    if (torch) {
      const t = runTorch(32, 64, 1, threads ? Number(threads) : 2);
      tinf.push(t.infer);
      console.log(`  inference 32x32x3 b256 round ${r + 1}: torch ${f1(t.infer)} img/s`);
    }
  }
  const torchInfer32 = torch ? median(tinf) : NaN;
  summary.push(`infer 32x32x3 b256: ours ${f1(median(inf))} img/s | torch ${f1(torchInfer32)} | ours/torch ${(median(inf) / torchInfer32).toFixed(2)}x`);
  console.log('\nSummary (targets: train >= 1.0x torch at both sizes, inference >= 1.5x):');
  for (const s of summary) console.log(`  ${s}`);
}

(process.argv.includes('--child') ? child() : parent()).catch((e) => {
  console.error(e);
  process.exit(1);
});
