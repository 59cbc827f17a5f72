/**
 * Do a BN map's moving statistics, kept from training batches that are half defect tiles, score
 * differently from statistics of normal tiles only (J71)? bnStatsCheck is called by
 * scripts/defect-map-recipe.ts for BN variants; run alone it checks a `--preset defects`
 * checkpoint's map (OUT.checkpoint, kept when the time budget ends), reading nothing else and
 * writing nothing:
 *
 *   node --import tsx scripts/defect-map-bn-stats.ts DATA_DIR CHECKPOINT_DIR
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadMapData, type MapData } from '../trainer/data/map-data';
import { evaluateTiles, loadGenerator, validationTiles, type Tiles } from '../trainer/defect-map/validate';
import { MapBatchNorm } from '../trainer/defect-map/batch-norm';
import { buildDefectMap } from '../trainer/defect-map/network';
import { mapInput } from '../trainer/defect-map/evaluate';
import { GENERATOR_DIR, readMapCheckpoint, numbered } from '../trainer/defect-map/map-checkpoint';
import { selectTrainingBackend } from '../trainer/backend';
import { Rng } from '../trainer/rng';
import { INFO_FILE, type ModelInfo } from '../scorer/model-format';
import { NORMALIZATION } from '../scorer/preprocess';

/**
 * Do the moving statistics of half-defect batches matter? Re-estimates every BN layer's
 * statistics as the plain average over NORMAL-only training batches (the batch mean and biased
 * variance each, as training keeps them), scores the validation tiles with them, then puts the
 * trained statistics back.
 */
export async function bnStatsCheck(net: tfl.LayersModel, gen: tfl.LayersModel, d: MapData, val: Tiles, H: number, W: number, C: number): Promise<string> {
  const layers = net.layers.filter((l): l is MapBatchNorm => l instanceof MapBatchNorm);
  const saved = net.getWeights().map((t) => tf.clone(t));
  const normal = d.training.normal;
  const rng = new Rng(0x57a75);
  const batches = 40;
  for (let b = 0; b < batches; b++) {
    layers.forEach((l) => (l.momentum = b / (b + 1)));
    const idx = Array.from({ length: 32 }, () => Math.floor(rng.next() * normal.count));
    const px = await normal.readBatch(idx);
    const f = Float32Array.from(px, (p) => p * NORMALIZATION.scale + NORMALIZATION.offset);
    tf.tidy(() => { net.apply(mapInput(gen, tf.tensor4d(f, [32, H, W, C])), { training: true }); });
  }
  layers.forEach((l) => (l.momentum = 0.99));
  const ev = await evaluateTiles(gen, net, val, H, W, C);
  net.setWeights(saved);
  saved.forEach((t) => t.dispose());
  return `  BN statistics re-estimated on ${batches} normal-only batches: val tiles pixel ${(ev.pixelAuroc ?? NaN).toFixed(4)} select ${ev.select.toFixed(4)} (the trained moving statistics restored after)`;
}


async function main() {
  const [dataDir, ckptDir] = process.argv.slice(2);
  const ck = await readMapCheckpoint(ckptDir, () => selectTrainingBackend('auto'));
  const ms = ck.state.defectMap;
  if (!ms.batchNorm) throw new Error(`${ckptDir}: the map has no batch normalisation`);
  const info = JSON.parse(await fs.readFile(join(ckptDir, GENERATOR_DIR, INFO_FILE), 'utf8')) as ModelInfo;
  const { height: H, width: W, channels: C } = info.input;
  const d = await loadMapData({ root: dataDir, size: H, channels: C, seed: ck.cfg.seed, validationFraction: ck.cfg.validationFraction, protocol: 'defect', balance: 'false', augment: 'none' });
  const gen = await loadGenerator(join(ckptDir, GENERATOR_DIR));
  const val = await validationTiles(d, ck.cfg.seed);
  const net = buildDefectMap(info.input, ck.cfg.seed, { inputStats: { mean: ms.init.mean, std: ms.init.std }, prior: ms.init.prior, init: 'he', batchNorm: true, architecture: ms.architecture });
  // The best epoch's weights (what the model folder holds), else the last.
  net.setWeights(numbered(ck.tensors, 'best') ?? numbered(ck.tensors, 'map')!);
  const ev = await evaluateTiles(gen, net, val, H, W, C);
  console.log(`trained moving statistics (best epoch ${ck.state.bestEpoch}): val tiles pixel ${(ev.pixelAuroc ?? NaN).toFixed(4)} select ${ev.select.toFixed(4)}`);
  console.log(await bnStatsCheck(net, gen, d, val, H, W, C));
}
if (process.argv[1]?.endsWith('defect-map-bn-stats.ts')) void main();
