// Conv2D / FusedConv2D / Conv2DBackpropInput / Conv2DBackpropFilter on the WASM SIMD kernels.
// Each call runs on all threads; inputs an earlier kernel computed are read where they lie in the
// shared wasm memory (others are copied in), and the result stays there as the output tensor.
import { backend_util } from '@tensorflow/tfjs-core';
import type { DataType, KernelFunc, NamedAttrMap, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';
import { ACT, MAX_MC, OP, SCRATCH_HDR, type WasmRuntime } from './wasm';

/** What the kernels need from the backend: the cpu backend's data store and tensor factory. */
export interface CpuLikeBackend {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values?: TypedArray): TensorInfo;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: CpuLikeBackend;
  attrs?: NamedAttrMap;
}

export function valuesOf(backend: CpuLikeBackend, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  if (!(v instanceof Float32Array)) throw new Error('fast kernels: expected float32 values');
  return v;
}

/** Output channels up to which conv forward takes kernels.c's dot-product path (its gemm_dot_ptrs handles 4 columns). */
const SMALL_CO = 4;

/** Target floats in one thread's gathered chunk (MC x K): keeps it in L2 next to the weights. */
const CHUNK_FLOATS = 16384;

function chooseMC(M: number, K: number, threads: number): number {
  let mc = Math.floor(CHUNK_FLOATS / Math.max(1, K));
  mc = Math.max(16, Math.min(MAX_MC, mc));
  // Enough chunks for dynamic balancing across threads.
  const perThread = Math.ceil(M / (threads * 4));
  if (threads > 1 && perThread < mc) mc = Math.max(8, perThread);
  return Math.max(4, mc & ~3);
}

function packedFloats(K: number, N: number): number {
  const full = Math.floor(N / 8), r = N % 8;
  return K * (full * 8 + (r === 0 ? 0 : r <= 4 ? 4 : 8));
}

/** Packs row-major B [K x N] (JS array) into 8/4-wide column panels at `dst` (byte address). */
function packInto(rt: WasmRuntime, B: Float32Array, K: number, N: number, dst: number): void {
  const f32 = rt.f32;
  let o = dst >> 2;
  for (let n0 = 0; n0 < N; n0 += 8) {
    const w = N - n0 >= 8 ? 8 : N - n0 <= 4 ? 4 : 8;
    const valid = Math.min(w, N - n0);
    for (let k = 0; k < K; k++) {
      const s = k * N + n0;
      let j = 0;
      for (; j < valid; j++) f32[o + j] = B[s + j];
      for (; j < w; j++) f32[o + j] = 0;
      o += w;
    }
  }
}

type ConvInfo = backend_util.Conv2DInfo;

function geometry(ci: ConvInfo) {
  return {
    N: ci.batchSize, H: ci.inHeight, W: ci.inWidth, CI: ci.inChannels,
    OH: ci.outHeight, OW: ci.outWidth, CO: ci.outChannels,
    KH: ci.filterHeight, KW: ci.filterWidth, SH: ci.strideHeight, SW: ci.strideWidth,
    PT: ci.padInfo.top, PL: ci.padInfo.left,
  };
}

function supported(ci: ConvInfo): boolean {
  return ci.dataFormat === 'channelsLast' && ci.dilationHeight === 1 && ci.dilationWidth === 1 &&
    ci.padInfo.top >= 0 && ci.padInfo.left >= 0;
}

/** y = act(conv(x, filter) + bias); activation one of ACT. */
export function convForward(rt: WasmRuntime, x: Float32Array, filter: Float32Array, ci: ConvInfo,
  bias: Float32Array | null, act: number, alpha: number): Float32Array {
  const g = geometry(ci);
  const K = g.KH * g.KW * g.CI;
  const M = g.N * g.OH * g.OW;
  const nt = rt.threadsFor(M * K * g.CO);
  const MC = chooseMC(M, K, nt);
  const mark = rt.mark();
  try {
    const xp = rt.put(x);
    // Up to 4 output channels: the kernel's dot-product path (kernels.c conv_fwd) takes the
    // weights transposed, [CO x K], and CI zeros for the taps that fall outside the input.
    const dot = g.CO <= SMALL_CO;
    const wp = rt.alloc(dot ? K * g.CO : packedFloats(K, g.CO));
    if (dot) {
      const f32 = rt.f32, o = wp >> 2;
      for (let c = 0; c < g.CO; c++) for (let k = 0; k < K; k++) f32[o + c * K + k] = filter[k * g.CO + c]!;
    } else packInto(rt, filter, K, g.CO, wp);
    const zp = dot ? rt.alloc(g.CI + 4) : 0;
    if (dot) rt.f32.fill(0, zp >> 2, (zp >> 2) + g.CI + 4);
    const bp = bias ? rt.put(bias) : 0;
    const yp = rt.alloc(M * g.CO);
    const scratchFloats = SCRATCH_HDR + MC * K + 16;
    const sp = rt.alloc(scratchFloats * nt);
    rt.setTask({ OP: OP.CONV, NCHUNKS: Math.ceil(M / MC), ...g, X: xp, WP: wp, BIAS: bp, Y: yp,
      SCRATCH: sp, SCRATCH_FLOATS: scratchFloats, ACT: act, MC, DY: zp });
    rt.setTaskF32('ALPHA', alpha);
    rt.run(nt);
    return rt.take(yp, M * g.CO);
  } finally {
    rt.release(mark);
  }
}

