/**
 * The defect map's ablation (issue 24, "Measure and commit"): what each part of `--preset
 * defects` is worth, at EQUAL UPDATES (not equal time: the 2-core host is shared, so a time
 * budget would measure the load, not the method).
 *
 *   node --import tsx scripts/defect-map-ablation.ts --data MAGNETIC_TILE_DIR --generator GEN_MODEL_DIR \
 *     --updates N [--validate-every K] [--variants preset,imageLabels,...] [--md TABLE.md] [--seed 0]
 *
 * GEN_MODEL_DIR: a `--preset defects` model folder of the same data and seed (its generator is
 * used frozen; its map is ignored). Every variant starts from the same generator, the preset's
 * data, split (by source photo, seed 0), sampler rule and random streams (trainer/defect-map/
 * map-loop.ts), the map's network, start and loss; only what the variant names differs. Each
 * trains N updates, validating on the preset's validation tiles every K and keeping the best (the
 * preset's epoch choice), then scores the whole validation photos (the image-score rule chosen
 * there, and the threshold at the preset's false-alarm rule) and the whole test photos:
 * image AUROC overall and per defect type, pixel AUROC and AUPRO over whole photos.
 * Prints one JSON line per variant on stdout; --md writes the markdown table (temp file, renamed).
 * --check: instead, scores GEN_MODEL_DIR's own map on the test photos with this script's photo
 * evaluation and prints it beside the figures its flawscope.json recorded (train-map.ts), which
 * must agree (the pixel figures here are at the photo's resolution, there at the working one: the
 * same for native tiles).
 */
import { promises as fs } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { z } from 'zod';
import { loadMapData, MapSampler, type MapData, type PhotoRef } from '../trainer/data/map-data';
import { mapStreams } from '../trainer/defect-map/map-loop';
import { readMask } from '../trainer/data/patches';
import { loadGenerator, validationTiles, evaluateTiles, tensors, type Tiles } from '../trainer/defect-map/validate';
import { buildDefectMap, INPUT_NORM_LAYER } from '../trainer/defect-map/network';
import { measureMapInit } from '../trainer/defect-map/input-stats';
import { mapLoss } from '../trainer/defect-map/loss';
import { IMAGE_SCORE_RULES, imageScore, mapInput, photoMap, PixelRoc, ruleName, type ImageScoreRule } from '../trainer/defect-map/evaluate';
import { buildGenerator } from '../trainer/model';
import { selectTrainingBackend } from '../trainer/backend';
import { InputError } from '../trainer/errors';
import { auroc } from '../trainer/metrics';
import { ProCurve } from '../trainer/metrics/aupro';
import { chooseThresholdForFlag } from '../trainer/threshold';
import { thresholdRequest } from '../trainer/train-config';
import type { ModelInfo } from '../scorer/model-format';

/** What a variant changes against the preset. */
interface Variant {
  label: string;
  /** 'half': photos down-scaled by 2 (64 px crops resized to 32), the map at 32 px tiles. */
  scale: 'native' | 'half';
  /** Real training defects: with their masks, with their masks withheld (multiple-instance term), or left out. */
  real: 'masks' | 'image' | 'none';
  synthetic: boolean;
  /** 'image': the reconstruction and difference channels held at 0 (see zeroChannels). */
  inputs: 'all' | 'image';
}

/** Magnetic tile has masks, so the preset (--synthetic auto) trains on them alone: "without synthetic defects" is the preset itself. */
const VARIANTS: Record<string, Variant> = {
  preset: { label: '(a)=(d) preset: masks, no synthetic (auto), x + r + |x−r|', scale: 'native', real: 'masks', synthetic: false, inputs: 'all' },
  addSynthetic: { label: 'masks + synthetic (--synthetic add)', scale: 'native', real: 'masks', synthetic: true, inputs: 'all' },
  imageLabels: { label: '(b) image labels only (masks withheld, MIL)', scale: 'native', real: 'image', synthetic: false, inputs: 'all' },
  noRecon: { label: '(c) without the reconstruction input (x only)', scale: 'native', real: 'masks', synthetic: false, inputs: 'image' },
  synthOnly: { label: '(e) without real labels (synthetic only)', scale: 'native', real: 'none', synthetic: true, inputs: 'all' },
  half: { label: '(f) 32 px (photos / 2), x + r + |x−r|', scale: 'half', real: 'masks', synthetic: false, inputs: 'all' },
  halfNoRecon: { label: '(f′) 32 px (photos / 2), x only', scale: 'half', real: 'masks', synthetic: false, inputs: 'image' },
};

