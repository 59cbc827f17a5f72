/**
 * WebGPU in Node (training, and `flawscope score --backend webgpu`), through the optional npm package `webgpu` (Dawn: Vulkan on Linux,
 * Metal on macOS, D3D12 on Windows) and tfjs's WebGPU backend, which has the training kernels.
 * Nothing here is native to Flawscope: when `webgpu` is not installed or finds no adapter, the
 * probe says why and the caller decides (auto skips it, --backend webgpu exits 2).
 */
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const WEBGPU_BACKEND = 'webgpu';

export interface WebGpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (SwiftShader, lavapipe, llvmpipe): correct but far slower than the CPU kernels. */
  isFallbackAdapter: boolean;
}

export type WebGpuProbe = { ok: true; adapter: WebGpuAdapter } | { ok: false; why: string };

// The subset of the WebGPU API used here (the `webgpu` package ships full types, but it is optional:
// the trainer must type-check and run without it).
interface GpuAdapterLike {
  info?: Record<string, unknown>;
  isFallbackAdapter?: boolean;
  features: { has(f: string): boolean };
  limits: Record<string, number>;
  requestDevice(d: unknown): Promise<unknown>;
}
interface GpuLike {
  requestAdapter(o?: unknown): Promise<GpuAdapterLike | null>;
}
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

const requireHere = createRequire(__filename);
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|software/i;

/** Where Linux finds a Vulkan driver; said in every "no adapter" message. */
export const NO_ADAPTER_HINT =
  'WebGPU in Node needs a GPU driver Dawn can use (Linux: the Vulkan loader libvulkan.so.1 and the GPU\'s Vulkan driver; macOS: Metal; Windows: D3D12). ' +
  'To test on the CPU with SwiftShader: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium';

let probed: Promise<{ probe: WebGpuProbe; gpu?: GpuLike; adapter?: GpuAdapterLike }> | null = null;
/** The adapter tfjs's WebGPU backend is registered on (once per process). */
let registeredOn: GpuAdapterLike | null = null;

/**
 * Dawn's Vulkan backend dlopens libvulkan.so.1 and, when it is missing, prints a warning from
 * native code on stderr; every `auto` training on a machine without Vulkan would show it. Looked
 * for first where the dynamic loader would find it: LD_LIBRARY_PATH, the ld.so cache, the usual
 * library folders.
 */
function linuxVulkanLoaderMissing(): string | null {
  if (process.platform !== 'linux') return null;
  const name = 'libvulkan.so.1';
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib'];
  if (dirs.some((d) => existsSync(join(d, name)))) return null;
  try {
    if (readFileSync('/etc/ld.so.cache').includes(name)) return null;
  } catch {
    // no cache: the folders above were the places to look
  }
  return `no Vulkan loader (${name}) on this machine`;
}

/** Likewise, with a loader but no driver manifest Dawn warns "Found no drivers" on stderr. */
function linuxVulkanDriverMissing(): string | null {
  if (process.platform !== 'linux' || process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return null;
  const dataDirs = (process.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const dirs = ['/etc/vulkan/icd.d', ...dataDirs.map((d) => join(d, 'vulkan', 'icd.d'))];
  for (const d of dirs) {
    try {
      if (readdirSync(d).some((f) => f.endsWith('.json'))) return null;
    } catch {
      // not there
    }
  }
  return `no Vulkan driver (no ICD manifest in ${dirs.join(', ')})`;
}

function loadDawn(): DawnModule | string {
  try {
    return requireHere('webgpu') as DawnModule;
  } catch (e) {
    const m = (e as Error)?.message ?? String(e);
    return /Cannot find (module|package)/.test(m) ? 'the optional package "webgpu" is not installed (npm install webgpu)' : `the package "webgpu" failed to load: ${m.split('\n')[0]}`;
  }
}

export function describeAdapter(a: GpuAdapterLike): WebGpuAdapter {
  const info = a.info ?? {};
  const text = (k: string) => String(info[k] ?? '');
  const vendor = text('vendor'), architecture = text('architecture'), device = text('device'), description = text('description');
  const isFallbackAdapter = !!(info.isFallbackAdapter ?? a.isFallbackAdapter) || SOFTWARE_ADAPTER.test(`${vendor} ${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, isFallbackAdapter };
}

export function adapterText(a: WebGpuAdapter): string {
  const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return a.isFallbackAdapter ? `${name}, a software fallback adapter` : name;
}

/** Loads Dawn and asks for a high-performance adapter, once per process. */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probed ??= (async () => {
    const noLoader = linuxVulkanLoaderMissing() ?? linuxVulkanDriverMissing();
    if (noLoader) return { probe: { ok: false, why: noLoader } };
    const dawn = loadDawn();
    if (typeof dawn === 'string') return { probe: { ok: false, why: dawn } };
    let gpu: GpuLike;
    try {
      gpu = dawn.create([]);
    } catch (e) {
      return { probe: { ok: false, why: `Dawn could not start: ${(e as Error).message}` } };
    }
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    if (!adapter) return { probe: { ok: false, why: 'no WebGPU adapter' } };
    // tfjs's WebGPU backend checks navigator.gpu and uses the WebGPU constants (GPUBufferUsage, …).
    Object.assign(globalThis, dawn.globals);
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return { probe: { ok: true, adapter: describeAdapter(adapter) }, gpu, adapter };
  })();
  return probed.then((p) => p.probe);
}

/**
 * Registers tfjs's WebGPU backend on the probed adapter (its own factory registers only when
 * navigator.gpu existed at import time, which in Node it did not) and makes it current.
 */
export async function startWebGpuBackend(): Promise<WebGpuAdapter> {
  const probe = await probeWebGpu();
  if (!probe.ok) throw new Error(probe.why);
  const { adapter } = (await probed)!;
  const a = adapter!;
  // Once per process: removing a backend disposes every tensor on it (a training's weights, when the
  // scorer starts WebGPU after the trainer did).
  if (registeredOn !== a) {
    if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
    registerOn(a);
    registeredOn = a;
  }
  if (!(await tf.setBackend(WEBGPU_BACKEND))) throw new Error('tfjs could not start its WebGPU backend on this adapter');
  await tf.ready();
  return probe.adapter;
}


function registerOn(a: GpuAdapterLike): void {
  tf.registerBackend(WEBGPU_BACKEND, async () => {
    // The same device request as tfjs's own factory: the adapter's limits, not the defaults,
    // so 128x128 batches fit in one storage buffer.
    const limits = a.limits;
    const device = await a.requestDevice({
      requiredFeatures: a.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device as ConstructorParameters<typeof WebGPUBackend>[0], (a.info ?? {}) as unknown as ConstructorParameters<typeof WebGPUBackend>[1]);
  }, 0);
}
