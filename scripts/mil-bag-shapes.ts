/**
 * Image labels only (docs/defect-map.md "photo bags"): the bag's shape at EQUAL UPDATES, judged
 * on the whole VALIDATION photos only (the test photos are not read).
 *
 *   node --import tsx scripts/mil-bag-shapes.ts --data IMAGE_LABEL_DIR --generator MODEL_DIR \
 *     --updates N [--shapes 1x32,2x16,4x8] [--lr-factor F] [--top-k K] [--seed 0]
 *
 * MODEL_DIR: a `--preset defects` model folder of the same data and seed; its generator is used
 * frozen (its map is ignored). Each shape ("BxT": B defect photos a batch, each cut to at most T
 * of its cover's tiles) starts from the same generator, data, split, random streams, network
 * start, loss and learning-rate schedule as the preset (map-loop.ts), trains N updates, and is
 * scored on the validation photos at N/2 and N (photo AUROC of every image-score rule). One JSON
 * line per shape and check point on stdout. --lr-factor and --top-k replace the recipe's map-rate
 * factor (MAP_RECIPE.lrFactor) and the bag loss's k (milTopK), to compare those at equal updates.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { loadMapData, MapSampler, type BagShape } from '../trainer/data/map-data';
import { mapStreams } from '../trainer/defect-map/map-loop';
import { evaluateValidationPhotos, loadGenerator, tensors } from '../trainer/defect-map/validate';
import { buildDefectMap } from '../trainer/defect-map/network';
import { measureMapInit } from '../trainer/defect-map/input-stats';
import { mapLoss } from '../trainer/defect-map/loss';
import { mapInput } from '../trainer/defect-map/evaluate';
import { MAP_RECIPE } from '../trainer/defect-map/recipe';
import { mapLearningRate, setLearningRate } from '../trainer/defect-map/schedule';
import { selectTrainingBackend } from '../trainer/backend';
import { InputError } from '../trainer/errors';
import type { ModelInfo } from '../scorer/model-format';

const Shape = z.string().regex(/^\d+x\d+$/, 'expected BxT, e.g. 2x16').transform((s): BagShape => {
  const [bags, bagTiles] = s.split('x').map(Number);
  return { bags, bagTiles };
});
const ArgsSchema = z.object({
  data: z.string({ required_error: '--data DIR is required (the image-labels-only folder)' }).min(1),
  generator: z.string({ required_error: '--generator DIR is required (a --preset defects model folder of the same data)' }).min(1),
  updates: z.coerce.number({ invalid_type_error: '--updates: expected an integer' }).int().min(2, '--updates: at least 2'),
  shapes: z.string().default('1x32,2x16,4x8').transform((s, ctx) => s.split(',').map((v) => {
    const r = Shape.safeParse(v);
    if (!r.success) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `--shapes ${v}: ${r.error.issues[0].message}` });
    return r.success ? r.data : { bags: 1, bagTiles: 1 };
  })),
  seed: z.coerce.number().int().min(0).default(0),
  'lr-factor': z.coerce.number({ invalid_type_error: '--lr-factor: expected a number' }).positive('--lr-factor: expected > 0').default(MAP_RECIPE.lrFactor),
  'top-k': z.coerce.number({ invalid_type_error: '--top-k: expected an integer' }).int().min(1, '--top-k: at least 1').default(MAP_RECIPE.loss.milTopK),
});

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: Object.fromEntries(['data', 'generator', 'updates', 'shapes', 'seed', 'lr-factor', 'top-k'].map((k) => [k, { type: 'string' as const }])) });
  const r = ArgsSchema.safeParse(values);
  if (!r.success) throw new InputError(r.error.issues.map((i) => i.message).join('; '));
  const a = r.data;
  await selectTrainingBackend('auto');
  const info = JSON.parse(await fs.readFile(join(a.generator, 'flawscope.json'), 'utf8')) as ModelInfo & { config: { validationFraction?: number; lr: number; batch: number } };
  const d = await loadMapData({ root: a.data, size: info.input.height, channels: info.input.channels, seed: a.seed, validationFraction: info.config.validationFraction, protocol: 'defect', balance: 'false', augment: 'none' });
  if (!d.bags) throw new InputError(`--data ${a.data}: not read as photo bags (it has masks, or no defect folder)`);
  const gen = await loadGenerator(a.generator);
  const { height: H, width: W, channels: C } = info.input;
  for (const shape of a.shapes) {
    const { rng } = mapStreams(a.seed, info.input, false);
    const sampler = new MapSampler(d, info.config.batch, () => rng.next(), undefined, undefined, shape);
    const init = await measureMapInit(gen, await Promise.all(Array.from({ length: 8 }, () => sampler.next())), H, W, C);
    const net = buildDefectMap(info.input, a.seed, { ...init, init: 'he' });
    const lr = info.config.lr * a['lr-factor'];
    const loss = { ...MAP_RECIPE.loss, milTopK: a['top-k'] };
    const stepsPerEpoch = Math.max(20, Math.min(400, Math.ceil(d.bags.length / shape.bags)));
    const warmup = Math.min(MAP_RECIPE.warmup, Math.floor(stepsPerEpoch / 2));
    const opt = tf.train.adam(lr, 0.9, 0.999);
    const t0 = Date.now();
    let milSum = 0, since = 0;
    for (let u = 1; u <= a.updates; u++) {
      const b = await sampler.next();
      const { x, targets } = tensors(b, H, W, C);
      const input = mapInput(gen, x);
      setLearningRate(opt, mapLearningRate(lr, warmup, u));
      let mil: tf.Scalar | null = null;
      const total = opt.minimize(() => { const p = mapLoss(net.apply(input, { training: true }) as tf.Tensor4D, targets, loss); mil = tf.keep(p.mil); return p.total; }, true) as tf.Scalar;
      milSum += (await mil!.data())[0];
      [total, mil!, x, input, ...Object.values(targets)].forEach((t) => t.dispose());
      if (u === Math.floor(a.updates / 2) || u === a.updates) {
        const ev = await evaluateValidationPhotos(gen, net, d, info.input);
        // The training bag loss over the updates since the last check point (log 2 ≈ 0.69: no better than a constant map).
        process.stdout.write(JSON.stringify({ shape: `${shape.bags}x${shape.bagTiles}`, lrFactor: a['lr-factor'], topK: a['top-k'], updates: u, meanMil: milSum / (u - since), valPhotoAuroc: ev.select, byRule: ev.tileAuroc, valLoss: ev.loss, seconds: (Date.now() - t0) / 1000 }) + '\n');
        milSum = 0; since = u;
      }
    }
    opt.dispose();
    net.dispose();
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof InputError ? '' : (e as Error).stack + '\n'}${(e as Error).message}\n`);
  process.exit(e instanceof InputError ? 2 : 1);
});
