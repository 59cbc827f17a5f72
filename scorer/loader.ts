/**
 * Reads a model folder (model.json + weight files + flawscope.json) from any source and checks it
 * thoroughly before tfjs sees it, so bad folders give a clear error instead of a crash or a hang.
 */
import * as tf from '@tensorflow/tfjs-core';
import { INFO_FILE, MODEL_FILE, validateModelInfo, type ModelInfo } from './model-format';
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
      const url = new URL(name, base);
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

export interface LoadedArtifacts {
  artifacts: tf.io.ModelArtifacts;
  info: ModelInfo;
  /** [H, W, C] from the topology's input layer. */
  inputShape: number[];
}

/** Reads and checks model.json, the weight files and flawscope.json. Throws ScorerError. */
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
    info = validateModelInfo(infoRaw, `${INFO_FILE} in ${where}`);
  } catch (e) {
    throw new ScorerError('INFO_INVALID', errorText(e));
  }

  const mj = await reader.read(MODEL_FILE);
  if (!mj) throw new ScorerError('MODEL_MISSING', `${MODEL_FILE} not found in ${where}`);
  let model: any;
  try {
    model = JSON.parse(new TextDecoder().decode(mj));
  } catch (e) {
    throw new ScorerError('MODEL_CORRUPT', `${MODEL_FILE} in ${where} is not valid JSON (${mj.length} bytes): ${errorText(e)}`);
  }
  if (!model || typeof model !== 'object' || !model.modelTopology || typeof model.modelTopology !== 'object')
    throw new ScorerError('MODEL_CORRUPT', `${MODEL_FILE} in ${where} has no "modelTopology": not a tf.io LayersModel`);
  const groups: WeightsGroup[] = model.weightsManifest;
  if (!Array.isArray(groups) || groups.some((g) => !g || !Array.isArray(g.paths) || !Array.isArray(g.weights)))
    throw new ScorerError('MODEL_CORRUPT', `${MODEL_FILE} in ${where} has no valid "weightsManifest"`);

  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const g of groups) {
    let expected = 0;
    for (const w of g.weights) {
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || w.shape.some((d) => !Number.isInteger(d) || d < 0))
        throw new ScorerError('MODEL_CORRUPT', `${MODEL_FILE} in ${where}: malformed weight entry ${JSON.stringify(w)?.slice(0, 120)}`);
      const dt = w.quantization?.dtype ?? w.dtype;
      const per = BYTES[dt];
      if (!per) throw new ScorerError('MODEL_CORRUPT', `${MODEL_FILE} in ${where}: weight ${w.name} has unsupported dtype ${dt}`);
      expected += per * w.shape.reduce((a, b) => a * b, 1);
      specs.push(w);
    }
    let got = 0;
    const parts: Uint8Array[] = [];
    for (const p of g.paths) {
      if (typeof p !== 'string' || p.includes('..') || p.startsWith('/') || /^[a-z]+:/i.test(p))
        throw new ScorerError('MODEL_CORRUPT', `${MODEL_FILE} in ${where}: weight path ${JSON.stringify(p)} must be a plain file name beside model.json`);
      const b = await reader.read(p);
      if (!b) throw new ScorerError('WEIGHTS_MISSING', `weight file ${p} (named in ${MODEL_FILE}) not found in ${where}`);
      parts.push(b);
      got += b.length;
    }
    if (got !== expected)
      throw new ScorerError(
        'WEIGHTS_SIZE',
        `weight file${g.paths.length > 1 ? 's' : ''} ${g.paths.join(', ')} in ${where} hold${g.paths.length > 1 ? '' : 's'} ${got} bytes, ` +
          `${MODEL_FILE} describes ${expected} bytes (${got < expected ? 'cut short' : 'too long'}: the folder is damaged or mixed from two models)`,
      );
    buffers.push(...parts);
  }
  const total = buffers.reduce((a, b) => a + b.length, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) { all.set(b, off); off += b.length; }

  checkTopologyGraph(model.modelTopology, `${MODEL_FILE} in ${where}`);
  const inputShape = topologyInputShape(model.modelTopology);
  return {
    artifacts: { modelTopology: model.modelTopology, weightSpecs: specs, weightData: all.buffer, format: model.format, generatedBy: model.generatedBy, convertedBy: model.convertedBy },
    info,
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
