import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreSet } from '../../trainer/eval/evaluate';
import { MemoryImageSet } from '../../trainer/data/image-set';
import type { Scorer } from '../../scorer/scorer';

// Two 2x2 crops: crop 0 has one defect pixel (index 0), crop 1 none. The fake scorer's probability
// map finds it exactly; its reconstruction error points elsewhere (so the figure shows which map was used).
function fakeScorer(defectMap: boolean): Scorer {
  return {
    info: { defectMap: defectMap ? { file: 'defect-map.json', inputs: ['image', 'reconstruction', 'difference'], imageScore: { kind: 'max', smooth: 1 } } : undefined },
    scoreBatch: async (imgs: { width: number; height: number }[]) =>
      imgs.map((_, k) => ({
        score: 0, scores: { mean: 0, topPatch: 0 }, width: 2, height: 2,
        errorMap: Float32Array.from(k === 0 ? [0.1, 1.5, 0.1, 0.1] : [0.1, 0.1, 0.1, 0.1]),
        probability: defectMap ? Float32Array.from(k === 0 ? [0.9, 0.1, 0.1, 0.1] : [0.1, 0.2, 0.1, 0.1]) : null,
      })),
  } as unknown as Scorer;
}

const set = () => ({
  images: new MemoryImageSet(new Uint8Array(2 * 4), 2, 2, 2, 1),
  isAnomaly: Uint8Array.of(1, 0),
  masks: [Uint8Array.of(255, 0, 0, 0), null],
});

test('eval: pixelAupro (and pixelAuroc) of a defect-map model come from its probability map', async () => {
  const s = await scoreSet(fakeScorer(true), set());
  assert.equal(s.pixelAupro, 1);
  assert.equal(s.pixelAuroc, 1);
});

test('eval: without a defect map, pixelAupro is the reconstruction error\'s (0..2 scale); null without masks', async () => {
  const s = await scoreSet(fakeScorer(false), set());
  // The one defect pixel scores 0.1, below the 1.5 normal pixel and tied with the other 6: the curve goes
  // (0, 0) → (1/7, 0) → (1, 1) (a tie crosses as one straight step); its area to FPR 0.3 is
  // (0.3 − 1/7) · t / 2 with t = (0.3 − 1/7) / (6/7), over 0.3.
  const t = (0.3 - 1 / 7) / (6 / 7);
  assert.ok(Math.abs(s.pixelAupro! - ((0.3 - 1 / 7) * t) / 2 / 0.3) < 1e-9, String(s.pixelAupro));
  const none = await scoreSet(fakeScorer(true), { ...set(), masks: [null, null] });
  assert.equal(none.pixelAupro, null);
});
