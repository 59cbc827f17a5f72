import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDatasetReport, parseDatasetJson } from '../../extension/reports/dataset-model';

const base = {
  root: '/d', layout: 'image-folder', normalClass: 'good', total: 9,
  classes: [{ name: 'good', count: 7, anomaly: false }, { name: 'scratch', count: 2, anomaly: true }],
  splits: null,
  imageSizes: { probed: 8, sampled: false, min: { width: 20, height: 10 }, max: { width: 40, height: 20 }, common: [{ size: '20x10', count: 6 }, { size: '40x20', count: 2 }] },
  channels: { grey: 8, colour: 0, alpha: 0, highBitDepth: 0 },
  masks: null, imbalance: { ratio: 3.5, normalToAnomaly: 3.5 },
  skipped: [{ path: '/d/good/broken.png', reason: 'not a readable image' }], ignoredFiles: 1, warnings: [],
  samples: { good: ['/d/good/1.png', '/d/good/2.png'], scratch: ['/d/scratch/1.png'] },
};

test('counts per class with roles, the size bars, samples per class and skipped files with reasons', () => {
  const r = buildDatasetReport(parseDatasetJson(base));
  assert.deepEqual(r.classes.map((c) => [c.name, c.count, c.role, c.train]), [['good', 7, 'normal', null], ['scratch', 2, 'anomaly', null]]);
  assert.deepEqual(r.sizes, [{ label: '20×10', count: 6 }, { label: '40×20', count: 2 }]);
  assert.match(r.sizeNote, /from 20×10 to 40×20; 8 images/);
  assert.deepEqual(r.samples.map((s) => [s.className, s.images.map((i) => i.name)]), [['good', ['1.png', '2.png']], ['scratch', ['1.png']]]);
  assert.deepEqual(r.skipped, base.skipped);
});

test('an undetected normal class reads as unknown roles with the reason', () => {
  const r = buildDatasetReport(parseDatasetJson({ ...base, normalClass: null, normalClassNote: 'pass --normal', classes: base.classes.map((c) => ({ ...c, anomaly: null })) }));
  assert.ok(r.classes.every((c) => c.role === 'unknown'));
  assert.equal(r.normalClassNote, 'pass --normal');
});

test('a report without samples (older CLI) shows no thumbnails; a malformed one names the field', () => {
  const { samples: _s, ...old } = base;
  assert.deepEqual(buildDatasetReport(parseDatasetJson(old)).samples, []);
  assert.throws(() => parseDatasetJson({ ...base, total: 'many' }), /field "total"/);
});
