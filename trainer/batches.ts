/**
 * The training's batch order: each group (normal, anomaly) walks its own seeded permutation of its
 * images, drawn again from the loop's RNG when used up. A cursor's whole position — the
 * permutation, the place in it, and the reads its augmentation stream has made — goes into
 * checkpoints, so a resumed training reads exactly the batches the uninterrupted one would have.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { toInputTensor } from '../scorer/preprocess';
import type { ImageSet } from './data/types';
import type { Rng } from './rng';

/** What a checkpoint's state.json holds of a cursor; its permutation travels as a tensor. */
export interface CursorState {
  pos: number;
  /** The set's augmentation stream position (ImageSet.readsDone), where it has one. */
  readsDone?: number;
}

export class BatchCursor {
  private constructor(readonly name: string, readonly set: ImageSet, private readonly rng: Rng, private perm: Int32Array, private pos: number) {}

  /** A fresh cursor: draws its first permutation from `rng` now (so creation order matters). */
  static start(name: string, set: ImageSet, rng: Rng): BatchCursor {
    return new BatchCursor(name, set, rng, rng.permutation(set.count), 0);
  }

  /** The cursor a checkpoint saved; a permutation that does not fit the set is bad input. */
  static restore(name: string, set: ImageSet, rng: Rng, state: CursorState | undefined, perm: tf.Tensor | undefined, where: string): BatchCursor {
    const p = perm ? new Int32Array(perm.dataSync()) : null;
    const fits = p && state && p.length === set.count && Number.isInteger(state.pos) && state.pos >= 0 && state.pos <= p.length && p.every((i) => i >= 0 && i < set.count);
    if (!fits) throw new Error(`${where}: the saved batch order of the ${name} images does not fit the data (${set.count} images now); the data changed since the checkpoint — start a new training`);
    if (state!.readsDone !== undefined) set.readsDone = state!.readsDone;
    return new BatchCursor(name, set, rng, p!, state!.pos);
  }

  /** The next `batch` images (fewer if the set is smaller), as a model input tensor. */
  async next(batch: number): Promise<tf.Tensor4D> {
    const n = Math.min(batch, this.set.count);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (this.pos >= this.perm.length) { this.perm = this.rng.permutation(this.set.count); this.pos = 0; }
      idx[i] = this.perm[this.pos++];
    }
    const s = this.set;
    return toInputTensor(await s.readBatch(idx), n, s.height, s.width, s.channels);
  }

  /** state.json part and tensor (named `cursor/<name>`) of this cursor, for a checkpoint. */
  save(): { state: CursorState; tensor: NamedTensor } {
    const state: CursorState = { pos: this.pos, ...(this.set.readsDone !== undefined ? { readsDone: this.set.readsDone } : {}) };
    return { state, tensor: { name: `cursor/${this.name}`, tensor: tf.tensor1d(this.perm, 'int32') } };
  }
}
