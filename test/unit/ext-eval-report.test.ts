import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEvalReport, parseEvalJson, WORST_SHOWN } from '../../extension/reports/eval-model';

const base = {
  model: '/m', data: '/d', normalClass: 'good', split: 'test', count: 6, normals: 3, anomalies: 3, kind: 'mean', auroc: 0.75, pixelAuroc: null,
  atModelThreshold: { threshold: 1, precision: 0.5, recall: 2 / 3, f1: 0.57, accuracy: 0.5 },
  perClass: [
    { className: 'crack', count: 3, anomaly: true, auroc: 0.8, meanScore: 1.4 },
    { className: 'good', count: 3, anomaly: false, auroc: null, meanScore: 0.8 },
  ],
  sourceAuroc: null,
  photoAuroc: null,
  roc: [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }],
  images: [
    { path: '/d/good/a.png', className: 'good', anomaly: false, score: 0.2 },
    { path: '/d/good/b.png', className: 'good', anomaly: false, score: 1.5 },
    { path: '/d/good/c.png', className: 'good', anomaly: false, score: 1.2 },
    { path: '/d/crack/x.png', className: 'crack', anomaly: true, score: 2.0 },
    { path: '/d/crack/y.png', className: 'crack', anomaly: true, score: 0.9 },
    { path: '/d/crack/z.png', className: 'crack', anomaly: true, score: 1.1 },
  ],
  seconds: 1,
};

test('confusion counts at the threshold (score above it = flagged) and the worst cases in order', () => {
  const r = buildEvalReport(parseEvalJson(base));
  assert.deepEqual(r.confusion, { unit: 'image', tp: 2, fn: 1, fp: 2, tn: 1 });
  assert.deepEqual(r.falsePositives.map((i) => i.name), ['b.png', 'c.png']);
  assert.deepEqual(r.missed.map((i) => [i.name, i.className, i.score]), [['y.png', 'crack', 0.9]]);
  assert.equal(r.threshold, 1);
  assert.deepEqual(r.roc, [[0, 0], [1, 1]]);
});

test('the histogram counts every image once, normal and anomalous apart', () => {
  const r = buildEvalReport(parseEvalJson(base));
  const sum = (a: number[]) => a.reduce((s, c) => s + c, 0);
  assert.equal(sum(r.histogram.normal), 3);
  assert.equal(sum(r.histogram.anomalous), 3);
  assert.equal(r.histogram.normal.length, r.histogram.anomalous.length);
  assert.equal(r.histogram.start, 0.2);
});

test('every headline figure names its split; image models lead with image AUROC', () => {
  const r = buildEvalReport(parseEvalJson(base));
  assert.equal(r.headline[0].label, 'Image AUROC (test)');
  assert.ok(r.headline.every((h) => h.label.endsWith('(test)')));
  const v = buildEvalReport(parseEvalJson({ ...base, split: 'validation' }));
  assert.ok(v.headline.every((h) => h.label.endsWith('(validation)')));
});

test('photo models: the whole-photo figure comes first, per-photo confusion, defect types listed', () => {
  const photo = { images: 4, normals: 2, anomalies: 2, auroc: 0.9, tileStride: 64, byType: [{ className: 'crack', photos: 2, auroc: 0.9 }] };
  const r = buildEvalReport(parseEvalJson({ ...base, photoAuroc: photo, sourceAuroc: { auroc: 0.85, images: 4, normals: 2, anomalies: 2 } }));
  assert.equal(r.headline[0].label, 'Whole-photo AUROC (test)');
  assert.equal(r.headline[0].value, 0.9);
  assert.equal(r.headline[1].label, 'Crop AUROC (test)');
  assert.equal(r.confusion.unit, 'photo');
  assert.deepEqual(r.defectTypes, [{ name: 'crack', photos: 2, auroc: 0.9 }]);
});

test('at most WORST_SHOWN thumbnails per list', () => {
  const images = Array.from({ length: 30 }, (_, i) => ({ path: `/d/good/${i}.png`, className: 'good', anomaly: false, score: 2 + i }));
  const r = buildEvalReport(parseEvalJson({ ...base, images }));
  assert.equal(r.falsePositives.length, WORST_SHOWN);
  assert.equal(r.falsePositives[0].score, 31);
});

test('a result without per-image scores (an older CLI) is refused with the field and what to do', () => {
  const { images: _i, ...old } = base;
  assert.throws(() => parseEvalJson(old), /field "images".*rebuild the trainer CLI/);
  assert.throws(() => parseEvalJson({ ...base, split: 'train' }), /field "split"/);
});
