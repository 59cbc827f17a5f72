/**
 * Streaming for data larger than memory: decoded uint8 NHWC images are written once to a cache
 * file, and batches are read back with positioned reads (the OS page cache does the rest). 100,000
 * patches at 128x128x3 are 4.9 GB on disk; the process only holds one batch.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImageSet } from './types';

export class DiskImageSet implements ImageSet {
  readonly imageBytes: number;
  private fd: number | null;

  constructor(
    readonly file: string,
    readonly count: number,
    readonly height: number,
    readonly width: number,
    readonly channels: 1 | 3,
    /** Delete the file on close (it is a cache we made). */
    private readonly owned = true,
  ) {
    this.imageBytes = height * width * channels;
    this.fd = fs.openSync(file, 'r');
    if (owned) {
      // Views on this set never close it (see SubsetImageSet), so remove the cache at exit.
      process.once('exit', () => {
        try {
          fs.rmSync(path.dirname(file), { recursive: true, force: true });
        } catch {
          /* best effort */
        }
      });
    }
  }

  async readBatch(indices: ArrayLike<number>): Promise<Uint8Array> {
    if (this.fd === null) throw new Error(`DiskImageSet ${this.file} is closed`);
    const n = this.imageBytes;
    const out = new Uint8Array(indices.length * n);
    // Coalesce runs of consecutive indices into one read each (sequential epochs, subsets).
    const order = Array.from({ length: indices.length }, (_, i) => i).sort((a, b) => indices[a] - indices[b]);
    const reads: Promise<void>[] = [];
    let i = 0;
    while (i < order.length) {
      const first = indices[order[i]];
      if (!(first >= 0 && first < this.count)) throw new RangeError(`image index ${first} out of range 0..${this.count - 1}`);
      let j = i + 1;
      while (j < order.length && indices[order[j]] === indices[order[j - 1]] + 1 && order[j] === order[j - 1] + 1) j++;
      const len = (j - i) * n;
      const dst = out.subarray(order[i] * n, order[i] * n + len);
      reads.push(readFully(this.fd, dst, first * n));
      // Duplicated indices and out-of-order runs are handled one by one.
      i = j;
    }
    await Promise.all(reads);
    return out;
  }

  async close(): Promise<void> {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
    if (this.owned) await fsp.rm(path.dirname(this.file), { recursive: true, force: true });
  }
}

function readFully(fd: number, dst: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) => {
      fs.read(fd, dst, off, dst.length - off, position + off, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(new Error('image cache file is shorter than expected'));
        if (off + n < dst.length) step(off + n);
        else resolve();
      });
    };
    step(0);
  });
}

/** Writes chunks of images to a new cache file; `finish` returns the DiskImageSet. */
export class DiskImageWriter {
  private fd: number;
  private written = 0;
  readonly file: string;

  private constructor(dir: string, readonly height: number, readonly width: number, readonly channels: 1 | 3) {
    this.file = path.join(dir, 'images.u8');
    this.fd = fs.openSync(this.file, 'w');
  }

  static async create(height: number, width: number, channels: 1 | 3, parent = os.tmpdir()): Promise<DiskImageWriter> {
    const dir = await fsp.mkdtemp(path.join(parent, 'flawscope-cache-'));
    return new DiskImageWriter(dir, height, width, channels);
  }

  append(pixels: Uint8Array): void {
    let off = 0;
    while (off < pixels.length) off += fs.writeSync(this.fd, pixels, off, pixels.length - off);
    this.written += pixels.length / (this.height * this.width * this.channels);
  }

  finish(): DiskImageSet {
    fs.closeSync(this.fd);
    return new DiskImageSet(this.file, this.written, this.height, this.width, this.channels);
  }

  async abort(): Promise<void> {
    fs.closeSync(this.fd);
    await fsp.rm(path.dirname(this.file), { recursive: true, force: true });
  }
}
