/**
 * A stopped and resumed training ends where an uninterrupted one does, bit for bit: same weights,
 * same per-epoch losses and validation AUROC. Stops are made in-process at a chosen step (the
 * trainer polls `shouldStop` once per step), so "mid-epoch" and "at an epoch's end" are exact,
 * not a race with a signal. The runs augment (a random stream per read) and keep a weight
 * average, so every piece of state the loop carries has to survive the checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, tempDir } from '../helpers/cli';
import { tinyData } from '../helpers/tiny-data';
import { train, checkpointPath, DEFAULT_CONFIG, type TrainConfig } from '../../trainer/train';
import { loadTrainingData } from '../../trainer/data';
import type { ProgressEvent } from '../../trainer/progress';
import { runOne, type RunResult } from '../../trainer/eval/run-one';



const DATA = tinyData('flawscope-resume-data-');
const config = (out: string, over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_CONFIG, data: DATA, normal: 'good', out, size: 16, batch: 4, epochs: 4, seed: 3, weightAverage: 0.9,
  dataOptions: { augment: 'mnist' }, ...over,
});

/**
 * Runs train() until the trainer's `stopAt`-th poll of `shouldStop` (it polls once before each
 * step; `stopAt` gets the epoch's step count from the start event).
 */
async function run(out: string, stopAt: (stepsPerEpoch: number) => number, resume?: string, over: Partial<TrainConfig> = {}) {
  const events: ProgressEvent[] = [];
  let polls = 0;
  let spe = 0;
  const result = await train(config(out, over), {
    emit: (e) => { events.push(e); if (e.type === 'start') spe = e.stepsPerEpoch; },
    shouldStop: () => ++polls === stopAt(spe),
    loadData: (c) => loadTrainingData({ ...c.dataOptions, root: c.data, normalClass: c.normal, size: c.size, channels: c.channels, seed: c.seed, validationFraction: c.validationFraction }),
  }, resume ? { dir: resume, epochs: over.epochs } : undefined);
  return { result, events, spe };
}

/** A checkpoint's whole training state: every tensor (weights, Adam slots, average, best, batch order) and the loop's state; wall-clock figures and the output folder left out. */
function checkpointContents(ckpt: string) {
  const { elapsedSeconds, partial, history, config: { out, ...config }, ...state } = JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8'));
  return {
    config,
    tensors: readFileSync(join(ckpt, 'tensors.bin')),
    manifest: readFileSync(join(ckpt, 'tensors.json'), 'utf8'),
    state,
    history: history.map(({ seconds, imgPerSec, ...rest }: Record<string, unknown>) => rest),
  };
}

/** A stop's cancelled event, less what the stop's model adds: checked here (the best epoch so far, written as the model beside the checkpoint). */
function cancelledEvent(events: any[], out: string) {
  const e = events.find((x) => x.type === 'cancelled');
  if (!e) return e;
  const { model, bestEpoch, ...rest } = e;
  assert.equal(model, out, 'the stop wrote the best epoch so far as the model');
  assert.ok(bestEpoch >= 1 && bestEpoch <= rest.epoch + (rest.step ? 1 : 0), `best epoch ${bestEpoch}`);
  return rest;
}

/** The run that went through three epochs without a stop, stopped before the fourth's first step. */
let reference: ReturnType<typeof checkpointContents> | null = null;
async function uninterrupted() {
  if (!reference) {
    const out = join(tempDir('flawscope-resume-ref-'), 'model');
    const r = await run(out, (spe) => 3 * spe + 1);
    assert.ok(r.spe >= 6, `enough steps an epoch to stop inside one (${r.spe})`);
    assert.deepEqual(cancelledEvent(r.events, out), { type: 'cancelled', checkpoint: checkpointPath(out), epoch: 3 });
    reference = checkpointContents(checkpointPath(out));
  }
  return reference;
}

