// The Models view's description and tooltip: labelled figures, integers as integers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelDescription, modelTooltip, type ModelEntry } from '../../extension/models';
import type { ModelInfo } from '../../scorer/model-format';

const info = {
  input: { width: 32, height: 32, channels: 1 },
  score: { kind: 'mean', patch: null },
  threshold: 1.234,
  metrics: { valAuroc: 0.8123, bestEpoch: 2, testAuroc: 0.9012 },
  backend: 'cpu',
  createdAt: '2026-12-05T10:00:00.000Z',
} as unknown as ModelInfo;
const entry: ModelEntry = { path: '/m/a', name: 'a', info, error: null, sizeBytes: 2048, mtime: 0 };

test('the description names the split of its AUROC', () => {
  assert.equal(modelDescription(entry), 'test AUROC 0.901 · 32px · cpu');
  assert.equal(modelDescription({ ...entry, info: { ...info, metrics: { valAuroc: 0.75, testAuroc: null } } }), 'validation AUROC 0.750 · 32px · cpu');
});

test('the tooltip formats the kept epoch as an integer and labels each AUROC', () => {
  const t = modelTooltip(entry);
  assert.match(t, /kept epoch 2(,|$)/m);
  assert.doesNotMatch(t, /2\.0000|bestEpoch/);
  assert.match(t, /validation AUROC 0\.812/);
  assert.match(t, /test AUROC 0\.901/);
});
