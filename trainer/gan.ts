/**
 * One GAN training step (paper §3.4): the generator update on a normal or an anomaly batch,
 * then the matching discriminator's LSGAN update on the same batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildDiscriminator, buildGenerator, type InputShape, type SkipMode } from './model';
import * as L from './losses';
import type { PatchSpec } from '../scorer/model-format';

export type Group = 'normal' | 'anomaly';

export interface GanOptions {
  shape: InputShape;
  weights: L.LossWeights;
  patch: PatchSpec;
  lr: number;
  beta1: number;
  beta2: number;
  seed: number;
  /** U-Net skip connections kept (default: all, the paper's). */
  skips?: SkipMode;
  /**
   * Decay of an exponential moving average of the generator's weights, updated after every
   * generator step (0 or absent = none, the paper's). The average is what validation scores and
   * what gets deployed; the training trajectory itself is unchanged.
   */
  weightAverage?: number;
}

export type StepLosses = Record<string, number>;

export class Gan {
  readonly generator: tfl.LayersModel;
  /** Same layers as the generator, two outputs: reconstruction and bottleneck z = G_E(x). */
  private readonly withLatent: tfl.LayersModel;
  private readonly encoder: tfl.LayersModel;
  readonly dNormal: tfl.LayersModel;
  readonly dAnomaly: tfl.LayersModel;
  readonly optG: tf.AdamOptimizer;
  readonly optDn: tf.AdamOptimizer;
  readonly optDa: tf.AdamOptimizer;
  /** The generator's averaged weights (same order as generator.weights), when opts.weightAverage > 0. */
  private readonly avg: tf.Variable[] | null;

  constructor(readonly opts: GanOptions) {
    const { shape, seed } = opts;
    this.generator = buildGenerator(shape, seed, opts.skips ?? 'all');
    const z = this.generator.getLayer('enc4_act').output as tfl.SymbolicTensor;
    this.withLatent = tfl.model({ inputs: this.generator.inputs, outputs: [this.generator.outputs[0], z] });
    this.encoder = tfl.model({ inputs: this.generator.inputs, outputs: z });
    this.dNormal = buildDiscriminator(shape, seed + 1, 'd_normal');
    this.dAnomaly = buildDiscriminator(shape, seed + 2, 'd_anomaly');
    // One Adam per network: tfjs keeps one bias-correction step count per optimizer, and the two
    // discriminators are updated on different steps.
    const adam = () => tf.train.adam(opts.lr, opts.beta1, opts.beta2);
    this.optG = adam();
    this.optDn = adam();
    this.optDa = adam();
    this.avg = opts.weightAverage ? this.generator.weights.map((w) => tf.variable(w.read(), false)) : null;
  }

  /** True when the generator's weights are being averaged (GanOptions.weightAverage). */
  get averaging(): boolean {
    return this.avg !== null;
  }

  /**
   * avg ← d·avg + (1−d)·w after generator step t. d ramps up as min(decay, (1+t)/(10+t)) so the
   * first steps are not dominated by the random initialisation the average starts from. t is the
   * generator optimiser's own step count, so a resumed checkpoint continues the same ramp.
   */
  private updateAverage(): void {
    if (!this.avg) return;
    const t = this.optG.iterations;
    const d = Math.min(this.opts.weightAverage!, (1 + t) / (10 + t));
    tf.tidy(() => this.generator.weights.forEach((w, i) => this.avg![i].assign(tf.add(tf.mul(this.avg![i], d), tf.mul(w.read(), 1 - d)))));
  }

  /** Copies of the averaged generator weights (caller disposes); null when not averaging. */
  averagedWeights(): tf.Tensor[] | null {
    return this.avg ? this.avg.map((v) => tf.clone(v)) : null;
  }

