// Fast plain-JS kernels for the element-wise, reduction, concat/split and pooling ops of GAN
// training. The stock cpu backend handles any broadcast by converting every flat index to a
// multi-index (tens of ns per element) and its unary/binary ops call a closure per element; here
// each op gets its own generated, monomorphic loop, with fast paths for the shapes training uses
// (same shape, scalar, trailing-vector and leading-block broadcasts). Anything else falls back to
// the stock kernel, so semantics never change: every formula below is the stock one (computed in
// float64, stored as float32, exactly as the stock kernels do).
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { CpuLikeBackend, KernelArgs } from './conv';
import { EW, EW_MIN, type WasmRuntime } from './wasm';

type Stock = (name: string) => KernelFunc;
/** Output storage: wasm memory on the fast backend (the next wasm kernel reads it in place). */
export type Alloc = (n: number) => Float32Array;
export function outputAlloc(rt?: WasmRuntime): Alloc {
  return rt ? (n) => rt.allocView(n) : (n) => new Float32Array(n);
}

function vals(backend: CpuLikeBackend, t: TensorInfo): Float32Array | null {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

type Loop = (o: Float32Array | Uint8Array, a: Float32Array, b: Float32Array, n: number, m: number) => void;

// One generated function per (op, broadcast case): V8 optimises each loop for its op alone.
function gen(body: string): Loop {
  return new Function('o', 'a', 'b', 'n', 'm', `"use strict";\n${body}`) as Loop;
}

function binaryLoops(expr: string) {
  return {
    same: gen(`for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; o[i] = ${expr}; }`),
    scalarB: gen(`const y = b[0]; for (let i = 0; i < n; i++) { const x = a[i]; o[i] = ${expr}; }`),
    scalarA: gen(`const x = a[0]; for (let i = 0; i < n; i++) { const y = b[i]; o[i] = ${expr}; }`),
    // b repeats with period m (b = trailing dims of the output)
    tailB: gen(`for (let i = 0, j = 0; i < n; i++) { const x = a[i], y = b[j]; o[i] = ${expr}; if (++j === m) j = 0; }`),
    tailA: gen(`for (let i = 0, j = 0; i < n; i++) { const x = a[j], y = b[i]; o[i] = ${expr}; if (++j === m) j = 0; }`),
    // b holds one value per block of m consecutive outputs (b = leading dims of the output)
    headB: gen(`for (let i = 0, j = 0; i < n; j++) { const y = b[j]; const e = i + m; for (; i < e; i++) { const x = a[i]; o[i] = ${expr}; } }`),
    headA: gen(`for (let i = 0, j = 0; i < n; j++) { const x = a[j]; const e = i + m; for (; i < e; i++) { const y = b[i]; o[i] = ${expr}; } }`),
  };
}

function stripOnes(shape: number[]): number[] {
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  return shape.slice(i);
}
function stripTrailingOnes(shape: number[]): number[] {
  let e = shape.length;
  while (e > 0 && shape[e - 1] === 1) e--;
  return shape.slice(0, e);
}
function isSuffix(s: number[], of: number[]): boolean {
  if (s.length > of.length) return false;
  for (let i = 0; i < s.length; i++) if (s[s.length - 1 - i] !== of[of.length - 1 - i]) return false;
  return true;
}
/** `small` (rank-aligned with `out`) is out's leading dims followed by ones. */
function isHead(small: number[], out: number[]): number {
  const aligned = [...new Array(out.length - small.length).fill(1), ...small];
  // aligned must equal out on a prefix [0, p) and be 1 after, with the leading alignment ones
  // only where out is 1 as well.
  let p = out.length;
  while (p > 0 && aligned[p - 1] === 1) p--;
  for (let i = 0; i < p; i++) if (aligned[i] !== out[i]) return -1;
  let inner = 1;
  for (let i = p; i < out.length; i++) inner *= out[i]!;
  return inner;
}

/** wasm kinds (EW) for a binary op's broadcast cases: same shape, b a trailing block, b a scalar
 * (scalarA: a a scalar, for commutative ops). */
interface WasmBinary { same?: number; tail?: number; scalarB?: number; scalarA?: number }

function binary(name: string, expr: string, outDtype: 'float32' | 'bool', stock: Stock, rt?: WasmRuntime, w: WasmBinary = {}): KernelFunc {
  const alloc = outputAlloc(rt);
  const L = binaryLoops(expr);
  const fallback = stock(name);
  return (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const a = inputs.a!, b = inputs.b!;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const av = vals(backend, a), bv = vals(backend, b);
    if (!av || !bv) return fallback(args);
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = util.sizeFromShape(outShape);
    const na = av.length, nb = bv.length;
    if (rt && n >= EW_MIN) {
      if (na === n && nb === n && w.same) return backend.makeTensorInfo(outShape, outDtype, rt.elementwise(w.same, av, bv));
      if (na === n && nb === 1 && w.scalarB) return backend.makeTensorInfo(outShape, outDtype, rt.elementwise(w.scalarB, av, null, bv[0]));
      if (nb === n && na === 1 && w.scalarA) return backend.makeTensorInfo(outShape, outDtype, rt.elementwise(w.scalarA, bv, null, av[0]));
      if (na === n && w.tail && nb < n && isSuffix(stripOnes(b.shape), outShape)) return backend.makeTensorInfo(outShape, outDtype, rt.elementwise(w.tail, av, bv, 0, nb));
    }
    const o = outDtype === 'bool' ? new Uint8Array(n) : alloc(n);
    if (na === n && nb === n) L.same(o, av, bv, n, 0);
    else if (nb === 1 && na === n) L.scalarB(o, av, bv, n, 0);
    else if (na === 1 && nb === n) L.scalarA(o, av, bv, n, 0);
    else if (na === n && isSuffix(stripOnes(b.shape), outShape)) L.tailB(o, av, bv, n, nb);
    else if (nb === n && isSuffix(stripOnes(a.shape), outShape)) L.tailA(o, av, bv, n, na);
    else if (na === n && stripTrailingOnes(b.shape).length > 0 && isHead(b.shape, outShape) > 0 && nb * isHead(b.shape, outShape) === n)
      L.headB(o, av, bv, n, isHead(b.shape, outShape));
    else if (nb === n && stripTrailingOnes(a.shape).length > 0 && isHead(a.shape, outShape) > 0 && na * isHead(a.shape, outShape) === n)
      L.headA(o, av, bv, n, isHead(a.shape, outShape));
    else {
      if (o instanceof Float32Array) rt?.free(o);
      return fallback(args);
    }
    return backend.makeTensorInfo(outShape, outDtype, o);
  };
}

type ULoop = (o: Float32Array, a: Float32Array, n: number, alpha: number) => void;

function unary(name: string, expr: string, stock: Stock, alphaAttr?: string, rt?: WasmRuntime, wasmKind?: number): KernelFunc {
  const alloc = outputAlloc(rt);
  // `expr` is an expression of x, or a block (starting with '{') that leaves its result in r.
  const body = expr.startsWith('{') ? `let r = 0.5; ${expr} o[i] = r;` : `o[i] = ${expr};`;
  const loop = new Function('o', 'a', 'n', 'alpha', `"use strict";\nfor (let i = 0; i < n; i++) { const x = a[i]; ${body} }`) as ULoop;
  const fallback = stock(name);
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x!;
    const xv = x.dtype === 'float32' ? vals(backend, x) : null;
    if (!xv) return fallback(args);
    const alpha = alphaAttr ? Number((attrs as Record<string, unknown>)[alphaAttr]) : 0;
    if (rt && wasmKind && xv.length >= EW_MIN) return backend.makeTensorInfo(x.shape, 'float32', rt.elementwise(wasmKind, xv, null, alpha));
    const o = alloc(xv.length);
    loop(o, xv, xv.length, alpha);
    return backend.makeTensorInfo(x.shape, 'float32', o);
  };
}

