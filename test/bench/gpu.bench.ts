// `npm run bench:gpu`: images/s of one whole GAN step (trainer/gan.ts: generator update with the
// six losses + discriminator update, Adam; normal and anomaly steps alternating, as training does)
// on the webgpu backend (tfjs-backend-webgpu through Dawn, scorer/node/webgpu.ts) and on the fast CPU
// kernels, side by side at 32x32x3 batch 64 and 128x128x3 batch 16 and 64; with PyTorch on the
// same GPU when /usr/bin/python3 has torch with CUDA (../shared/bench/torch_ref.py, run on CUDA as
// its default device, each timing point synchronised). Records the adapter, the driver
// (nvidia-smi where present), the CPU and the package versions. Each measurement runs in its own
// child process, rounds alternate between backends (the machine may be shared), medians reported.
//
// Options: --configs 32x64,128x16,128x64  --rounds R (default 2)  --steps N (default 10)
//          --warm N (default 3)  --skip-fast  --no-torch  --json (one JSON line at the end)
//          --swiftshader: run webgpu on Chromium's SwiftShader (a software adapter) to check the
//          script works without a GPU; its figures are labelled and are NOT GPU speed.
// Without --swiftshader a software adapter is refused: only a hardware adapter is measured.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';

// Run from the sources (tsx) or as the bundle of scripts/bundle-bench-gpu.mjs (plain node).
const bundled = !__filename.endsWith('.ts');
const root = bundled ? __dirname : join(__dirname, '..', '..');
// The shared reference sits beside the checkout (../shared) or in the shared workspace; TORCH_REF overrides.
const TORCH_REF = process.env.TORCH_REF ?? [join(__dirname, 'torch_ref.py'), join(root, '..', 'shared', 'bench', 'torch_ref.py'), '/work/shared/bench/torch_ref.py'].find(existsSync) ?? join(root, '..', 'shared', 'bench', 'torch_ref.py');
const PY = '/usr/bin/python3';
const SWIFTSHADER_DIR = '/usr/lib/chromium';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

interface Adapter { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean }
interface ChildResult { img_s: number; ms_step: number; backend: string; adapter?: Adapter; reason: string }

// ------------------------------------------------------------------------------------------
// Child: one backend, one configuration; prints `RESULT {json}`.
async function child(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  const { Gan } = await import('../../trainer/gan');
  const { PAPER_WEIGHTS } = await import('../../trainer/losses');
  const { defaultPatchSpec } = await import('../../scorer/model-format');
  const what = arg('child', 'fast');
  const size = Number(arg('size', '32')), batch = Number(arg('batch', '64')), steps = Number(arg('steps', '10')), warm = Number(arg('warm', '3'));
  let adapter: Adapter | undefined, reason: string;
  if (what === 'webgpu') {
    const { probeWebGpu, startWebGpuBackend, adapterText } = await import('../../scorer/node/webgpu');
    const probe = await probeWebGpu();
    if (!probe.ok) throw new Error(probe.why);
    if (probe.adapter.isFallbackAdapter && !flag('allow-software')) throw new Error(`only a software adapter (${adapterText(probe.adapter)}): not a GPU; pass --swiftshader to run on it anyway`);
    adapter = await startWebGpuBackend();
    reason = adapterText(adapter);
  } else {
    const { installFastKernels } = await import('../../kernels/index');
    const info = await installFastKernels();
    await tf.setBackend(info.backend);
    reason = `${info.threads} threads, WASM ${info.variant}`;
  }
  const gan = new Gan({ shape: { height: size, width: size, channels: 3 }, weights: { ...PAPER_WEIGHTS }, patch: defaultPatchSpec(size), lr: 1e-4, beta1: 0.5, beta2: 0.999, seed: 0 });
  const xn = tf.randomUniform([batch, size, size, 3], -1, 1) as import('@tensorflow/tfjs-core').Tensor4D;
  const xa = tf.randomUniform([batch, size, size, 3], -1, 1) as import('@tensorflow/tfjs-core').Tensor4D;
  // stepAsync reads the losses back, so each step has finished on the device when it resolves.
  for (let i = 0; i < warm; i++) await gan.stepAsync(i % 2 ? xa : xn, i % 2 ? 'anomaly' : 'normal');
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await gan.stepAsync(i % 2 ? xa : xn, i % 2 ? 'anomaly' : 'normal');
  const ms = (performance.now() - t0) / steps;
  const result: ChildResult = { img_s: (batch / ms) * 1000, ms_step: ms, backend: tf.getBackend(), reason, ...(adapter ? { adapter } : {}) };
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0); // Dawn's device keeps the event loop alive
}

