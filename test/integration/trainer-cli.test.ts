/**
 * The trainer CLI end to end: a real training on the committed MNIST fixture, seeded
 * repeatability, SIGTERM → checkpoint → --resume, and every bad input it must refuse cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { ROOT, runCli, startCli, tempDir } from '../helpers/cli';
import { validateModelInfo } from '../../scorer/model-format';

const MNIST = join(ROOT, 'test/fixtures/mnist-small');

async function writePng(path: string, w: number, h: number, channels: 1 | 3 | 4, fill: (i: number) => number) {
  const px = Buffer.alloc(w * h * channels);
  for (let i = 0; i < px.length; i++) px[i] = fill(i);
  const img = sharp(px, { raw: { width: w, height: h, channels } });
  await (channels === 1 ? img.toColourspace('b-w') : img).png().toFile(path);
}

/** A small two-class folder: `good` (n) and `bad` (m) images of random noise with a bright square. */
async function makeFolder(root: string, n = 40, m = 10, sizes: [number, number] = [20, 20]) {
  for (const [cls, count] of [['good', n], ['bad', m]] as const) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < count; i++)
      await writePng(join(root, cls, `${i}.png`), sizes[0], sizes[1], 1, (k) => (cls === 'bad' && k % 20 < 6 ? 255 : (k * 7 + i) % 50));
  }
}

test('trains on the MNIST fixture: digit 1 vs rest, test AUROC > 0.9, a scorable model folder', async () => {
  const out = join(tempDir(), 'model');
  const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', out, '--epochs', '12', '--batch', '32', '--seed', '1', '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
  const start = r.events.find((e) => e.type === 'start');
  assert.ok(start.backend && start.backendReason, 'the start event says which backend runs and why');
  const epochs = r.events.filter((e) => e.type === 'epoch');
  assert.equal(epochs.length, 12);
  for (const e of epochs) for (const k of ['generator', 'recon', 'patch', 'latent', 'normalAdv']) assert.ok(Number.isFinite(e.losses[k]), `epoch loss ${k}`);
  assert.ok(epochs.some((e) => Number.isFinite(e.losses.abc)), 'anomaly steps ran');
  const done = r.events.find((e) => e.type === 'done');
  assert.ok(done.metrics.testAuroc > 0.9, `test AUROC ${done.metrics.testAuroc}`);
  assert.deepEqual(readdirSync(out).sort(), ['flawscope.json', 'model.json', 'weights.bin']);
  const info = validateModelInfo(JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8')));
  assert.deepEqual(info.input, { height: 32, width: 32, channels: 1 });
  assert.ok(Number.isFinite(info.threshold));
  const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  assert.ok(!JSON.stringify(model.modelTopology).includes('d_normal'), 'discriminators are not deployed');
  assert.ok(!existsSync(`${out}.checkpoint`), 'the checkpoint is removed once the model is saved');
  assert.ok(!existsSync(`${out}.lock`), 'the lock is released');
});

test('--skips none trains a plain autoencoder: no skip layers deployed, recorded in flawscope.json, scorable', () => {
  const out = join(tempDir(), 'model');
  const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', out, '--epochs', '1', '--size', '16', '--skips', 'none', '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
  const topology = JSON.stringify(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).modelTopology);
  assert.ok(!/"Concatenate"/.test(topology), 'no concatenation layer');
  assert.ok(JSON.stringify(JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'))).includes('"skips":"none"'), 'the option is recorded');
  const s = runCli(['score', '--model', out, join(MNIST, 'test', '1', readdirSync(join(MNIST, 'test', '1'))[0]!), '--json']);
  assert.equal(s.code, 0, s.stderr);
  assert.ok(s.events.some((e) => e.event === 'result' && Number.isFinite(e.score)));
});

test('the same seed gives the same weights', () => {
  const dir = tempDir();
  const run = (name: string, seed: string) => {
    const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(dir, name), '--epochs', '1', '--batch', '64', '--size', '16', '--seed', seed]);
    assert.equal(r.code, 0, r.stderr);
    return readFileSync(join(dir, name, 'weights.bin'));
  };
  const a = run('a', '7');
  assert.ok(a.equals(run('b', '7')), 'same seed, same weights');
  assert.ok(!a.equals(run('c', '8')), 'another seed, other weights');
});

