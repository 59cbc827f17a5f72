/**
 * The seeded generators (trainer/rng.ts) repeat exactly: the expected values below were produced by
 * the implementations as they were before trainer/rng.ts and trainer/data/random.ts were merged.
 * A change here changes every seeded split, sample, augmentation and training run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, createRng, sampleWithoutReplacement, shuffleInPlace, subSeed } from '../../trainer/rng';

test('Rng (training batches): same sequence, permutation and saved state as before', () => {
  const r = new Rng(42);
  assert.deepEqual([r.next(), r.next(), r.next(), r.int(1000), r.int(7)], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 669, 1]);
  assert.deepEqual(Array.from(new Rng(7).permutation(10)), [6, 5, 8, 1, 2, 3, 4, 7, 9, 0]);
  assert.deepEqual([new Rng(-1).next(), new Rng(2 ** 32 + 5).next()], [0.8964226141106337, 0.6897749109193683]);
  const q = new Rng(3);
  q.next();
  q.next();
  assert.equal(q.seed, 3663131629);
});

test('Rng resumes from its saved state field (what train.ts writes back on --resume)', () => {
  const a = new Rng(99);
  for (let i = 0; i < 5; i++) a.next();
  const b = new Rng(0);
  (b as unknown as { state: number }).state = a.seed;
  assert.deepEqual([b.next(), b.next(), Array.from(b.permutation(6))], [a.next(), a.next(), Array.from(a.permutation(6))]);
});

test('createRng, shuffleInPlace, sampleWithoutReplacement, subSeed (data pipeline): same values as before', () => {
  const g = createRng(42);
  assert.deepEqual([g(), g(), g()], [0.4813160905614495, 0.9852536325342953, 0.7379171899519861]);
  assert.deepEqual([createRng(1.7)(), createRng(-3)()], [0.18967728852294385, 0.014378171181306243]);
  assert.deepEqual(shuffleInPlace([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], createRng(7)), [4, 2, 6, 8, 7, 1, 0, 5, 3, 9]);
  assert.deepEqual(sampleWithoutReplacement(['a', 'b', 'c', 'd', 'e', 'f'], 3, createRng(11)), ['c', 'f', 'a']);
  assert.deepEqual([subSeed(0, 'val-normal'), subSeed(12345, 'augment'), subSeed(1.5, '')], [4150243948, 2568319207, 2166136260]);
});
