/**
 * Decodes many image files into one MemoryImageSet: a bounded number of sharp calls in flight
 * (libvips runs them on its own threads), unreadable files collected rather than thrown, and one
 * channel count for the whole set.
 */
import os from 'node:os';
import type { CatalogItem, DecodeRequest, DecodeResult } from './catalog';
import { decodeImage } from './decode';
import { MemoryImageSet } from './image-set';
import { InputError } from './types';

/** Runs `fn` over `n` indices with at most `limit` promises pending. */
export async function forEachLimit(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/**
 * The images that decoded, packed into one buffer of one channel count (each entry of `decoded`
 * is released as it is copied). Greyscale everywhere stays 1 channel (3x less memory and compute);
 * any colour image makes the whole set RGB, with grey images replicated into the three channels.
 */
export function packDecoded(decoded: (Uint8Array | null)[], grey: boolean[], size: number, want?: 1 | 3): { kept: number[]; channels: 1 | 3; data: Uint8Array } {
  const kept: number[] = [];
  for (let i = 0; i < decoded.length; i++) if (decoded[i]) kept.push(i);
  const channels: 1 | 3 = want ?? (kept.every((i) => grey[i]) ? 1 : 3);
  const per = size * size * channels;
  const data = new Uint8Array(kept.length * per);
  kept.forEach((i, k) => {
    const px = decoded[i]!;
    if (px.length === per) data.set(px, k * per);
    else {
      // 1-channel image into an RGB set.
      const dst = data.subarray(k * per, (k + 1) * per);
      for (let p = 0; p < px.length; p++) dst[p * 3] = dst[p * 3 + 1] = dst[p * 3 + 2] = px[p];
    }
    decoded[i] = null;
  });
  return { kept, channels, data };
}

export const DECODE_CONCURRENCY = Math.max(4, os.cpus().length * 2);

export async function decodeFiles(items: CatalogItem[], req: DecodeRequest): Promise<DecodeResult> {
  const decoded: (Uint8Array | null)[] = new Array(items.length).fill(null);
  const grey: boolean[] = new Array(items.length).fill(false);
  const sizes: ({ width: number; height: number } | null)[] = new Array(items.length).fill(null);
  const skipped: { path: string; reason: string }[] = [];
  await forEachLimit(items.length, DECODE_CONCURRENCY, async (i) => {
    try {
      const r = await decodeImage(items[i].source, { size: req.size, channels: req.channels, maxPixels: req.maxPixels });
      decoded[i] = r.data;
      grey[i] = r.grey;
      sizes[i] = { width: r.width, height: r.height };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      skipped.push({ path: items[i].source, reason: err.message.replace(`${items[i].source}: `, '') });
    }
  });
  const { kept, channels, data } = packDecoded(decoded, grey, req.size, req.channels);
  skipped.sort((a, b) => (a.path < b.path ? -1 : 1));
  return {
    images: new MemoryImageSet(data, kept.length, req.size, req.size, channels),
    kept,
    skipped,
    sourceSizes: kept.map((i) => sizes[i]!),
  };
}
