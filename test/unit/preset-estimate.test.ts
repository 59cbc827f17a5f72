// The Train wizard's expected time per preset (extension/preset-estimate.ts over trainer/presets.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { confirmText, presetEstimate, trainingImageCount } from '../../extension/preset-estimate';
import { CONFIRM_ABOVE_S, ESTIMATE_IMG_PER_SEC_32, estimateTrainSeconds, formatEstimate, PRESETS } from '../../trainer/presets';

test('a budget preset takes its update rule\'s time at the measured speed, never more than its budget, whatever the dataset size', () => {
  const q = PRESETS.quick;
  const rule = ((q.minUpdates + q.patience!) * q.batch) / ESTIMATE_IMG_PER_SEC_32;
  for (const n of [150, 1_350, 50_000]) assert.equal(estimateTrainSeconds(q, n), Math.min(q.timeBudgetS!, rule), `${n} images`);
  assert.ok(estimateTrainSeconds(q, 1_350) <= 90);
  assert.ok(estimateTrainSeconds(PRESETS.standard, 1_350) <= 15 * 60);
  // A slower machine reaches the budget, and no further.
  assert.equal(estimateTrainSeconds(q, 1_350, 1), q.timeBudgetS);
});

test('the paper preset: 300 epochs over the training images at 128 px, batch 1 — a day and more for MNIST-sized folders', () => {
  const p = PRESETS.paper;
  const s = estimateTrainSeconds(p, 1_350);
  // 300 epochs × 1,350 steps, each costing as much as a batch of 8 at 16x the pixels of 32 px.
  assert.ok(Math.abs(s - (300 * 1_350 * 8 * 16) / ESTIMATE_IMG_PER_SEC_32) < 1e-6, String(s));
  assert.ok(estimateTrainSeconds(p, 2_700) > 1.99 * s, 'twice the images, twice the time');
});

test('confirmation above 15 minutes: quick and standard start at once, paper asks', () => {
  assert.equal(CONFIRM_ABOVE_S, 900);
  assert.equal(presetEstimate('quick', 1_350).confirm, false);
  assert.equal(presetEstimate('standard', 1_350).confirm, false);
  const paper = presetEstimate('paper', 1_350);
  assert.equal(paper.confirm, true);
  assert.match(paper.text, /^about 32 h for 1,350 training images$/);
  assert.match(confirmText('paper', paper), /^The paper preset is expected to train for about 32 h for 1,350 training images on this machine/);
  // Tiny data: even the paper preset is quick enough not to ask.
  assert.equal(presetEstimate('paper', 2).confirm, false);
});

test('formatEstimate and the training image count (a top-level test/ folder is not trained on)', () => {
  assert.deepEqual([formatEstimate(40), formatEstimate(600), formatEstimate(4 * 3600), formatEstimate(9 * 86400)], ['about 40 s', 'about 10 min', 'about 4 h', 'about 9 days']);
  const root = '/d';
  assert.equal(trainingImageCount(root, [join(root, 'train/8/a.png'), join(root, 'test/8/b.png'), join(root, '8/c.png'), join(root, 'testing/d.png')]), 3);
});

test('progress of a budget run: the share of its time budget spent, below 1 until done; no "/100000" epoch count', async () => {
  const { budgetFraction, epochText } = await import('../../extension/training');
  const step = { type: 'step', epoch: 2, step: 5, stepsPerEpoch: 42, losses: {}, imgPerSec: 500, etaSec: 60 } as const;
  assert.equal(budgetFraction(step, 90, 45), 0.5);
  assert.equal(budgetFraction(step, 90, 200), 0.99);
  assert.equal(budgetFraction({ type: 'done', out: 'o', metrics: {}, seconds: 30 }, 90, 30), 1);
  assert.equal(budgetFraction({ type: 'warning', message: 'x' }, 90, 30), null);
  assert.equal(epochText(3, 15), 'epoch 3/15');
  assert.equal(epochText(3, 100_000), 'epoch 3');
});
