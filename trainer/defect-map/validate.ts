/**
 * Stage 2's validation and the photo-level figures of a defect-map training: the fixed seeded
 * validation tiles an epoch is judged on, the batch tensors, and the whole-photo evaluation
 * (image scores by every rule, pixel AUROC, AUPRO) that chooses the image-score rule and reports
 * the test figures.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { MODEL_FILE, type ModelInfo } from '../../scorer/model-format';
import { NORMALIZATION } from '../../scorer/preprocess';
import type { MapBatch, MapData, PhotoRef } from '../data/map-data';
import { auroc } from '../metrics';
import { ProCurve } from '../metrics/aupro';
import { WEIGHTS_FILE } from '../model-folder';
import { Rng } from '../rng';
import { DEFAULT_MAP_LOSS, mapLoss, type MapLossOptions } from './loss';
import { IMAGE_SCORE_RULES, imageScore, photoMapsAt, PixelRoc, ruleName, tileMaps } from './evaluate';

const VAL_NORMAL_TILES = 1024;
const VAL_DEFECT_TILES = 512;

export function seededPick(n: number, k: number, rng: Rng): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from(rng.permutation(n).subarray(0, k)).sort((a, b) => a - b);
}

export interface Tiles { pixels: Uint8Array; mask: Uint8Array | null; isAnomaly: Uint8Array; n: number }

/** A fixed seeded subset of the validation tiles (all defect tiles up to VAL_DEFECT_TILES, normals up to VAL_NORMAL_TILES). */
export async function validationTiles(d: MapData, seed: number): Promise<Tiles> {
  const v = d.training.validation;
  const rng = new Rng(seed ^ 0x7a11);
  const normals: number[] = [], defects: number[] = [];
  v.isAnomaly.forEach((a, i) => (a ? defects : normals).push(i));
  const pick = [...seededPick(normals.length, VAL_NORMAL_TILES, rng).map((i) => normals[i]), ...seededPick(defects.length, VAL_DEFECT_TILES, rng).map((i) => defects[i])];
  const pixels = await v.images.readBatch(pick);
  const mask = v.masks ? Uint8Array.from(await v.masks.readBatch(pick), (m) => (m >= 128 ? 1 : 0)) : null;
  return { pixels, mask, isAnomaly: Uint8Array.from(pick, (i) => v.isAnomaly[i]), n: pick.length };
}

export function tensors(b: MapBatch, h: number, w: number, c: number) {
  const f = new Float32Array(b.pixels.length);
  for (let i = 0; i < f.length; i++) f[i] = b.pixels[i] * NORMALIZATION.scale + NORMALIZATION.offset;
  return {
    x: tf.tensor4d(f, [b.count, h, w, c]),
    targets: {
      mask: tf.tensor4d(Float32Array.from(b.mask), [b.count, h, w, 1]),
      hasMask: tf.tensor1d(b.hasMask), label: tf.tensor1d(b.label), imageOnly: tf.tensor1d(b.imageOnly),
    },
  };
}

export interface TileEval { loss: number; pixelAuroc: number | null; tileAuroc: Record<string, number | null>; select: number }