/** tanh(x) as a block leaving r: clamped to ±9 (|tanh| rounds to 1 in float32 beyond), odd
 * rational p(x)/q(x); |x| < 4e-4 gives x (tanh(x) = x in float32 there); NaN stays NaN. */
export const TANH_BLOCK = `{
  const c = x > 9 ? 9 : x < -9 ? -9 : x, x2 = c * c;
  let p = -2.76076847742355e-16; p = p * x2 + 2.00018790482477e-13; p = p * x2 - 8.60467152213735e-11;
  p = p * x2 + 5.12229709037114e-8; p = p * x2 + 1.48572235717979e-5; p = p * x2 + 6.37261928875436e-4;
  p = p * x2 + 4.89352455891786e-3; p *= c;
  let q = 1.19825839466702e-6; q = q * x2 + 1.18534705686654e-4; q = q * x2 + 2.26843463243900e-3;
  q = q * x2 + 4.89352518554385e-3;
  r = Math.abs(c) < 4e-4 ? c : Math.max(-1, Math.min(1, p / q));
}`;

// --- reductions -------------------------------------------------------------------------------

/** Splits `shape` at the reduced axes: returns [outer, reduce, inner] when the axes are one
 * contiguous run, else null. */
function contiguousAxes(shape: number[], axes: number[]): [number, number, number] | null {
  const s = [...axes].sort((p, q) => p - q);
  for (let i = 1; i < s.length; i++) if (s[i] !== s[i - 1]! + 1) return null;
  const lo = s[0] ?? 0, hi = (s[s.length - 1] ?? -1) + 1;
  let outer = 1, red = 1, inner = 1;
  shape.forEach((d, i) => { if (i < lo) outer *= d; else if (i < hi) red *= d; else inner *= d; });
  return [outer, red, inner];
}

