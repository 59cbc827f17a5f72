import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GridProgress, weightsOfComboId } from '../../extension/reports/grid-model';

const where = { data: '/d', normal: 'good', out: '/o' };
const line = (o: unknown) => JSON.stringify(o);

test('comboId back to --weights, "aa" not read as "a"', () => {
  assert.equal(weightsOfComboId('r1-p1.5-l1-n0.5-a0.5-aa1'), 'recon=1,patch=1.5,latent=1,normalAdv=0.5,abc=0.5,anomalyAdv=1');
  assert.throws(() => weightsOfComboId('r1-x2'), /"x2" is not a loss weight/);
});

test('progress count, ranking on validation AUROC and an ETA from the pace so far', () => {
  const g = new GridProgress(where, 0);
  assert.equal(g.push('plain text'), false);
  g.push(line({ run: '[grid 1/3 r1-p1-l1-n1-a0.5-aa0.5]', type: 'status', message: 'training' }));
  g.push(line({ run: '[grid 1/3 r1-p1-l1-n1-a0.5-aa0.5]', type: 'epoch', bestValAuroc: 0.7 }));
  let v = g.view(10_000);
  assert.deepEqual([v.total, v.finished, v.etaSec, v.rows[0].status, v.rows[0].valAuroc], [3, 0, null, 'running', 0.7]);
  g.push(line({ run: '[grid 1/3 r1-p1-l1-n1-a0.5-aa0.5]', type: 'done', metrics: { valAuroc: 0.72, bestEpoch: 2 }, seconds: 60 }));
  g.push(line({ run: '[grid 2/3 r1.5-p1-l1-n1-a0.5-aa0.5]', type: 'done', metrics: { valAuroc: 0.9, bestEpoch: 1 }, seconds: 60 }));
  v = g.view(120_000);
  assert.equal(v.finished, 2);
  assert.equal(v.etaSec, 60);
  assert.deepEqual(v.rows.map((r) => [r.rank, r.id]), [[1, 'r1.5-p1-l1-n1-a0.5-aa0.5'], [2, 'r1-p1-l1-n1-a0.5-aa0.5']]);
  assert.equal(v.rows[0].weights, 'recon=1.5,patch=1,latent=1,normalAdv=1,abc=0.5,anomalyAdv=0.5');
  g.push(line({ run: '[grid 3/3 r0.5-p1-l1-n1-a0.5-aa0.5]', type: 'error', message: 'boom', code: 1 }));
  g.push(line({ type: 'grid-done', runs: 3, best: { id: 'r1.5-p1-l1-n1-a0.5-aa0.5', valAuroc: 0.9 } }));
  v = g.view(180_000);
  assert.deepEqual([v.state, v.finished, v.etaSec], ['done', 3, null]);
  assert.deepEqual(v.rows.map((r) => [r.rank, r.status]), [[1, 'done'], [2, 'done'], [null, 'failed']]);
});

test('a cancelled grid keeps the finished rows', () => {
  const g = new GridProgress(where, 0);
  g.push(line({ run: '[grid 1/4 r1-p1-l1-n1-a0.5-aa0.5]', type: 'done', metrics: { valAuroc: 0.6, bestEpoch: 1 }, seconds: 5 }));
  g.finish('cancelled');
  const v = g.view(10_000);
  assert.deepEqual([v.state, v.rows.length, v.etaSec], ['cancelled', 1, null]);
});
