/**
 * Folds a batch-normalised defect map (network.ts `batchNorm`) into the plain network the scorers
 * load: each conv → BN pair becomes one conv whose kernel and bias give the BN layer's
 * inference-mode output (the moving statistics, not a batch's):
 *
 *   s = γ / √(σ² + ε) per output channel,  w' = w · s,  b' = (b − μ) · s + β
 *
 * The output channel is the kernel's last axis for conv2d ([kh, kw, inC, outC]) and its third for
 * conv2dTranspose ([kh, kw, outC, inC], tfjs-layers' layout). Layers without a BN layer after
 * them (the input standardisation, the output conv) are copied as they are.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BN_EPSILON, bnName } from './network';

/** The kernel axis that holds a layer's output channels. */
function outAxis(layer: tfl.layers.Layer): 2 | 3 {
  return layer.getClassName() === 'Conv2DTranspose' ? 2 : 3;
}

/**
 * Sets `plain`'s weights (a network built with the same shape and options, batchNorm off) from
 * `bn`'s, folded. Throws when the two networks do not match layer for layer.
 */
export function foldBatchNorm(bn: tfl.LayersModel, plain: tfl.LayersModel): void {
  const byName = new Map(bn.layers.map((l) => [l.name, l] as const));
  for (const target of plain.layers) {
    const targetWeights = target.getWeights();
    if (!targetWeights.length) continue;
    const source = byName.get(target.name);
    if (!source) throw new Error(`foldBatchNorm: the BN network has no layer "${target.name}"`);
    const norm = byName.get(bnName(target.name));
    if (!norm) {
      target.setWeights(source.getWeights());
      continue;
    }
    const folded = tf.tidy(() => {
      const [gamma, beta, mean, variance] = norm.getWeights();
      const w = source.getWeights();
      const kernel = w[0] as tf.Tensor4D;
      const bias = w[1] ?? tf.zerosLike(mean);
      const scale = tf.div(gamma, tf.sqrt(tf.add(variance, BN_EPSILON)));
      const shape: [number, number, number, number] = [1, 1, 1, 1];
      shape[outAxis(source)] = scale.size;
      return [tf.mul(kernel, tf.reshape(scale, shape)), tf.add(tf.mul(tf.sub(bias, mean), scale), beta)];
    });
    if (folded[0].shape.join() !== targetWeights[0].shape.join()) throw new Error(`foldBatchNorm: layer "${target.name}" has kernel ${folded[0].shape} in the BN network, ${targetWeights[0].shape} in the plain one`);
    target.setWeights(folded);
    folded.forEach((t) => t.dispose());
  }
}
