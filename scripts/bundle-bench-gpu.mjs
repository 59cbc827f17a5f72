// `npm run bench:gpu:bundle`: `npm run bench:gpu` as one folder for a GPU machine with Node 20+ but
// no network and no node_modules (a lent machine takes a folder of tens of MB, not `npm ci`):
// dist/bench-gpu/gpu.bench.js (tfjs, the kernels and the trainer bundled in), the Linux x64 Dawn
// of the `webgpu` package (about 21 MB) and the PyTorch reference when it is beside the checkout.
// Run there: node dist/bench-gpu/gpu.bench.js --rounds 3
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bench-gpu');
rmSync(out, { recursive: true, force: true });
await esbuild.build({
  entryPoints: [join(root, 'test/bench/gpu.bench.ts')], outfile: join(out, 'gpu.bench.js'), bundle: true, platform: 'node', format: 'cjs',
  target: 'node20', external: ['webgpu', 'sharp', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'], logLevel: 'warning',
});
const dawn = join(root, 'node_modules', 'webgpu');
const dawnOut = join(out, 'node_modules', 'webgpu');
mkdirSync(join(dawnOut, 'dist'), { recursive: true });
for (const f of ['package.json', 'index.js', 'LICENSE.md']) cpSync(join(dawn, f), join(dawnOut, f));
cpSync(join(dawn, 'dist', 'linux-x64'), join(dawnOut, 'dist', 'linux-x64'), { recursive: true });
// The Khronos Vulkan loader, for a GPU machine whose driver is installed without it (libvulkan1):
// Chromium ships one. The bench puts it on LD_LIBRARY_PATH only when the system has none.
const loader = '/usr/lib/chromium/libvulkan.so.1';
if (existsSync(loader)) { mkdirSync(join(out, 'vulkan')); cpSync(loader, join(out, 'vulkan', 'libvulkan.so.1')); }
const torchRef = [join(root, '..', 'shared', 'bench', 'torch_ref.py'), '/work/shared/bench/torch_ref.py'].find(existsSync);
if (torchRef) cpSync(torchRef, join(out, 'torch_ref.py'));
console.log(`${out}: node ${join('dist', 'bench-gpu', 'gpu.bench.js')} --rounds 3${torchRef ? '' : ' (no torch_ref.py found: PyTorch not measured)'}`);
