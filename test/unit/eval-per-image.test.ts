import { test } from 'node:test';
import assert from 'node:assert/strict';
import { perImageScores } from '../../trainer/eval/per-image';

test('whole images: one entry each, in order, with class and label', () => {
  const r = perImageScores(['/d/a.png', '/d/b.png'], Float32Array.of(0.5, 2), Uint8Array.of(0, 1), ['good', 'crack']);
  assert.deepEqual(r, [
    { path: '/d/a.png', className: 'good', anomaly: false, score: 0.5 },
    { path: '/d/b.png', className: 'crack', anomaly: true, score: 2 },
  ]);
});

test('crops of one photo: the highest crop score, anomalous (with the defect class) when any crop is', () => {
  const r = perImageScores(['/p/1.jpg', '/p/1.jpg', '/p/1.jpg', '/p/2.jpg'], [0.2, 0.9, 0.4, 0.3], [0, 1, 0, 0], ['good', 'blowhole', 'good', 'good']);
  assert.deepEqual(r, [
    { path: '/p/1.jpg', className: 'blowhole', anomaly: true, score: 0.9 },
    { path: '/p/2.jpg', className: 'good', anomaly: false, score: 0.3 },
  ]);
});

test('mismatched lengths are a programming error, not a silent truncation', () => {
  assert.throws(() => perImageScores(['/a'], [1, 2], [0, 0]), /1 sources, 2 scores/);
});
