// Runtime for the SIMD WebAssembly kernels (native/kernels.c): one shared WebAssembly.Memory, one
// instance on the calling thread plus one per worker thread, a block allocator for tensors and per-call buffers,
// and a dispatcher that runs one task on all threads (chunks are handed out by an atomic counter
// inside the wasm code, so a busy core simply takes fewer chunks).
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { kernelWasmBytes } from './wasm-bytes';

/** Which build of kernels.c runs: 'relaxed-simd' (one fused multiply-add per step of the
 * micro-kernels) when this Node's WebAssembly accepts relaxed SIMD, else 'simd128'. */
export type KernelVariant = 'relaxed-simd' | 'simd128';

/**
 * Picks the kernel build. Relaxed SIMD is standard WebAssembly (Node 22 runs it as is; Node 20's
 * V8 has it behind --experimental-wasm-relaxed-simd, which this process turns on for itself).
 * FLAWSCOPE_KERNELS=simd128 forces the plain build (benchmarks, bisecting).
 */
export function chooseKernelVariant(): { variant: KernelVariant; bytes: Uint8Array<ArrayBuffer> } {
  const plain = () => ({ variant: 'simd128' as const, bytes: kernelWasmBytes('kernels.wasm') });
  const forced = process.env.FLAWSCOPE_KERNELS;
  if (forced && forced !== 'simd128' && forced !== 'relaxed-simd') throw new Error(`FLAWSCOPE_KERNELS=${forced}: use simd128 or relaxed-simd`);
  if (forced === 'simd128') return plain();
  const relaxed = kernelWasmBytes('kernels-relaxed.wasm');
  if (!WebAssembly.validate(relaxed)) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      /* flag unknown to this V8 */
    }
  }
  if (WebAssembly.validate(relaxed)) return { variant: 'relaxed-simd', bytes: relaxed };
  if (forced === 'relaxed-simd') throw new Error('FLAWSCOPE_KERNELS=relaxed-simd, but this Node cannot run relaxed SIMD WebAssembly');
  return plain();
}

// Task block word offsets; must match the enum in native/kernels.c.
export const T = {
  OP: 0, NEXT: 1, NCHUNKS: 2,
  N: 3, H: 4, W: 5, CI: 6, OH: 7, OW: 8, CO: 9, KH: 10, KW: 11, SH: 12, SW: 13, PT: 14, PL: 15,
  X: 16, WP: 17, BIAS: 18, Y: 19, SCRATCH: 20, SCRATCH_FLOATS: 21, ACT: 22, ALPHA: 23, MC: 24,
  PARTIAL: 25, NTHREADS: 26, DY: 27, ALPHA64: 28,
  WORDS: 32,
} as const;
export const OP = { CONV: 1, BP_INPUT: 2, BP_FILTER: 3, EW: 4, REDUCE: 5, COPY_ROWS: 6 } as const;
export const EW = {
  LEAKY: 1, LEAKY_GRAD: 2, RELU_GRAD: 3, ABS_GRAD: 4, RELU: 5, ADD: 6, ADD_TAIL: 7, MUL: 8,
  SUB: 9, DIV_S: 10, MUL_S: 11, NEG: 12, ABS: 13, SQUARE: 14, SQRT: 15, TANH: 16, TANH_GRAD: 17,
} as const;
/** Element-wise ops and reductions on at least this many elements run in wasm (a JS loop is
 * several times slower per element than the SIMD one; below this the call overhead wins)... */
export const EW_MIN = 4096;
/** ...and on all threads from this many. */
export const EW_THREADS_MIN = 65536;
/** The most wasm memory the kernels can address: 4 GiB (kernels.c is linked for it). */
const MAX_PAGES = 65536;
/** Partial sums per row of a whole-tensor reduction. */
const REDUCE_SLOTS = 8;
export const ACT = { linear: 0, relu: 1, leakyrelu: 2, relu6: 3 } as const;
/** Floats of per-thread scratch before the gathered rows: MAX_MC row pointers + a 32-float tile. */
export const MAX_MC = 512;
export const SCRATCH_HDR = MAX_MC + 32;

