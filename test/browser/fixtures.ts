/**
 * Test helpers for the scorer tests: a model folder from the trainer's generator (random or
 * hand-set weights), deterministic test images, and Magnetic-tile samples.
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGenerator } from '../../trainer/model';
import { modelArtifacts, writeModelFolder } from '../../trainer/model-folder';
import { buildDefectMap, MAP_INPUTS, type MapArchitecture } from '../../trainer/defect-map/network';
import { DEFECTS_PRESET, MAP_FILE, MAP_WEIGHTS_FILE } from '../../trainer/defect-map/train-map';
import { strideCandidates } from '../../trainer/defect-map/photo-scoring';
import { defaultPatchSpec, formatVersionFor, type FlipMode, type ModelInfo, type ScoreKind, type ShiftMode } from '../../scorer/model-format';
import { SHARED_DATA } from '../helpers/shared';

export interface FolderSpec {
  height: number;
  width: number;
  channels: 1 | 3;
  seed?: number;
  kind?: ScoreKind;
  threshold?: number;
  /** Replace all weights: kernels and biases zero except the last layer's bias → G(x) = tanh(bias) everywhere (a "mean image" reconstructor). */
  constantOutput?: number;
  /** How scoring feeds images (default: tiles at the image's own scale). */
  preprocess?: ModelInfo['preprocess'];
  /** score.flip (absent: not written, the paper's score). */
  flip?: FlipMode;
  /** score.shift (likewise). */
  shift?: ShiftMode;
}

export function info(spec: FolderSpec): ModelInfo {
  return {
    formatVersion: formatVersionFor({ preprocess: spec.preprocess, score: { flip: spec.flip, shift: spec.shift } }),
    input: { height: spec.height, width: spec.width, channels: spec.channels },
    normalization: { scale: 1 / 127.5, offset: -1 },
    score: { kind: spec.kind ?? 'mean', patch: defaultPatchSpec(Math.min(spec.height, spec.width)), ...(spec.flip ? { flip: spec.flip } : {}), ...(spec.shift ? { shift: spec.shift } : {}) },
    preprocess: spec.preprocess ?? { mode: 'tile', scale: 1 },
    threshold: spec.threshold ?? 0.3,
    normalStats: { mean: 0.2, std: 0.05, p95: 0.28, p99: 0.3, count: 10 },
    dataset: { name: 'test' },
    config: {},
    metrics: {},
    backend: 'test',
    createdAt: new Date(0).toISOString(),
    trainingSeconds: 0,
  };
}

/** Writes a complete model folder with the trainer's writer; returns its path. Needs a tfjs backend set. */
export async function makeModelFolder(dir: string, spec: FolderSpec): Promise<string> {
  const g = buildGenerator({ height: spec.height, width: spec.width, channels: spec.channels }, spec.seed ?? 1);
  if (spec.constantOutput !== undefined) {
    const ws = g.getWeights();
    const zeroed = ws.map((w) => tf.zerosLike(w));
    // getWeights() follows layer order: the last tensor is dec4's bias (the tanh layer).
    zeroed[ws.length - 1].dispose();
    zeroed[ws.length - 1] = tf.fill([spec.channels], Math.atanh(spec.constantOutput));
    g.setWeights(zeroed);
    tf.dispose(zeroed);
  }
  await writeModelFolder(dir, g, info(spec), { force: true });
  g.dispose();
  return dir;
}

/**
 * Adds a defect map (docs/defect-map.md) with random weights to a model folder: 3x3 convolutions
 * of `hidden` filters (two, ReLU) and a 1x1 sigmoid, about the size a small learned map would be;
 * flawscope.json gains `defectMap` and format 6. For timings and plumbing, not for its outputs.
 */