function reduceSum(out: Float32Array, xv: Float32Array, outer: number, red: number, inner: number, scale: number): Float32Array {
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++) {
      let s = 0;
      const e = p + red;
      if (scale === 1) for (; p < e; p++) s += xv[p]!;
      else for (; p < e; p++) s += xv[p]! / scale;
      out[o] = s;
    }
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    let p = o * red * inner;
    for (let r = 0; r < red; r++) {
      if (scale === 1) for (let j = 0; j < inner; j++) acc[j] += xv[p + j]!;
      else for (let j = 0; j < inner; j++) acc[j] += xv[p + j]! / scale;
      p += inner;
    }
    for (let j = 0; j < inner; j++) out[o * inner + j] = acc[j]!;
  }
  return out;
}

function reduction(name: 'Sum' | 'Mean', stock: Stock, alloc: Alloc, rt?: WasmRuntime): KernelFunc {
  const fallback = stock(name);
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x!;
    const xv = x.dtype === 'float32' ? vals(backend, x) : null;
    if (!xv) return fallback(args);
    const a = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(a.axis, x.shape);
    const split = contiguousAxes(x.shape, axes);
    if (!split) return fallback(args);
    const [outer, red, inner] = split;
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = a.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const scale = name === 'Mean' ? red : 1;
    const out = rt && xv.length >= EW_MIN ? rt.reduce(xv, outer, red, inner, scale) : reduceSum(alloc(outer * inner), xv, outer, red, inner, scale);
    return backend.makeTensorInfo(shape, 'float32', out);
  };
}

// --- concat / split / select / addN -------------------------------------------------------------

function copyRows(dst: Float32Array, dOff: number, dStride: number, src: Float32Array, sOff: number, sStride: number, rows: number, len: number): void {
  if (len >= 64) {
    for (let r = 0; r < rows; r++) dst.set(src.subarray(sOff + r * sStride, sOff + r * sStride + len), dOff + r * dStride);
    return;
  }
  for (let r = 0; r < rows; r++) {
    let d = dOff + r * dStride, s = sOff + r * sStride;
    const e = s + len;
    for (; s < e; s++, d++) dst[d] = src[s]!;
  }
}

