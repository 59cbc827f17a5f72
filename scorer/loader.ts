/**
 * Reads a model folder (model.json + weight files + flawscope.json) from any source and checks it
 * thoroughly before tfjs sees it, so bad folders give a clear error instead of a crash or a hang.
 */
import * as tf from '@tensorflow/tfjs-core';
import { INFO_FILE, MODEL_FILE, parseModelInfo, type ModelInfo } from './model-format';
import { ScorerError, errorText, withTimeout } from './errors';

/** Anything that can hand out the files of a model folder by name. `read` returns null for a missing file. */
export interface ModelFileReader {
  /** For messages, e.g. the folder path or URL. */
  describe: string;
  read(name: string): Promise<Uint8Array | null>;
}

/**
 * Where a model comes from:
 * - a URL string / URL of the folder (or of its model.json);
 * - File objects (an `<input type=file webkitdirectory multiple>` FileList, a drop's files), matched by name;
 * - a map of file name → Blob / ArrayBuffer / Uint8Array;
 * - a ModelFileReader (the Node adapter passes one that reads a folder).
 */
export type ModelSource =
  | string
  | URL
  | FileList
  | ArrayLike<File>
  | Record<string, Blob | ArrayBuffer | Uint8Array>
  | ModelFileReader;

export interface ReadOptions {
  fetchTimeoutMs?: number;
  fetch?: typeof fetch;
}

const baseName = (p: string) => p.replace(/\\/g, '/').split('/').filter(Boolean).pop() ?? p;

/**
 * Why a weight path from model.json may not be read, or null when it is a plain relative path
 * inside the model folder. Checked on the text and on its percent-decoded form, because a URL
 * reader hands the text to `new URL` (which treats `%2e%2e` as `..` and `\\` as `/`) and a
 * server may decode `%2f` to `/` after any check made here.
 */
