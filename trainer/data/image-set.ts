/**
 * In-memory image sets: the uint8 NHWC buffer every reader fills, and cheap views on it
 * (subsets, concatenations) so that splits never copy pixels.
 */
import type { ImageSet } from './types';

/** All pixels in one Uint8Array, NHWC. The default for anything that fits in memory. */
export class MemoryImageSet implements ImageSet {
  readonly imageBytes: number;

  constructor(
    readonly data: Uint8Array,
    readonly count: number,
    readonly height: number,
    readonly width: number,
    readonly channels: 1 | 3,
  ) {
    this.imageBytes = height * width * channels;
    if (data.length < count * this.imageBytes) {
      throw new RangeError(`MemoryImageSet: ${data.length} bytes cannot hold ${count} images of ${height}x${width}x${channels}`);
    }
  }

  async readBatch(indices: ArrayLike<number>): Promise<Uint8Array> {
    return this.readBatchSync(indices);
  }

  /** Synchronous variant for callers that know the set is in memory (sampling, features). */
  readBatchSync(indices: ArrayLike<number>): Uint8Array {
    const n = this.imageBytes;
    const out = new Uint8Array(indices.length * n);
    for (let i = 0; i < indices.length; i++) {
      const idx = indices[i];
      if (!(idx >= 0 && idx < this.count) || !Number.isInteger(idx)) {
        throw new RangeError(`image index ${idx} out of range 0..${this.count - 1}`);
      }
      out.set(this.data.subarray(idx * n, idx * n + n), i * n);
    }
    return out;
  }

  /** One image's pixels without copying. */
  image(index: number): Uint8Array {
    return this.data.subarray(index * this.imageBytes, (index + 1) * this.imageBytes);
  }
}

/** A view selecting some images of another set, in a given order (train/validation splits). */
export class SubsetImageSet implements ImageSet {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  private readonly map: Int32Array;

  constructor(readonly base: ImageSet, indices: ArrayLike<number>) {
    this.map = Int32Array.from(indices);
    for (const i of this.map) {
      if (i < 0 || i >= base.count) throw new RangeError(`subset index ${i} out of range 0..${base.count - 1}`);
    }
    this.count = this.map.length;
    this.height = base.height;
    this.width = base.width;
    this.channels = base.channels;
  }

  readBatch(indices: ArrayLike<number>): Promise<Uint8Array> {
    const mapped = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const idx = indices[i];
      if (!(idx >= 0 && idx < this.count)) throw new RangeError(`image index ${idx} out of range 0..${this.count - 1}`);
      mapped[i] = this.map[idx];
    }
    return this.base.readBatch(mapped);
  }

  /** Views do not own their base (train, validation and test share one decoded set), so closing
   * a view frees nothing; disk caches are removed at process exit. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Several sets of one shape seen as one (e.g. validation normals followed by anomalies). */
export class ConcatImageSet implements ImageSet {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  private readonly offsets: number[] = [];

  constructor(readonly parts: ImageSet[]) {
    if (parts.length === 0) throw new RangeError('ConcatImageSet needs at least one part');
    const [first] = parts;
    let total = 0;
    for (const p of parts) {
      if (p.height !== first.height || p.width !== first.width || p.channels !== first.channels) {
        throw new RangeError('ConcatImageSet parts differ in shape');
      }
      this.offsets.push(total);
      total += p.count;
    }
    this.count = total;
    this.height = first.height;
    this.width = first.width;
    this.channels = first.channels;
  }

  async readBatch(indices: ArrayLike<number>): Promise<Uint8Array> {
    const n = this.height * this.width * this.channels;
    const out = new Uint8Array(indices.length * n);
    // Group requests per part so each part sees one readBatch call (matters for disk-backed parts).
    const perPart = this.parts.map(() => ({ local: [] as number[], pos: [] as number[] }));
    for (let i = 0; i < indices.length; i++) {
      const idx = indices[i];
      if (!(idx >= 0 && idx < this.count)) throw new RangeError(`image index ${idx} out of range 0..${this.count - 1}`);
      let p = this.offsets.length - 1;
      while (this.offsets[p] > idx) p--;
      perPart[p].local.push(idx - this.offsets[p]);
      perPart[p].pos.push(i);
    }
    await Promise.all(
      perPart.map(async ({ local, pos }, p) => {
        if (local.length === 0) return;
        const px = await this.parts[p].readBatch(local);
        for (let k = 0; k < pos.length; k++) out.set(px.subarray(k * n, k * n + n), pos[k] * n);
      }),
    );
    return out;
  }

  /** Parts are views on shared data; see SubsetImageSet.close. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