/** dx of a conv (= conv2dTranspose forward): dy [N,OH,OW,CO], filter [KH,KW,CI,CO] -> [N,H,W,CI]. */
export function convBackpropInput(rt: WasmRuntime, dy: Float32Array, filter: Float32Array, ci: ConvInfo): Float32Array {
  const g = geometry(ci);
  const mark = rt.mark();
  try {
    const dyp = rt.put(dy);
    const nx = g.N * g.H * g.W * g.CI;
    const dxp = rt.alloc(nx);
    const nph = g.SH * g.SW;
    const table = rt.alloc(nph * 8);
    let maxKs = 0, anyEmpty = false;
    const phases: { ks: number; count: number }[] = [];
    let totalMacs = 0;
    for (let ph = 0; ph < g.SH; ph++) {
      for (let pw = 0; pw < g.SW; pw++) {
        const nkh = ph < g.KH ? Math.ceil((g.KH - ph) / g.SH) : 0;
        const nkw = pw < g.KW ? Math.ceil((g.KW - pw) / g.SW) : 0;
        const ihf = (((ph - g.PT) % g.SH) + g.SH) % g.SH;
        const iwf = (((pw - g.PL) % g.SW) + g.SW) % g.SW;
        const ch = ihf < g.H ? Math.ceil((g.H - ihf) / g.SH) : 0;
        const cw = iwf < g.W ? Math.ceil((g.W - iwf) / g.SW) : 0;
        const ks = nkh * nkw * g.CO;
        const count = ks > 0 ? g.N * ch * cw : 0;
        if (ks === 0 && g.N * ch * cw > 0) anyEmpty = true;
        maxKs = Math.max(maxKs, ks);
        totalMacs += count * ks * g.CI;
        phases.push({ ks, count });
        let wpp = 0;
        if (ks > 0 && count > 0) {
          // Sub-filter for this phase: rows (i, j, co), cols ci.
          const sub = new Float32Array(ks * g.CI);
          for (let i = 0; i < nkh; i++) {
            const kh = ph + i * g.SH;
            for (let j = 0; j < nkw; j++) {
              const kw = pw + j * g.SW;
              for (let co = 0; co < g.CO; co++) {
                const r = ((i * nkw + j) * g.CO + co) * g.CI;
                const f = ((kh * g.KW + kw) * g.CI) * g.CO + co;
                for (let c = 0; c < g.CI; c++) sub[r + c] = filter[f + c * g.CO];
              }
            }
          }
          if (g.CI <= 4) {
            // Small-N kernel (gemm_dot in kernels.c) wants the transpose: CI rows of ks.
            wpp = rt.alloc(ks * g.CI);
            const f32 = rt.f32, o = wpp >> 2;
            for (let c = 0; c < g.CI; c++) for (let k = 0; k < ks; k++) f32[o + c * ks + k] = sub[k * g.CI + c]!;
          } else {
            wpp = rt.alloc(packedFloats(ks, g.CI));
            packInto(rt, sub, ks, g.CI, wpp);
          }
        }
        const p = ph * g.SW + pw;
        const t = rt.i32;
        const o = (table >> 2) + p * 8;
        t[o] = wpp; t[o + 1] = nkh; t[o + 2] = nkw; t[o + 3] = ch; t[o + 4] = cw;
        t[o + 5] = ihf; t[o + 6] = iwf; // [o + 7]: chunk base, set below once MC is known
      }
    }
    const nt = rt.threadsFor(totalMacs);
    const totalRows = phases.reduce((s, p) => s + p.count, 0);
    const MC = chooseMC(totalRows, maxKs, nt);
    const t = rt.i32;
    let chunkBase = 0;
    for (let p = 0; p < nph; p++) {
      t[(table >> 2) + p * 8 + 7] = chunkBase;
      chunkBase += Math.ceil(phases[p]!.count / MC);
    }
    if (anyEmpty) rt.f32.fill(0, dxp >> 2, (dxp >> 2) + nx);
    // CO zeros: the small-N path points taps outside dy at them.
    const zp = rt.alloc(g.CO + 4);
    rt.f32.fill(0, zp >> 2, (zp >> 2) + g.CO + 4);
    const scratchFloats = SCRATCH_HDR + MC * Math.max(4, maxKs) + 16;
    const sp = rt.alloc(scratchFloats * nt);
    rt.setTask({ OP: OP.BP_INPUT, NCHUNKS: chunkBase, ...g, WP: table, DY: dyp, Y: dxp, BIAS: zp,
      SCRATCH: sp, SCRATCH_FLOATS: scratchFloats, MC });
    if (chunkBase > 0) rt.run(nt);
    return rt.take(dxp, nx);
  } finally {
    rt.release(mark);
  }
}

