// extension/run-lifecycle.ts: the run states, what each offers, and labels that tell runs apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isClearable, leftoverCheckpoint, nextState, offersResume, runLabel, stateText, RUN_STATES, type RunState, type RunTransition } from '../../extension/run-lifecycle';

const exists = () => true;
const gone = () => false;

test('the normal paths: start → running → done / failed / cancelled → resumed', () => {
  let s: RunState = 'starting';
  s = nextState(s, { type: 'started' });
  assert.equal(s, 'running');
  assert.equal(nextState(s, { type: 'done' }), 'done');
  assert.equal(nextState(s, { type: 'failed' }), 'failed');
  const c = nextState(s, { type: 'cancelled' });
  assert.equal(c, 'cancelled');
  assert.equal(nextState(c, { type: 'resumedBy' }), 'resumed');
  assert.equal(nextState('starting', { type: 'failed' }), 'failed');
});

test('ended states stay ended: a late event or a second resume changes nothing', () => {
  const all: RunTransition[] = [{ type: 'started' }, { type: 'cancelled' }, { type: 'done' }, { type: 'failed' }, { type: 'resumedBy' }, { type: 'exited', cancelRequested: true }, { type: 'exited', cancelRequested: false }];
  for (const end of ['done', 'failed', 'resumed'] as const) for (const t of all) assert.equal(nextState(end, t), end, `${end} + ${t.type}`);
  assert.equal(nextState('running', { type: 'resumedBy' }), 'running');
  assert.equal(nextState('done', { type: 'cancelled' }), 'done');
});

test('a process that ends without a final event: cancelled when a cancel was asked, else failed', () => {
  assert.equal(nextState('running', { type: 'exited', cancelRequested: true }), 'cancelled');
  assert.equal(nextState('running', { type: 'exited', cancelRequested: false }), 'failed');
  assert.equal(nextState('starting', { type: 'exited', cancelRequested: false }), 'failed');
  assert.equal(nextState('cancelled', { type: 'exited', cancelRequested: false }), 'cancelled');
});

test('only a cancelled run with its checkpoint on disk offers Resume; a resumed one never does', () => {
  for (const state of RUN_STATES) assert.equal(offersResume({ state, checkpoint: '/c' }, exists), state === 'cancelled', state);
  assert.equal(offersResume({ state: 'cancelled', checkpoint: null }, exists), false);
  assert.equal(offersResume({ state: 'cancelled', checkpoint: '/c' }, gone), false);
  assert.equal(stateText({ state: 'resumed', checkpoint: '/c', lastEpoch: 3 }, exists), 'cancelled · epoch 3 · resumed in a later run');
  assert.equal(stateText({ state: 'cancelled', checkpoint: '/c', lastEpoch: 3 }, exists), 'cancelled · epoch 3 · resumable');
  assert.equal(stateText({ state: 'cancelled', checkpoint: '/c', lastEpoch: 3 }, gone), 'cancelled · epoch 3 · checkpoint gone');
});

test('Clear Finished keeps live and resumable runs; Delete names only a cancelled run\'s leftover checkpoint', () => {
  const clearable = RUN_STATES.filter((state) => isClearable({ state, checkpoint: '/c' }, exists));
  assert.deepEqual(clearable, ['resumed', 'done', 'failed']);
  assert.equal(isClearable({ state: 'cancelled', checkpoint: '/c' }, gone), true);
  assert.equal(leftoverCheckpoint({ state: 'cancelled', checkpoint: '/c' }, exists), '/c');
  assert.equal(leftoverCheckpoint({ state: 'resumed', checkpoint: '/c' }, exists), null);
  assert.equal(leftoverCheckpoint({ state: 'cancelled', checkpoint: '/c' }, gone), null);
});

test('labels tell apart runs on the same data: preset or size, epochs, start time', () => {
  const t = new Date(2026, 11, 5, 14, 5).getTime();
  assert.equal(runLabel({ title: 'mnist / 0', startedAt: t, preset: 'quick', epochs: 20 }), 'mnist / 0 · quick · 20 epochs · Dec 5 14:05');
  assert.equal(runLabel({ title: 'mnist / 0', startedAt: t + 60000, preset: 'custom', size: 32, epochs: 1 }), 'mnist / 0 · custom 32 px · 1 epoch · Dec 5 14:06');
  assert.equal(runLabel({ title: 'mnist / 0', startedAt: t, preset: null, epochs: null }), 'mnist / 0 · Dec 5 14:05');
});
