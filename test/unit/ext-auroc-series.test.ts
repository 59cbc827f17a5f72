/** The dashboard's validation-AUROC curves (media/webview/lib/auroc-series.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aurocSeries, keptEpochMarker } from '../../media/webview/lib/auroc-series';

const epoch = (n: number, valAuroc: number | null, bestValAuroc: number | null, valAurocTrained?: number | null) =>
  ({ type: 'epoch' as const, epoch: n, epochs: 3, losses: {}, valAuroc, bestValAuroc, imgPerSec: 1, etaSec: 0, seconds: 1, ...(valAurocTrained !== undefined ? { valAurocTrained } : {}) });

test('without a weight average: the validation curve and the best so far, epochs without a figure left out', () => {
  const s = aurocSeries([epoch(1, null, null), epoch(2, 0.7, 0.7), epoch(3, 0.6, 0.7)]);
  assert.deepEqual(s.map((x) => x.name), ['validation AUROC', 'best']);
  assert.deepEqual(s[0].points, [[2, 0.7], [3, 0.6]]);
  assert.deepEqual(s[1].points, [[2, 0.7], [3, 0.7]]);
});

test('with a weight average: the curve is named as the average and the trained weights get their own curve', () => {
  const s = aurocSeries([epoch(1, 0.8, 0.8, 0.75), epoch(2, 0.82, 0.82, null), epoch(3, 0.83, 0.83, 0.9)]);
  assert.deepEqual(s.map((x) => x.name), ['validation AUROC (weight average)', 'best', 'trained weights']);
  assert.deepEqual(s[2].points, [[1, 0.75], [3, 0.9]]);
  assert.notEqual(s[2].color, s[0].color);
});

test('the kept epoch is marked with its reason: the trainer\'s bestEpoch once done, the best so far while training', () => {
  const ep = (epoch: number, valAuroc: number | null) => ({ type: 'epoch' as const, epoch, epochs: 30, losses: {}, valAuroc, bestValAuroc: valAuroc, imgPerSec: 1, etaSec: 1, seconds: 1 });
  const epochs = [ep(1, 0.7), ep(2, 0.9), ep(3, 0.8)];
  assert.deepEqual(keptEpochMarker(epochs, { bestEpoch: 2, valAuroc: 0.9, testAuroc: 0.85 }, 30), { x: 2, label: 'kept epoch 2 of 30: validation AUROC peaked there (0.900)' });
  const live = keptEpochMarker(epochs, null, 30);
  assert.equal(live?.x, 2);
  assert.match(live!.label, /^best so far: epoch 2 \(validation AUROC 0\.900\)/);
  assert.equal(keptEpochMarker([ep(1, null)], null, 30), null);
});
