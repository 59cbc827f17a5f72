/**
 * The readers and protocols on the real data sets, read in place from ../shared/data (archives
 * unpacked to a temp folder) and /usr/share/datasets/fashion-mnist (Debian package
 * dataset-fashion-mnist, installed by .ci/run). Only what a check needs is decoded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { planDataset, readCatalog, loadTrainingData } from '../../trainer/data/index';
import { inspectDataset } from '../../trainer/data/cli-datasets';
import type { CatalogItem } from '../../trainer/data/catalog';
import { SHARED_DATA } from '../helpers/shared';
import { runCli } from '../helpers/cli';
import { tileStarts } from '../../scorer/scorer';

const SHARED = SHARED_DATA;
const MNIST = path.join(SHARED, 'mnist');
const FASHION = '/usr/share/datasets/fashion-mnist';
const CIFAR_TGZ = path.join(SHARED, 'cifar10', 'cifar10-jpg.tar.gz');
const MT_TGZ = path.join(SHARED, 'magnetic-tile', 'magnetic-tile.tar.gz');

const MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

let tmp: string;
before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'flawscope-data-real-'));
});
after(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

function perClass(items: CatalogItem[], split?: 'train' | 'test'): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) if (!split || (split === 'test') === (i.split === 'test')) m.set(i.className, (m.get(i.className) ?? 0) + 1);
  return m;
}

function assertOneVsRest(plan: Awaited<ReturnType<typeof planDataset>>['plan'], normal: string, normals: number, total: number, classes: number, testSize: number, testNormals: number): void {
  assert.equal(plan.trainNormal.length + plan.valNormal.length, normals, 'every training image of the normal class');
  const anomalies = [...plan.trainAnomaly, ...plan.valAnomaly];
  assert.equal(anomalies.length, total, 'anomaly total');
  const counts = [...perClass(anomalies).values()];
  assert.equal(counts.length, classes - 1);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `same number from each class: ${counts}`);
  assert.ok(!anomalies.some((i) => i.className === normal));
  assert.equal(new Set(anomalies.map((i) => i.source)).size, anomalies.length, 'no duplicates');
  assert.equal(plan.testNormal!.length + plan.testAnomaly!.length, testSize, 'the whole official test set');
  assert.equal(plan.testNormal!.length, testNormals);
  assert.ok(plan.valNormal.length > 0 && plan.valAnomaly.length > 0, 'validation has both labels');
}

test('MNIST: official counts, one-vs-rest with k-means sampling gives the paper\'s 6000 anomalies, pixels exact', async () => {
  const cat = await readCatalog(MNIST);
  assert.equal(cat.layout, 'idx');
  const tr = perClass(cat.items, 'train');
  const te = perClass(cat.items, 'test');
  assert.deepEqual(MNIST_TRAIN.map((_, d) => tr.get(String(d))), MNIST_TRAIN);
  assert.deepEqual(MNIST_TEST.map((_, d) => te.get(String(d))), MNIST_TEST);
  const p = await planDataset({ root: MNIST, size: 28, seed: 1, normalClass: '1', protocol: 'one-vs-rest' });
  assertOneVsRest(p.plan, '1', 6742, 6000, 10, 10000, 1135);
  // Decoded record 7 of the test file = bytes 16+7*784.. of the official file.
  const raw = zlib.gunzipSync(fs.readFileSync(path.join(MNIST, 't10k-images-idx3-ubyte.gz')));
  const item = cat.items.find((i) => i.split === 'test' && i.record === 7)!;
  const dec = await cat.decode([item], { size: 28 });
  assert.deepEqual(Buffer.from(dec.images.data), raw.subarray(16 + 7 * 784, 16 + 8 * 784));
});

test('Fashion-MNIST: 6000/1000 per class; one-vs-rest totals 6000', { skip: !fs.existsSync(FASHION) && `${FASHION} missing (apt-get install dataset-fashion-mnist)` }, async () => {
  const cat = await readCatalog(FASHION);
  assert.equal(cat.layout, 'idx');
  assert.deepEqual([...perClass(cat.items, 'train').values()], new Array(10).fill(6000));
  assert.deepEqual([...perClass(cat.items, 'test').values()], new Array(10).fill(1000));
  const p = await planDataset({ root: FASHION, size: 28, seed: 2, normalClass: '0', protocol: 'one-vs-rest', sampling: 'random' });
  assertOneVsRest(p.plan, '0', 6000, 6000, 10, 10000, 1000);
});

test('CIFAR-10 JPEG tree: 50,000/10,000, one-vs-rest 5000 + 5000, decodes to 32x32 RGB', async () => {
  const dir = path.join(tmp, 'cifar10');
  await fsp.mkdir(dir);
  execFileSync('tar', ['-xzf', CIFAR_TGZ, '-C', dir]);
  const cat = await readCatalog(dir);
  assert.equal(cat.layout, 'image-folder-split');
  assert.equal(cat.classNames.length, 10);
  assert.deepEqual([...perClass(cat.items, 'train').values()], new Array(10).fill(5000));
  assert.deepEqual([...perClass(cat.items, 'test').values()], new Array(10).fill(1000));
  const opts = { root: dir, size: 32, seed: 3, normalClass: 'cat', protocol: 'one-vs-rest', sampling: 'random' };
  const p = await planDataset(opts);
  assertOneVsRest(p.plan, 'cat', 5000, 5000, 10, 10000, 1000);
  const again = await planDataset(opts);
  assert.deepEqual(again.plan.trainAnomaly.map((i) => i.source), p.plan.trainAnomaly.map((i) => i.source), 'seeded');
  const some = p.plan.testAnomaly!.slice(0, 50);
  const dec = await cat.decode(some, { size: 32 });
  assert.equal(dec.images.count, 50);
  assert.equal(dec.images.channels, 3);
  // Same pixels as sharp's own decode of the JPEG.
  const ref = await sharp(some[0].source).raw().toBuffer();
  assert.deepEqual(Buffer.from(dec.images.image(0)), ref);
});

test('Magnetic tile: 952 normal, 392 defects over 5 types, masks; defect patches follow the masks', async () => {
  const dir = path.join(tmp, 'mt');
  await fsp.mkdir(dir);
  execFileSync('tar', ['-xzf', MT_TGZ, '-C', dir]);
  const r = await inspectDataset(dir);
  assert.equal(r.layout, 'masks');
  assert.equal(r.normalClass, 'MT_Free');
  const counts = Object.fromEntries(r.classes.map((c) => [c.name, c.count]));
  assert.deepEqual(counts, { MT_Blowhole: 115, MT_Break: 85, MT_Crack: 57, MT_Fray: 32, MT_Free: 952, MT_Uneven: 103 });
  assert.equal(r.total - 952, 392);
  assert.deepEqual(r.masks, { found: 1344, imagesWithoutMask: 0, masksWithoutImage: 0, empty: 4 });
  assert.equal(r.channels.grey, 1344);

  // Whole images, defect protocol: types balanced to the rarest (Fray), normals = defect total.
  const whole = await planDataset({ root: dir, size: 64, seed: 5, protocol: 'defect', sampling: 'random' });
  const types = perClass(whole.plan.trainAnomaly);
  assert.equal(types.size, 5);
  const fray = [...whole.plan.trainAnomaly, ...whole.plan.valAnomaly, ...(whole.plan.testAnomaly ?? [])].filter((i) => i.className === 'MT_Fray');
  assert.equal(fray.length, 32);
  const rarest = Math.min(...types.values());
  assert.equal(rarest, types.get('MT_Fray'));
  assert.ok([...types.values()].every((v) => v === rarest));
  assert.equal(whole.plan.trainNormal.length, 5 * rarest);

  // Patches on a subset (decoding all 1344 photos is not needed to check the rule).
  const sub = path.join(tmp, 'mt-sub');
  for (const [cls, n] of [['MT_Free', 12], ['MT_Crack', 6], ['MT_Blowhole', 6], ['MT_Uneven', 103]] as const) {
    const from = path.join(dir, cls, 'Imgs');
    const names = (await fsp.readdir(from)).filter((f) => f.endsWith('.jpg')).sort().slice(0, n);
    await fsp.mkdir(path.join(sub, cls, 'Imgs'), { recursive: true });
    for (const f of names) for (const ext of ['.jpg', '.png']) await fsp.copyFile(path.join(from, f.replace('.jpg', ext)), path.join(sub, cls, 'Imgs', f.replace('.jpg', ext)));
  }
  const opts = { root: sub, size: 32, seed: 6, protocol: 'defect', patchSize: '64', patchStride: '32', maskFraction: '0.05', balance: 'false' };
  const p = await planDataset(opts);
  assert.equal(p.plan.warnings.filter((w) => /mask is empty/.test(w)).length, 4, 'the four empty MT_Uneven masks');
  const anomalies = [...p.plan.trainAnomaly, ...p.plan.valAnomaly, ...(p.plan.testAnomaly ?? [])];
  assert.ok(anomalies.length > 20);
  for (const it of anomalies.filter((_, k) => k % 7 === 0)) {
    // Recount the defect pixels of the crop straight from the mask file.
    const c = it.crop!;
    const m = await sharp(it.maskPath!).greyscale().extract({ left: c.x, top: c.y, width: c.w, height: c.h }).raw().toBuffer();
    const frac = m.reduce((s, v) => s + (v >= 128 ? 1 : 0), 0) / m.length;
    assert.ok(frac > 0.05, `${it.source} ${JSON.stringify(c)}: ${frac}`);
    assert.ok(Math.abs(frac - it.maskFraction!) < 1e-9);
  }
  const normals = [...p.plan.trainNormal, ...p.plan.valNormal, ...(p.plan.testNormal ?? [])];
  assert.ok(normals.every((i) => i.className === 'MT_Free'));
  const d = await loadTrainingData({ ...opts, augment: 'none' });
  assert.equal(d.normal.channels, 1);
  assert.equal(d.normal.height, 32);
  assert.equal(d.summary.counts.trainNormal, p.plan.trainNormal.length);
});

test('Magnetic tile, --standardize photo and photo tiles end to end: trained on standardised crops, evaluated the same way, whole photos scored by the scorer in overlapping tiles', async () => {
  const sub = path.join(tmp, 'mt-sub'); // written by the test above
  assert.ok(fs.existsSync(sub), 'the Magnetic-tile subset from the previous test');
  const out = path.join(tmp, 'mt-std-model');
  const t = runCli(['train', '--data', sub, '--normal', 'MT_Free', '--out', out, '--size', '32', '--protocol', 'defect', '--patch-size', '64', '--patch-stride', '32',
    '--mask-fraction', '0.05', '--standardize', 'photo', '--epochs', '1', '--batch', '32', '--json']);
  assert.equal(t.code, 0, t.stderr + t.stdout.slice(-1500));
  const info = JSON.parse(fs.readFileSync(path.join(out, 'flawscope.json'), 'utf8'));
  assert.equal(info.formatVersion, 5);
  // photos are scored in overlapping tiles unless train is told otherwise: a quarter of the model size apart
  assert.deepEqual(info.preprocess, { mode: 'tile', scale: 0.5, standardize: { mean: 128, std: 40 }, tileStride: 8 });
  // eval decodes the test crops with the model's standardisation and scores them without a second one:
  // its AUROC is the trainer's own test figure.
  const e = runCli(['eval', '--model', out, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const res = JSON.parse(e.stdout.trim().split('\n').pop()!);
  assert.ok(Math.abs(res.auroc - info.metrics.testAuroc) < 2e-3, `eval ${res.auroc} vs trainer ${info.metrics.testAuroc}`);
  assert.ok(res.photoAuroc && res.photoAuroc.images > 0, 'whole photos scored');
  // per defect type: each type's test photos against the normal ones, together all the defect photos
  const types = res.photoAuroc.byType as { className: string; photos: number; auroc: number | null }[];
  assert.ok(types.length > 0 && types.every((t) => t.className.startsWith('MT_') && t.className !== 'MT_Free' && t.photos > 0), JSON.stringify(types));
  assert.equal(types.reduce((a, t) => a + t.photos, 0), res.photoAuroc.anomalies);
  // the photos in overlapping tiles (the model's own 8), and side by side when eval says so: the crops' figures stay
  assert.equal(res.photoAuroc.tileStride, 8);
  const e32 = runCli(['eval', '--model', out, '--json', '--tile-stride', '32']);
  assert.equal(e32.code, 0, e32.stderr);
  const res32 = JSON.parse(e32.stdout.trim().split('\n').pop()!);
  assert.equal(res32.photoAuroc.tileStride, 32);
  assert.equal(res32.auroc, res.auroc, 'patch AUROC does not depend on how photos are tiled');
  const bad = runCli(['eval', '--model', out, '--json', '--tile-stride', '33']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--tile-stride/);
  // train --tile-stride: side by side (the model size) stays available and is recorded; out of range or 0 is refused before training
  const trainArgs = (o: string, stride: string) => ['train', '--data', sub, '--normal', 'MT_Free', '--out', path.join(tmp, o), '--size', '32', '--protocol', 'defect', '--patch-size', '64', '--patch-stride', '32',
    '--mask-fraction', '0.05', '--tile-stride', stride, '--epochs', '1', '--batch', '32'];
  const sideModel = runCli(trainArgs('mt-side', '32'));
  assert.equal(sideModel.code, 0, sideModel.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(tmp, 'mt-side', 'flawscope.json'), 'utf8')).preprocess.tileStride, 32);
  for (const [stride, msg] of [['33', /--tile-stride \(config "tileStride"\) 33: must be at most the model size \(32\)/], ['0', /--tile-stride/]] as const) {
    const r = runCli(trainArgs(`mt-bad-${stride}`, stride));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, msg);
    assert.ok(!fs.existsSync(path.join(tmp, `mt-bad-${stride}`, 'flawscope.json')));
  }
  // the scorer CLI on a photo: standardised as a whole, so another exposure of it scores alike
  const photo = path.join(sub, 'MT_Crack', 'Imgs', fs.readdirSync(path.join(sub, 'MT_Crack', 'Imgs')).find((f) => f.endsWith('.jpg'))!);
  const darker = path.join(tmp, 'darker.png');
  await sharp(photo).greyscale().linear(0.5, 10).png().toFile(darker);
  const s = runCli(['score', '--model', out, photo, darker, '--json']);
  assert.equal(s.code, 0, s.stderr);
  const [a, b] = s.events.filter((x) => x.event === 'result').map((x) => x.score);
  assert.ok(Math.abs(a - b) < 0.05 * a, `${a} vs ${b}`);
  // the model's tile stride is the score command's default; --stride still overrides it
  const side = runCli(['score', '--model', out, photo, '--stride', '32', '--json']);
  assert.equal(side.code, 0, side.stderr);
  const [own, sideBySide] = [s, side].map((r) => r.events.find((x) => x.event === 'result').tiles as number);
  const meta = await sharp(photo).metadata();
  const tilesAt = (stride: number) => tileStarts(Math.round(meta.width! * 0.5), 32, stride).length * tileStarts(Math.round(meta.height! * 0.5), 32, stride).length;
  assert.deepEqual([own, sideBySide], [tilesAt(8), tilesAt(32)]);
  assert.ok(own > 4 * sideBySide, `${own} tiles 8 px apart vs ${sideBySide} side by side`);
});
