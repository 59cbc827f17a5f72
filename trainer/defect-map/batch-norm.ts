/**
 * Batch normalisation for the defect map's training, as one op with its own gradient: one pass
 * over the activations for the statistics, one for the output, two for the gradient (the
 * textbook BN backward, dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂))). Why not tfjs-layers'
 * BatchNormalization, or the same formula in tf ops: both build it from ten or so full-size
 * element-wise ops and reductions over the leading axes, which made a map update 2–3x slower on
 * the CPU backends (J71: 1.2 against 0.6 s, batch 32, 64 px). Same function and weights
 * (γ, β, moving mean, moving variance, first in that getWeights order; Keras' momentum and ε), so
 * fold-bn.ts folds either — with one difference: the moving statistics start as the plain
 * average of the batches seen (momentum min(0.99, n/(n+1)) at the n-th batch, n kept as a fifth,
 * untrainable weight so a checkpoint restores it), not as an average with the initial 0 and 1.
 * Why: Keras' start needs some 300 batches before the moving statistics forget (0, 1), and the
 * preset validates — and a short run deploys — after a 20-step epoch. Never written to a model
 * folder: the map is folded first.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type LayerVariable = ReturnType<tfl.layers.Layer['addWeight']>;

export interface MapBatchNormArgs { name: string; epsilon: number; momentum?: number }

export class MapBatchNorm extends tfl.layers.Layer {
  static className = 'MapBatchNorm';
  readonly epsilon: number;
  /** Share of the moving statistics kept each training batch (public: a re-estimate sets it per batch for a plain average). */
  momentum: number;
  private gamma!: LayerVariable;
  private beta!: LayerVariable;
  private movingMean!: LayerVariable;
  private movingVariance!: LayerVariable;
  /** Training batches seen (float, [1]). */
  private batches!: LayerVariable;

  constructor(args: MapBatchNormArgs) {
    super({ name: args.name });
    this.epsilon = args.epsilon;
    this.momentum = args.momentum ?? 0.99;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const c = shape[shape.length - 1]!;
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros(), undefined, true);
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', tfl.initializers.ones(), undefined, false);
    this.batches = this.addWeight('batches', [1], 'float32', tfl.initializers.zeros(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (!kwargs['training']) {
        // Inference: the moving statistics, as fold-bn.ts bakes them into the conv.
        const scale = tf.mul(this.gamma.read(), tf.rsqrt(tf.add(this.movingVariance.read(), this.epsilon)));
        return tf.add(tf.mul(x, scale), tf.sub(this.beta.read(), tf.mul(this.movingMean.read(), scale)));
      }
      const { y, mean, variance } = batchNormTraining(x, this.gamma.read() as tf.Tensor1D, this.beta.read() as tf.Tensor1D, this.epsilon);
      const n = this.batches.read();
      // min(momentum, n / (n + 1)): the running average of the first batches, then Keras' update (biased batch variance, as tfjs-layers keeps).
      const keep = tf.minimum(this.momentum, tf.div(n, tf.add(n, 1)));
      const drop = tf.sub(1, keep);
      this.movingMean.write(tf.add(tf.mul(this.movingMean.read(), keep), tf.mul(mean, drop)));
      this.movingVariance.write(tf.add(tf.mul(this.movingVariance.read(), keep), tf.mul(variance, drop)));
      this.batches.write(tf.add(n, 1));
      return y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, momentum: this.momentum };
  }
}

/**
 * Training-mode BN over every axis but the last (channels last): y = (x − μ_B) / √(σ²_B + ε) · γ + β,
 * with the batch's mean and biased variance returned for the moving averages. Computed in
 * float64 per channel, on the CPU (dataSync): the map trains on the CPU backends; a GPU backend
 * would pay a download here.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const c = x.shape[x.rank - 1];
  const m = x.size / c;
  const meanOut = new Float64Array(c), varOut = new Float64Array(c);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, gIn, bIn] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const xv = xIn.dataSync() as Float32Array, g = gIn.dataSync() as Float32Array, b = bIn.dataSync() as Float32Array;
    const n = xv.length;
    meanOut.fill(0); varOut.fill(0);
    for (let i = 0, k = 0; i < n; i++) { meanOut[k] += xv[i]; if (++k === c) k = 0; }
    for (let k = 0; k < c; k++) meanOut[k] /= m;
    for (let i = 0, k = 0; i < n; i++) { const d = xv[i] - meanOut[k]; varOut[k] += d * d; if (++k === c) k = 0; }
    const rstd = new Float64Array(c);
    for (let k = 0; k < c; k++) { varOut[k] /= m; rstd[k] = 1 / Math.sqrt(varOut[k] + epsilon); }
    const xhat = new Float32Array(n), y = new Float32Array(n);
    for (let i = 0, k = 0; i < n; i++) { const h = (xv[i] - meanOut[k]) * rstd[k]; xhat[i] = h; y[i] = h * g[k] + b[k]; if (++k === c) k = 0; }
    const xhatT = tf.tensor(xhat, xIn.shape);
    save([xhatT, tf.tensor1d(Float32Array.from(rstd)), gIn]);
    return {
      value: tf.tensor(y, xIn.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dyv = dy.dataSync() as Float32Array, h = saved[0].dataSync() as Float32Array, rs = saved[1].dataSync() as Float32Array, gv = saved[2].dataSync() as Float32Array;
        const sdy = new Float64Array(c), sdyh = new Float64Array(c);
        for (let i = 0, k = 0; i < n; i++) { sdy[k] += dyv[i]; sdyh[k] += dyv[i] * h[i]; if (++k === c) k = 0; }
        const dx = new Float32Array(n);
        for (let i = 0, k = 0; i < n; i++) { dx[i] = ((gv[k] * rs[k]) / m) * (m * dyv[i] - sdy[k] - h[i] * sdyh[k]); if (++k === c) k = 0; }
        return [tf.tensor(dx, xIn.shape), tf.tensor1d(Float32Array.from(sdyh)), tf.tensor1d(Float32Array.from(sdy))];
      },
    };
  });
  const y = (op as (...t: tf.Tensor[]) => tf.Tensor)(x, gamma, beta);
  return { y, mean: tf.tensor1d(Float32Array.from(meanOut)), variance: tf.tensor1d(Float32Array.from(varOut)) };
}