interface KernelExports {
  run_task(task: number, tid: number): void;
  pack_b(b: number, k: number, n: number, out: number): void;
  reduce_parts(parts: number, nparts: number, len: number, out: number): void;
  __heap_base: WebAssembly.Global;
}

// Control words (Int32 index within the control block).
const C_GEN = 0, C_DONE = 1, C_TASK = 2, C_EXIT = 3;
const WORKER_SPIN = 20000; // polls before a worker sleeps (keeps back-to-back kernels cheap)

const WORKER_SRC = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, ctl, tid, spin } = workerData;
const inst = new WebAssembly.Instance(module, { env: { memory } });
const run = inst.exports.run_task;
const c = new Int32Array(memory.buffer, ctl, 16);
let gen = Atomics.load(c, ${C_GEN});
parentPort.postMessage('ready');
for (;;) {
  let n = 0;
  while (Atomics.load(c, ${C_GEN}) === gen) {
    if (++n > spin) { Atomics.wait(c, ${C_GEN}, gen); n = 0; }
  }
  gen = Atomics.load(c, ${C_GEN});
  if (Atomics.load(c, ${C_EXIT})) break;
  run(Atomics.load(c, ${C_TASK}), tid);
  Atomics.add(c, ${C_DONE}, 1);
  Atomics.notify(c, ${C_DONE});
}
`;

export class WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  readonly threads: number;
  private workers: Worker[] = [];
  private ctl: Int32Array;
  private ctlPtr: number;
  readonly taskPtr: number;
  /** Bump pointer: the end of all blocks handed out so far (blocks are reused, never returned). */
  private top: number;
  /** Free blocks by size in bytes (a multiple of 64). Training repeats the same shapes every
   * step, so exact-size reuse finds a block nearly always. */
  private freeBlocks = new Map<number, number[]>();
  /** Live blocks: address -> size in bytes. */
  private blockSize = new Map<number, number>();
  /** Blocks of the kernel call in progress (0 = handed to a tensor), freed by release(). */
  private scratch: number[] = [];
  /** Result views handed to tensors: view -> block address. */
  private owned = new WeakMap<Float32Array, number>();
  /** Result views not yet stored by the backend (see claim()). */
  private unclaimed = new WeakSet<Float32Array>();
  private f32view: Float32Array;
  private i32view: Int32Array;
  /** Kernel runs so far: on the calling thread only / on all threads; conv = conv kernels (any). */
  stats = { single: 0, parallel: 0, conv: 0 };
  /** Sum of MACs below which a kernel runs on the calling thread only. */
  parallelThreshold = 150_000;

  private constructor(memory: WebAssembly.Memory, instance: WebAssembly.Instance, threads: number) {
    this.memory = memory;
    this.exports = instance.exports as unknown as KernelExports;
    this.threads = threads;
    const heapBase = Number(this.exports.__heap_base.value);
    this.ctlPtr = align(heapBase, 64);
    this.taskPtr = this.ctlPtr + 64;
    this.top = align(this.taskPtr + T.WORDS * 4, 64);
    this.ctl = new Int32Array(memory.buffer, this.ctlPtr, 16);
    this.f32view = new Float32Array(memory.buffer);
    this.i32view = new Int32Array(memory.buffer);
  }

  /** The kernel build in use (see chooseKernelVariant). */
  variant: KernelVariant = 'simd128';

  static async create(threads = Math.min(16, availableParallelism())): Promise<WasmRuntime> {
    const { variant, bytes } = chooseKernelVariant();
    const module = await WebAssembly.compile(bytes);
    const memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared: true });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const rt = new WasmRuntime(memory, instance, Math.max(1, threads));
    rt.variant = variant;
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < rt.threads; tid++) {
      const w = new Worker(WORKER_SRC, {
        eval: true,
        workerData: { module, memory, ctl: rt.ctlPtr, tid, spin: WORKER_SPIN },
      });
      w.unref();
      ready.push(new Promise((res, rej) => {
        w.once('message', () => res());
        w.once('error', rej);
      }));
      rt.workers.push(w);
    }
    await Promise.all(ready);
    return rt;
  }

  /** Current views (refreshed after memory growth). */
  get f32(): Float32Array {
    if (this.f32view.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.f32view;
  }
  get i32(): Int32Array {
    if (this.i32view.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.i32view;
  }
  private refresh(): void {
    this.f32view = new Float32Array(this.memory.buffer);
    this.i32view = new Int32Array(this.memory.buffer);
  }

  // --- memory --------------------------------------------------------------------------------
  // Tensors of the fast backend live in this wasm memory: a kernel's result is a Float32Array
  // view of the block it was computed in (no copy out), and a later kernel reads it where it is
  // (no copy in). The backend frees the block when tfjs disposes the tensor (index.ts).

  private allocBlock(bytes: number): number {
    const size = align(Math.max(bytes, 64), 64);
    const list = this.freeBlocks.get(size);
    let p = list?.pop();
    if (p === undefined) {
      // A free block up to 1.5x too big beats growing the memory (shapes that vary, e.g. scoring
      // images of several sizes, would otherwise each keep their own blocks).
      let best = 0;
      for (const [s, l] of this.freeBlocks) if (l.length > 0 && s > size && s <= size * 1.5 && (best === 0 || s < best)) best = s;
      if (best) return this.freeBlocks.get(best)!.pop()!;
      p = this.top;
      this.top = p + size;
      const need = this.top - this.memory.buffer.byteLength;
      if (need > 0) {
        const have = this.memory.buffer.byteLength / 65536, pages = Math.ceil(need / 65536);
        try {
          if (have + pages > MAX_PAGES) throw new RangeError('over the maximum');
          this.memory.grow(Math.min(pages + 16, MAX_PAGES - have));
        } catch {
          this.top = p;
          const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;
          throw new Error(`fast CPU kernels: out of WebAssembly memory (${mb(p)} of ${mb(MAX_PAGES * 65536)} in use, ${mb(size)} more needed): ` +
            'train or score with a smaller --batch or image size, or use the node backend (@tensorflow/tfjs-node)');
        }
      }
      this.blockSize.set(p, size);
    }
    return p;
  }
  private freeBlock(p: number): void {
    const size = this.blockSize.get(p);
    if (size === undefined) throw new Error(`wasm memory: free of unknown block ${p}`);
    let list = this.freeBlocks.get(size);
    if (!list) this.freeBlocks.set(size, (list = []));
    list.push(p);
  }
  /** Bytes of wasm memory in blocks (live or free). */
  get heapBytes(): number { return this.top; }

  mark(): number { return this.scratch.length; }
  /** Frees the blocks allocated since `mark` (except those handed to tensors by take()). */
  release(mark: number): void {
    while (this.scratch.length > mark) {
      const p = this.scratch.pop()!;
      if (p) this.freeBlock(p);
    }
  }
  /** Allocates `floats` float32 slots (64-byte aligned) until release(); returns the byte address. */
  alloc(floats: number): number {
    const p = this.allocBlock(floats * 4);
    this.scratch.push(p);
    return p;
  }
  /** The address of `src` when it already lives in this memory (a result of take()), else a
   * scratch copy of it. Kernels only read their inputs. */
  put(src: ArrayLike<number>): number {
    const own = src instanceof Float32Array ? this.owned.get(src) : undefined;
    if (own !== undefined) return own;
    const p = this.alloc(src.length);
    this.f32.set(src, p >> 2);
    return p;
  }
  /** Hands the first `n` floats of scratch block `ptr` to the caller as a result view (no copy):
   * it stays allocated until free(view). */
  take(ptr: number, n: number): Float32Array {
    const i = this.scratch.lastIndexOf(ptr);
    if (i < 0) return this.f32.slice(ptr >> 2, (ptr >> 2) + n);
    this.scratch[i] = 0;
    return this.adopt(ptr, n);
  }
  /** A new result view of `n` floats (contents undefined), for kernels written in JS. */
  allocView(n: number): Float32Array {
    return this.adopt(this.allocBlock(n * 4), n);
  }
  private adopt(ptr: number, n: number): Float32Array {
    const v = new Float32Array(this.memory.buffer, ptr, n);
    this.owned.set(v, ptr);
    this.unclaimed.add(v);
    return v;
  }
  /** Called when a tensor stores `v` as its values: true when `v` is a fresh result view, which
   * the tensor now owns. Any other view of this memory (a subarray, or a view some tensor
   * already owns) must be copied by the caller, or it would outlive its block. */
  claim(v: Float32Array): boolean {
    if (!this.unclaimed.has(v)) return false;
    this.unclaimed.delete(v);
    return true;
  }
  owns(v: unknown): v is Float32Array {
    return v instanceof Float32Array && this.owned.has(v);
  }
  /** Frees the block behind a result view (the tensor holding it was disposed). */
  free(v: Float32Array): void {
    const p = this.owned.get(v);
    if (p === undefined) return;
    this.owned.delete(v);
    this.unclaimed.delete(v);
    this.freeBlock(p);
  }

  setTask(fields: Partial<Record<keyof typeof T, number>>): void {
    const i32 = this.i32;
    const base = this.taskPtr >> 2;
    i32.fill(0, base, base + T.WORDS);
    for (const [k, v] of Object.entries(fields)) i32[base + T[k as keyof typeof T]] = v as number;
  }
  setTaskF32(field: keyof typeof T, v: number): void {
    this.f32[(this.taskPtr >> 2) + T[field]] = v;
  }

  /** Element-wise op `kind` (EW) over n elements: a, b (b of length m for ADD_TAIL), alpha. */
  elementwise(kind: number, a: Float32Array, b: Float32Array | null, alpha = 0, m = 0): Float32Array {
    const n = a.length;
    const mark = this.mark();
    try {
      const ap = this.put(a);
      const bp = b ? this.put(b) : 0;
      const op = this.alloc(n);
      let len = 16384;
      if (m > 0) len = Math.ceil(len / m) * m;
      this.setTask({ OP: OP.EW, N: n, CO: m, ACT: kind, X: ap, DY: bp, Y: op, MC: len, NCHUNKS: Math.ceil(n / len) });
      this.setTaskF32('ALPHA', alpha);
      new Float64Array(this.memory.buffer, this.taskPtr + T.ALPHA64 * 4, 1)[0] = alpha;
      this.run(n >= EW_THREADS_MIN ? this.threads : 1);
      return this.take(op, n);
    } finally {
      this.release(mark);
    }
  }

  /** Sum over the middle axis of x [outer, red, inner] -> [outer, inner], each element divided
   * by `scale` first (1 for a sum; the count for a mean), accumulated in double. */
  reduce(x: Float32Array, outer: number, red: number, inner: number, scale: number): Float32Array {
    const mark = this.mark();
    try {
      const xp = this.put(x);
      const n = outer * inner;
      const op = this.alloc(n);
      const nt = x.length >= EW_THREADS_MIN ? this.threads : 1;
      // Few long rows (a whole-tensor sum or mean): fixed slots of each row, summed in slot order
      // here; fixed, not per thread, so the result does not depend on the thread count.
      const slots = inner === 1 && outer < 4 * nt && red >= EW_THREADS_MIN ? REDUCE_SLOTS : 0;
      const acc = this.alloc(Math.max(n, outer * slots) * 2);
      let cb: number, chunks: number;
      if (slots) { cb = Math.ceil(red / slots); chunks = outer * slots; }
      else if (inner === 1) { cb = Math.max(1, Math.ceil(16384 / red)); chunks = Math.ceil(outer / cb); }
      // Blocks of 8 columns sum in registers (kernels.c); other widths in blocks of 2+.
      else { cb = inner % 8 === 0 ? 8 : 2 * Math.max(1, Math.ceil(inner / (this.threads * 4))); chunks = outer * Math.ceil(inner / cb); }
      this.setTask({ OP: OP.REDUCE, N: red, H: outer, CO: inner, X: xp, Y: op, SCRATCH: acc, MC: cb, NCHUNKS: chunks, PARTIAL: slots });
      new Float64Array(this.memory.buffer, this.taskPtr + T.ALPHA64 * 4, 1)[0] = scale;
      this.run(nt);
      if (slots) {
        const parts = new Float64Array(this.memory.buffer, acc, outer * slots);
        const f32 = this.f32;
        for (let o = 0; o < outer; o++) {
          let s = 0;
          for (let k = 0; k < slots; k++) s += parts[o * slots + k]!;
          f32[(op >> 2) + o] = s;
        }
      }
      return this.take(op, n);
    } finally {
      this.release(mark);
    }
  }

  /** dst[dOff + r * dStride + j] = src[sOff + r * sStride + j] for r < rows, j < len; dst must
   * be a result view of this memory (allocView). */
  copyRows(dst: Float32Array, dOff: number, dStride: number, src: Float32Array, sOff: number, sStride: number, rows: number, len: number): void {
    const dp = this.owned.get(dst);
    if (dp === undefined) throw new Error('copyRows: the destination is not in wasm memory');
    const mark = this.mark();
    try {
      const sp = this.put(src);
      const rc = Math.max(1, Math.ceil(16384 / len));
      this.setTask({ OP: OP.COPY_ROWS, N: rows, CO: len, H: dStride, W: sStride, X: sp + sOff * 4, Y: dp + dOff * 4, MC: rc, NCHUNKS: Math.ceil(rows / rc) });
      this.run(rows * len >= EW_THREADS_MIN ? this.threads : 1);
    } finally {
      this.release(mark);
    }
  }

  /** How many threads a task of `macs` multiply-adds should use. */
  threadsFor(macs: number): number {
    return macs < this.parallelThreshold ? 1 : this.threads;
  }

  /** Runs the task block on `nthreads` threads (the calling thread is thread 0). */
  run(nthreads: number): void {
    const base = this.taskPtr >> 2;
    const i32 = this.i32;
    i32[base + T.NEXT] = 0;
    i32[base + T.NTHREADS] = nthreads;
    if (i32[base + T.OP] <= OP.BP_FILTER) this.stats.conv++;
    if (nthreads <= 1 || this.workers.length === 0) {
      this.stats.single++;
      this.exports.run_task(this.taskPtr, 0);
      return;
    }
    this.stats.parallel++;
    // All workers join every dispatch (they may find no chunks left); `nthreads` > 1 means all.
    const c = this.ctl;
    Atomics.store(c, C_DONE, 0);
    Atomics.store(c, C_TASK, this.taskPtr);
    Atomics.add(c, C_GEN, 1);
    Atomics.notify(c, C_GEN);
    this.exports.run_task(this.taskPtr, 0);
    const want = this.workers.length;
    let spins = 0;
    for (;;) {
      const d = Atomics.load(c, C_DONE);
      if (d >= want) break;
      if (++spins > 2000) Atomics.wait(c, C_DONE, d, 1);
    }
  }

  async dispose(): Promise<void> {
    const c = this.ctl;
    Atomics.store(c, C_EXIT, 1);
    Atomics.add(c, C_GEN, 1);
    Atomics.notify(c, C_GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}

function align(p: number, a: number): number {
  return Math.ceil(p / a) * a;
}
