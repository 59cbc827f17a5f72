/**
 * Smaller training sets for small budgets: a derived copy of a benchmark set with at most N
 * training images per class (seeded choice, original order kept) and the official test split
 * untouched, so the test AUROC stays comparable with the paper's. IDX sets are rewritten as raw
 * IDX files (the test files are linked); split image-folder trees (CIFAR-10 JPEG) become trees of
 * symbolic links. The copy is made once and reused while its marker matches.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import zlib from 'node:zlib';

const IDX_RE = /^(.*?)[-_.]?(images|labels)[-_.]idx([13])[-_.]ubyte(\.gz)?$/i;

function readIdxRaw(file: string): { dims: number[]; data: Uint8Array } {
  let buf: Uint8Array = readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
  const nd = buf[3];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: nd }, (_, i) => v.getUint32(4 + 4 * i, false));
  return { dims, data: buf.subarray(4 + 4 * nd) };
}

function writeIdxRaw(file: string, dims: number[], data: Uint8Array): void {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  writeFileSync(file, Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

/** Seeded choice of at most `n` of `items`, returned in their original order. */
export function chooseInOrder(count: number, n: number, seed: number): number[] {
  const idx = Array.from({ length: count }, (_, i) => i);
  let s = (seed >>> 0) || 1;
  for (let i = count - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = Math.floor((s / 2 ** 32) * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, Math.min(n, count)).sort((a, b) => a - b);
}

function isTestPrefix(name: string): boolean {
  return /^(t10k|test)/i.test(name);
}

/**
 * Makes (or reuses) the reduced copy of `src` under `dest`; returns `dest`. `perClass` 0 keeps
 * every training image. `withTest: false` leaves the test split out altogether (the grid search:
 * nothing in its runs can even look at test images); a split folder tree then becomes a plain
 * `<class>/` tree of its training side.
 */
export function subsampledCopy(src: string, dest: string, perClass: number, seed = 0, withTest = true): string {
  const marker = join(dest, '.flawscope-subsample.json');
  const want = { src: resolve(src), perClass, seed, withTest, version: 2 };
  const limit = perClass > 0 ? perClass : Number.MAX_SAFE_INTEGER;
  if (existsSync(marker)) {
    try { if (JSON.stringify(JSON.parse(readFileSync(marker, 'utf8'))) === JSON.stringify(want)) return dest; } catch { /* remake */ }
  }
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const names = readdirSync(src);
  const idx = names.filter((n) => IDX_RE.test(n));
  if (idx.length) {
    for (const n of idx) {
      const m = IDX_RE.exec(n)!;
      if (isTestPrefix(n)) { if (withTest) symlinkSync(resolve(src, n), join(tmp, n)); continue; }
      if (m[2].toLowerCase() !== 'labels') continue;
      const imgName = idx.find((x) => { const k = IDX_RE.exec(x)!; return k[1] === m[1] && k[2].toLowerCase() === 'images'; });
      if (!imgName) continue;
      const labels = readIdxRaw(join(src, n));
      const images = readIdxRaw(join(src, imgName));
      const per = images.dims.slice(1).reduce((a, b) => a * b, 1);
      const byClass = new Map<number, number[]>();
      labels.data.forEach((l, i) => byClass.set(l, [...(byClass.get(l) ?? []), i]));
      const keep: number[] = [];
      for (const [l, list] of [...byClass].sort((a, b) => a[0] - b[0])) for (const k of chooseInOrder(list.length, limit, seed + l)) keep.push(list[k]);
      keep.sort((a, b) => a - b);
      const li = new Uint8Array(keep.length), im = new Uint8Array(keep.length * per);
      keep.forEach((r, k) => { li[k] = labels.data[r]; im.set(images.data.subarray(r * per, (r + 1) * per), k * per); });
      writeIdxRaw(join(tmp, n.replace(/\.gz$/i, '')), [keep.length], li);
      writeIdxRaw(join(tmp, imgName.replace(/\.gz$/i, '')), [keep.length, ...images.dims.slice(1)], im);
    }
  } else if (names.includes('train') && names.includes('test')) {
    if (withTest) symlinkSync(resolve(src, 'test'), join(tmp, 'test'));
    for (const cls of readdirSync(join(src, 'train')).sort()) {
      const files = readdirSync(join(src, 'train', cls)).sort();
      const to = withTest ? join(tmp, 'train', cls) : join(tmp, cls);
      mkdirSync(to, { recursive: true });
      for (const k of chooseInOrder(files.length, limit, seed + cls.length * 31 + cls.charCodeAt(0))) symlinkSync(resolve(src, 'train', cls, files[k]), join(to, files[k]));
    }
  } else {
    rmSync(tmp, { recursive: true, force: true });
    throw Object.assign(new Error(`--train-per-class: ${src} is neither IDX files nor a train/ + test/ folder tree`), { name: 'InputError' });
  }
  writeFileSync(join(tmp, '.flawscope-subsample.json'), JSON.stringify(want));
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(resolve(dest, '..'), { recursive: true });
  renameSync(tmp, dest);
  return dest;
}
