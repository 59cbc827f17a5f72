// Image-level AUROC for crop protocols: by the highest crop (sourceLevelAuroc) and by scoring each
// whole photo the way `flawscope score` does (wholePhotoAuroc), on hand-made cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceLevelAuroc, wholePhotoAuroc } from '../../trainer/eval/evaluate';
import type { Scorer } from '../../scorer/scorer';

// Photos a, b normal; c, d defect (d has a normal-looking crop too).
const groups = ['a', 'a', 'a', 'b', 'c', 'd', 'd'];
const labels = [0, 0, 0, 0, 1, 1, 0];

test('source-level AUROC: a photo scores its highest crop and is a defect photo when any crop is', () => {
  // a's many crops give it the highest maximum (9) although its crops are normal: AUROC 0.5 here.
  const r = sourceLevelAuroc([1, 9, 2, 3, 5, 4, 8], labels, groups);
  assert.deepEqual({ ...r, auroc: r.auroc }, { auroc: 0.5, images: 4, normals: 2, anomalies: 2 });
});

test('whole-photo AUROC: each distinct photo decoded once, scored in tile mode at the model\'s tile stride, labelled by its crops', async () => {
  const seen: string[] = [];
  const strides: (number | undefined)[] = [];
  const whole: Record<string, number> = { a: 1, b: 2, c: 7, d: 5 };
  const scorer = {
    info: { input: { height: 32, width: 32, channels: 1 }, preprocess: { mode: 'tile', scale: 0.5, tileStride: 8 } },
    score: async (img: { data: Uint8Array }, opts: { mode?: string; stride?: number }) => {
      assert.equal(opts.mode, 'tile');
      strides.push(opts.stride);
      return { score: img.data[0]! };
    },
  } as unknown as Scorer;
  const decode = async (p: string) => {
    seen.push(p);
    return { data: Uint8Array.of(whole[p]!), width: 1, height: 1, channels: 1 };
  };
  const r = await wholePhotoAuroc(scorer, groups, labels, decode);
  assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
  assert.deepEqual(r, { auroc: 1, images: 4, normals: 2, anomalies: 2, tileStride: 8 });
  assert.deepEqual(strides, [8, 8, 8, 8]);
  // an override wins, and is reported
  strides.length = 0;
  assert.equal((await wholePhotoAuroc(scorer, groups, labels, decode, undefined, { tileStride: 32 })).tileStride, 32);
  assert.deepEqual(strides, [32, 32, 32, 32]);
});

test('whole-photo AUROC per defect type: normal photos against one type\'s photos alone', async () => {
  // Photos: a, b normal (scores 1, 4); c (crack, 7) and e (crack, 2); d (blowhole, 5), whose normal-looking crop is labelled normal.
  const g = ['a', 'a', 'b', 'c', 'd', 'd', 'e'];
  const lab = [0, 0, 0, 1, 1, 0, 1];
  const cls = ['free', 'free', 'free', 'crack', 'blowhole', 'blowhole', 'crack'];
  const whole: Record<string, number> = { a: 1, b: 4, c: 7, d: 5, e: 2 };
  // A model without a tile stride: tiles side by side, i.e. the model size apart.
  const scorer = { info: { input: { height: 16, width: 16, channels: 1 } }, score: async (img: { data: Uint8Array }) => ({ score: img.data[0]! }) } as unknown as Scorer;
  const decode = async (p: string) => ({ data: Uint8Array.of(whole[p]!), width: 1, height: 1, channels: 1 });
  const r = await wholePhotoAuroc(scorer, g, lab, decode, cls);
  // Overall: defect {7, 5, 2} vs normal {1, 4}: pairs won 2 + 2 + 1 = 5 of 6.
  assert.equal(r.auroc, 5 / 6);
  // crack {7, 2} vs {1, 4}: 2 + 1 = 3 of 4; blowhole {5} vs {1, 4}: 2 of 2. Sorted by name.
  assert.deepEqual(r.byType, [
    { className: 'blowhole', photos: 1, auroc: 1 },
    { className: 'crack', photos: 2, auroc: 0.75 },
  ]);
  assert.equal(r.tileStride, 16);
  // Without classes, no per-type figures.
  assert.equal((await wholePhotoAuroc(scorer, g, lab, decode)).byType, undefined);
});