// ------------------------------------------------------------------------------------------
// Parent.
function childEnv(): NodeJS.ProcessEnv {
  const bundledLoader = join(__dirname, 'vulkan');
  const systemLoader = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib'].some((d) => existsSync(join(d, 'libvulkan.so.1')));
  if (!flag('swiftshader')) {
    // The bundle's loader (scripts/bundle-bench-gpu.mjs) when the machine has a driver but no loader.
    if (bundled && !systemLoader && existsSync(join(bundledLoader, 'libvulkan.so.1')))
      return { ...process.env, LD_LIBRARY_PATH: [bundledLoader, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
    return process.env;
  }
  const icd = join(SWIFTSHADER_DIR, 'vk_swiftshader_icd.json');
  if (!existsSync(icd)) throw new Error(`--swiftshader: ${icd} not found (apt-get install chromium)`);
  return { ...process.env, VK_ICD_FILENAMES: icd, LD_LIBRARY_PATH: [SWIFTSHADER_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
}

function runChild(args: string[]): ChildResult | { error: string } {
  const extra = flag('swiftshader') ? ['--allow-software'] : [];
  const r = spawnSync(process.execPath, [...(bundled ? [] : ['--import', 'tsx']), __filename, ...args, ...extra], { cwd: root, env: childEnv(), encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) return { error: `${args.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  return JSON.parse(line.slice(7)) as ChildResult;
}

function torchCuda(): { ok: true; device: string } | { ok: false; why: string } {
  if (!existsSync(PY)) return { ok: false, why: `${PY} not found` };
  if (!existsSync(TORCH_REF)) return { ok: false, why: `${TORCH_REF} not found` };
  try {
    const out = execFileSync(PY, ['-c', 'import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out ? { ok: true, device: out } : { ok: false, why: 'torch sees no CUDA device' };
  } catch {
    return { ok: false, why: 'python3 has no torch' };
  }
}

/**
 * torch_ref.py builds everything with torch's defaults and times with time.perf_counter: CUDA as
 * the default device moves it to the GPU, and a synchronising perf_counter makes each timing point
 * wait for the queued kernels (without it the figure would count launches, not work).
 */
function runTorchCuda(size: number, batch: number, steps: number): number | string {
  const code = [
    'import runpy, sys, time, torch',
    "torch.set_default_device('cuda')",
    '_pc = time.perf_counter',
    'time.perf_counter = lambda: (torch.cuda.synchronize(), _pc())[1]',
    `sys.argv = ${JSON.stringify([TORCH_REF, '--size', String(size), '--batch', String(batch), '--steps', String(steps)])}`,
    `sys.path.insert(0, ${JSON.stringify(dirname(TORCH_REF))})`,
    "runpy.run_path(sys.argv[0], run_name='__main__')",
  ].join('\n');
  const r = spawnSync(PY, ['-W', 'ignore', '-c', code], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const m = /train_img_s=([\d.]+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : `torch_ref.py on CUDA failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`;
}

function sh(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 }).trim();
  } catch {
    return null;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : 'n/a');
const version = (pkg: string) => {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version as string;
  } catch {
    return 'not installed';
  }
};

async function parent(): Promise<void> {
  const configs = arg('configs', '32x64,128x16,128x64').split(',').map((c) => c.split('x').map(Number) as [number, number]);
  const rounds = Number(arg('rounds', '2')), steps = arg('steps', '10'), warm = arg('warm', '3');
  const software = flag('swiftshader');
  const torch = flag('no-torch') ? { ok: false as const, why: '--no-torch' } : torchCuda();
  const env = {
    node: process.version, os: `${process.platform} ${release()}`, cpu: `${cpus()[0]?.model ?? '?'} x${cpus().length}`,
    webgpu: version('webgpu'), tfjs: (await import('@tensorflow/tfjs-core')).version_core,
    nvidiaSmi: sh('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']),
    vulkan: sh('vulkaninfo', ['--summary'])?.split('\n').filter((l) => /deviceName|driverInfo|apiVersion/.test(l)).map((l) => l.trim()).join('; ') ?? null,
    torch: torch.ok ? `CUDA ${torch.device}` : `not measured: ${torch.why}`,
  };
  console.log('Flawscope GPU training benchmark: whole GAN step (G + D, six losses, Adam), img/s, medians over alternating rounds');
  for (const [k, v] of Object.entries(env)) console.log(`  ${k}: ${v ?? 'n/a'}`);
  if (software) console.log('  ** --swiftshader: webgpu runs on SwiftShader, a SOFTWARE adapter. These figures check the script; they are NOT GPU speed. **');
  const rows: { config: string; webgpu: number; fast: number; torch: number; adapter?: Adapter; notes: string[] }[] = [];
  for (const [size, batch] of configs) {
    const got: Record<'webgpu' | 'fast', number[]> = { webgpu: [], fast: [] };
    const tr: number[] = [], notes: string[] = [];
    let adapter: Adapter | undefined;
    for (let r = 0; r < rounds; r++) {
      for (const b of ['webgpu', 'fast'] as const) {
        if (b === 'fast' && flag('skip-fast')) continue;
        const res = runChild(['--child', b, '--size', String(size), '--batch', String(batch), '--steps', steps, '--warm', warm]);
        if ('error' in res) { notes.push(`${b}: ${res.error}`); console.log(`  ${size}x${size}x3 b${batch} round ${r + 1}: ${b} FAILED: ${res.error}`); continue; }
        got[b].push(res.img_s);
        adapter ??= res.adapter;
        console.log(`  ${size}x${size}x3 b${batch} round ${r + 1}: ${b.padEnd(6)} ${f1(res.img_s)} img/s (${res.ms_step.toFixed(0)} ms/step; ${res.reason})`);
      }
      if (torch.ok) {
        const t = runTorchCuda(size, batch, Number(steps));
        if (typeof t === 'string') notes.push(t); else tr.push(t);
        console.log(`  ${size}x${size}x3 b${batch} round ${r + 1}: torch  ${typeof t === 'string' ? t : `${f1(t)} img/s (CUDA)`}`);
      }
    }
    rows.push({ config: `${size}x${size}x3 b${batch}`, webgpu: median(got.webgpu), fast: median(got.fast), torch: median(tr), ...(adapter ? { adapter } : {}), notes });
  }
  console.log(`\n| config | webgpu${software ? ' (SwiftShader, software)' : ''} img/s | fast CPU kernels img/s | webgpu / fast | PyTorch CUDA img/s | webgpu / PyTorch |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.config} | ${f1(r.webgpu)} | ${f1(r.fast)} | ${ratio(r.webgpu, r.fast)} | ${f1(r.torch)} | ${ratio(r.webgpu, r.torch)} |`);
  const a = rows.find((r) => r.adapter)?.adapter;
  console.log(`adapter: ${a ? `${a.vendor} ${a.architecture} ${a.device} ${a.description}${a.isFallbackAdapter ? ' (software fallback)' : ''}` : 'none'}`);
  if (flag('json')) console.log(JSON.stringify({ env, software, rounds, steps: Number(steps), rows }));
}

(process.argv.includes('--child') ? child() : parent()).catch((e) => {
  console.error(e);
  process.exit(1);
});