const ArgsSchema = z.object({
  data: z.string({ required_error: '--data DIR is required (the Magnetic-tile folder)' }).min(1),
  generator: z.string({ required_error: '--generator DIR is required (a --preset defects model folder of the same data)' }).min(1),
  updates: z.coerce.number({ invalid_type_error: '--updates: expected an integer' }).int().min(1, '--updates: at least 1'),
  'validate-every': z.coerce.number().int().min(1).optional(),
  variants: z.string().default(Object.keys(VARIANTS).join(',')).transform((s, ctx) => {
    const names = s.split(',').filter(Boolean);
    const bad = names.filter((n) => !(n in VARIANTS));
    if (bad.length) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `--variants ${bad.join(',')}: expected some of ${Object.keys(VARIANTS).join(', ')}` });
    return names;
  }),
  md: z.string().optional(),
  seed: z.coerce.number().int().min(0).default(0),
  check: z.boolean().default(false),
});
type Args = z.infer<typeof ArgsSchema>;

function parseCli(argv: string[]): Args {
  const { values } = parseArgs({ args: argv, options: { ...Object.fromEntries(['data', 'generator', 'updates', 'validate-every', 'variants', 'md', 'seed'].map((k) => [k, { type: 'string' as const }])), check: { type: 'boolean' } } });
  const r = ArgsSchema.safeParse(values);
  if (!r.success) throw new InputError(r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

/**
 * "Without the reconstruction input": the input standardisation layer (a fixed 1x1 conv, the
 * map's first layer) multiplies the r and |x−r| channels by 0, so the first trainable conv sees
 * x and two constant-0 channels. Its weights on those channels then contribute nothing and get
 * no gradient: the same function and training as a network built on x alone (only the He init of
 * that first conv counts the zero channels in its fan-in, so its x weights start √3 smaller).
 * Held at 0 rather than cut, so that the photo evaluation (which feeds x, r, |x−r|) is unchanged.
 */
function zeroChannels(net: tfl.LayersModel, keep: number): void {
  const layer = net.getLayer(INPUT_NORM_LAYER);
  const [k, b] = layer.getWeights();
  const cin = b.shape[0];
  const kv = k.dataSync().slice(), bv = b.dataSync().slice();
  for (let c = keep; c < cin; c++) { bv[c] = 0; for (let i = 0; i < cin; i++) kv[i * cin + c] = 0; }
  layer.setWeights([tf.tensor4d(kv, k.shape as [number, number, number, number]), tf.tensor1d(bv)]);
}

/** The generator as a model of another tile size: the same weights (it is fully convolutional). */
function generatorAt(gen64: tfl.LayersModel, size: number, skips: 'all' | 'no-outer' | 'none'): tfl.LayersModel {
  const g = buildGenerator({ height: size, width: size, channels: 1 }, 0, skips);
  g.setWeights(gen64.getWeights());
  return g;
}

interface PhotoFigures { scores: Record<string, number[]>; labels: number[]; classes: string[]; pixelAuroc: number | null; aupro: number | null }

/**
 * Whole photos as a scorer makes them (photoMap: the scorer's tile grid and averaging), image
 * scores on the working-resolution map (as the scorers compute them). Pixel AUROC and AUPRO at
 * the PHOTO's resolution: a down-scaled map is brought back with nearest-neighbour sampling and
 * compared with the full-resolution mask, so both scales are judged on the same pixels.
 */
async function photoFigures(gen: tfl.LayersModel, net: tfl.LayersModel, photos: PhotoRef[], info: Pick<ModelInfo, 'input' | 'preprocess'>): Promise<PhotoFigures> {
  const scores: Record<string, number[]> = Object.fromEntries(IMAGE_SCORE_RULES.map((r) => [ruleName(r), []]));
  const roc = new PixelRoc(), pro = new ProCurve();
  for (const ph of photos) {
    const m = await photoMap(gen, net, { source: ph.source }, info.input, info.preprocess!);
    for (const r of IMAGE_SCORE_RULES) scores[ruleName(r)].push(imageScore(m.map, m.w, m.h, r));
    const { width: W, height: H } = await sharp(ph.source).metadata();
    if (!W || !H) throw new InputError(`${ph.source}: cannot read its size`);
    const mask = ph.maskPath ? Uint8Array.from(await readMask(ph.maskPath, W, H), (v) => (v >= 128 ? 1 : 0)) : new Uint8Array(W * H);
    let full = m.map;
    if (m.w !== W || m.h !== H) {
      full = new Float32Array(W * H);
      for (let y = 0; y < H; y++) {
        const sy = Math.min(m.h - 1, Math.floor((y * m.h) / H));
        for (let x = 0; x < W; x++) full[y * W + x] = m.map[sy * m.w + Math.min(m.w - 1, Math.floor((x * m.w) / W))];
      }
    }
    roc.add(full, mask);
    pro.add(full, mask, W, H);
  }
  const n = (v: number) => (Number.isNaN(v) ? null : v);
  return { scores, labels: photos.map((p) => p.isAnomaly), classes: photos.map((p) => p.className), pixelAuroc: n(roc.auroc()), aupro: n(pro.aupro()) };
}

interface Scale { d: MapData; gen: tfl.LayersModel; info: Pick<ModelInfo, 'input' | 'preprocess'>; size: number }

async function loadScale(a: Args, which: Variant['scale'], gen64: tfl.LayersModel, genInfo: ModelInfo): Promise<Scale> {
  const size = which === 'native' ? 64 : 32;
  const t0 = Date.now();
  // The preset's reader settings (presetDataOptions); 64-photo-pixel crops either way, resized to 32 for 'half'.
  const d = await loadMapData({ root: a.data, size, channels: 1, seed: a.seed, validationFraction: 0.1, protocol: 'defect', balance: 'false', augment: 'none', patchSize: '64' }, true);
  console.error(`data ${which}: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${d.training.normal.count} normal + ${d.training.anomaly?.count ?? 0} defect crops; photos ${d.photos.validation.length} validation, ${d.photos.test.length} test`);
  const skips = ((genInfo.config as { skips?: 'all' | 'no-outer' | 'none' }).skips) ?? 'all';
  const stride = genInfo.preprocess?.tileStride ?? 32;
  return {
    d, size,
    gen: size === 64 ? gen64 : generatorAt(gen64, size, skips),
    // Tiles half a tile apart at either scale, as the preset's.
    info: { input: { height: size, width: size, channels: 1 }, preprocess: { mode: 'tile', scale: size / 64, tileStride: (stride * size) / 64 } },
  };
}

/** The data a variant trains on: the preset's, with the real defects' masks withheld or the real defects left out. */
function variantData(d: MapData, v: Variant): MapData {
  if (v.real === 'none') return { ...d, training: { ...d.training, anomaly: null }, anomalyMasks: null, anomalyHasMask: new Uint8Array(0), labels: 'none' };
  if (v.real === 'image') return { ...d, anomalyMasks: null, anomalyHasMask: new Uint8Array(d.anomalyHasMask.length), labels: 'image' };
  return d;
}

async function runVariant(name: string, v: Variant, s: Scale, a: Args, valTiles: Tiles) {
  const { gen, size: H } = s;
  const W = H, C = 1 as const;
  const d = variantData(s.d, v);
  // The preset's streams and synthetic source (map-loop.ts).
  const { rng, synthetic } = mapStreams(a.seed, { height: H, width: W, channels: C }, !!v.synthetic);
  const sampler = new MapSampler(d, 32, () => rng.next(), synthetic);
  const init = await measureMapInit(gen, await Promise.all(Array.from({ length: 8 }, () => sampler.next())), H, W, C);
  const net = buildDefectMap({ height: H, width: W, channels: C }, a.seed, { ...init, init: 'he' });
  if (v.inputs === 'image') zeroChannels(net, C);
  // Image labels only: no mask picks the epoch either (the validation tiles' image labels alone).
  const val: Tiles = v.real === 'image' ? { ...valTiles, mask: null } : valTiles;
  const opt = tf.train.adam(1e-3, 0.9, 0.999);
  const every = a['validate-every'] ?? a.updates;
  const t0 = Date.now();
  let best: { select: number; update: number; weights: tf.Tensor[] } | null = null;
  const curve: { update: number; loss: number; valSelect: number; valPixelAuroc: number | null }[] = [];
  let lossSum = 0;
  for (let u = 1; u <= a.updates; u++) {
    const b = await sampler.next();
    const { x, targets } = tensors(b, H, W, C);
    const input = mapInput(gen, x);
    const total = opt.minimize(() => mapLoss(net.apply(input, { training: true }) as tf.Tensor4D, targets).total, true) as tf.Scalar;
    const l = (await total.data())[0];
    [total, x, input, ...Object.values(targets)].forEach((t) => t.dispose());
    if (!Number.isFinite(l)) throw new Error(`${name}: the loss diverged at update ${u}`);
    lossSum += l;
    if (u % every === 0 || u === a.updates) {
      const ev = await evaluateTiles(gen, net, val, H, W, C);
      curve.push({ update: u, loss: lossSum / (u - (curve.at(-1)?.update ?? 0)), valSelect: ev.select, valPixelAuroc: ev.pixelAuroc });
      lossSum = 0;
      console.error(`${name} u${u} ${((Date.now() - t0) / 1000).toFixed(0)} s loss ${curve.at(-1)!.loss.toFixed(4)} val select ${ev.select.toFixed(4)} pixel ${ev.pixelAuroc?.toFixed(4) ?? '–'}`);
      if (!best || ev.select > best.select) {
        best?.weights.forEach((t) => t.dispose());
        best = { select: ev.select, update: u, weights: net.getWeights().map((t) => tf.clone(t)) };
      }
    }
  }
  const trainSeconds = (Date.now() - t0) / 1000;
  opt.dispose();
  net.setWeights(best!.weights);
  const te = Date.now();
  // The rule and the threshold on the validation photos, as train-map.ts chooses them.
  const vp = await photoFigures(gen, net, s.d.photos.validation, s.info);
  const valByRule = Object.fromEntries(IMAGE_SCORE_RULES.map((r) => [ruleName(r), auroc(vp.scores[ruleName(r)], vp.labels)]));
  let rule: ImageScoreRule = IMAGE_SCORE_RULES[0];
  for (const r of IMAGE_SCORE_RULES) if (valByRule[ruleName(r)] > valByRule[ruleName(rule)]) rule = r;
  const vs = vp.scores[ruleName(rule)];
  const choice = chooseThresholdForFlag(vs.filter((_, i) => !vp.labels[i]), vs.filter((_, i) => vp.labels[i]), thresholdRequest({ falseAlarmRate: null, defectRate: null }));
  const tp = await photoFigures(gen, net, s.d.photos.test, s.info);
  const ts = tp.scores[ruleName(rule)];
  const perType: Record<string, number> = {};
  for (const cls of [...new Set(tp.classes.filter((_, i) => tp.labels[i]))].sort()) {
    const idx = tp.classes.map((c, i) => (c === cls || !tp.labels[i] ? i : -1)).filter((i) => i >= 0);
    perType[cls.replace(/^MT_/, '')] = auroc(idx.map((i) => ts[i]), idx.map((i) => tp.labels[i]));
  }
  const rate = (cls: number) => { const x = ts.filter((_, i) => tp.labels[i] === cls); return x.filter((q) => q > choice.threshold).length / x.length; };
  net.dispose();
  best!.weights.forEach((t) => t.dispose());
  return {
    variant: name, label: v.label, updates: a.updates, bestUpdate: best!.update, rule: ruleName(rule), threshold: choice.threshold,
    test: { imageAuroc: auroc(ts, tp.labels), perType, pixelAuroc: tp.pixelAuroc, aupro: tp.aupro, falseAlarmRate: rate(0), detectionRate: rate(1) },
    validation: { imageAuroc: valByRule[ruleName(rule)], pixelAuroc: vp.pixelAuroc, aupro: vp.aupro },
    prior: init.prior, curve, seconds: { train: trainSeconds, evaluation: (Date.now() - te) / 1000 },
  };
}
type Row = Awaited<ReturnType<typeof runVariant>>;

const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '–' : (100 * v).toFixed(1));

function table(rows: Row[], a: Args): string {
  const types = [...new Set(rows.flatMap((r) => Object.keys(r.test.perType)))].sort();
  const head = `| variant (${a.updates} map updates each) | image AUROC | ${types.join(' / ')} | pixel AUROC | AUPRO | val image / pixel | rule | best at update | train s / eval s |`;
  const lines = rows.map((r) =>
    `| ${r.label.replace(/\|/g, '\\|')} | ${pct(r.test.imageAuroc)} | ${types.map((t) => pct(r.test.perType[t])).join(' / ')} | ${pct(r.test.pixelAuroc)} | ${pct(r.test.aupro)} | ${pct(r.validation.imageAuroc)} / ${pct(r.validation.pixelAuroc)} | ${r.rule} | ${r.bestUpdate} | ${r.seconds.train.toFixed(0)} / ${r.seconds.evaluation.toFixed(0)} |`);
  return [head, `|---|${'---:|'.repeat(8)}`, ...lines].join('\n') + '\n';
}

async function main(): Promise<void> {
  const a = parseCli(process.argv.slice(2));
  await selectTrainingBackend('auto');
  const genInfo = JSON.parse(await fs.readFile(`${a.generator}/flawscope.json`, 'utf8')) as ModelInfo;
  if (genInfo.input.height !== 64 || genInfo.preprocess?.mode !== 'tile' || genInfo.preprocess.scale !== 1)
    throw new InputError(`--generator ${a.generator}: expected a --preset defects model of native 64 px tiles (input ${genInfo.input.height} px, preprocess ${JSON.stringify(genInfo.preprocess)})`);
  const gen64 = await loadGenerator(a.generator);
  if (a.check) return checkAgainstModel(a, gen64, genInfo);
  const scales = new Map<Variant['scale'], { s: Scale; val: Tiles }>();
  const rows: Row[] = [];
  for (const name of a.variants) {
    const v = VARIANTS[name];
    if (!scales.has(v.scale)) {
      const s = await loadScale(a, v.scale, gen64, genInfo);
      scales.set(v.scale, { s, val: await validationTiles(s.d, a.seed) });
    }
    const { s, val } = scales.get(v.scale)!;
    const row = await runVariant(name, v, s, a, val);
    rows.push(row);
    console.log(JSON.stringify(row));
    if (a.md) {
      const tmp = `${a.md}.tmp-${process.pid}`;
      await fs.writeFile(tmp, table(rows, a));
      await fs.rename(tmp, a.md);
    }
  }
}

/** --check: this script's photo evaluation of the model's own map against what the preset recorded. */
async function checkAgainstModel(a: Args, gen: tfl.LayersModel, info: ModelInfo): Promise<void> {
  const j = JSON.parse(await fs.readFile(`${a.generator}/defect-map.json`, 'utf8'));
  const w = await fs.readFile(`${a.generator}/defect-map.bin`);
  const net = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
  const { d } = await loadScale(a, 'native', gen, info);
  const rule = (info as { defectMap?: { imageScore: ImageScoreRule } }).defectMap!.imageScore;
  const tp = await photoFigures(gen, net, d.photos.test, { input: info.input, preprocess: info.preprocess });
  const m = info.metrics as Record<string, number | null>;
  console.log(JSON.stringify({
    rule: ruleName(rule),
    here: { imageAuroc: auroc(tp.scores[ruleName(rule)], tp.labels), pixelAuroc: tp.pixelAuroc, aupro: tp.aupro, photos: tp.labels.length },
    recorded: { imageAuroc: m.testPhotoAuroc, pixelAuroc: m.testPhotoPixelAuroc, aupro: m.testPhotoAupro },
  }));
}

main().catch((e) => {
  console.error(e instanceof InputError ? `error: ${e.message}` : e);
  process.exit(e instanceof InputError ? 2 : 1);
});
