/**
 * Compares ways of starting the defect map at an equal number of updates (not equal wall time:
 * the machine is shared), on one frozen generator and the defects preset's data and sampler,
 * printing the training loss and the validation-tile figures every EVERY updates (J60).
 *
 *   node --import tsx scripts/defect-map-init-compare.ts DATA_DIR GENERATOR_MODEL_DIR old,new UPDATES EVERY
 *
 * GENERATOR_MODEL_DIR: any `--preset defects` model folder of the same data and seed (its model.json).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadMapData, MapSampler } from '../trainer/data/map-data';
import { loadGenerator, validationTiles, evaluateTiles, tensors } from '../trainer/defect-map/validate';
import { buildDefectMap } from '../trainer/defect-map/network';
import { measureMapInit } from '../trainer/defect-map/input-stats';
import { DEFAULT_MAP_LOSS, mapLoss, type MapLossOptions } from '../trainer/defect-map/loss';
import { mapInput } from '../trainer/defect-map/evaluate';
import { selectTrainingBackend } from '../trainer/backend';
import { Rng } from '../trainer/rng';

const configs: Record<string, { init: 'he' | 'torch'; stats: boolean; prior: boolean; loss: Partial<MapLossOptions>; lr: number }> = {
  old: { init: 'torch', stats: false, prior: false, loss: {}, lr: 1e-3 },
  new: { init: 'he', stats: true, prior: true, loss: {}, lr: 1e-3 },
  newbce: { init: 'he', stats: true, prior: true, loss: { gamma: 0, alpha: 0.5 }, lr: 1e-3 },
  newbce3: { init: 'he', stats: true, prior: true, loss: { gamma: 0, alpha: 0.5 }, lr: 3e-3 },
  newfocal5: { init: 'he', stats: true, prior: true, loss: { gamma: 2, alpha: 0.5 }, lr: 1e-3 },
};
async function main() {
const [dataDir, genDir] = process.argv.slice(2, 4);
const names = process.argv[4].split(',');
const updates = Number(process.argv[5] ?? 300);
const every = Number(process.argv[6] ?? 100);
await selectTrainingBackend('auto');
const t0 = Date.now();
const d = await loadMapData({ root: dataDir, size: 64, channels: 1, seed: 0, validationFraction: 0.1, protocol: 'defect', balance: 'false', augment: 'none' });
console.log(`data ${(Date.now() - t0) / 1000}s normal ${d.training.normal.count} defect ${d.training.anomaly?.count}`);
const gen = await loadGenerator(genDir);
const val = await validationTiles(d, 0);
const H = 64, W = 64, C = 1;
for (const name of names) {
  const c = configs[name];
  const rng = new Rng(0xdefec7);
  const sampler = new MapSampler(d, 32, () => rng.next());
  const init = await measureMapInit(gen, await Promise.all(Array.from({ length: 8 }, () => sampler.next())), H, W, C);
  console.log(name, 'init', JSON.stringify(init));
  const net = buildDefectMap({ height: H, width: W, channels: C }, 0, { init: c.init, inputStats: c.stats ? init.inputStats : undefined, prior: c.prior ? init.prior : undefined });
  const opt = tf.train.adam(c.lr, 0.9, 0.999);
  const lo = { ...DEFAULT_MAP_LOSS, ...c.loss };
  const ts = Date.now();
  let acc = [0, 0, 0];
  for (let u = 1; u <= updates; u++) {
    const b = await sampler.next();
    const { x, targets } = tensors(b, H, W, C);
    const input = mapInput(gen, x);
    let parts: ReturnType<typeof mapLoss> | null = null;
    const total = opt.minimize(() => { parts = mapLoss(net.apply(input, { training: true }) as tf.Tensor4D, targets, lo); tf.keep(parts.focal); tf.keep(parts.dice); return parts.total; }, true) as tf.Scalar;
    const v = [(await total.data())[0], (await parts!.focal.data())[0], (await parts!.dice.data())[0]];
    [total, parts!.focal, parts!.dice, parts!.mil, x, input, ...Object.values(targets)].forEach((t) => t.dispose());
    acc = acc.map((a, i) => a + v[i]);
    if (u % every === 0) {
      const ev = await evaluateTiles(gen, net, val, H, W, C);
      const best = Math.max(...Object.values(ev.tileAuroc).map((q) => q ?? 0));
      console.log(`${name} u${u} ${((Date.now() - ts) / 1000).toFixed(0)}s loss ${(acc[0] / every).toFixed(4)} focal ${(acc[1] / every).toFixed(4)} dice ${(acc[2] / every).toFixed(4)} | val pix ${ev.pixelAuroc?.toFixed(4)} tile ${best.toFixed(4)} select ${ev.select.toFixed(4)}`);
      acc = [0, 0, 0];
    }
  }
  net.dispose();
}
}
void main();