export async function evaluateTiles(gen: tfl.LayersModel, net: tfl.LayersModel, t: Tiles, h: number, w: number, c: number, lossOptions: MapLossOptions = DEFAULT_MAP_LOSS): Promise<TileEval> {
  const maps = await tileMaps(gen, net, t.pixels, t.n, h, w, c);
  const per = h * w;
  // Validation loss: the training loss on these tiles (normal tiles: known all-normal pixels; defect tiles: their mask, or MIL without one).
  let loss = 0;
  for (let i = 0; i < t.n; i += 128) {
    const k = Math.min(128, t.n - i);
    const hasMask = Float32Array.from({ length: k }, (_, j) => (!t.isAnomaly[i + j] || t.mask ? 1 : 0));
    const l = tf.tidy(() => {
      const p = tf.tensor4d(maps.subarray(i * per, (i + k) * per), [k, h, w, 1]);
      const m = tf.tensor4d(t.mask ? Float32Array.from(t.mask.subarray(i * per, (i + k) * per)) : new Float32Array(k * per), [k, h, w, 1]);
      const parts = mapLoss(p, { mask: m, hasMask: tf.tensor1d(hasMask), label: tf.tensor1d(Float32Array.from(t.isAnomaly.subarray(i, i + k))), imageOnly: tf.tensor1d(hasMask.map((v) => 1 - v)) }, lossOptions);
      return parts.total;
    });
    loss += (await l.data())[0] * k;
    l.dispose();
  }
  let pixelAuroc: number | null = null;
  if (t.mask) {
    const roc = new PixelRoc();
    roc.add(maps, t.mask);
    const a = roc.auroc();
    pixelAuroc = Number.isNaN(a) ? null : a;
  }
  const tileAuroc: Record<string, number | null> = {};
  for (const r of IMAGE_SCORE_RULES) {
    const s = Array.from({ length: t.n }, (_, i) => imageScore(maps.subarray(i * per, (i + 1) * per), w, h, r));
    const a = auroc(s, t.isAnomaly);
    tileAuroc[ruleName(r)] = Number.isNaN(a) ? null : a;
  }
  const best = Math.max(...Object.values(tileAuroc).map((v) => v ?? 0));
  return { loss: loss / t.n, pixelAuroc, tileAuroc, select: pixelAuroc === null ? best : (best + pixelAuroc) / 2 };
}

export interface PhotoEval { scores: Record<string, number[]>; labels: number[]; pixelAuroc: number | null; aupro: number | null; classes: string[] }

/** Image scores by every rule, pixel AUROC and AUPRO (trainer/metrics/aupro.ts) over whole photos, made as a scorer makes them. */
export async function evaluatePhotos(gen: tfl.LayersModel, net: tfl.LayersModel, photos: PhotoRef[], info: ModelInfo, maxPixels?: number): Promise<PhotoEval> {
  const prep = info.preprocess ?? { mode: 'resize', scale: 1 };
  return (await evaluatePhotosAt(gen, net, photos, info, [prep.mode === 'tile' ? prep.tileStride ?? info.input.width : info.input.width], maxPixels))[0];
}

/** evaluatePhotos at several tile strides (`[i]` at `strides[i]`), each distinct tile through the networks once (photoMapsAt). */
export async function evaluatePhotosAt(gen: tfl.LayersModel, net: tfl.LayersModel, photos: PhotoRef[], info: ModelInfo, strides: readonly number[], maxPixels?: number): Promise<PhotoEval[]> {
  const prep = info.preprocess ?? { mode: 'resize', scale: 1 };
  const acc = strides.map(() => ({ scores: Object.fromEntries(IMAGE_SCORE_RULES.map((r) => [ruleName(r), [] as number[]])), roc: new PixelRoc(), pro: new ProCurve() }));
  let masked = false;
  for (const ph of photos) {
    const m = await photoMapsAt(gen, net, ph, info.input, prep, strides, maxPixels);
    m.maps.forEach((map, k) => {
      const a = acc[k];
      for (const r of IMAGE_SCORE_RULES) a.scores[ruleName(r)].push(imageScore(map, m.w, m.h, r));
      if (m.mask || !ph.isAnomaly) {
        const mask = m.mask ?? new Uint8Array(map.length);
        a.roc.add(map, mask);
        a.pro.add(map, mask, m.w, m.h);
      }
    });
    masked ||= !!m.mask;
  }
  return acc.map(({ scores, roc, pro }) => {
    const a = roc.auroc();
    const ap = pro.aupro();
    return { scores, labels: photos.map((p) => p.isAnomaly), pixelAuroc: masked && !Number.isNaN(a) ? a : null, aupro: masked && !Number.isNaN(ap) ? ap : null, classes: photos.map((p) => p.className) };
  });
}

export const nullable = (a: number) => (Number.isNaN(a) ? null : a);

export async function loadGenerator(dir: string): Promise<tfl.LayersModel> {
  const j = JSON.parse(await fs.readFile(join(dir, MODEL_FILE), 'utf8'));
  const w = await fs.readFile(join(dir, WEIGHTS_FILE));
  const data = w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: data }));
}