export function weightPathProblem(p: unknown): string | null {
  if (typeof p !== 'string' || p === '') return 'is not a file name';
  if (p.length > 512) return 'is over 512 characters';
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return 'has a malformed %-escape';
  }
  for (const t of [p, decoded]) {
    if (/[\u0000-\u001f\u007f-\u009f]/.test(t)) return 'holds control characters';
    if (t.includes('\\')) return 'holds a backslash';
    if (t.startsWith('/')) return 'is absolute';
    if (/^[a-z][a-z0-9+.-]*:/i.test(t)) return 'is a URL';
    if (/[?#]/.test(t)) return 'holds "?" or "#"';
    if (t.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) return 'leaves the model folder or has empty or "." / ".." parts';
  }
  if (decoded !== p && decoded.includes('%')) return 'is escaped twice';
  return null;
}

/**
 * The URL of a model file named `name`, refused unless it stays under the model folder: same
 * origin and the folder's path as a prefix. The last line of defence behind weightPathProblem,
 * for whatever else `new URL` resolves differently from a plain file name.
 */
export function insideBase(name: string, base: URL): URL {
  let url: URL | null = null;
  try {
    url = new URL(name, base);
  } catch {
    /* refused below */
  }
  if (!url || url.origin !== base.origin || url.protocol !== base.protocol || !url.pathname.startsWith(base.pathname))
    throw new ScorerError('MODEL_CORRUPT', `a model file (${MODEL_FILE}, or the defect map's) names ${JSON.stringify(name).slice(0, 200)}, which resolves outside the model folder ${base.href}: refused`);
  return url;
}

function urlReader(src: string | URL, opts: ReadOptions): ModelFileReader {
  let base: URL;
  try {
    base = new URL(String(src), typeof location !== 'undefined' ? location.href : undefined);
  } catch {
    throw new ScorerError('MODEL_MISSING', `not a URL: ${String(src)} (in Node, load a folder with loadScorerFromDir from scorer/node)`);
  }
  if (base.pathname.endsWith('.json')) base = new URL('./', base);
  else if (!base.pathname.endsWith('/')) base = new URL(base.pathname + '/' + base.search, base);
  const f = opts.fetch ?? globalThis.fetch;
  const ms = opts.fetchTimeoutMs ?? 30000;
  return {
    describe: base.href,
    async read(name) {
      const url = insideBase(name, base);
      const ctl = typeof AbortController !== 'undefined' ? new AbortController() : undefined;
      const timer = setTimeout(() => ctl?.abort(), ms);
      try {
        const res = await withTimeout(f(url.href, { signal: ctl?.signal }), ms + 100, `fetching ${url.href}`);
        if (res.status === 404 || res.status === 410) return null;
        if (!res.ok) throw new ScorerError('MODEL_MISSING', `${url.href}: HTTP ${res.status} ${res.statusText}`);
        return new Uint8Array(await withTimeout(res.arrayBuffer(), ms + 100, `reading ${url.href}`));
      } catch (e) {
        if (e instanceof ScorerError) throw e;
        if ((e as Error)?.name === 'AbortError') throw new ScorerError('TIMEOUT', `fetching ${url.href} took longer than ${ms} ms`);
        // file:// pages and network errors: fetch rejects with TypeError
        throw new ScorerError('MODEL_MISSING', `could not fetch ${url.href}: ${errorText(e)}`);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

async function blobBytes(b: Blob | ArrayBuffer | Uint8Array): Promise<Uint8Array> {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  return new Uint8Array(await b.arrayBuffer());
}

function fileListReader(files: ArrayLike<File>): ModelFileReader {
  const byName = new Map<string, File[]>();
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const k = baseName(f.name);
    byName.set(k, [...(byName.get(k) ?? []), f]);
  }
  return {
    describe: `${files.length} selected file(s)`,
    async read(name) {
      const hits = byName.get(baseName(name));
      if (!hits) return null;
      if (hits.length > 1)
        throw new ScorerError('MODEL_CORRUPT', `${hits.length} files named ${baseName(name)} were given: pick the files of one model folder`);
      return blobBytes(hits[0]);
    },
  };
}

function mapReader(m: Record<string, Blob | ArrayBuffer | Uint8Array>): ModelFileReader {
  const byName = new Map(Object.entries(m).map(([k, v]) => [baseName(k), v]));
  return {
    describe: 'in-memory model files',
    async read(name) {
      const v = byName.get(baseName(name));
      return v === undefined ? null : blobBytes(v);
    },
  };
}

export function toReader(source: ModelSource, opts: ReadOptions = {}): ModelFileReader {
  if (typeof source === 'string' || source instanceof URL) return urlReader(source, opts);
  if (source && typeof (source as ModelFileReader).read === 'function') return source as ModelFileReader;
  if (source && typeof (source as ArrayLike<File>).length === 'number') return fileListReader(source as ArrayLike<File>);
  if (source && typeof source === 'object') return mapReader(source as Record<string, Blob>);
  throw new ScorerError('MODEL_MISSING', 'no model source given (a URL, the model folder files, or a Node folder path via scorer/node)');
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

interface WeightsGroup { paths: string[]; weights: tf.io.WeightsManifestEntry[] }

/**
 * What model.json's weightsManifest may declare. A Flawscope generator is one group, one file and
 * a few dozen weights of under 2 MB at 128 px; these leave room for sharded or converted models
 * while keeping a hostile manifest from costing more than a moment and its declared bytes.
 */
export const MANIFEST_LIMITS = { groups: 64, paths: 256, weights: 4096, bytes: 256 * 2 ** 20 } as const;

/** One tf.io LayersModel of the folder, read and checked. */
export interface NetworkArtifacts {
  artifacts: tf.io.ModelArtifacts;
  /** [H, W, C] from the topology's input layer (or [] when it cannot be found). */
  inputShape: number[];
}

export interface LoadedArtifacts extends NetworkArtifacts {
  info: ModelInfo;
  /** The defect map's network when flawscope.json has `defectMap` (docs/defect-map.md), else null. */
  defectMap: NetworkArtifacts | null;
}

/** Reads and checks model.json, the weight files, flawscope.json and, when it names one, the defect map. Throws ScorerError. */
export async function readModelFolder(reader: ModelFileReader): Promise<LoadedArtifacts> {
  const where = reader.describe;
  const infoBytes = await reader.read(INFO_FILE);
  if (!infoBytes) throw new ScorerError('MODEL_MISSING', `${INFO_FILE} not found in ${where}: is this a Flawscope model folder?`);
  let infoRaw: unknown;
  try {
    infoRaw = JSON.parse(new TextDecoder().decode(infoBytes));
  } catch (e) {
    throw new ScorerError('INFO_INVALID', `${INFO_FILE} in ${where} is not valid JSON: ${errorText(e)}`);
  }
  let info: ModelInfo;
  try {
    info = parseModelInfo(infoRaw, `${INFO_FILE} in ${where}`);
  } catch (e) {
    throw new ScorerError('INFO_INVALID', errorText(e));
  }
  const generator = await readNetwork(reader, MODEL_FILE, '');
  const defectMap = info.defectMap ? await readNetwork(reader, info.defectMap.file, ` (named by "defectMap.file" in ${INFO_FILE}; the model's defect map)`) : null;
  return { ...generator, info, defectMap };
}

/**
 * Reads one tf.io LayersModel (`file` and the weight files its manifest names) with every check
 * the generator's model.json gets, so the defect map's files are held to the same limits and may
 * name only files inside the model folder. `why` follows the file's name in a "not found" message.
 */
async function readNetwork(reader: ModelFileReader, file: string, why: string): Promise<NetworkArtifacts> {
  const where = reader.describe;
  const mj = await reader.read(file);
  if (!mj) throw new ScorerError('MODEL_MISSING', `${file}${why} not found in ${where}`);
  let model: any;
  try {
    model = JSON.parse(new TextDecoder().decode(mj));
  } catch (e) {
    throw new ScorerError('MODEL_CORRUPT', `${file} in ${where} is not valid JSON (${mj.length} bytes): ${errorText(e)}`);
  }
  if (!model || typeof model !== 'object' || !model.modelTopology || typeof model.modelTopology !== 'object')
    throw new ScorerError('MODEL_CORRUPT', `${file} in ${where} has no "modelTopology": not a tf.io LayersModel`);
  const groups: WeightsGroup[] = model.weightsManifest;
  if (!Array.isArray(groups) || groups.some((g) => !g || !Array.isArray(g.paths) || !Array.isArray(g.weights)))
    throw new ScorerError('MODEL_CORRUPT', `${file} in ${where} has no valid "weightsManifest"`);

  // Everything the manifest declares is counted and checked before any file is read: a small
  // model.json naming the same weight file in thousands of groups, or shapes of 1e9 elements,
  // would otherwise make the reader allocate gigabytes.
  const bad = (m: string): never => {
    throw new ScorerError('MODEL_CORRUPT', `${file} in ${where}: ${m}`);
  };
  if (groups.length > MANIFEST_LIMITS.groups) bad(`"weightsManifest" has ${groups.length} groups, over the limit of ${MANIFEST_LIMITS.groups}`);
  const seenPaths = new Set<string>();
  let entries = 0, declared = 0;
  const expectedOf: number[] = [];
  for (const g of groups) {
    let expected = 0;
    entries += g.weights.length;
    if (entries > MANIFEST_LIMITS.weights) bad(`"weightsManifest" lists more than ${MANIFEST_LIMITS.weights} weights`);
    for (const w of g.weights) {
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || w.shape.length > 8 || w.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
        bad(`malformed weight entry ${JSON.stringify(w)?.slice(0, 120)}`);
      const dt = w.quantization?.dtype ?? w.dtype;
      const per = BYTES[dt];
      if (!per) bad(`weight ${String(w.name).slice(0, 80)} has unsupported dtype ${String(dt).slice(0, 20)}`);
      expected += per * w.shape.reduce((a, b) => a * b, 1);
      if (!(expected <= MANIFEST_LIMITS.bytes)) break; // reported below with the total
    }
    declared += expected;
    if (!(declared <= MANIFEST_LIMITS.bytes))
      bad(`the weights it declares take over ${MANIFEST_LIMITS.bytes / 2 ** 20} MiB, over the limit for a Flawscope generator (a few MB)`);
    for (const p of g.paths) {
      const why = weightPathProblem(p);
      if (why) bad(`weight path ${JSON.stringify(p)?.slice(0, 200)} ${why}: it must be a plain file name beside ${file}`);
      if (seenPaths.has(p)) bad(`weight file ${p} is named twice in "weightsManifest"`);
      seenPaths.add(p);
      if (seenPaths.size > MANIFEST_LIMITS.paths) bad(`"weightsManifest" names more than ${MANIFEST_LIMITS.paths} weight files`);
    }
    expectedOf.push(expected);
  }

  const specs: tf.io.WeightsManifestEntry[] = groups.flatMap((g) => g.weights);
  const buffers: Uint8Array[] = [];
  for (const [gi, g] of groups.entries()) {
    const expected = expectedOf[gi];
    let got = 0;
    const parts: Uint8Array[] = [];
    for (const p of g.paths) {
      const b = await reader.read(p);
      if (!b) throw new ScorerError('WEIGHTS_MISSING', `weight file ${p} (named in ${file}) not found in ${where}`);
      parts.push(b);
      got += b.length;
      // A weight file far longer than declared is refused before the next one is read.
      if (got > expected) break;
    }
    if (got !== expected)
      throw new ScorerError(
        'WEIGHTS_SIZE',
        `weight file${g.paths.length > 1 ? 's' : ''} ${g.paths.join(', ')} in ${where} hold${g.paths.length > 1 ? '' : 's'} ${got}${got > expected && parts.length < g.paths.length ? '+' : ''} bytes, ` +
          `${file} describes ${expected} bytes (${got < expected ? 'cut short' : 'too long'}: the folder is damaged or mixed from two models)`,
      );
    buffers.push(...parts);
  }
  const total = buffers.reduce((a, b) => a + b.length, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) { all.set(b, off); off += b.length; }

  checkTopologyGraph(model.modelTopology, `${file} in ${where}`);
  const inputShape = topologyInputShape(model.modelTopology);
  return {
    artifacts: { modelTopology: model.modelTopology, weightSpecs: specs, weightData: all.buffer, format: model.format, generatedBy: model.generatedBy, convertedBy: model.convertedBy },
    inputShape,
  };
}

/**
 * Checks that every layer input of a functional topology can be built, by replaying tfjs-layers'
 * own build order on the names alone. tfjs re-queues a node whose input layer or node does not
 * exist and loops forever (synchronously: no timeout can stop it), so a model.json with a missing
 * layer or a cycle must be refused here. Nested models are checked too.
 */
export function checkTopologyGraph(topo: any, where: string): void {
  const cfg = topo?.model_config ?? topo;
  const check = (c: any, path: string) => {
    const layers: any[] = c?.config?.layers;
    if (!Array.isArray(layers)) return;
    const nodesOf = (l: any): any[] => l?.inbound_nodes ?? l?.inboundNodes ?? [];
    const built = new Map<string, number>();
    const pending = new Map<string, any[][]>();
    for (const l of layers) {
      if (!l || typeof l.name !== 'string') throw new ScorerError('MODEL_CORRUPT', `${where}: a layer of ${path} has no name`);
      if (built.has(l.name)) throw new ScorerError('MODEL_CORRUPT', `${where}: layer name "${l.name}" is used twice in ${path}`);
      if (l.config?.layers) check(l, `${path}/${l.name}`);
      const nodes = nodesOf(l);
      if (!Array.isArray(nodes) || nodes.some((n) => !Array.isArray(n)))
        throw new ScorerError('MODEL_CORRUPT', `${where}: layer "${l.name}" has malformed inbound_nodes`);
      built.set(l.name, l.class_name === 'InputLayer' ? 1 : 0);
      pending.set(l.name, nodes.slice());
    }
    const ready = (node: any[]) => node.every((inp) => Array.isArray(inp) && (built.get(inp[0]) ?? 0) > (inp[1] ?? 0));
    for (let progress = true; progress; ) {
      progress = false;
      for (const l of layers) {
        const q = pending.get(l.name)!;
        while (q.length && ready(q[0])) { q.shift(); built.set(l.name, built.get(l.name)! + 1); progress = true; }
      }
    }
    for (const l of layers) {
      const node = pending.get(l.name)![0];
      if (!node) continue;
      const bad = node.find((inp: any) => !Array.isArray(inp) || !((built.get(inp[0]) ?? 0) > (inp[1] ?? 0)));
      const name = Array.isArray(bad) ? bad[0] : JSON.stringify(bad);
      throw new ScorerError('MODEL_CORRUPT', `${where}: layer "${l.name}" takes its input from ${built.has(name) ? `layer "${name}", which is never built (a cycle or a wrong node index)` : `layer "${name}", which is missing`}: the model cannot be built`);
    }
    for (const key of ['input_layers', 'output_layers', 'inputLayers', 'outputLayers']) {
      const list = c.config[key];
      if (list === undefined) continue;
      for (const e of Array.isArray(list) ? list : [list]) {
        const name = Array.isArray(e) ? e[0] : e;
        if (!built.has(name)) throw new ScorerError('MODEL_CORRUPT', `${where}: ${key} names layer "${name}", which is missing: the model cannot be built`);
      }
    }
  };
  check(cfg, 'the model');
}

/** [H, W, C] of the first InputLayer in a Keras topology (or [] when it cannot be found). */
function topologyInputShape(topo: any): number[] {
  const cfg = topo?.model_config ?? topo;
  const layers: any[] = cfg?.config?.layers ?? [];
  for (const l of layers) {
    if (l?.class_name === 'InputLayer') {
      const s = l.config?.batch_input_shape ?? l.config?.batchInputShape;
      if (Array.isArray(s)) return s.slice(1);
    }
  }
  return [];
}
