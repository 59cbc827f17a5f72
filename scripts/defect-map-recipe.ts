/**
 * Compares defect-map training recipes at an EQUAL NUMBER OF UPDATES (not equal time: the
 * 2-core machine is shared, so a time budget measures the load, not the recipe), on one frozen
 * generator and the defects preset's data, sampler and network (J68).
 *
 *   node --import tsx scripts/defect-map-recipe.ts DATA_DIR GENERATOR_MODEL_DIR VARIANT[,VARIANT…] UPDATES EVERY [--test] [--max-cover F]
 *
 * GENERATOR_MODEL_DIR: a `--preset defects` model folder of the same data and seed (its
 * model.json and flawscope.json are read, nothing is written). VARIANT: a name in `variants`
 * below. Every EVERY updates it prints the mean training loss parts over those updates, the
 * validation tiles' pixel AUROC and selection figure (what the preset keeps an epoch by), and
 * the measured seconds per update (with the generator's share, what a reconstruction cache
 * could save). At the end: the whole-photo figures on the validation photos (every image-score
 * rule's AUROC, the best one, per defect type, pixel AUROC, AUPRO). `--test` adds the test
 * photos: only for the final pick, never to choose.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadJitterStore, loadMapData, MapSampler } from '../trainer/data/map-data';
import { evaluatePhotos, evaluateTiles, loadGenerator, tensors, validationTiles, type PhotoEval } from '../trainer/defect-map/validate';
import { buildDefectMap, type MapArchitecture } from '../trainer/defect-map/network';
import { measureMapInit } from '../trainer/defect-map/input-stats';
import { DEFAULT_MAP_LOSS, mapLoss, type MapLossOptions } from '../trainer/defect-map/loss';
import { IMAGE_SCORE_RULES, mapInput, ruleName } from '../trainer/defect-map/evaluate';
import { mapLearningRate, setLearningRate } from '../trainer/defect-map/schedule';
import { selectTrainingBackend } from '../trainer/backend';
import { auroc } from '../trainer/metrics';
import { Rng } from '../trainer/rng';
import { INFO_FILE, type ModelInfo } from '../scorer/model-format';
import { bnStatsCheck } from './defect-map-bn-stats';

interface Variant {
  lr: number;
  /** Linear warmup updates (0: none). */
  warmup: number;
  loss: Partial<MapLossOptions>;
  /** Crop jitter radius in working-image pixels (0: the fixed grid crops). */
  jitter: number;
  /** Batch normalisation in the map (network.ts `batchNorm`); validation runs it in inference mode. */
  bn?: boolean;
  /** The map network (network.ts MAP_ARCHITECTURES); default 'unet'. */
  architecture?: MapArchitecture;
}

const base: Variant = { lr: 1e-3, warmup: 0, loss: {}, jitter: 0 };
const variants: Record<string, Variant> = {
  /** The preset before J68. */
  base,
  lr3: { ...base, lr: 3e-3 },
  lr3w: { ...base, lr: 3e-3, warmup: 100 },
  a50: { ...base, loss: { alpha: 0.5 } },
  a50d05: { ...base, loss: { alpha: 0.5, dice: 0.5 } },
  a50d2: { ...base, loss: { alpha: 0.5, dice: 2 } },
  jit16: { ...base, jitter: 16 },
  lr3w_a50: { ...base, lr: 3e-3, warmup: 100, loss: { alpha: 0.5 } },
  lr3w_jit16: { ...base, lr: 3e-3, warmup: 100, jitter: 16 },
  lr3w_a50_jit16: { ...base, lr: 3e-3, warmup: 100, loss: { alpha: 0.5 }, jitter: 16 },
  /** J71: the preset's recipe (lr3w) with batch normalisation and nothing else changed. */
  bn: { ...base, lr: 3e-3, warmup: 100, bn: true },
  /** J71: lr3w with plain BCE (focal γ 0, α as the preset's 0.25). */
  bce: { ...base, lr: 3e-3, warmup: 100, loss: { gamma: 0 } },
  bn_bce: { ...base, lr: 3e-3, warmup: 100, loss: { gamma: 0 }, bn: true },
  /** J71: BN at 10 x --lr (what BN is said to allow), same warmup. */
  bn_lr10: { ...base, lr: 1e-2, warmup: 100, bn: true },
  /** J74: bn with the lite map (no full-resolution layer, a fixed bilinear 2x upsampling of the logit). */
  bn_lite: { ...base, lr: 3e-3, warmup: 100, bn: true, architecture: 'lite' },
};

const f4 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(4));

function photoLine(label: string, e: PhotoEval): string {
  const byRule = IMAGE_SCORE_RULES.map((r) => [ruleName(r), auroc(e.scores[ruleName(r)], e.labels)] as const);
  const [bestRule, bestA] = byRule.reduce((a, b) => (b[1] > a[1] ? b : a));
  const s = e.scores[bestRule];
  const types = [...new Set(e.classes.filter((_, i) => e.labels[i]))].sort();
  const perType = types.map((t) => {
    const idx = e.classes.map((c, i) => (c === t || !e.labels[i] ? i : -1)).filter((i) => i >= 0);
    return `${t.replace(/^MT_/, '')} ${f4(auroc(idx.map((i) => s[i]), idx.map((i) => e.labels[i])))}`;
  });
  return `${label}: image ${f4(bestA)} (${bestRule}) | ${perType.join(', ')} | pixel ${f4(e.pixelAuroc)} AUPRO ${f4(e.aupro)} | rules ${byRule.map(([n, a]) => `${n} ${f4(a)}`).join(', ')}`;
}