function concat(stock: Stock, alloc: Alloc, rt?: WasmRuntime): KernelFunc {
  const fallback = stock('Concat');
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const ts = Object.values(inputs) as TensorInfo[];
    if (ts.length === 0 || ts.some((t) => t.dtype !== 'float32')) return fallback(args);
    const axis = util.parseAxisParam((attrs as { axis: number }).axis, ts[0]!.shape)[0]!;
    const shapes = ts.map((t) => t.shape);
    const outShape = backend_util.computeOutShape(shapes, axis);
    const outer = util.sizeFromShape(outShape.slice(0, axis));
    const outRow = util.sizeFromShape(outShape.slice(axis));
    const vs = ts.map((t) => vals(backend, t));
    if (vs.some((v) => !v)) return fallback(args);
    const out = alloc(outer * outRow);
    let col = 0;
    for (const [i, t] of ts.entries()) {
      const v = vs[i]!;
      const len = util.sizeFromShape(t.shape.slice(axis));
      if (len > 0) {
        if (rt && outer * len >= EW_MIN) rt.copyRows(out, col, outRow, v, 0, len, outer, len);
        else copyRows(out, col, outRow, v, 0, len, outer, len);
      }
      col += len;
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

function splitV(stock: Stock, alloc: Alloc, rt?: WasmRuntime): KernelFunc {
  const fallback = stock('SplitV');
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x!;
    const xv = x.dtype === 'float32' ? vals(backend, x) : null;
    if (!xv) return fallback(args) as TensorInfo[];
    const a = attrs as unknown as { numOrSizeSplits: number[] | number; axis: number };
    const axis = util.parseAxisParam(a.axis, x.shape)[0]!;
    const sizes = backend_util.prepareSplitSize(x as never, a.numOrSizeSplits, axis) as number[];
    const outer = util.sizeFromShape(x.shape.slice(0, axis));
    const innerUnit = util.sizeFromShape(x.shape.slice(axis + 1));
    const row = x.shape[axis]! * innerUnit;
    const outs: TensorInfo[] = [];
    let col = 0;
    for (const s of sizes) {
      const len = s * innerUnit;
      const o = alloc(outer * len);
      if (len > 0) {
        if (rt && outer * len >= EW_MIN) rt.copyRows(o, 0, len, xv, col, row, outer, len);
        else copyRows(o, 0, len, xv, col, row, outer, len);
      }
      const shape = x.shape.slice();
      shape[axis] = s;
      outs.push(backend.makeTensorInfo(shape, 'float32', o));
      col += len;
    }
    return outs;
  };
}

function select(stock: Stock, alloc: Alloc): KernelFunc {
  const fallback = stock('Select');
  return (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const c = inputs.condition!, t = inputs.t!, e = inputs.e!;
    const cv = backend.data.get(c.dataId).values;
    const tv = vals(backend, t), ev = vals(backend, e);
    if (!(cv instanceof Uint8Array) || !tv || !ev || t.dtype !== 'float32' || e.dtype !== 'float32' ||
      cv.length !== tv.length || ev.length !== tv.length) return fallback(args);
    const o = alloc(tv.length);
    for (let i = 0; i < o.length; i++) o[i] = cv[i] ? tv[i]! : ev[i]!;
    return backend.makeTensorInfo(t.shape, 'float32', o);
  };
}

function addN(stock: Stock, alloc: Alloc): KernelFunc {
  const fallback = stock('AddN');
  return (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const ts = Object.values(inputs) as TensorInfo[];
    const vs = ts.map((t) => (t.dtype === 'float32' ? vals(backend, t) : null));
    if (ts.length === 0 || vs.some((v) => !v || v.length !== vs[0]!.length)) return fallback(args);
    const n = vs[0]!.length;
    const acc = new Float64Array(n);
    for (const v of vs) for (let i = 0; i < n; i++) acc[i] += v![i]!;
    const out = alloc(n);
    for (let i = 0; i < n; i++) out[i] = acc[i]!;
    return backend.makeTensorInfo(ts[0]!.shape, 'float32', out);
  };
}

// --- average pooling ----------------------------------------------------------------------------

function avgPool(stock: Stock, alloc: Alloc): KernelFunc {
  const fallback = stock('AvgPool');
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x!;
    const xv = x.dtype === 'float32' ? vals(backend, x) : null;
    const a = attrs as unknown as { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    if (!xv) return fallback(args);
    const ci = backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    if (ci.dilationHeight !== 1 || ci.dilationWidth !== 1) return fallback(args);
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = ci;
    const out = alloc(N * OH * OW * C);
    const sum = new Float64Array(C);
    for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * ci.strideHeight - ci.padInfo.top;
      const hs = Math.max(0, h0), he = Math.min(H, h0 + ci.filterHeight);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * ci.strideWidth - ci.padInfo.left;
        const ws = Math.max(0, w0), we = Math.min(W, w0 + ci.filterWidth);
        sum.fill(0);
        for (let h = hs; h < he; h++) {
          let p = ((n * H + h) * W + ws) * C;
          for (let w = ws; w < we; w++) for (let c = 0; c < C; c++) sum[c] += xv[p++]!;
        }
        const count = Math.max(0, he - hs) * Math.max(0, we - ws);
        const o = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) out[o + c] = sum[c]! / count;
      }
    }
    return backend.makeTensorInfo(ci.outShape, 'float32', out);
  };
}

