/**
 * Backend choice: WebGPU only for a hardware adapter (a software fallback such as SwiftShader is
 * 15–30x slower than WASM, so it counts as "no GPU" unless WebGPU is forced), else WASM (SIMD;
 * threads only when the page is cross-origin isolated), else cpu. Every start-up has a timeout.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { ScorerError, errorText, withTimeout } from './errors';
import { installWasmKernels } from './wasm-kernels';

export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'cpu' | 'fast';
export type BackendName = 'webgpu' | 'wasm' | 'cpu' | 'fast';

export interface BackendOptions {
  /** URL prefix (ending in '/') of the folder holding the tfjs .wasm files. Default: beside this bundle (browser); the package's own folder (Node). */
  wasmPaths?: string;
  /** Allow the multi-threaded WASM build when the page is cross-origin isolated (default true). */
  wasmThreads?: boolean;
  /** Time allowed for one backend to start (default 15 s). */
  backendTimeoutMs?: number;
  /**
   * 'fast': a host-provided backend (the Node adapter offers the trainer's multi-threaded WASM
   * SIMD kernels). Activates it and returns the reason to report. Absent in the browser.
   */
  fastBackend?: () => Promise<string>;
}

export interface BackendResult {
  backend: BackendName;
  reason: string;
  /** Adapter description when WebGPU was probed. */
  adapter?: { vendor: string; architecture: string; isFallbackAdapter: boolean };
}

const isNode = typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;

let wasmPathsSet: string | undefined;

function configureWasm(opts: BackendOptions): void {
  if (opts.wasmThreads === false || (typeof crossOriginIsolated !== 'undefined' && !crossOriginIsolated))
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  let prefix = opts.wasmPaths;
  if (prefix === undefined && !isNode) {
    try {
      prefix = new URL('./', import.meta.url).href;
    } catch {
      prefix = undefined;
    }
  }
  if (prefix !== undefined && !prefix.endsWith('/')) prefix += '/';
  if (prefix !== undefined && prefix !== wasmPathsSet) {
    try {
      setWasmPaths(prefix);
      wasmPathsSet = prefix;
    } catch {
      // Already initialised with earlier paths: keep those.
    }
  }
}

type Adapter = NonNullable<BackendResult['adapter']>;

async function probeAdapter(timeoutMs: number): Promise<Adapter | null | 'none'> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(o?: unknown): Promise<any> } } }).navigator?.gpu;
  if (!gpu) return 'none';
  const a = await withTimeout(gpu.requestAdapter({ powerPreference: 'high-performance' }), timeoutMs, 'WebGPU requestAdapter').catch(() => null);
  if (!a) return null;
  const info = a.info ?? {};
  const vendor = String(info.vendor ?? ''), architecture = String(info.architecture ?? '');
  const isFallbackAdapter = !!(info.isFallbackAdapter ?? a.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe/i.test(`${vendor} ${architecture} ${info.description ?? ''}`);
  return { vendor, architecture, isFallbackAdapter };
}

async function trySet(name: BackendName, ms: number): Promise<string | null> {
  if (!tf.findBackendFactory(name)) return `${name} backend is not registered in this environment`;
  try {
    const ok = await withTimeout(tf.setBackend(name), ms, `starting the ${name} backend`);
    if (!ok || tf.getBackend() !== name) return `${name} backend failed to start`;
    return null;
  } catch (e) {
    return `${name} backend failed to start: ${errorText(e)}`;
  }
}

let pending: Promise<unknown> = Promise.resolve();

/** Activates a tfjs backend (tfjs has one global backend). Throws ScorerError('BACKEND') when a forced backend is unavailable.
 * Calls are serialised: two concurrent tf.setBackend() calls make all but the last fail. */
export function selectBackend(choice: BackendChoice = 'auto', opts: BackendOptions = {}): Promise<BackendResult> {
  const run = pending.then(() => selectBackendNow(choice, opts));
  pending = run.catch(() => undefined);
  return run;
}

async function selectBackendNow(choice: BackendChoice, opts: BackendOptions): Promise<BackendResult> {
  const ms = opts.backendTimeoutMs ?? 15000;
  if (!['auto', 'webgpu', 'wasm', 'cpu', 'fast'].includes(choice))
    throw new ScorerError('BACKEND', `unknown backend "${choice}" (use auto, webgpu, wasm, cpu or fast)`);
  const notes: string[] = [];
  if (choice === 'fast') {
    if (!opts.fastBackend) throw new ScorerError('BACKEND', 'the fast backend exists only in Node (flawscope score); use auto, webgpu, wasm or cpu here');
    try {
      return { backend: 'fast', reason: await withTimeout(opts.fastBackend(), ms, 'starting the fast backend') };
    } catch (e) {
      throw new ScorerError('BACKEND', `the fast backend could not start: ${errorText(e)}`);
    }
  }

  if (choice === 'webgpu' || choice === 'auto') {
    const ad = await probeAdapter(Math.min(ms, 5000));
    if (ad === 'none') notes.push('no WebGPU (navigator.gpu missing)');
    else if (ad === null) notes.push('WebGPU present but no adapter');
    else if (ad.isFallbackAdapter && choice === 'auto')
      notes.push(`WebGPU adapter is a software fallback (${ad.vendor} ${ad.architecture}), slower than WASM`);
    else {
      const err = await trySet('webgpu', ms);
      if (!err) {
        const how = ad.isFallbackAdapter ? `forced onto a software fallback adapter (${ad.vendor} ${ad.architecture})` : `hardware adapter (${ad.vendor} ${ad.architecture})`;
        return { backend: 'webgpu', reason: `WebGPU: ${how}`, adapter: ad };
      }
      notes.push(err);
    }
    if (choice === 'webgpu') throw new ScorerError('BACKEND', `WebGPU was requested but is unavailable: ${notes.join('; ')}`);
  }

  if (choice === 'wasm' || choice === 'auto') {
    configureWasm(opts);
    const err = await trySet('wasm', ms);
    if (!err) {
      installWasmKernels();
      const simd = await Promise.resolve(tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')).catch(() => false);
      const threads = await Promise.resolve(tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')).catch(() => false);
      const why = choice === 'wasm' ? 'requested' : notes.join('; ');
      return { backend: 'wasm', reason: `WASM (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : 'single thread'}): ${why}` };
    }
    notes.push(err);
    if (choice === 'wasm') throw new ScorerError('BACKEND', `WASM was requested but is unavailable: ${err}`);
  }

  const err = await trySet('cpu', ms);
  if (err) throw new ScorerError('BACKEND', `no backend could start: ${[...notes, err].join('; ')}`);
  return { backend: 'cpu', reason: choice === 'cpu' ? 'cpu: requested' : `cpu (plain JS, slowest): ${notes.join('; ')}` };
}