test('stopped mid-epoch, then at an epoch end, and resumed each time: the same weights, optimiser state, batch order, losses and AUROC as a run that went through', async () => {
  const want = await uninterrupted();
  const out = join(tempDir('flawscope-resume-'), 'model');
  const ckpt = checkpointPath(out);

  // Stop 1: before step 4 of epoch 2 (3 of its steps done).
  const a = await run(out, (spe) => spe + 4);
  assert.deepEqual(cancelledEvent(a.events, out), { type: 'cancelled', checkpoint: ckpt, epoch: 1, step: 3 });
  const state = JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8'));
  assert.deepEqual([state.version, state.epoch, state.step], [2, 1, 3]);
  assert.ok(state.partial && state.partial.imgs === 12, 'the epoch in progress keeps its running sums (3 steps × 4 images)');
  assert.ok(state.cursors.normal.readsDone > 0, 'the augmentation stream position is saved');

  // Stop 2: resumed at step 4 of epoch 2, stopped before the first step of epoch 3.
  const b = await run(out, (spe) => spe - 3 + 1, ckpt);
  const start = b.events.find((e) => e.type === 'start');
  assert.deepEqual(start && start.type === 'start' && [start.resumedFromEpoch, start.resumedAtStep], [1, 3]);
  assert.deepEqual(b.events.filter((e) => e.type === 'epoch').map((e) => e.type === 'epoch' && e.epoch), [2], 'epoch 2 is finished, not rerun from its start');
  assert.deepEqual(cancelledEvent(b.events, out), { type: 'cancelled', checkpoint: ckpt, epoch: 2 });

  // Stop 3: resumed at an epoch end, stopped where the reference stopped.
  const c = await run(out, (spe) => spe + 1, ckpt);
  assert.deepEqual(cancelledEvent(c.events, out), { type: 'cancelled', checkpoint: ckpt, epoch: 3 });
  const got = checkpointContents(ckpt);
  assert.deepEqual(got.history, want.history, 'per-epoch losses and validation AUROC');
  assert.deepEqual(got.state, want.state, 'RNG, batch order, best epoch');
  assert.equal(got.manifest, want.manifest);
  assert.ok(got.tensors.equals(want.tensors), 'every weight, Adam slot, average and best weight is byte for byte the uninterrupted run\'s');
});

test('a checkpoint of an older Flawscope (version 1, no batch order) still resumes, with a warning that the batches are new', async () => {
  const want = await uninterrupted();
  const out = join(tempDir('flawscope-resume-v1-'), 'model');
  const ckpt = checkpointPath(out);
  await run(out, (spe) => spe + 1);
  const statePath = join(ckpt, 'state.json');
  const { step, partial, cursors, ...v1 } = JSON.parse(readFileSync(statePath, 'utf8'));
  writeFileSync(statePath, JSON.stringify({ ...v1, version: 1 }));
  const r = await run(out, (spe) => 2 * spe + 1, ckpt);
  const warning = r.events.find((e) => e.type === 'warning' && /older Flawscope \(version 1\).*new batches/.test(e.message));
  assert.ok(warning, 'the warning says the resumed run will not repeat an uninterrupted one');
  const got = checkpointContents(ckpt);
  assert.deepEqual(got.history[0], want.history[0], 'epoch 1 ran before the stop');
  assert.notDeepEqual(got.history.slice(1), want.history.slice(1), 'without the batch order epochs 2–3 take another path (else test 1 would show nothing)');
});

test('a checkpoint whose batch order does not fit the data (the data changed) is refused, naming the checkpoint', async () => {
  const out = join(tempDir('flawscope-resume-bad-'), 'model');
  const ckpt = checkpointPath(out);
  await run(out, () => 3);
  const statePath = join(ckpt, 'state.json');
  const state = JSON.parse(readFileSync(statePath, 'utf8'));
  state.cursors.normal.pos = 10_000;
  writeFileSync(statePath, JSON.stringify(state));
  await assert.rejects(run(out, () => 0, ckpt), (e: Error) => {
    assert.ok(e.message.startsWith(`--resume ${ckpt}: the saved batch order of the normal images does not fit the data`), e.message);
    assert.match(e.message, /start a new training/);
    return true;
  });
});