function avgPoolGrad(stock: Stock, alloc: Alloc): KernelFunc {
  const fallback = stock('AvgPoolGrad');
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const dy = inputs.dy!, x = inputs.input!;
    const dyv = dy.dtype === 'float32' ? vals(backend, dy) : null;
    const a = attrs as unknown as { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'same' | 'valid' | number };
    if (!dyv) return fallback(args);
    const ci = backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad);
    if (ci.dilationHeight !== 1 || ci.dilationWidth !== 1) return fallback(args);
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = ci;
    // Stock semantics: every window spreads dy / (filterHeight * filterWidth) over its in-range pixels.
    const mult = 1 / (ci.filterHeight * ci.filterWidth);
    const acc = new Float64Array(N * H * W * C);
    for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * ci.strideHeight - ci.padInfo.top;
      const hs = Math.max(0, h0), he = Math.min(H, h0 + ci.filterHeight);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * ci.strideWidth - ci.padInfo.left;
        const ws = Math.max(0, w0), we = Math.min(W, w0 + ci.filterWidth);
        const d = ((n * OH + oh) * OW + ow) * C;
        for (let h = hs; h < he; h++) {
          let p = ((n * H + h) * W + ws) * C;
          for (let w = ws; w < we; w++) for (let c = 0; c < C; c++) acc[p++] += dyv[d + c]!;
        }
      }
    }
    const out = alloc(acc.length);
    for (let i = 0; i < out.length; i++) out[i] = acc[i]! * mult;
    return backend.makeTensorInfo(x.shape, 'float32', out);
  };
}

/** `rt`: big element-wise ops run in wasm on all threads (same float32 results). */
export function makeElementwiseKernels(stock: Stock, rt?: WasmRuntime): Record<string, KernelFunc> {
  const alloc = outputAlloc(rt);
  return {
    Add: binary('Add', 'x + y', 'float32', stock, rt, { same: EW.ADD, tail: EW.ADD_TAIL }),
    Sub: binary('Sub', 'x - y', 'float32', stock, rt, { same: EW.SUB }),
    Multiply: binary('Multiply', 'x * y', 'float32', stock, rt, { same: EW.MUL, scalarB: EW.MUL_S, scalarA: EW.MUL_S }),
    RealDiv: binary('RealDiv', 'x / y', 'float32', stock, rt, { scalarB: EW.DIV_S }),
    Maximum: binary('Maximum', 'Math.max(x, y)', 'float32', stock),
    Minimum: binary('Minimum', 'Math.min(x, y)', 'float32', stock),
    SquaredDifference: binary('SquaredDifference', '(x - y) * (x - y)', 'float32', stock),
    Greater: binary('Greater', 'x > y ? 1 : 0', 'bool', stock),
    GreaterEqual: binary('GreaterEqual', 'x >= y ? 1 : 0', 'bool', stock),
    Less: binary('Less', 'x < y ? 1 : 0', 'bool', stock),
    LessEqual: binary('LessEqual', 'x <= y ? 1 : 0', 'bool', stock),
    Relu: unary('Relu', 'Math.max(0, x)', stock, undefined, rt, EW.RELU),
    LeakyRelu: unary('LeakyRelu', 'x < 0 ? alpha * x : x', stock, 'alpha', rt, EW.LEAKY),
    Step: unary('Step', 'x !== x ? NaN : (x > 0 ? 1 : alpha)', stock, 'alpha'),
    // Math.tanh costs ~30 ns an element (5 ms for one 64x32x32x3 generator output); this rational
    // approximation (13/6, the form Eigen uses for float32) takes 2.2 ms there, within 6e-8 of tanh.
    Tanh: unary('Tanh', TANH_BLOCK, stock, undefined, rt, EW.TANH),
    Abs: unary('Abs', 'Math.abs(x)', stock, undefined, rt, EW.ABS),
    Neg: unary('Neg', '-x', stock, undefined, rt, EW.NEG),
    Sqrt: unary('Sqrt', 'Math.sqrt(x)', stock, undefined, rt, EW.SQRT),
    Square: unary('Square', 'x * x', stock, undefined, rt, EW.SQUARE),
    Exp: unary('Exp', 'Math.exp(x)', stock),
    Log: unary('Log', 'Math.log(x)', stock),
    Sign: unary('Sign', 'x < 0 ? -1 : (x > 0 ? 1 : 0)', stock),
    Sum: reduction('Sum', stock, alloc, rt),
    Mean: reduction('Mean', stock, alloc, rt),
    Concat: concat(stock, alloc, rt),
    SplitV: splitV(stock, alloc, rt),
    Select: select(stock, alloc),
    AddN: addN(stock, alloc),
    AvgPool: avgPool(stock, alloc),
    AvgPoolGrad: avgPoolGrad(stock, alloc),
  };
}