export async function addDefectMap(dir: string, hidden = 16, seed = 1): Promise<string> {
  const info = JSON.parse(readFileSync(join(dir, 'flawscope.json'), 'utf8')) as ModelInfo;
  const { height: H, width: W, channels: C } = info.input;
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 10 + k });
  const input = tfl.input({ shape: [H, W, 3 * C] });
  let x = tfl.layers.conv2d({ filters: hidden, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: hidden, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid', kernelInitializer: init(3) }).apply(x) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: input, outputs: x });
  await m.save(tf.io.withSaveHandler(async (a) => {
    writeFileSync(join(dir, 'defect-map.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['defect-map.bin'], weights: a.weightSpecs }] }));
    writeFileSync(join(dir, 'defect-map.bin'), new Uint8Array(a.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  m.dispose();
  const withMap = { ...info, defectMap: { file: 'defect-map.json', inputs: ['image', 'reconstruction', 'difference'], imageScore: { kind: 'max', smooth: 5 } } };
  writeFileSync(join(dir, 'flawscope.json'), JSON.stringify({ ...withMap, formatVersion: formatVersionFor(withMap) }, null, 2));
  return dir;
}

/**
 * A model folder shaped as `flawscope train --preset defects` writes it, with random weights: the
 * generator of trainer/model.ts at 64x64xC, the defect map of trainer/defect-map/network.ts
 * (input-norm layer included, with input statistics of the order measured on Magnetic tile),
 * tiles at the photo's own scale, stride 32 (the finer of the preset's two candidates,
 * photo-scoring.ts strideCandidates), and the map's "max of a 5x5 mean" image score. For timings and plumbing: its scores mean nothing.
 */
export async function presetModelFolder(dir: string, channels: 1 | 3, seed = 1, architecture: MapArchitecture = 'unet'): Promise<string> {
  const size = DEFECTS_PRESET.size;
  await makeModelFolder(dir, { height: size, width: size, channels, seed, kind: 'topPatch', preprocess: { mode: 'tile', scale: 1, tileStride: strideCandidates(size).at(-1)! } });
  const stat = (x: number, r: number, d: number) => [...Array(channels).fill(x), ...Array(channels).fill(r), ...Array(channels).fill(d)];
  const net = buildDefectMap({ height: size, width: size, channels }, seed, { inputStats: { mean: stat(0, 0, 0.03), std: stat(0.37, 0.35, 0.035) }, architecture });
  const art = await modelArtifacts(net);
  net.dispose();
  const json = JSON.parse(art.modelJson);
  json.weightsManifest[0].paths = [MAP_WEIGHTS_FILE];
  writeFileSync(join(dir, MAP_FILE), JSON.stringify(json));
  writeFileSync(join(dir, MAP_WEIGHTS_FILE), art.weights);
  const base = JSON.parse(readFileSync(join(dir, 'flawscope.json'), 'utf8')) as ModelInfo;
  const withMap = { ...base, defectMap: { file: MAP_FILE, inputs: [...MAP_INPUTS], imageScore: { kind: 'max', smooth: 5 } } };
  writeFileSync(join(dir, 'flawscope.json'), JSON.stringify({ ...withMap, formatVersion: formatVersionFor(withMap as ModelInfo) }, null, 2));
  return dir;
}

/** A copy of a model folder without its defect map (the generator alone, as format 5 and earlier score). */
export function withoutDefectMap(src: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['model.json', 'weights.bin']) cpSync(join(src, f), join(dir, f));
  const { defectMap: _, ...rest } = JSON.parse(readFileSync(join(src, 'flawscope.json'), 'utf8')) as ModelInfo;
  writeFileSync(join(dir, 'flawscope.json'), JSON.stringify({ ...rest, formatVersion: formatVersionFor(rest as ModelInfo) }, null, 2));
  return dir;
}

export function tempDir(prefix = 'flawscope-scorer-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Deterministic pseudo-random uint8 image with some structure (gradients + noise + a blob). */
export function testImage(w: number, h: number, c: number, seed = 1): { data: Uint8Array; width: number; height: number; channels: number } {
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const d = new Uint8Array(w * h * c);
  const bx = rnd() * w, by = rnd() * h, br = 3 + rnd() * Math.min(w, h) * 0.2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        const blob = (x - bx) ** 2 + (y - by) ** 2 < br * br ? 90 : 0;
        d[(y * w + x) * c + k] = Math.max(0, Math.min(255, Math.round(40 + (150 * x) / w + (40 * y) / h + k * 10 + blob + rnd() * 30)));
      }
  return { data: d, width: w, height: h, channels: c };
}

const MT_TAR = join(SHARED_DATA, 'magnetic-tile/magnetic-tile.tar.gz');
let mtRoot: string | null = null;

/** Unpacks the Magnetic-tile set once per process (only the MT_Blowhole class) into a temp dir; null when unavailable. */
export function magneticTile(): string | null {
  if (mtRoot) return mtRoot;
  if (!existsSync(MT_TAR)) return null;
  const dir = tempDir('flawscope-mt-');
  execFileSync('tar', ['-xzf', MT_TAR, '-C', dir, '--wildcards', '*MT_Blowhole*'], { stdio: 'ignore' });
  mtRoot = dir;
  return dir;
}

export function findMtImages(root: string, cls: string): Array<{ image: string; mask: string }> {
  const out: Array<{ image: string; mask: string }> = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes(cls) && e.name.endsWith('.jpg') && existsSync(p.replace(/\.jpg$/, '.png'))) out.push({ image: p, mask: p.replace(/\.jpg$/, '.png') });
    }
  };
  walk(root);
  return out.sort((a, b) => (a.image < b.image ? -1 : 1));
}