test('SIGTERM saves a checkpoint and exits 0; --resume continues to a finished model', async () => {
  const out = join(tempDir(), 'model');
  let sent = false;
  const r = await startCli(['train', '--data', MNIST, '--normal', '1', '--out', out, '--epochs', '50', '--batch', '16', '--size', '16', '--json'], (e, kill) => {
    if (e.type === 'epoch' && e.epoch === 1 && !sent) { sent = true; kill('SIGTERM'); }
  });
  assert.equal(r.code, 0, r.stderr);
  const cancelled = r.events.find((e) => e.type === 'cancelled');
  assert.ok(cancelled, 'a cancelled event');
  assert.ok(cancelled.epoch >= 1);
  assert.ok(existsSync(join(cancelled.checkpoint, 'state.json')));
  // The stop leaves the best epoch so far as a usable model beside the checkpoint.
  assert.equal(cancelled.model, out);
  assert.ok(cancelled.bestEpoch >= 1 && cancelled.bestEpoch <= cancelled.epoch);
  const stoppedInfo = validateModelInfo(JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8')), 'stopped model');
  assert.equal((stoppedInfo.config as any).stoppedBy, 'signal');
  const scored = runCli(['score', '--model', out, join(MNIST, 'test/1', readdirSync(join(MNIST, 'test/1'))[0]), '--json']);
  assert.equal(scored.code, 0, scored.stderr);
  assert.ok(scored.stdout.includes('"verdict"'), 'the stopped model scores images');
  const r2 = runCli(['train', '--resume', cancelled.checkpoint, '--epochs', String(cancelled.epoch + 1), '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  const start = r2.events.find((e) => e.type === 'start');
  assert.equal(start.resumedFromEpoch, cancelled.epoch);
  assert.deepEqual(r2.events.filter((e) => e.type === 'epoch').map((e) => e.epoch), [cancelled.epoch + 1]);
  assert.ok(existsSync(join(out, 'model.json')));
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.equal(info.config.history.length, cancelled.epoch + 1, 'history spans both runs');

  // Resume is exact wherever the signal landed: the same model as a run that was never stopped.
  const whole = join(tempDir(), 'whole');
  const r3 = runCli(['train', '--data', MNIST, '--normal', '1', '--out', whole, '--epochs', String(cancelled.epoch + 1), '--batch', '16', '--size', '16']);
  assert.equal(r3.code, 0, r3.stderr);
  const losses = (dir: string) => JSON.parse(readFileSync(join(dir, 'flawscope.json'), 'utf8')).config.history.map((h: any) => [h.losses, h.valAuroc]);
  assert.deepEqual(losses(out), losses(whole), 'per-epoch losses and validation AUROC');
  assert.ok(readFileSync(join(out, 'weights.bin')).equals(readFileSync(join(whole, 'weights.bin'))), 'same weights as the uninterrupted run');
});

test('--keep-checkpoint keeps OUT.checkpoint after the last epoch; --resume with more --epochs extends the finished model', () => {
  const out = join(tempDir(), 'model');
  const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', out, '--epochs', '1', '--batch', '64', '--size', '16', '--keep-checkpoint', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(out, 'weights.bin')) && existsSync(join(`${out}.checkpoint`, 'state.json')), 'model and checkpoint both there');
  const before = readFileSync(join(out, 'weights.bin'));
  const r2 = runCli(['train', '--resume', `${out}.checkpoint`, '--epochs', '2', '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(r2.events.filter((e) => e.type === 'epoch').map((e) => e.epoch), [2]);
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.equal(info.config.history.length, 2);
  assert.equal(info.config.keepCheckpoint, true);
  assert.ok(existsSync(`${out}.checkpoint`), 'still kept, for the next extension');
  assert.equal(readFileSync(join(out, 'weights.bin')).equals(before), info.metrics.bestEpoch === 1, 'the model is the best of both epochs: unchanged exactly when epoch 1 stays best');

  // Copied elsewhere (model and checkpoint together), it extends the copy and leaves the original alone.
  const copy = join(tempDir(), 'moved', 'model');
  cpSync(out, copy, { recursive: true });
  cpSync(`${out}.checkpoint`, `${copy}.checkpoint`, { recursive: true });
  const original = readFileSync(join(out, 'flawscope.json'));
  const r3 = runCli(['train', '--resume', `${copy}.checkpoint`, '--epochs', '3', '--json']);
  assert.equal(r3.code, 0, r3.stderr);
  assert.ok(r3.events.some((e) => e.type === 'warning' && e.message.includes(copy)), 'says which model it continues');
  assert.deepEqual(r3.events.filter((e) => e.type === 'epoch').map((e) => e.epoch), [3]);
  assert.equal(JSON.parse(readFileSync(join(copy, 'flawscope.json'), 'utf8')).config.history.length, 3, 'the copy has the third epoch');
  assert.ok(readFileSync(join(out, 'flawscope.json')).equals(original), 'the original model is untouched');
});

// Each bad input: exit code 2, a message naming the file or flag, nothing written.
const bad: { name: string; setup: (dir: string) => Promise<string[]>; message: RegExp }[] = [
  { name: 'missing data folder', setup: async (d) => ['--data', join(d, 'nope')], message: /nope/ },
  { name: 'empty data folder', setup: async (d) => { mkdirSync(join(d, 'empty')); return ['--data', join(d, 'empty')]; }, message: /empty/ },
  { name: 'unknown class', setup: async (d) => ['--data', MNIST, '--normal', 'seven'], message: /seven.*Classes found/s },
  {
    name: 'no normal images',
    setup: async (d) => { await makeFolder(join(d, 'data'), 4, 4); mkdirSync(join(d, 'data', 'ok')); return ['--data', join(d, 'data'), '--normal', 'ok']; },
    message: /ok/,
  },
  {
    name: 'more than 1% unreadable images',
    setup: async (d) => {
      await makeFolder(join(d, 'data'), 20, 5);
      for (let i = 0; i < 3; i++) writeFileSync(join(d, 'data', 'good', `broken${i}.png`), 'not a png');
      return ['--data', join(d, 'data'), '--normal', 'good'];
    },
    message: /broken0\.png/,
  },
  { name: 'bad --size', setup: async () => ['--data', MNIST, '--size', '30'], message: /--size 30/ },
  { name: 'unknown --backend', setup: async () => ['--data', MNIST, '--backend', 'quantum'], message: /--backend quantum/ },
  { name: 'unknown --score-flip', setup: async () => ['--data', MNIST, '--normal', '1', '--score-flip', 'vertical'], message: /--score-flip vertical: expected none or horizontal/ },
  { name: 'unknown --score-shift', setup: async () => ['--data', MNIST, '--normal', '1', '--score-shift', 'yes'], message: /--score-shift yes: expected none or pixel/ },
  { name: '--weight-average of 1 (the average would never move)', setup: async () => ['--data', MNIST, '--normal', '1', '--weight-average', '1'], message: /--weight-average 1: expected a number from 0 up to \(not including\) 1/ },
  {
    name: 'a config file with "weightAverage": 2',
    setup: async (d) => { writeFileSync(join(d, 'cfg.json'), JSON.stringify({ weightAverage: 2 })); return ['--data', MNIST, '--normal', '1', '--config', join(d, 'cfg.json')]; },
    message: /cfg\.json: "weightAverage" 2: expected a number from 0 up to \(not including\) 1/,
  },
  { name: 'unknown --skips', setup: async () => ['--data', MNIST, '--normal', '1', '--skips', 'half'], message: /--skips half: expected all, no-outer, none/ },
  { name: 'unavailable --backend tensorflow', setup: async () => ['--data', MNIST, '--normal', '1', '--backend', 'tensorflow'], message: /tfjs-node/ },
  {
    name: 'output folder exists',
    setup: async (d) => { mkdirSync(join(d, 'out')); writeFileSync(join(d, 'out', 'keep.txt'), 'x'); return ['--data', MNIST, '--normal', '1']; },
    message: /holds files that are not a Flawscope model \(keep\.txt…\).*replaces only a model folder/,
  },
];
for (const c of bad) {
  test(`bad input: ${c.name} → exit 2, a clear message, nothing written`, async () => {
    const d = tempDir();
    const args = await c.setup(d);
    const before = readdirSync(d).sort();
    const r = runCli(['train', ...args, '--out', join(d, 'out'), '--epochs', '1', ...(args.includes('--size') ? [] : ['--size', '16'])]);
    assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}${r.stdout}`);
    assert.match(r.stderr, c.message);
    assert.deepEqual(readdirSync(d).sort(), before, 'nothing new written');
    if (c.name === 'output folder exists') assert.deepEqual(readdirSync(join(d, 'out')), ['keep.txt']);
  });
}

test('no anomaly images: trains with the normal-group losses only, and warns', async () => {
  const d = tempDir();
  await makeFolder(join(d, 'data'), 30, 0);
  const r = runCli(['train', '--data', join(d, 'data'), '--normal', 'good', '--out', join(d, 'out'), '--epochs', '1', '--size', '16', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.events.some((e) => e.type === 'warning' && /anomal/i.test(e.message)));
  const ep = r.events.find((e) => e.type === 'epoch');
  assert.equal(ep.losses.abc, undefined, 'no anomaly step ran');
  assert.ok(existsSync(join(d, 'out', 'model.json')));
});

test('unreadable images under 1% are listed and skipped; mixed sizes and channels are converted', async () => {
  const d = tempDir();
  const data = join(d, 'data');
  cpSync(MNIST + '/train', data, { recursive: true }); // 300 images
  writeFileSync(join(data, '1', 'corrupt.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]));
  await writePng(join(data, '1', 'rgb-big.png'), 64, 40, 3, (k) => k % 255);
  await writePng(join(data, '1', 'rgba.png'), 10, 12, 4, (k) => k % 200);
  const r = runCli(['train', '--data', data, '--normal', '1', '--out', join(d, 'out'), '--epochs', '1', '--size', '16', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const start = r.events.find((e) => e.type === 'start');
  assert.ok(start.summary.skipped.some((s: any) => s.path.endsWith('corrupt.png')), 'the corrupt file is listed');
  const info = JSON.parse(readFileSync(join(d, 'out', 'flawscope.json'), 'utf8'));
  assert.equal(info.input.channels, 3, 'one RGB image makes the model RGB');
});

test('a loss group whose weights are all zero takes no steps; all-zero weights are refused', () => {
  const d = tempDir();
  const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(d, 'ae'), '--epochs', '1', '--size', '16', '--json', '--weights', 'abc=0,anomalyAdv=0,normalAdv=0,patch=0,latent=0']);
  assert.equal(r.code, 0, r.stderr);
  const ep = r.events.find((e) => e.type === 'epoch');
  assert.equal(ep.losses.abc, undefined, 'no anomaly step');
  assert.ok(Number.isFinite(ep.losses.recon));
  const z = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(d, 'zero'), '--epochs', '1', '--size', '16', '--weights', 'recon=0,abc=0,anomalyAdv=0,normalAdv=0,patch=0,latent=0']);
  assert.equal(z.code, 2);
  assert.match(z.stderr, /every loss weight is zero/);
  assert.ok(!existsSync(join(d, 'zero')));
});

test('--weight-average: the average is validated and deployed; the trained weights follow the same path as without it (their validation figure recorded beside)', () => {
  const d = tempDir();
  const run = (name: string, extra: string[]) => {
    const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(d, name), '--epochs', '3', '--batch', '32', '--size', '16', '--seed', '2', '--json', ...extra]);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
    return { info: JSON.parse(readFileSync(join(d, name, 'flawscope.json'), 'utf8')), weights: readFileSync(join(d, name, 'weights.bin')), epochs: r.events.filter((e) => e.type === 'epoch') };
  };
  const plain = run('plain', []);
  const avg = run('avg', ['--weight-average', '0.9']);
  assert.equal(avg.info.config.weightAverage, 0.9);
  assert.equal(plain.info.config.weightAverage, 0);
  const hp = plain.info.config.history as { valAuroc: number; valAurocTrained?: number }[];
  const ha = avg.info.config.history as { valAuroc: number; valAurocTrained?: number }[];
  assert.equal(hp[0].valAurocTrained, undefined, 'no second figure without the average');
  // Same seed, same batches: the trained weights of the averaged run are the plain run's, epoch by epoch.
  assert.deepEqual(ha.map((h) => h.valAurocTrained), hp.map((h) => h.valAuroc));
  assert.ok(ha.some((h, i) => h.valAuroc !== hp[i].valAuroc), 'the average scores differently from the trained weights');
  assert.ok(!avg.weights.equals(plain.weights), 'the deployed weights are the average, not the trained ones');
  assert.deepEqual(avg.epochs.map((e) => e.valAurocTrained), hp.map((h) => h.valAuroc), 'the epoch events carry the trained weights\' figure');
  assert.ok(plain.epochs.every((e) => !('valAurocTrained' in e)));
});