/** Backprop-filter partial sums: enough slots to balance 2–8 threads. */
const BPF_SLOTS = 8;

/** dW of a conv: x [N,H,W,CI], dy [N,OH,OW,CO] -> [KH,KW,CI,CO]. */
export function convBackpropFilter(rt: WasmRuntime, x: Float32Array, dy: Float32Array, ci: ConvInfo): Float32Array {
  const g = geometry(ci);
  const K = g.KH * g.KW * g.CI;
  const M = g.N * g.OH * g.OW;
  const nt = rt.threadsFor(M * K * g.CO);
  const MC = chooseMC(M, K, nt);
  const mark = rt.mark();
  try {
    const xp = rt.put(x);
    const dyp = rt.put(dy);
    const len = K * g.CO;
    // A fixed slot count (not the thread count): dW is bit-identical run to run and machine to
    // machine, which seeded training needs.
    const slots = Math.min(BPF_SLOTS, M);
    const parts = rt.alloc(len * slots + 16);
    const out = rt.alloc(len);
    const scratchFloats = SCRATCH_HDR + MC * K + 16;
    const sp = rt.alloc(scratchFloats * nt);
    rt.setTask({ OP: OP.BP_FILTER, NCHUNKS: slots, ...g, X: xp, DY: dyp,
      SCRATCH: sp, SCRATCH_FLOATS: scratchFloats, MC, PARTIAL: parts });
    rt.run(nt);
    if (slots === 1) return rt.take(parts, len);
    rt.exports.reduce_parts(parts, slots, len, out);
    return rt.take(out, len);
  } finally {
    rt.release(mark);
  }
}

// ---------------------------------------------------------------------------------------------
// tfjs kernel functions.

type Fallbacks = Record<string, KernelFunc>;

export function makeConvKernels(rt: WasmRuntime, stock: Fallbacks): Record<string, KernelFunc> {
  const conv2D: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x!, filter = inputs.filter!;
    const a = attrs as unknown as { strides: [number, number] | number; pad: backend_util.PadInfo['type'] | number | backend_util.ExplicitPadding; dataFormat: 'NHWC' | 'NCHW'; dilations: [number, number] | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const ci = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      a.strides, a.dilations, a.pad as 'same', a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat));
    if (!supported(ci) || x.dtype !== 'float32') return stock.Conv2D!(args);
    const y = convForward(rt, valuesOf(backend, x), valuesOf(backend, filter), ci, null, ACT.linear, 0);
    return backend.makeTensorInfo(ci.outShape, 'float32', y);
  };

  const fusedConv2D: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x!, filter = inputs.filter!, bias = inputs.bias;
    const a = attrs as unknown as { strides: [number, number] | number; pad: 'same' | 'valid' | number; dataFormat: 'NHWC' | 'NCHW'; dilations: [number, number] | number; dimRoundingMode?: 'floor' | 'round' | 'ceil'; activation?: string; leakyreluAlpha?: number };
    const ci = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      a.strides, a.dilations, a.pad, a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat));
    const actName = a.activation ?? 'linear';
    const act = (ACT as Record<string, number>)[actName];
    const biasOk = !bias || (bias.shape.length === 1 && bias.shape[0] === ci.outChannels && bias.dtype === 'float32');
    if (!supported(ci) || act === undefined || !biasOk || x.dtype !== 'float32') return stock.FusedConv2D!(args);
    const y = convForward(rt, valuesOf(backend, x), valuesOf(backend, filter), ci,
      bias ? valuesOf(backend, bias) : null, act, a.leakyreluAlpha ?? 0.2);
    return backend.makeTensorInfo(ci.outShape, 'float32', y);
  };

  const conv2DBackpropInput: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const dy = inputs.dy!, filter = inputs.filter!;
    const a = attrs as unknown as { inputShape: [number, number, number, number]; strides: [number, number] | number; pad: 'same' | 'valid' | number; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const ci = backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number],
      a.strides, 1, a.pad, a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat));
    if (!supported(ci) || dy.dtype !== 'float32') return stock.Conv2DBackpropInput!(args);
    const dx = convBackpropInput(rt, valuesOf(backend, dy), valuesOf(backend, filter), ci);
    return backend.makeTensorInfo(ci.inShape, 'float32', dx);
  };

  const conv2DBackpropFilter: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x!, dy = inputs.dy!;
    const a = attrs as unknown as { filterShape: [number, number, number, number]; strides: [number, number] | number; pad: 'same' | 'valid' | number; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const ci = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape,
      a.strides, 1, a.pad, a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat));
    if (!supported(ci) || x.dtype !== 'float32') return stock.Conv2DBackpropFilter!(args);
    const dw = convBackpropFilter(rt, valuesOf(backend, x), valuesOf(backend, dy), ci);
    return backend.makeTensorInfo(ci.filterShape, 'float32', dw);
  };

  return {
    Conv2D: conv2D,
    FusedConv2D: fusedConv2D,
    Conv2DBackpropInput: conv2DBackpropInput,
    Conv2DBackpropFilter: conv2DBackpropFilter,
  };
}