test('--keep-checkpoint: a finished training keeps its checkpoint, and resuming it with more epochs extends it exactly', async () => {
  const want = await uninterrupted();
  const out = join(tempDir('flawscope-resume-keep-'), 'model');
  const ckpt = checkpointPath(out);
  const done = await run(out, () => 0, undefined, { epochs: 2, keepCheckpoint: true });
  assert.equal(done.result, 'done');
  assert.ok(existsSync(join(out, 'weights.bin')), 'the model folder is written');
  assert.equal(JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8')).epoch, 2, 'the checkpoint after the last epoch is kept');

  // Extended to 4 epochs, stopped where the reference stopped (after epoch 3).
  const more = await run(out, (spe) => spe + 1, ckpt, { epochs: 4 });
  assert.deepEqual(more.events.filter((e) => e.type === 'epoch').map((e) => e.type === 'epoch' && e.epoch), [3]);
  const { config: { keepCheckpoint, ...config }, ...got } = checkpointContents(ckpt);
  const { config: { keepCheckpoint: _k, ...wantConfig }, ...wanted } = want;
  assert.equal(keepCheckpoint, true, 'the kept checkpoint remembers the option');
  assert.deepEqual(config, wantConfig);
  assert.deepEqual(got.history, wanted.history);
  assert.deepEqual(got.state, wanted.state);
  assert.ok(got.tensors.equals(wanted.tensors), 'the extended training is byte for byte the uninterrupted one');

  // Without the option the checkpoint goes once the model is written.
  const plain = join(tempDir('flawscope-resume-nokeep-'), 'model');
  assert.equal((await run(plain, () => 0, undefined, { epochs: 1 })).result, 'done');
  assert.ok(!existsSync(checkpointPath(plain)));
});

test('reproduce/grid runs (runOne): a finished run asked for more epochs is extended from its kept checkpoint, to the run that budget makes from the start', async () => {
  // runOne starts `flawscope train` as a child; this test file is not the CLI, so name the built one.
  process.env.FLAWSCOPE_CLI = CLI;
  const dir = tempDir('flawscope-runone-');
  const args = (epochs: number, keep: boolean) => ['--data', DATA, '--normal', 'good', '--size', '16', '--batch', '4', '--seed', '3', '--augment', 'mnist', '--epochs', String(epochs), ...(keep ? ['--keep-checkpoint', 'true'] : [])];
  const spec = (name: string, epochs: number, keep: boolean) => ({ id: name, dir: join(dir, name), trainArgs: args(epochs, keep), evalSplit: null });
  const statuses: string[] = [];
  const hooks = { onStatus: (m: string) => statuses.push(m) };
  const history = (r: RunResult) => r.history.map(({ seconds, imgPerSec, ...rest }) => rest);

  const first = await runOne(spec('kept', 1, true), hooks);
  assert.deepEqual([first.status, first.epochs, first.history.length], ['done', 1, 1], first.error);
  assert.equal((await runOne(spec('kept', 1, true), hooks)).finishedAt, first.finishedAt, 'the same budget again: skipped');
  const extended = await runOne(spec('kept', 2, true), hooks);
  assert.ok(statuses.some((m) => m.startsWith('extending from 1 to 2 epochs')), statuses.join(' | '));
  assert.deepEqual([extended.status, extended.epochs, extended.history.length], ['done', 2, 2], extended.error);

  const whole = await runOne(spec('whole', 2, false), hooks);
  assert.deepEqual(history(extended), history(whole), 'epoch by epoch the same losses and validation AUROC as 2 epochs from the start');
  assert.ok(readFileSync(join(dir, 'kept/model/weights.bin')).equals(readFileSync(join(dir, 'whole/model/weights.bin'))), 'the same model');

  // Without a kept checkpoint a finished run stays as it is, and says why.
  const again = await runOne(spec('whole', 3, false), hooks);
  assert.equal(again.epochs, 2);
  assert.ok(statuses.some((m) => /finished with 2 epochs; 3 asked, but its checkpoint was not kept \(--keep-checkpoint true\)/.test(m)), statuses.join(' | '));
});
