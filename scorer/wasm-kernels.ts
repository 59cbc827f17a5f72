/**
 * Two kernels of tfjs-backend-wasm replaced where the scorer's networks spend most of their time
 * on it (measured with `npm run bench:score -- --only-photo`, docs/results "Scoring cost"):
 *
 * - Conv2DBackpropInput (every Conv2DTranspose layer: the generator's and the defect map's
 *   decoders). The stock kernel is a plain loop, about 7x slower per multiply-add than the
 *   XNNPACK Conv2D beside it. For the shape both networks use (stride 2, a 4x4 kernel, 'same'
 *   padding) it runs here as four 2x2 Conv2Ds over the input, one per output phase (row and
 *   column parity), whose outputs are interleaved: the same products summed in another order
 *   (float32 rounding apart, the same result) and the same multiply-adds, at XNNPACK speed.
 *   (One 3x3 Conv2D with 4x the channels and a DepthToSpace does it in two calls, for 9/4 of the
 *   multiply-adds: measured slower.) Every other shape keeps the stock kernel.
 * - Concat along a short innermost axis (the defect map's x | r | |x-r| input and its U-Net skips):
 *   the stock kernel copies one `subarray` per row, ~100 ns a row; a plain loop copies the same
 *   values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendLike {
  readSync(dataId: object): unknown;
  write(values: Float32Array, shape: number[], dtype: 'float32'): object;
  disposeData(dataId: object): boolean;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

const BACKEND = 'wasm';
/** Rows at least this long are copied faster by the stock kernel's `set` per row. */
const SHORT_ROW = 64;

let installed = false;

function stockConfig(name: string): KernelConfig {
  const k = tf.getKernel(name, BACKEND);
  if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
  return k;
}

function replace(stock: KernelConfig, kernelFunc: KernelFunc): void {
  tf.unregisterKernel(stock.kernelName, BACKEND);
  // The stock setupFunc stays: the fallback calls the stock kernelFunc, which needs it.
  tf.registerKernel({ ...stock, kernelFunc });
}

/**
 * The 2x2 filter [2, 2, D, C] of output phase (a, b) of a 4x4 stride-2 transposed filter
 * [4, 4, C, D] with one row and column of 'same' padding: output row 2m + a takes dy rows
 * m - 1 + a + i (i = 0, 1) through kernel row kh = 3 - a - 2i (the transposed conv's row
 * (2m + a + 1 - kh) / 2), and likewise for columns.
 */
export function phaseFilter(f: Float32Array, C: number, D: number, a: number, b: number): Float32Array {
  const g = new Float32Array(4 * D * C);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
    const kh = 3 - a - 2 * i, kw = 3 - b - 2 * j;
    for (let c = 0; c < C; c++) {
      const src = ((kh * 4 + kw) * C + c) * D;
      const dst = (i * 2 + j) * D * C + c;
      for (let d = 0; d < D; d++) g[dst + d * C] = f[src + d];
    }
  }
  return g;
}

function conv2dTransposeKernel(): KernelFunc {
  const stock = stockConfig('Conv2DBackpropInput');
  const conv = stockConfig('Conv2D').kernelFunc;
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as unknown as WasmBackendLike;
    const dy = inputs.dy as TensorInfo, filter = inputs.filter as TensorInfo;
    const at = attrs as unknown as { inputShape: [number, number, number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const ci = backend_util.computeConv2DInfo(at.inputShape, filter.shape as [number, number, number, number], at.strides, 1, at.pad, at.dimRoundingMode, false, backend_util.convertConv2DDataFormat(at.dataFormat));
    const phases = ci.dataFormat === 'channelsLast' && dy.dtype === 'float32' && filter.dtype === 'float32' &&
      ci.strideHeight === 2 && ci.strideWidth === 2 && ci.filterHeight === 4 && ci.filterWidth === 4 &&
      ci.padInfo.top === 1 && ci.padInfo.left === 1 && ci.inHeight === 2 * ci.outHeight && ci.inWidth === 2 * ci.outWidth;
    if (!phases) return stock.kernelFunc(args);
    const { batchSize: N, outHeight: h, outWidth: w, inChannels: C, outChannels: D } = ci;
    const f = backend.readSync(filter.dataId) as Float32Array;
    const made: object[] = [];
    try {
      const parts: TensorInfo[] = [];
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
        const gShape = [2, 2, D, C];
        const g: TensorInfo = { dataId: backend.write(phaseFilter(f, C, D, a, b), gShape, 'float32'), shape: gShape, dtype: 'float32' };
        made.push(g.dataId);
        // Phase a reads dy rows m - 1 + a and m + a: one row of zeros above (a = 0) or below (a = 1).
        const pad = [[0, 0], [1 - a, a], [1 - b, b], [0, 0]];
        const y = conv({ inputs: { x: dy, filter: g }, backend: args.backend, attrs: { strides: 1, pad, dataFormat: 'NHWC', dilations: 1 } }) as TensorInfo;
        made.push(y.dataId);
        parts.push(y);
      }
      const out = backend.makeOutput([N, 2 * h, 2 * w, C], 'float32');
      // Views after makeOutput: its malloc may grow (and move) the wasm heap.
      const dst = backend.typedArrayFromHeap(out);
      for (let p = 0; p < 4; p++) {
        const src = backend.typedArrayFromHeap(parts[p]), a = p >> 1, b = p & 1;
        for (let n = 0; n < N; n++) for (let m = 0; m < h; m++) {
          let o = ((n * 2 * h + 2 * m + a) * 2 * w + b) * C, q = ((n * h + m) * w) * C;
          for (let k = 0; k < w; k++, o += 2 * C) for (let c = 0; c < C; c++) dst[o + c] = src[q++];
        }
      }
      return out;
    } finally {
      for (const id of made) backend.disposeData(id);
    }
  };
}

function concatKernel(): KernelFunc {
  const stock = stockConfig('Concat').kernelFunc;
  return (args) => {
    const inputs = args.inputs as unknown as TensorInfo[];
    const backend = args.backend as unknown as WasmBackendLike;
    if (inputs.length < 2 || inputs.some((t) => t.dtype !== 'float32' || util.sizeFromShape(t.shape) === 0)) return stock(args);
    const axis = util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, inputs[0].shape)[0];
    const shapes = inputs.map((t) => t.shape);
    backend_util.assertParamsConsistent(shapes, axis);
    const rows = util.sizeFromShape(inputs[0].shape.slice(0, axis));
    const inner = inputs.map((t) => util.sizeFromShape(t.shape.slice(axis)));
    if (rows === 1 || Math.max(...inner) >= SHORT_ROW) return stock(args);
    const out = backend.makeOutput(backend_util.computeOutShape(shapes, axis), 'float32');
    // Views after makeOutput: its malloc may grow (and move) the wasm heap.
    const src = inputs.map((t) => backend.typedArrayFromHeap(t));
    const dst = backend.typedArrayFromHeap(out);
    const width = inner.reduce((s, n) => s + n, 0);
    let col = 0;
    for (let i = 0; i < src.length; i++) {
      const s = src[i], n = inner[i];
      for (let r = 0; r < rows; r++) {
        const o = r * width + col, p = r * n;
        for (let q = 0; q < n; q++) dst[o + q] = s[p + q];
      }
      col += n;
    }
    return out;
  };
}

/** Replaces the two kernels once per page or process; call after the wasm backend has started. */
export function installWasmKernels(): void {
  if (installed) return;
  const convT = conv2dTransposeKernel();
  const concat = concatKernel();
  replace(stockConfig('Conv2DBackpropInput'), convT);
  replace(stockConfig('Concat'), concat);
  installed = true;
}