/** Takes the loss off defect tiles whose mask covers more than `maxCover` of them (hasMask 0, no image-only term); returns how many. */
function dropCovered(b: { count: number; label: Float32Array; hasMask: Float32Array; mask: Uint8Array }, mper: number, maxCover: number): number {
  let n = 0;
  for (let i = 0; i < b.count; i++) {
    if (!b.label[i] || !b.hasMask[i]) continue;
    let k = 0;
    for (let q = 0; q < mper; q++) k += b.mask[i * mper + q];
    if (k / mper > maxCover) { b.hasMask[i] = 0; n++; }
  }
  return n;
}

async function main() {
  const argv = process.argv.slice(2);
  // --max-cover F: defect tiles with more than F of their pixels masked get no loss (J73: do area-wide masks stall the map?).
  const mc = argv.indexOf('--max-cover');
  const maxCover = mc >= 0 ? Number(argv[mc + 1]) : 1;
  if (mc >= 0 && !(maxCover > 0 && maxCover <= 1)) throw new Error(`--max-cover ${argv[mc + 1]}: a share of a tile's pixels, in (0, 1]`);
  const args = argv.filter((a, i) => !a.startsWith('--') && !(mc >= 0 && i === mc + 1));
  const withTest = process.argv.includes('--test');
  const [dataDir, genDir, names] = args;
  const updates = Number(args[3] ?? 800);
  const every = Number(args[4] ?? 200);
  for (const n of names.split(',')) if (!variants[n]) throw new Error(`unknown variant ${n}; known: ${Object.keys(variants).join(', ')}`);
  await selectTrainingBackend('auto');
  const info = JSON.parse(await fs.readFile(join(genDir, INFO_FILE), 'utf8')) as ModelInfo;
  const { height: H, width: W, channels: C } = info.input;
  const d = await loadMapData({ root: dataDir, size: H, channels: C, seed: 0, validationFraction: 0.1, protocol: 'defect', balance: 'false', augment: 'none' });
  console.log(`data: ${d.training.normal.count} normal + ${d.training.anomaly?.count} defect training tiles; ${d.photos.validation.length} validation photos`);
  const gen = await loadGenerator(genDir);
  const val = await validationTiles(d, 0);
  for (const name of names.split(',')) {
    const v = variants[name];
    const rng = new Rng(0xdefec7);
    const store = v.jitter ? await loadJitterStore(d) : null;
    const sampler = new MapSampler(d, 32, () => rng.next(), undefined, store ? { store, radius: v.jitter } : undefined);
    const init = await measureMapInit(gen, await Promise.all(Array.from({ length: 8 }, () => sampler.next())), H, W, C);
    const net = buildDefectMap({ height: H, width: W, channels: C }, 0, { ...init, init: 'he', batchNorm: !!v.bn, architecture: v.architecture });
    const opt = tf.train.adam(v.lr, 0.9, 0.999);
    const lo = { ...DEFAULT_MAP_LOSS, ...v.loss };
    console.log(`== ${name} ${JSON.stringify(v)} prior ${init.prior.toFixed(4)}`);
    let acc = [0, 0, 0], genMs = 0, stepMs = 0, dropped = 0;
    for (let u = 1; u <= updates; u++) {
      const t0 = Date.now();
      setLearningRate(opt, mapLearningRate(v.lr, v.warmup, u));
      const b = await sampler.next();
      if (maxCover < 1) dropped += dropCovered(b, H * W, maxCover);
      const { x, targets } = tensors(b, H, W, C);
      const tg = Date.now();
      const input = mapInput(gen, x);
      await input.data();
      genMs += Date.now() - tg;
      let parts: ReturnType<typeof mapLoss> | null = null;
      const total = opt.minimize(() => {
        parts = mapLoss(net.apply(input, { training: true }) as tf.Tensor4D, targets, lo);
        tf.keep(parts.focal); tf.keep(parts.dice);
        return parts.total;
      }, true) as tf.Scalar;
      const vals = [(await total.data())[0], (await parts!.focal.data())[0], (await parts!.dice.data())[0]];
      [total, parts!.focal, parts!.dice, parts!.mil, x, input, ...Object.values(targets)].forEach((t) => t.dispose());
      acc = acc.map((a, i) => a + vals[i]);
      stepMs += Date.now() - t0;
      if (u % every === 0) {
        const ev = await evaluateTiles(gen, net, val, H, W, C);
        console.log(`${name} u${u} loss ${(acc[0] / every).toFixed(4)} focal ${(acc[1] / every).toFixed(4)} dice ${(acc[2] / every).toFixed(4)} | val tiles pixel ${f4(ev.pixelAuroc)} select ${f4(ev.select)} |${maxCover < 1 ? ` left out ${dropped} |` : ''} ${(stepMs / every / 1000).toFixed(3)} s/update (generator ${(genMs / every / 1000).toFixed(3)})`);
        acc = [0, 0, 0]; genMs = 0; stepMs = 0;
      }
    }
    if (v.bn) console.log(await bnStatsCheck(net, gen, d, val, H, W, C));
    const tv = Date.now();
    console.log(photoLine(`${name} validation photos`, await evaluatePhotos(gen, net, d.photos.validation, info, d.maxPixels)) + ` [${((Date.now() - tv) / 1000).toFixed(0)} s]`);
    if (withTest) console.log(photoLine(`${name} TEST photos`, await evaluatePhotos(gen, net, d.photos.test, info, d.maxPixels)));
    net.dispose(); opt.dispose();
  }
}
void main();
