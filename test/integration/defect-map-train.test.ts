/**
 * --preset defects end to end on a tiny painted set (64x64 tiles with painted defects and masks):
 * both stages, the format-6 model folder and its contract fields; the output checks; the
 * settings' ranges and messages.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { paintedDefects } from '../helpers/painted-defects';
import { tempDir } from '../helpers/cli';
import { trainConfigFromFlags } from '../../trainer/cli-train-config';
import { trainDefects, writeMapModelFolder, MAP_FILE, MAP_WEIGHTS_FILE, type DefectsConfig } from '../../trainer/defect-map/train-map';
import { validateModelInfo, FORMAT_VERSION } from '../../scorer/model-format';
import type { ProgressEvent } from '../../trainer/progress';

let data: string;
before(async () => { data = await paintedDefects({ normal: 10, defect: 8 }); });

const flags = (o: Record<string, string>) => new Map(Object.entries(o));

test('--preset defects trains both stages on a tiny painted set and writes a valid format-6 model folder', { timeout: 300_000 }, async () => {
  const out = join(tempDir(), 'model');
  const cfg = trainConfigFromFlags(flags({ data, out, preset: 'defects', epochs: '1', 'time-budget': '5m' })) as DefectsConfig;
  assert.equal(cfg.preset, 'defects');
  assert.equal(cfg.timeBudget, 300);
  assert.equal(cfg.size, 64);
  assert.deepEqual(cfg.dataOptions, { protocol: 'defect', balance: 'false', augment: 'none' });
  const events: ProgressEvent[] = [];
  const t0 = Date.now();
  const r = await trainDefects(cfg, { emit: (e) => events.push(e), shouldStop: () => false, loadData: () => { throw new Error('unused'); } });
  assert.equal(r, 'done');
  // About 30 s on 2 free cores; not asserted (the machine is shared).
  void t0;
  assert.deepEqual(readdirSync(out).sort(), ['defect-map.bin', 'defect-map.json', 'flawscope.json', 'model.json', 'weights.bin']);
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  // The contract (docs/defect-map.md).
  assert.equal(info.formatVersion, 6);
  assert.deepEqual(info.defectMap.inputs, ['image', 'reconstruction', 'difference']);
  assert.equal(info.defectMap.file, MAP_FILE);
  const s = info.defectMap.imageScore;
  assert.ok((s.kind === 'max' && Number.isInteger(s.smooth) && s.smooth % 2 === 1) || (s.kind === 'topMean' && s.fraction > 0 && s.fraction <= 1), JSON.stringify(s));
  assert.ok(info.threshold >= 0 && info.threshold <= 1, 'the threshold is on the map score, a probability');
  // 64 px photos are one tile at either candidate stride, so validation cannot tell them apart and the cheaper is kept (defect-map-stride.test.ts).
  assert.deepEqual(info.preprocess, { mode: 'tile', scale: 1, tileStride: 64 });
  assert.equal(info.config.defectMap.tileStride.candidates[0].auroc, info.config.defectMap.tileStride.candidates[1].auroc);
  // The rest of flawscope.json is what the format-5 validator checks (until the scorer knows "defectMap").
  if (FORMAT_VERSION >= 6) validateModelInfo(info);
  else { const { defectMap: _d, ...rest } = info; validateModelInfo({ ...rest, formatVersion: 5 }); }
  // defect-map.json is a tf.io LayersModel over defect-map.bin: [N,64,64,3C] → [N,64,64,1] in (0, 1).
  const mj = JSON.parse(readFileSync(join(out, MAP_FILE), 'utf8'));
  assert.deepEqual(mj.weightsManifest[0].paths, [MAP_WEIGHTS_FILE]);
  const w = readFileSync(join(out, MAP_WEIGHTS_FILE));
  const net = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
  const C = info.input.channels;
  const y = net.predict(tf.zeros([2, 64, 64, 3 * C])) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 64, 64, 1]);
  assert.ok(y.dataSync().every((v) => v > 0 && v < 1));
  // The map standardises its own input (statistics measured on training batches, saved in the weights) and starts at the measured defect prior.
  assert.ok(net.layers.some((l) => l.name === 'map_input_norm'));
  const init = info.config.defectMap.init;
  assert.ok(init.prior > 0 && init.prior < 1 && init.std.length === 3 * C, JSON.stringify(init));
  // The recipe it trained with (recipe.ts): the map's own rate (3 x --lr), its warmup, the loss and the crop jitter.
  assert.equal(info.config.defectMap.lr, cfg.lr * 3);
  assert.equal(info.config.defectMap.warmup, Math.min(100, Math.floor(info.config.defectMap.stepsPerEpoch / 2)));
  assert.equal(info.config.defectMap.cropJitter, 0);
  assert.equal(info.config.defectMap.loss.alpha, 0.25);
  // Trained with batch normalisation, written folded: only the plain layer kinds every scorer loads.
  assert.equal(info.config.defectMap.batchNorm, 'folded');
  // The map's architecture is on record (network.ts MAP_ARCHITECTURES): the recipe's default, the U-Net.
  assert.equal(info.config.defectMap.architecture, 'unet');
  assert.deepEqual([...new Set(net.layers.map((l) => l.getClassName()))].sort(), ['Concatenate', 'Conv2D', 'Conv2DTranspose', 'InputLayer', 'LeakyReLU']);
  // Region-level figures beside pixel AUROC where the photos have masks.
  for (const k of ['valPhotoAupro', 'testPhotoAupro'])
    if (info.metrics[k.replace('Aupro', 'PixelAuroc')] !== null) assert.ok(info.metrics[k] >= 0 && info.metrics[k] <= 1, `${k} ${info.metrics[k]}`);
  assert.ok(info.metrics.valPhotoPixelAuroc === null || typeof info.metrics.valPhotoAupro === 'number');
  // Learning curves: one map epoch with validation loss and pixel AUROC.
  const h = info.config.defectMap.history;
  assert.equal(h.length, 1);
  assert.ok(Number.isFinite(h[0].valLoss) && h[0].valPixelAuroc > 0.5, JSON.stringify(h[0]));
  assert.ok(events.some((e) => e.type === 'epoch' && e.stage === 'defect-map'));
  assert.ok(events.some((e) => e.type === 'done'));
  // No temporary folders left beside the model.
  assert.deepEqual(readdirSync(join(out, '..')).filter((f) => f !== 'model'), []);
});

test('the model folder is written atomically and only where train may write: refuses a file, a non-model folder, the data folder', async () => {
  const dir = tempDir();
  const gen = join(dir, 'gen');
  mkdirSync(gen);
  writeFileSync(join(gen, 'model.json'), '{}');
  writeFileSync(join(gen, 'weights.bin'), 'w');
  const out = join(dir, 'model');
  await writeMapModelFolder(out, gen, '{"m":1}', new Uint8Array([1, 2]), { formatVersion: 6 });
  assert.deepEqual(readdirSync(out).sort(), ['defect-map.bin', 'defect-map.json', 'flawscope.json', 'model.json', 'weights.bin']);
  // Replacing a model folder leaves no temp behind; a failing write leaves the old one whole.
  await writeMapModelFolder(out, gen, '{"m":2}', new Uint8Array([3]), { formatVersion: 6 });
  assert.equal(readFileSync(join(out, MAP_FILE), 'utf8'), '{"m":2}');
  await assert.rejects(writeMapModelFolder(out, join(dir, 'missing'), '{"m":3}', new Uint8Array([4]), { formatVersion: 6 }));
  assert.equal(readFileSync(join(out, MAP_FILE), 'utf8'), '{"m":2}');
  assert.deepEqual(readdirSync(dir).sort(), ['gen', 'model']);
  const file = join(dir, 'f.txt');
  writeFileSync(file, 'x');
  await assert.rejects(writeMapModelFolder(file, gen, '{}', new Uint8Array(), {}), /is a file, not a model folder/);
  await assert.rejects(writeMapModelFolder(gen, gen, '{}', new Uint8Array(), {}), /holds files that are not a Flawscope model/);
  await assert.rejects(writeMapModelFolder(join(data, 'm'), gen, '{}', new Uint8Array(), {}, data), /inside the data folder/);
  // trainDefects refuses an existing model folder without --force, before reading any data.
  const cfg = trainConfigFromFlags(flags({ data, out, preset: 'defects' })) as DefectsConfig;
  await assert.rejects(trainDefects(cfg, { emit: () => {}, shouldStop: () => false, loadData: () => { throw new Error('unused'); } }), /exists|--force/);
  assert.ok(existsSync(join(out, MAP_FILE)));
});

test('--preset and --time-budget: ranges and messages from the one schema; layouts that cannot train a map are refused naming the folder or flag', async () => {
  const base = { data, out: '/tmp/x' };
  assert.equal((trainConfigFromFlags(flags({ ...base, preset: 'defects', 'time-budget': '90s' })) as DefectsConfig).timeBudget, 90);
  assert.equal((trainConfigFromFlags(flags({ ...base, preset: 'defects', 'time-budget': '1.5h' })) as DefectsConfig).timeBudget, 5400);
  assert.equal((trainConfigFromFlags(flags({ ...base, preset: 'defects', 'time-budget': '600' })) as DefectsConfig).timeBudget, 600);
  assert.equal((trainConfigFromFlags(flags({ ...base, preset: 'defects', size: '32' })) as DefectsConfig).size, 32, 'a flag beats the preset');
  assert.throws(() => trainConfigFromFlags(flags({ ...base, preset: 'defects', 'time-budget': '5s' })), /--time-budget 5s: expected a duration from 10 s to 7 days/);
  assert.throws(() => trainConfigFromFlags(flags({ ...base, preset: 'defects', 'time-budget': '30 min' })), /--time-budget 30 min: expected a duration/);
  assert.throws(() => trainConfigFromFlags(flags({ ...base, preset: 'fast' })), /--preset fast: expected quick, standard, paper, defects/);
  // Without --preset a time budget is the quick preset's with another budget (trainer/presets.ts), not a defect map.
  const quick = trainConfigFromFlags(flags({ ...base, 'time-budget': '30m' })) as DefectsConfig;
  assert.equal(quick.timeBudget, 1800);
  assert.notEqual(quick.preset, 'defects');
  const go = (d: string, extra: Record<string, string> = {}) => trainDefects(trainConfigFromFlags(flags({ data: d, out: join(tempDir(), 'm'), preset: 'defects', ...extra })) as DefectsConfig, { emit: () => {}, shouldStop: () => false, loadData: () => { throw new Error('unused'); } });
  await assert.rejects(go(data, { protocol: 'one-vs-rest' }), /--protocol one-vs-rest: --preset defects trains on the defect protocol/);
  await assert.rejects(go(data, { augment: 'defect' }), /--augment defect: --preset defects flips and turns crops and their masks together itself/);
  const noMasks = await paintedDefects({ normal: 6, defect: 4, masks: false });
  await assert.rejects(go(noMasks, { 'patch-size': '32' }), /--patch-size 32: .* has no defect masks/);
  const onlyNormal = await paintedDefects({ normal: 6, defect: 0 });
  await assert.rejects(go(onlyNormal, { synthetic: 'off' }), /has no defect images for training .* and --synthetic is off/);
  assert.throws(() => trainConfigFromFlags(flags({ ...base, synthetic: 'add' })), /--synthetic needs --preset defects/);
  assert.throws(() => trainConfigFromFlags(flags({ ...base, preset: 'defects', synthetic: 'yes' })), /--synthetic yes: expected auto, add, only, off/);
});

test('a folder of normal images only trains the map on synthetic defects (h-synth), one epoch', { timeout: 120_000 }, async () => {
  const onlyNormal = await paintedDefects({ normal: 8, defect: 0 });
  const out = join(tempDir(), 'model');
  const events: ProgressEvent[] = [];
  const cfg = trainConfigFromFlags(flags({ data: onlyNormal, out, preset: 'defects', epochs: '1' })) as DefectsConfig;
  assert.equal(await trainDefects(cfg, { emit: (e) => events.push(e), shouldStop: () => false, loadData: () => { throw new Error('unused'); } }), 'done');
  assert.ok(events.some((e) => e.type === 'stage' && /synthetic defects/.test(e.message)));
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.equal(info.formatVersion, 6);
  assert.deepEqual(info.config.defectMap.batch, { normal: 16, real: 0, synthetic: 16 });
});

test('class folders without masks (image labels only) train on native 64 px tiles: each defect photo a bag of its crops, the multiple-instance loss on the bag, epochs chosen on whole validation photos; no "read whole" warning', { timeout: 180_000 }, async () => {
  // Before: each mask-free image was read whole, squeezed to 64 x 64 px, with a warning (J67: at chance on Magnetic tile).
  const noMasks = await paintedDefects({ normal: 10, defect: 10, masks: false, size: 128 });
  const out = join(tempDir(), 'model');
  const events: ProgressEvent[] = [];
  const cfg = trainConfigFromFlags(flags({ data: noMasks, out, preset: 'defects', epochs: '2' })) as DefectsConfig;
  assert.equal(await trainDefects(cfg, { emit: (e) => events.push(e), shouldStop: () => false, loadData: () => { throw new Error('unused'); } }), 'done');
  const warnings = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
  assert.deepEqual(warnings.filter((m) => /read whole|resized to \d+x\d+|tile-stride|tileStride/.test(m)), []);
  const stages = events.filter((e) => e.type === 'stage').map((e) => (e as { message: string }).message);
  assert.ok(stages.some((m) => /image labels only/.test(m)), stages.join('\n'));
  assert.ok(stages.some((m) => /1 normal photo\(s\) \+ 1 defect photo\(s\), each photo a bag of up to 32 tiles/.test(m) && /validation on \d+ whole photos/.test(m)), stages.join('\n'));
  assert.deepEqual(readdirSync(out).sort(), ['defect-map.bin', 'defect-map.json', 'flawscope.json', 'model.json', 'weights.bin']);
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.equal(info.formatVersion, 6);
  // Native tiles, scored as photos at the stride chosen on the validation photos, as with masks.
  assert.equal(info.config.defectMap.tileStride.source, 'validation');
  assert.deepEqual(info.preprocess, { mode: 'tile', scale: 1, tileStride: info.config.defectMap.tileStride.stride });
  assert.equal(info.config.dataOptions.patchSize, 64);
  assert.deepEqual(info.config.defectMap.batch, { normal: 0, real: 0, synthetic: 0, bags: 1, bagTiles: 32, normalBags: 1 });
  assert.ok(info.config.defectMap.bags.photos >= 5, JSON.stringify(info.config.defectMap.bags));
  const h = info.config.defectMap.history;
  assert.equal(h.length, 2);
  // No masks: Dice has no defect tile to judge; the bag term does the work; the epoch is judged on photos (no pixel figure).
  assert.equal(h[0].losses.dice, 0);
  assert.ok(h[0].losses.mil > 0, JSON.stringify(h[0].losses));
  assert.equal(h[0].valPixelAuroc, null);
  assert.ok(Object.values(h[0].valTileAuroc as Record<string, number | null>).every((a) => a === null || (a >= 0 && a <= 1)));
  assert.ok(info.threshold >= 0 && info.threshold <= 1);
  assert.equal(typeof info.metrics.valPhotoAuroc, 'number');
});
