/**
 * Node adapter for the scorer: load a model folder from a path, decode image files with sharp,
 * write overlay PNGs, and the `flawscope score` command. Node only (imports fs and sharp).
 */
import { constants as fsConstants, promises as fsp, realpathSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { Scorer, type LoadOptions } from '../scorer';
import { ScorerError, errorText } from '../errors';
import { DEFAULT_LIMITS, checkSize, type PixelImage } from '../image';
import { IMAGE_EXTENSIONS } from '../image-extensions';
import type { ModelFileReader } from '../loader';

export { IMAGE_EXTENSIONS };

/** A ModelFileReader over a folder on disk (names are resolved inside the folder only). */
export function folderReader(dir: string): ModelFileReader {
  const root = resolve(dir);
  return {
    describe: root,
    async read(name) {
      // Backslashes too: on Windows `\\host\share\w.bin` resolves to a network path, and
      // relative() from the folder to another drive or a UNC path is absolute, not "..".
      const p = resolve(root, name);
      const rel = relative(root, p);
      if (name.includes('\\') || rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel))
        throw new ScorerError('MODEL_CORRUPT', `${JSON.stringify(name).slice(0, 200)} (named in model.json or the defect map's JSON) points outside the model folder ${root}: refused`);
      try {
        const st = await fsp.stat(p);
        if (!st.isFile()) return null;
        return new Uint8Array(await fsp.readFile(p));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
        throw new ScorerError('MODEL_MISSING', `cannot read ${p}: ${errorText(e)}`);
      }
    },
  };
}

/**
 * The 'fast' backend in Node: the trainer's WASM SIMD kernels on all cores (trainer/kernels),
 * on top of the tfjs cpu backend — the same kernels training and validation run.
 */
export async function startFastKernels(): Promise<string> {
  const { installFastKernels } = await import('../../kernels/index');
  const info = await installFastKernels();
  if (!(await tf.setBackend(info.backend))) throw new Error(`tfjs refused backend ${info.backend}`);
  await tf.ready();
  return `Flawscope WASM SIMD kernels (${info.kernels.length} kernels, ${info.threads} threads, ${info.variant})`;
}

/**
 * `webgpu` in Node: Dawn (the optional npm `webgpu`) must provide navigator.gpu and tfjs's WebGPU
 * backend before the scorer picks it; a missing package or adapter is the scorer's BACKEND error.
 */
async function startDawn(): Promise<void> {
  const { startWebGpuBackend, NO_ADAPTER_HINT } = await import('./webgpu');
  try {
    await startWebGpuBackend();
  } catch (e) {
    throw new ScorerError('BACKEND', `WebGPU was requested but is unavailable: ${errorText(e)}. ${NO_ADAPTER_HINT}`);
  }
}

/** Scorer.load for a folder path; Node defaults to the WASM backend (the CLI uses 'fast'). */
export async function loadScorerFromDir(dir: string, opts: LoadOptions = {}): Promise<Scorer> {
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw new ScorerError('MODEL_MISSING', `${dir} is not a folder: pass the model folder (holding model.json and flawscope.json)`);
  } catch (e) {
    if (e instanceof ScorerError) throw e;
    throw new ScorerError('MODEL_MISSING', `model folder ${dir} not found`);
  }
  if (opts.backend === 'webgpu') await startDawn();
  return Scorer.load(folderReader(dir), { backend: 'wasm', fastBackend: startFastKernels, ...opts });
}

/**
 * Decodes an image file at its own resolution: EXIF orientation applied, alpha flattened onto
 * black, 8 bits per channel, 1 channel for greyscale sources and 3 otherwise (the same sharp
 * pipeline as the trainer's reader, without its resize). Throws ScorerError naming the file.
 */
export async function decodeImageFile(path: string, maxPixels = DEFAULT_LIMITS.maxPixels): Promise<PixelImage & { data: Uint8Array }> {
  // Only regular files: opening a FIFO (or a socket) named *.png blocks libvips forever.
  let st;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    throw new ScorerError('IMAGE_INVALID', `${path}: cannot read (${errorText(e)})`);
  }
  if (!st.isFile()) throw new ScorerError('IMAGE_INVALID', `${path}: not a regular file (${st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a named pipe' : 'a device or socket'}); only image files can be scored`);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (e) {
    // sharp calls a file it may not open "unsupported image format": say what is wrong.
    const denied = await fsp.access(path, fsConstants.R_OK).then(() => null, (err: NodeJS.ErrnoException) => err);
    if (denied) throw new ScorerError('IMAGE_INVALID', `${path}: cannot read: ${denied.code === 'EACCES' || denied.code === 'EPERM' ? `permission denied (${denied.code}); fix its permissions (chmod)` : errorText(denied)}`);
    throw new ScorerError('IMAGE_INVALID', `${path}: not a readable image (${errorText(e).split('\n')[0]})`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const w = (swap ? meta.height : meta.width) ?? 0, h = (swap ? meta.width : meta.height) ?? 0;
  checkSize(w, h, { ...DEFAULT_LIMITS, maxPixels }, path);
  const grey = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2;
  try {
    let img = sharp(path, { limitInputPixels: maxPixels, failOn: 'warning', animated: false }).autoOrient().flatten({ background: '#000000' });
    img = grey ? img.toColourspace('b-w') : img.toColourspace('srgb');
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    let px = new Uint8Array(data.buffer, data.byteOffset, data.length);
    let c = info.channels;
    const want = grey ? 1 : 3;
    if (c !== want) {
      const n = info.width * info.height, out = new Uint8Array(n * want);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < want; k++) out[i * want + k] = px[i * c + Math.min(k, c - 1)];
      px = out;
      c = want;
    }
    return { data: px, width: info.width, height: info.height, channels: c };
  } catch (e) {
    throw new ScorerError('IMAGE_INVALID', `${path}: cannot decode (${errorText(e).split('\n')[0]})`);
  }
}

