/** The §3.4 loss-weight grid: enumeration, the group constraint, the counts we document next to the paper's 314. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allCombinations, anomalySum, comboId, gridCombinations, normalSum, parseValues, PAPER_GRID_COUNT, sampleCombinations, satisfiesConstraint } from '../../trainer/eval/grid';
import { PAPER_WEIGHTS } from '../../trainer/losses';

test('3^6 = 729 combinations, all distinct', () => {
  const all = allCombinations();
  assert.equal(all.length, 729);
  assert.equal(new Set(all.map(comboId)).size, 729);
});

test('normal-group sum ≥ 2 × anomaly-group sum keeps 414; strictly more than keeps 315; the paper says 314', () => {
  assert.equal(gridCombinations().length, 414);
  const strict = allCombinations().filter((w) => normalSum(w) > 2 * anomalySum(w));
  assert.equal(strict.length, 315);
  assert.equal(PAPER_GRID_COUNT, 314);
});

test('the constraint on hand-checked weights', () => {
  // Table 2: normal 1.5+1.5+0.5+0.5 = 4, anomaly 0.5+1 = 1.5 → 4 ≥ 3
  assert.equal(normalSum(PAPER_WEIGHTS), 4);
  assert.equal(anomalySum(PAPER_WEIGHTS), 1.5);
  assert.ok(satisfiesConstraint(PAPER_WEIGHTS));
  // the boundary: normal 2 (all 0.5), anomaly 1 (both 0.5) → exactly twice, kept
  const edge = { recon: 0.5, patch: 0.5, latent: 0.5, normalAdv: 0.5, abc: 0.5, anomalyAdv: 0.5 };
  assert.ok(satisfiesConstraint(edge));
  assert.ok(!satisfiesConstraint({ ...edge, abc: 1.0 }));
  // every kept combination satisfies it, every dropped one does not
  for (const w of allCombinations()) assert.equal(gridCombinations().some((g) => comboId(g) === comboId(w)), normalSum(w) + 1e-9 >= 2 * anomalySum(w));
});

test('a reduced grid {0.5, 1.5} keeps 39 of 64', () => {
  assert.equal(allCombinations([0.5, 1.5]).length, 64);
  assert.equal(gridCombinations([0.5, 1.5]).length, 39);
});

test('seeded sampling is deterministic, without repeats, and returns everything when asked for more', () => {
  const g = gridCombinations();
  const a = sampleCombinations(g, 12, 7).map(comboId);
  assert.deepEqual(a, sampleCombinations(g, 12, 7).map(comboId));
  assert.notDeepEqual(a, sampleCombinations(g, 12, 8).map(comboId));
  assert.equal(new Set(a).size, 12);
  assert.equal(sampleCombinations(g, 1000, 1).length, 414);
});

test('comboId and --values parsing', () => {
  assert.equal(comboId(PAPER_WEIGHTS), 'r1.5-p1.5-l0.5-n0.5-a0.5-aa1');
  assert.deepEqual(parseValues('1.5, 0.5,1,1'), [0.5, 1, 1.5]);
  assert.throws(() => parseValues('0.5,x'), /--values/);
  assert.throws(() => parseValues('-1'), /--values/);
});
