// extension/run-store.ts: runs, event logs and dataset reports survive a reload; bad files are refused by their schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_STORED_RUNS, RunStore, thinSteps, writeFileAtomically, type RunRecord } from '../../extension/run-store';
import type { ProgressEvent } from '../../trainer/progress';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-store-'));
const rec = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
  id, title: 'd / n', spec: { data: '/d', normal: 'n', out: '/o', epochs: 3 }, preset: 'quick', state: 'done', startedAt: 1000, endedAt: 2000,
  checkpoint: null, error: null, lastEpoch: 3, epochs: 3, metrics: { bestEpoch: 2, testAuroc: 0.9 }, resumedFrom: null, resumedBy: null, ...over,
});
const step = (i: number): ProgressEvent => ({ type: 'step', epoch: 1, step: i, stepsPerEpoch: 10000, losses: { recon: 1 }, imgPerSec: 1, etaSec: 1 });

test('runs and their event logs come back after a reload (a new store on the same folder)', async () => {
  const dir = tmp();
  const warnings: string[] = [];
  const a = new RunStore(dir, (m) => warnings.push(m));
  const events: ProgressEvent[] = [{ type: 'start', backend: 'cpu', backendReason: 'r', epochs: 3, stepsPerEpoch: 2, out: '/o', summary: null }, step(1), { type: 'epoch', epoch: 1, epochs: 3, losses: { recon: 1 }, valAuroc: 0.8, bestValAuroc: 0.8, imgPerSec: 1, etaSec: 2, seconds: 1 }];
  await a.saveRuns([rec('run-1'), rec('run-2', { state: 'cancelled', checkpoint: '/o.checkpoint', startedAt: 3000 })]);
  await a.saveEvents('run-1', events);
  await a.saveReports(new Map([['/d', { error: 'no images' }]]));
  const b = new RunStore(dir, (m) => warnings.push(m));
  assert.deepEqual(b.loadRuns().map((r) => [r.id, r.state]), [['run-2', 'cancelled'], ['run-1', 'done']]);
  assert.deepEqual(b.loadEvents('run-1'), events);
  assert.deepEqual(b.loadEvents('run-9'), []);
  assert.deepEqual([...b.loadReports()], [['/d', { error: 'no images' }]]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});

test('a run stored while training cannot still be running after a reload', async () => {
  const dir = tmp();
  const s = new RunStore(dir, () => undefined);
  await s.saveRuns([
    rec('a', { state: 'running', endedAt: null, checkpoint: '/o.checkpoint' }),
    rec('b', { state: 'starting', endedAt: null }),
    rec('c', { state: 'running', endedAt: null, spec: { data: '/d', normal: 'n', out: '/late' } }),
  ]);
  const back = new Map(s.loadRuns((p) => p === '/late.checkpoint').map((r) => [r.id, r]));
  assert.equal(back.get('a')!.state, 'cancelled');
  assert.equal(back.get('b')!.state, 'failed');
  assert.match(back.get('b')!.error!, /window closed/);
  // The checkpoint written on SIGTERM after the window was gone is found at OUT.checkpoint.
  assert.equal(back.get('c')!.state, 'cancelled');
  assert.equal(back.get('c')!.checkpoint, '/late.checkpoint');
});

test('a file that does not match its schema is set aside with a warning naming it and the field', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'runs.json'), JSON.stringify({ version: 1, runs: [{ id: 'x', state: 'exploded' }] }));
  fs.writeFileSync(path.join(dir, 'datasets.json'), '{not json');
  const warnings: string[] = [];
  const s = new RunStore(dir, (m) => warnings.push(m));
  assert.deepEqual(s.loadRuns(), []);
  assert.equal(s.loadReports().size, 0);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /runs\.json could not be read \(runs\.0\.\w+: /);
  assert.match(warnings[1], /datasets\.json could not be read \(not JSON/);
  assert.ok(fs.existsSync(path.join(dir, 'runs.json.bad')));
});

test('old fields missing from an older runs.json get their defaults', () => {
  const dir = tmp();
  const { preset: _p, epochs: _e, resumedFrom: _f, resumedBy: _b, ...old } = rec('old');
  fs.writeFileSync(path.join(dir, 'runs.json'), JSON.stringify({ version: 1, runs: [old] }));
  const [r] = new RunStore(dir, () => undefined).loadRuns();
  assert.equal(r.preset, null);
  assert.equal(r.resumedBy, null);
});

test('ended runs beyond the limit are dropped with their logs; steps are thinned, epochs kept', async () => {
  const dir = tmp();
  const s = new RunStore(dir, () => undefined);
  const many = Array.from({ length: MAX_STORED_RUNS + 2 }, (_, i) => rec(`r${i}`, { startedAt: i }));
  await s.saveEvents('r0', [step(1)]);
  await s.saveRuns(many);
  assert.equal(s.loadRuns().length, MAX_STORED_RUNS);
  assert.equal(fs.existsSync(s.eventsFile('r0')), false);
  const events = [...Array.from({ length: 5000 }, (_, i) => step(i + 1)), { type: 'warning', message: 'w' } as ProgressEvent];
  const thin = thinSteps(events, 1000);
  assert.ok(thin.filter((e) => e.type === 'step').length <= 1001);
  assert.equal(thin.at(-1)!.type, 'warning');
  assert.equal((thin.at(-2) as { step: number }).step, 5000, 'the last step is kept');
});

test('writeFileAtomically replaces the file whole', async () => {
  const dir = tmp();
  const f = path.join(dir, 'sub', 'x.json');
  await writeFileAtomically(f, 'one');
  await writeFileAtomically(f, 'two');
  assert.equal(fs.readFileSync(f, 'utf8'), 'two');
  assert.deepEqual(fs.readdirSync(path.dirname(f)), ['x.json']);
});

test('a run stored with an old backend name (cpu or wasm meant the fast kernels) comes back as fast; an unknown one is refused', async () => {
  const dir = tmp();
  const s = new RunStore(dir, () => undefined);
  await s.saveRuns([rec('old-cpu', { spec: { data: '/d', normal: 'n', out: '/o', backend: 'cpu' as 'fast' } }), rec('now', { spec: { data: '/d', normal: 'n', out: '/o', backend: 'webgpu' } })]);
  assert.deepEqual(new RunStore(dir, () => undefined).loadRuns().map((r) => [r.id, r.spec.backend]).sort(), [['now', 'webgpu'], ['old-cpu', 'fast']]);
  await s.saveRuns([rec('odd', { spec: { data: '/d', normal: 'n', out: '/o', backend: 'quantum' as 'fast' } })]);
  const warnings: string[] = [];
  assert.deepEqual(new RunStore(dir, (m) => warnings.push(m)).loadRuns(), []);
  assert.match(warnings[0] ?? '', /runs\.0\.spec\.backend: expected auto, tensorflow, webgpu or fast/);
});
