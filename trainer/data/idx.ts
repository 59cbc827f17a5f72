/**
 * IDX reader (MNIST, Fashion-MNIST): pairs of `<prefix>-images-idx3-ubyte[.gz]` and
 * `<prefix>-labels-idx1-ubyte[.gz]`; prefixes starting with t10k/test are the official test
 * split. Class names are the label numbers ('0'..'9'), so `--normal 3` means digit 3 (or, for
 * Fashion-MNIST, label 3 = dress).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Catalog, CatalogItem } from './catalog';
import { decodeRecords, type RecordSource } from './records';
import { InputError } from './types';

const IDX_RE = /^(.*?)[-_.]?(images|labels)[-_.]idx([13])[-_.]ubyte(\.gz)?$/i;

export async function findIdxFiles(root: string): Promise<string[]> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  return names.filter((n) => IDX_RE.test(n)).sort();
}

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses an IDX buffer (ubyte only), checking the magic number and the exact length. */
export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  if (buf.length < 4) throw new InputError(`${file}: ${buf.length} bytes is too short to be an IDX file (the header alone is 8+ bytes).`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new InputError(
      `${file}: wrong magic number 0x${Buffer.from(buf.subarray(0, 4)).toString('hex')} (an IDX file starts with 0x0000). ` +
        'The file is not IDX, or is still gzipped under a name without .gz.',
    );
  }
  if (buf[2] !== 0x08) {
    throw new InputError(`${file}: IDX element type 0x${buf[2].toString(16)} is not unsigned byte (0x08); only ubyte IDX is supported.`);
  }
  const ndim = buf[3];
  if (ndim < 1 || ndim > 4) throw new InputError(`${file}: IDX header claims ${ndim} dimensions; expected 1 (labels) or 3 (images).`);
  const headerLen = 4 + 4 * ndim;
  if (buf.length < headerLen) throw new InputError(`${file}: cut short inside the IDX header (${buf.length} bytes).`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = headerLen + dims.reduce((a, b) => a * b, 1);
  if (buf.length < expected) {
    throw new InputError(`${file}: truncated: the header promises ${dims.join('x')} (${expected} bytes) but the file has ${buf.length}. Download it again.`);
  }
  if (buf.length > expected) {
    throw new InputError(`${file}: ${buf.length - expected} bytes of trailing data after ${dims.join('x')} values; the file is not a valid IDX file.`);
  }
  return { dims, data: buf.subarray(headerLen) };
}

async function readMaybeGz(file: string): Promise<Uint8Array> {
  const raw = await fs.readFile(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return zlib.gunzipSync(raw);
    } catch (err) {
      throw new InputError(`${file}: gzip data is corrupt or cut short (${(err as Error).message}). Download it again.`);
    }
  }
  return raw;
}

export async function readIdx(root: string): Promise<Catalog> {
  const names = await findIdxFiles(root);
  const groups = new Map<string, { images?: string; labels?: string }>();
  for (const n of names) {
    const m = IDX_RE.exec(n)!;
    const key = m[1].toLowerCase();
    const g = groups.get(key) ?? {};
    if (m[2].toLowerCase() === 'images') g.images = n;
    else g.labels = n;
    groups.set(key, g);
  }
  const items: CatalogItem[] = [];
  const warnings: string[] = [];
  const images = new Map<string, IdxArray>();
  let width = 0;
  let height = 0;
  const labelSet = new Set<number>();
  for (const [prefix, g] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (!g.images || !g.labels) {
      throw new InputError(`${path.join(root, (g.images ?? g.labels)!)}: IDX ${g.images ? 'labels' : 'images'} file with the same prefix is missing.`);
    }
    const imgFile = path.join(root, g.images);
    const lblFile = path.join(root, g.labels);
    const img = parseIdx(await readMaybeGz(imgFile), imgFile);
    const lbl = parseIdx(await readMaybeGz(lblFile), lblFile);
    if (img.dims.length !== 3) throw new InputError(`${imgFile}: expected 3 dimensions (count x rows x cols), found ${img.dims.length}.`);
    if (lbl.dims.length !== 1) throw new InputError(`${lblFile}: expected 1 dimension (count), found ${lbl.dims.length}.`);
    if (img.dims[0] !== lbl.dims[0]) {
      throw new InputError(`${imgFile} has ${img.dims[0]} images but ${lblFile} has ${lbl.dims[0]} labels; they must match.`);
    }
    if (width && (img.dims[1] !== height || img.dims[2] !== width)) {
      throw new InputError(`${imgFile}: images are ${img.dims[1]}x${img.dims[2]}, other IDX files here are ${height}x${width}.`);
    }
    height = img.dims[1];
    width = img.dims[2];
    images.set(imgFile, img);
    const split: 'train' | 'test' = /^(t10k|test)/.test(prefix) ? 'test' : 'train';
    for (let i = 0; i < lbl.dims[0]; i++) {
      labelSet.add(lbl.data[i]);
      items.push({ className: String(lbl.data[i]), source: `${imgFile}#${i}`, split, record: i });
    }
  }
  const src: RecordSource = {
    width,
    height,
    channels: 1,
    read(file, record, out) {
      const a = images.get(file)!;
      const n = width * height;
      out.set(a.data.subarray(record * n, record * n + n));
    },
  };
  return {
    layout: 'idx',
    root,
    items,
    classNames: [...labelSet].sort((a, b) => a - b).map(String),
    skipped: [],
    warnings,
    ignoredFiles: 0,
    recordShape: { width, height, channels: 1 },
    decode: async (its, req) => ({ ...decodeRecords(src, its, req), sourceSizes: undefined }),
  };
}
