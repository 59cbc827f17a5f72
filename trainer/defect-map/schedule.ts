/**
 * The defect map's learning-rate schedule: a linear warmup from base/warmup to base over the
 * first `warmup` updates, then constant. Why: at a learning rate high enough to move the map in
 * a few hundred updates (3e-3), Adam's first steps, made with second-moment estimates from one
 * or two batches, can throw the freshly initialised U-Net off; the warmup lets the estimates
 * settle first. The rate is a function of the update count alone, so a resumed training (which
 * restores the count) continues the same schedule exactly.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** The learning rate of update number `update` (1-based). warmup 0: no warmup. */
export function mapLearningRate(base: number, warmup: number, update: number): number {
  if (!(warmup > 0)) return base;
  return base * Math.min(1, Math.max(1, update) / warmup);
}

/** Sets an Adam (or SGD-family) optimizer's rate for its next update; tfjs reads the field at each step. */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  (opt as unknown as { learningRate: number }).learningRate = lr;
}