  /** Runs fn with the averaged weights loaded into the generator, then puts the trained ones back. */
  async withAveragedWeights<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.avg) return fn();
    const trained = this.generator.weights.map((w) => tf.clone(w.read()));
    this.generator.setWeights(this.avg);
    try {
      return await fn();
    } finally {
      this.generator.setWeights(trained);
      tf.dispose(trained);
    }
  }

  setLearningRate(lr: number): void {
    for (const o of [this.optG, this.optDn, this.optDa]) (o as unknown as { learningRate: number }).learningRate = lr;
  }

  private static vars(m: tfl.LayersModel): tf.Variable[] {
    return m.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** One generator + discriminator update. `x` is a preprocessed batch in [-1, 1]. */
  step(x: tf.Tensor4D, group: Group): StepLosses {
    const t = this.update(x, group);
    const out: StepLosses = {};
    for (const [k, v] of Object.entries(t)) out[k] = v.dataSync()[0]!;
    tf.dispose(Object.values(t));
    return out;
  }

  /**
   * step() reading the losses asynchronously: the WebGPU backend in Node cannot read GPU memory
   * synchronously (its readSync needs OffscreenCanvas), and on every backend the training loop
   * loses nothing by awaiting.
   */
  async stepAsync(x: tf.Tensor4D, group: Group): Promise<StepLosses> {
    const t = this.update(x, group);
    const names = Object.keys(t);
    const values = await Promise.all(names.map((k) => t[k]!.data()));
    tf.dispose(Object.values(t));
    return Object.fromEntries(names.map((k, i) => [k, values[i]![0]!]));
  }

  /** The update itself; returns the scalar losses (caller disposes). */
  private update(x: tf.Tensor4D, group: Group): Record<string, tf.Scalar> {
    const w = this.opts.weights;
    const D = group === 'normal' ? this.dNormal : this.dAnomaly;
    const optD = group === 'normal' ? this.optDn : this.optDa;
    const parts: Partial<Record<keyof L.LossWeights, tf.Scalar>> = {};
    let recon: tf.Tensor4D | null = null;
    const gLoss = this.optG.minimize(
      () => {
        const [y, zx] = this.withLatent.apply(x, { training: true }) as [tf.Tensor4D, tf.Tensor];
        recon = tf.keep(y);
        const dFake = D.apply(y, { training: true }) as tf.Tensor;
        if (group === 'normal') {
          parts.recon = L.reconstructionLoss(x, y);
          parts.patch = L.patchLoss(x, y, this.opts.patch);
          parts.latent = L.latentLoss(zx, this.encoder.apply(y, { training: true }) as tf.Tensor);
          parts.normalAdv = L.normalAdversarialLoss(dFake);
        } else {
          parts.abc = L.abcLoss(x, y);
          parts.anomalyAdv = L.anomalyAdversarialLoss(dFake);
        }
        for (const v of Object.values(parts)) tf.keep(v!);
        return L.weightedSum(parts, w);
      },
      true,
      Gan.vars(this.generator),
    );
    this.updateAverage();
    const y = recon as unknown as tf.Tensor4D;
    const dLoss = optD.minimize(
      () => L.discriminatorLoss(D.apply(x, { training: true }) as tf.Tensor, D.apply(y, { training: true }) as tf.Tensor),
      true,
      Gan.vars(D),
    );
    y.dispose();
    return { generator: gLoss!, [group === 'normal' ? 'dNormal' : 'dAnomaly']: dLoss!, ...(parts as Record<string, tf.Scalar>) };
  }

  /** Every weight and optimiser slot, by a stable name, for checkpoints. */
  async stateTensors(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [];
    for (const [name, m] of [['g', this.generator], ['dn', this.dNormal], ['da', this.dAnomaly]] as const)
      m.weights.forEach((w, i) => out.push({ name: `${name}/${i}`, tensor: w.read() }));
    for (const [name, o] of [['optG', this.optG], ['optDn', this.optDn], ['optDa', this.optDa]] as const) {
      (await o.getWeights()).forEach((t, i) => out.push({ name: `${name}/${i}`, tensor: t.tensor }));
      adamPowers(o)?.forEach((v, i) => out.push({ name: `${name}/power${i + 1}`, tensor: v }));
    }
    if (this.avg) this.avg.forEach((v, i) => out.push({ name: `avg/${i}`, tensor: v }));
    return out;
  }

  async restoreState(tensors: Map<string, tf.Tensor>): Promise<void> {
    const need = (n: string) => {
      const t = tensors.get(n);
      if (!t) throw new Error(`checkpoint is missing tensor "${n}"; it was written by a different model — start a new training`);
      return t;
    };
    for (const [name, m] of [['g', this.generator], ['dn', this.dNormal], ['da', this.dAnomaly]] as const)
      m.setWeights(m.weights.map((_, i) => need(`${name}/${i}`)));
    for (const [name, o] of [['optG', this.optG], ['optDn', this.optDn], ['optDa', this.optDa]] as const) {
      const list: NamedTensor[] = [];
      for (let i = 0; tensors.has(`${name}/${i}`); i++) list.push({ name: '', tensor: tensors.get(`${name}/${i}`)! });
      // Adam matches slots to variables by position; names are informational.
      list.forEach((l, i) => (l.name = `${name}/${i}`));
      if (list.length) await o.setWeights(list);
      // setWeights recomputes β^t with pow, which differs in the last bits from the running product
      // the steps kept; the saved products make a resumed run continue bit for bit.
      const powers = adamPowers(o);
      const saved = [tensors.get(`${name}/power1`), tensors.get(`${name}/power2`)];
      if (powers && saved[0] && saved[1]) powers.forEach((v, i) => v.assign(saved[i]!));
    }
    if (this.avg) this.avg.forEach((v, i) => v.assign(need(`avg/${i}`)));
  }

  dispose(): void {
    for (const o of [this.optG, this.optDn, this.optDa]) o.dispose();
    if (this.avg) tf.dispose(this.avg);
    for (const m of [this.generator, this.dNormal, this.dAnomaly]) m.dispose();
  }
}

/** Adam's running products β1^t and β2^t (tfjs keeps them as private variables; null if that changes). */
export function adamPowers(o: tf.AdamOptimizer): [tf.Variable, tf.Variable] | null {
  const p = o as unknown as { accBeta1?: unknown; accBeta2?: unknown };
  return p.accBeta1 instanceof tf.Variable && p.accBeta2 instanceof tf.Variable ? [p.accBeta1, p.accBeta2] : null;
}
