/**
 * Two kernels of tfjs-backend-wasm replaced where the scorer's networks spend most of their time
 * on it (measured with `npm run bench:score -- --only-photo`, docs/results "Scoring cost"):
 *
 * - Conv2DBackpropInput (every Conv2DTranspose layer: the generator's and the defect map's
 *   decoders). The stock kernel is a plain loop, about 7x slower per multiply-add than the
 *   XNNPACK Conv2D beside it. For the shape both networks use (stride 2, a 4x4 kernel, 'same'
 *   padding) it runs here as one 3x3 Conv2D over the input with 4x the output channels, one set
 *   per output phase (row and column parity), and a DepthToSpace that interleaves the phases: the
 *   same products summed in another order (float32 rounding apart, the same result), for 9/4 of
 *   the multiply-adds at XNNPACK speed. Every other shape keeps the stock kernel.
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
 * The 3x3 filter [3, 3, D, 4C] of the phase convolution for a 4x4 stride-2 transposed filter
 * [4, 4, C, D] with one row and column of 'same' padding. Output pixel (2m + a, 2k + b) takes
 * dy rows m - 1 .. m + 1 (tap t = 0, 1, 2); tap t of phase a is kernel row kh = a + 3 - 2t when
 * 0 ≤ kh < 4 (the transposed conv's row (2m + a + 1 - kh) / 2 = m + t - 1), else zero.
 */
export function phaseFilter(f: Float32Array, C: number, D: number): Float32Array {
  const g = new Float32Array(9 * D * 4 * C);
  const OC = 4 * C;
  for (let th = 0; th < 3; th++) for (let tw = 0; tw < 3; tw++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
    const kh = a + 3 - 2 * th, kw = b + 3 - 2 * tw;
    if (kh < 0 || kh > 3 || kw < 0 || kw > 3) continue;
    for (let c = 0; c < C; c++) {
      const src = ((kh * 4 + kw) * C + c) * D;
      const dst = (th * 3 + tw) * D * OC + (a * 2 + b) * C + c;
      for (let d = 0; d < D; d++) g[dst + d * OC] = f[src + d];
    }
  }
  return g;
}

function conv2dTransposeKernel(): KernelFunc {
  const stock = stockConfig('Conv2DBackpropInput');
  const conv = stockConfig('Conv2D').kernelFunc;
  const depthToSpace = stockConfig('DepthToSpace').kernelFunc;
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as unknown as WasmBackendLike;
    const dy = inputs.dy as TensorInfo, filter = inputs.filter as TensorInfo;
    const a = attrs as unknown as { inputShape: [number, number, number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const ci = backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat));
    const phases = ci.dataFormat === 'channelsLast' && dy.dtype === 'float32' && filter.dtype === 'float32' &&
      ci.strideHeight === 2 && ci.strideWidth === 2 && ci.filterHeight === 4 && ci.filterWidth === 4 &&
      ci.padInfo.top === 1 && ci.padInfo.left === 1 && ci.inHeight === 2 * ci.outHeight && ci.inWidth === 2 * ci.outWidth;
    if (!phases) return stock.kernelFunc(args);
    const C = ci.inChannels, D = ci.outChannels;
    const g = phaseFilter(backend.readSync(filter.dataId) as Float32Array, C, D);
    const gShape = [3, 3, D, 4 * C];
    const gInfo: TensorInfo = { dataId: backend.write(g, gShape, 'float32'), shape: gShape, dtype: 'float32' };
    let y: TensorInfo | null = null;
    try {
      y = conv({ inputs: { x: dy, filter: gInfo }, backend: args.backend, attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 } }) as TensorInfo;
      return depthToSpace({ inputs: { x: y }, backend: args.backend, attrs: { blockSize: 2, dataFormat: 'NHWC' } }) as TensorInfo;
    } finally {
      backend.disposeData(gInfo.dataId);
      if (y) backend.disposeData(y.dataId);
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
