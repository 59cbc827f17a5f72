/**
 * Presets by budget (trainer/presets.ts, the stopping rule in trainer/train.ts): with no budget
 * flag `train` is the quick preset; the early stop and the time budget show in the progress events
 * and in flawscope.json; a budget run keeps its checkpoint, so it can be extended afterwards; a
 * SIGINT mid-epoch leaves the best epoch so far as a usable model beside the resumable checkpoint.
 * Real CLI processes on the committed MNIST fixture at 16 px.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, startCli, tempDir } from '../helpers/cli';
import { PRESETS } from '../../trainer/presets';

const MNIST = join(ROOT, 'test/fixtures/mnist-small');
const info = (dir: string) => JSON.parse(readFileSync(join(dir, 'flawscope.json'), 'utf8'));

test('no budget flag = the quick preset: early stop after --patience updates without a better validation AUROC, visible in the events; the checkpoint is kept and extends the run', () => {
  const out = join(tempDir(), 'model');
  // The preset's patience shortened (one 8-update epoch) so the test ends in seconds; the rule is the preset's.
  const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', out, '--size', '16', '--patience', '8', '--min-updates', '24', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const start = r.events.find((e) => e.type === 'start');
  assert.deepEqual([start.timeBudget, start.patience, start.minUpdates], [PRESETS.quick.timeBudgetS, 8, 24], 'quick: its time budget, the flags\' patience');
  const epochs = r.events.filter((e) => e.type === 'epoch');
  const stop = r.events.find((e) => e.type === 'early-stop');
  assert.ok(stop, 'an early-stop event');
  assert.equal(stop.reason, 'patience');
  assert.equal(stop.epoch, epochs.at(-1).epoch, 'no epoch after the stop');
  assert.ok(stop.updates >= 24, `at least --min-updates (${stop.updates})`);
  // The rule, checked from the epochs: the best AUROC came ≥ 8 updates before the stop, none better since.
  const best = Math.max(...epochs.map((e) => e.valAuroc));
  const bestAt = epochs.find((e) => e.valAuroc === best);
  assert.equal(stop.bestEpoch, bestAt.epoch);
  assert.ok(stop.updates - bestAt.updates >= 8, `${stop.updates} − ${bestAt.updates} ≥ patience`);
  let bestSoFar = { auroc: -1, updates: 0 };
  for (const e of epochs.slice(0, -1)) {
    if (e.valAuroc > bestSoFar.auroc) bestSoFar = { auroc: e.valAuroc, updates: e.updates };
    assert.ok(e.updates < 24 || e.updates - bestSoFar.updates < 8, `the rule held at epoch ${e.epoch} already; it stopped late`);
  }
  const done = r.events.find((e) => e.type === 'done');
  assert.equal(done.stoppedBy, 'patience');
  assert.equal(info(out).config.stoppedBy, 'patience');
  assert.equal(info(out).metrics.bestEpoch, bestAt.epoch);
  assert.match(r.stdout, /"reason":"patience"/);

  // A budget run keeps OUT.checkpoint without --keep-checkpoint: extending it needs no foresight.
  const ckpt = `${out}.checkpoint`;
  assert.ok(existsSync(join(ckpt, 'state.json')), 'checkpoint kept');
  const last = epochs.at(-1).epoch;
  const more = runCli(['train', '--resume', ckpt, '--epochs', String(last + 2), '--json']);
  assert.equal(more.code, 0, more.stderr);
  assert.deepEqual(more.events.filter((e) => e.type === 'epoch').map((e) => e.epoch), [last + 1, last + 2], 'exactly the epochs asked for: the patience no longer applies');
  assert.equal(info(out).config.history.length, last + 2);
});

test('--time-budget stops the training with the best epoch so far; an explicit --epochs run without it has no early stop', () => {
  const dir = tempDir();
  const t0 = Date.now();
  const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(dir, 'b'), '--size', '16', '--batch', '4', '--epochs', '1000', '--time-budget', '10s', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const stop = r.events.find((e) => e.type === 'early-stop');
  assert.equal(stop?.reason, 'time-budget', JSON.stringify(stop));
  const trained = r.events.filter((e) => e.type === 'epoch').reduce((a, e) => a + e.seconds, 0);
  assert.ok(trained <= 10.5, `training steps took ${trained} s of the 10 s budget`);
  assert.ok(r.events.filter((e) => e.type === 'epoch').length < 1000);
  assert.ok(Date.now() - t0 < 90_000);
  assert.equal(info(join(dir, 'b')).config.stoppedBy, 'time-budget');

  const fixed = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(dir, 'f'), '--size', '16', '--batch', '64', '--epochs', '3', '--json']);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.deepEqual(fixed.events.filter((e) => e.type === 'epoch').map((e) => e.epoch), [1, 2, 3]);
  assert.ok(!fixed.events.some((e) => e.type === 'early-stop'));
  assert.ok(!existsSync(join(dir, 'f.checkpoint')), 'an --epochs run keeps no checkpoint unless asked, as before');

  const bad = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(dir, 'x'), '--time-budget', '5s']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--time-budget/);
  const badPreset = runCli(['train', '--data', MNIST, '--normal', '1', '--out', join(dir, 'x'), '--preset', 'fast']);
  assert.equal(badPreset.code, 2);
  assert.match(badPreset.stderr, /--preset.*quick, standard, paper, defects/);
});

test('SIGINT mid-epoch (quick preset): exit 0, the best epoch so far written as a model beside the checkpoint (atomically), and the checkpoint resumes', async () => {
  const parent = tempDir();
  const out = join(parent, 'model');
  let sent = false;
  const r = await startCli(['train', '--data', MNIST, '--normal', '1', '--out', out, '--size', '16', '--json'], (e, kill) => {
    if (!sent && e.type === 'step' && e.epoch === 3) { sent = true; kill('SIGINT'); }
  });
  assert.equal(r.code, 0, r.stderr);
  const c = r.events.find((e) => e.type === 'cancelled');
  assert.ok(c, 'a cancelled event');
  assert.ok(c.step > 0, `stopped mid-epoch (step ${c.step})`);
  assert.equal(c.model, out);
  const epochs = r.events.filter((e) => e.type === 'epoch');
  const best = epochs.reduce((a, e) => (e.valAuroc > a.valAuroc ? e : a));
  assert.equal(c.bestEpoch, best.epoch, 'the best validated epoch, not the last one');
  const m = info(out);
  assert.equal(m.metrics.bestEpoch, best.epoch);
  assert.equal(m.config.stoppedBy, 'signal');
  assert.equal(m.thresholdRule.confidence, 0.9);
  assert.match(r.stdout + r.stderr, /"model":/);
  assert.deepEqual(readdirSync(parent).filter((f) => f.includes('.tmp')), [], 'no temp folder left');
  const scored = runCli(['score', '--model', out, join(MNIST, 'test/7'), '--json']);
  assert.equal(scored.code, 0, scored.stderr);
  const results = scored.stdout.split('\n').filter((l) => l.includes('"event":"result"'));
  assert.equal(results.length, 30);

  const resumed = runCli(['train', '--resume', c.checkpoint, '--epochs', String(c.epoch + 1), '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(resumed.events.find((e) => e.type === 'start').resumedAtStep, c.step);
  assert.equal(info(out).config.history.length, c.epoch + 1);
});

test('the human progress line states the early stop', () => {
  const out = join(tempDir(), 'model');
  const r = runCli(['train', '--data', MNIST, '--normal', '1', '--out', out, '--size', '16', '--patience', '8', '--min-updates', '8']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /stops at 90 s of training, or after 8 updates without a better validation AUROC \(once 8 are done\)/);
  assert.match(r.stdout, /early stop: stopped after epoch \d+ \(\d+ updates\): validation AUROC has not improved for \d+ updates \(patience 8\); deploying epoch \d+/);
});