/** The temporary name writePng writes `path` under (the pid lets a later run tell a dead writer's). */
export function pngTempPath(path: string, pid = process.pid): string {
  return join(dirname(path), `.${basename(path)}.${pid}.tmp`);
}

/** Writes RGBA pixels as a PNG (to a temporary name, then renamed: no partial files). */
export async function writePng(path: string, rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Promise<void> {
  const tmp = pngTempPath(path);
  await sweepDeadPngTemps(path);
  try {
    await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } }).png().toFile(tmp);
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * A writer killed outright (SIGKILL: no handler runs) leaves `.NAME.PID.tmp`; the next write of
 * NAME removes those whose pid no longer runs. Only that exact name beside `path`: a running
 * writer's temp, and anything else in the folder, is left alone.
 */
async function sweepDeadPngTemps(path: string): Promise<void> {
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^\\.${base}\\.(\\d+)\\.tmp$`);
  for (const name of await fsp.readdir(dirname(path)).catch(() => [] as string[])) {
    const m = re.exec(name);
    if (m && !pidRuns(Number(m[1]))) await fsp.rm(join(dirname(path), name), { force: true }).catch(() => {});
  }
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Node turns file names into strings as UTF-8, and bytes that are not UTF-8 (a Latin-1 "é" is
 * the byte E9) into U+FFFD, both in process.argv and in readdir: the string then names another,
 * missing file. Such a name cannot be opened through a string path, so it is reported as what it is.
 */
function notUtf8(shown: string): string {
  return `${shown}: the file name is not valid UTF-8 (its bytes are not text in the UTF-8 encoding, e.g. Latin-1), so it cannot be opened by name here: rename it to UTF-8 (convmv -f latin1 -t utf8 --notest NAME) and score it again`;
}

/** A name's bytes as text, each byte that is not printable ASCII as \xNN. */
function escapeBytes(b: Buffer): string {
  return Array.from(b, (x) => (x >= 0x20 && x < 0x7f && x !== 0x5c ? String.fromCharCode(x) : `\\x${x.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** Image files named on the command line: files as given, folders walked recursively (sorted; symlink loops skipped). */
export async function collectImages(paths: string[]): Promise<{ files: string[]; problems: string[] }> {
  const files: string[] = [], problems: string[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string) => {
    let real: string;
    try { real = realpathSync(dir); } catch (e) { problems.push(`${dir}: ${errorText(e)}`); return; }
    if (seen.has(real)) return;
    seen.add(real);
    let raw;
    try { raw = await fsp.readdir(dir, { withFileTypes: true, encoding: 'buffer' }); } catch (e) { problems.push(`${dir}: cannot list (${errorText(e)})`); return; }
    const ents: Array<{ name: string; e: (typeof raw)[number] }> = [];
    for (const e of raw) {
      const name = e.name.toString('utf8');
      if (Buffer.from(name, 'utf8').equals(e.name)) ents.push({ name, e });
      else if (e.isDirectory() || e.isSymbolicLink() || (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase())) problems.push(notUtf8(join(dir, escapeBytes(e.name))));
    }
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { name, e } of ents) {
      const p = join(dir, name);
      let isDir = e.isDirectory(), isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try { const st = await fsp.stat(p); isDir = st.isDirectory(); isFile = st.isFile(); } catch { problems.push(`${p}: broken link`); continue; }
      }
      if (isDir) await walk(p);
      else if (isFile && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase())) files.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try { st = await fsp.stat(p); } catch { problems.push(p.includes('\uFFFD') ? notUtf8(p) : `${p}: not found`); continue; }
    if (st.isDirectory()) {
      const before = files.length, told = problems.length;
      await walk(p);
      if (files.length === before && problems.length === told) problems.push(`${p}: no image files (${IMAGE_EXTENSIONS.join(' ')}) in this folder`);
    } else files.push(p);
  }
  return { files, problems };
}

export { runScoreCommand } from './cli-score';
