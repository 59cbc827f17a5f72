/**
 * Shared by the container formats (IDX, CIFAR binary): images stored as fixed-size records in a
 * few big files, read fully into memory once (MNIST is 47 MB, CIFAR-10 180 MB) and cut into
 * records on demand. Records are resized by the scorer's own resize (scorer/preprocess.ts), so a
 * model trained on them sees what the scorer makes of the same picture saved as a file.
 */
import { resizePixelsInto } from '../../scorer/preprocess';
import type { CatalogItem, DecodeRequest, DecodeResult } from './catalog';
import { MemoryImageSet } from './image-set';

export interface RecordSource {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Writes record `record` of `file` as HWC uint8 into `out` (width*height*channels bytes). */
  read(file: string, record: number, out: Uint8Array): void;
}

export function decodeRecords(src: RecordSource, items: CatalogItem[], req: DecodeRequest): DecodeResult {
  const channels: 1 | 3 = req.channels ?? src.channels;
  const per = req.size * req.size * channels;
  const data = new Uint8Array(items.length * per);
  const raw = new Uint8Array(src.width * src.height * src.channels);
  const conv = new Uint8Array(src.width * src.height * channels);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const file = it.source.slice(0, it.source.lastIndexOf('#'));
    src.read(file, it.record!, raw);
    const c = convertChannels(raw, src.channels, channels, conv);
    resizePixelsInto(c, src.width, src.height, channels, req.size, req.size, data.subarray(i * per, (i + 1) * per));
  }
  return {
    images: new MemoryImageSet(data, items.length, req.size, req.size, channels),
    kept: items.map((_, i) => i),
    skipped: [],
  };
}

function convertChannels(src: Uint8Array, from: 1 | 3, to: 1 | 3, out: Uint8Array): Uint8Array {
  if (from === to) return src;
  const n = src.length / from;
  if (to === 3) {
    for (let p = 0; p < n; p++) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = src[p];
  } else {
    // ITU-R BT.601 luma, the weights libvips uses for the image files.
    for (let p = 0; p < n; p++) out[p] = Math.round(0.299 * src[p * 3] + 0.587 * src[p * 3 + 1] + 0.114 * src[p * 3 + 2]);
  }
  return out;
}
