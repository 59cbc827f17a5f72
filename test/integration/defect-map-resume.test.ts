/**
 * --preset defects stopped during stage 2 (the defect map) and resumed: the resumed run ends with
 * the same map weights, Adam slots, sampler position and history as one that ran through (stops
 * made in-process at a chosen step, so the point is exact); a stop during stage 1 (the generator)
 * resumes it from train()'s own checkpoint and ends with the same map; a SIGTERM to the CLI leaves
 * OUT.checkpoint and the best map so far as a model, and `--resume OUT.checkpoint` finishes it; a
 * damaged stage-2 state is refused with exit 2 naming the field.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paintedDefects } from '../helpers/painted-defects';
import { runCli, startCli, tempDir } from '../helpers/cli';
import { trainConfigFromFlags } from '../../trainer/cli-train-config';
import { trainDefects, MAP_WEIGHTS_FILE, type DefectsConfig } from '../../trainer/defect-map/train-map';
import { checkpointPath } from '../../trainer/train';
import type { ProgressEvent } from '../../trainer/progress';

let data: string;
before(async () => { data = await paintedDefects({ normal: 10, defect: 8 }); });

const config = (out: string) => trainConfigFromFlags(new Map(Object.entries({ data, out, preset: 'defects', epochs: '2', 'time-budget': '10m', 'keep-checkpoint': 'true' }))) as DefectsConfig;

/** Runs trainDefects, asking it to stop at the `stopAt`-th poll of the stage (each polls once before each step). */
async function run(out: string, stopAt: number | null, resume?: string, stage: 'generator' | 'defect-map' = 'defect-map') {
  const events: ProgressEvent[] = [];
  let polls = 0, inStage = false;
  const result = await trainDefects(config(out), {
    emit: (e) => { events.push(e); if (e.type === 'stage') inStage = e.stage === stage; },
    shouldStop: () => inStage && ++polls === stopAt,
    loadData: () => { throw new Error('unused'); },
  }, resume ? { dir: resume } : undefined);
  return { result, events };
}

/** A checkpoint's training state: every tensor and the loop's state, wall-clock figures and the output folder left out. */
function contents(ckpt: string) {
  const { elapsedSeconds, partial, history, config: { out, ...config }, defectMap: { seconds, ...defectMap }, ...state } = JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8'));
  return {
    config, state, defectMap,
    history: history.map(({ seconds: _s, elapsed: _e, ...rest }: Record<string, unknown>) => rest),
    manifest: readFileSync(join(ckpt, 'tensors.json'), 'utf8'),
    tensors: readFileSync(join(ckpt, 'tensors.bin')),
  };
}

let refOut = '';
test('stage 2 stopped mid-epoch and resumed: the same map weights, Adam slots, sampler position and history as a run that went through', { timeout: 600_000 }, async () => {
  refOut = join(tempDir('flawscope-defres-ref-'), 'model');
  const ref = await run(refOut, null);
  assert.equal(ref.result, 'done');
  const spe = (ref.events.find((e) => e.type === 'stage' && e.stage === 'defect-map') as { message: string }).message.match(/(\d+) steps an epoch/)![1];
  const want = contents(checkpointPath(refOut));
  assert.equal(want.state.epoch, 2);
  assert.equal(want.defectMap.updates, 2 * Number(spe));

  // Stopped 5 steps into the map's second epoch: the checkpoint holds epoch 1 and 5 steps; the best map so far is the model.
  const out = join(tempDir('flawscope-defres-'), 'model');
  const stopped = await run(out, Number(spe) + 6);
  assert.equal(stopped.result, 'cancelled');
  const c = stopped.events.find((e) => e.type === 'cancelled') as Extract<ProgressEvent, { type: 'cancelled' }>;
  assert.deepEqual(c, { type: 'cancelled', checkpoint: checkpointPath(out), epoch: 1, step: 5, model: out, bestEpoch: 1 });
  const stoppedInfo = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.equal(stoppedInfo.formatVersion, 6);
  assert.equal(stoppedInfo.config.stoppedBy, 'signal');
  assert.equal(stoppedInfo.metrics.testPhotoAuroc, null, 'a stop skips the test photos');
  const mid = contents(checkpointPath(out));
  assert.deepEqual([mid.state.epoch, mid.state.step, mid.defectMap.updates], [1, 5, Number(spe) + 5]);

  const resumed = await run(out, null, checkpointPath(out));
  assert.equal(resumed.result, 'done');
  assert.ok(resumed.events.some((e) => e.type === 'stage' && e.stage === 'defect-map' && /resuming after epoch 1, step 5/.test(e.message)));
  assert.ok(!resumed.events.some((e) => e.type === 'stage' && e.stage === 'generator'), 'stage 1 is not run again');
  const got = contents(checkpointPath(out));
  assert.deepEqual(got.history, want.history);
  assert.deepEqual(got.state, want.state);
  assert.deepEqual(got.defectMap, want.defectMap);
  assert.equal(got.manifest, want.manifest);
  assert.ok(got.tensors.equals(want.tensors), 'every tensor (map, Adam, best, sampler orders) equal byte for byte');
  assert.ok(readFileSync(join(out, MAP_WEIGHTS_FILE)).equals(readFileSync(join(refOut, MAP_WEIGHTS_FILE))), 'the deployed map equal byte for byte');
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.equal(info.metrics.mapUpdates, 2 * Number(spe));
  assert.equal(info.config.stoppedBy, undefined);
});

test('stopped during stage 1 (the generator) and resumed: stage 1 continues from its checkpoint and the run ends with the uninterrupted run\'s map', { timeout: 600_000 }, async () => {
  assert.ok(refOut, 'runs after the stage-2 test (its uninterrupted run is the reference)');
  const out = join(tempDir('flawscope-defres-s1-'), 'model');
  const stopped = await run(out, 2, undefined, 'generator');
  assert.equal(stopped.result, 'cancelled');
  assert.deepEqual(stopped.events.find((e) => e.type === 'cancelled'), { type: 'cancelled', checkpoint: checkpointPath(out), epoch: 0 });
  const marker = JSON.parse(readFileSync(join(checkpointPath(out), 'defects-stage1.json'), 'utf8'));
  assert.equal(marker.stage, 'generator');
  assert.equal(marker.fraction, 1);
  assert.ok(!existsSync(join(out, MAP_WEIGHTS_FILE)), 'no model before the map');
  const resumed = await run(out, null, checkpointPath(out));
  assert.equal(resumed.result, 'done');
  assert.ok(resumed.events.some((e) => e.type === 'start' && e.resumedFromEpoch !== undefined), 'stage 1 resumed, not restarted');
  assert.ok(readFileSync(join(out, MAP_WEIGHTS_FILE)).equals(readFileSync(join(refOut, MAP_WEIGHTS_FILE))), 'the deployed map equal byte for byte');
  assert.ok(readFileSync(join(out, 'weights.bin')).equals(readFileSync(join(refOut, 'weights.bin'))), 'the generator equal byte for byte');
  assert.ok(readFileSync(join(checkpointPath(out), 'tensors.bin')).equals(readFileSync(join(checkpointPath(refOut), 'tensors.bin'))));

  // A damaged marker is refused naming the file and field.
  const copy = join(tempDir('flawscope-defres-bad-'), 'm.checkpoint');
  cpSync(checkpointPath(out), copy, { recursive: true });
  writeFileSync(join(copy, 'defects-stage1.json'), JSON.stringify({ ...marker, fraction: 0 }));
  await assert.rejects(trainDefects(config(join(copy, '..', 'm')), { emit: () => {}, shouldStop: () => false, loadData: () => { throw new Error('unused'); } }, { dir: copy }), /defects-stage1\.json field "fraction": expected a number in \(0, 1\]/);
});

test('CLI: SIGTERM during the map leaves OUT.checkpoint and the best map as a model; --resume finishes it; a damaged stage-2 state is refused (exit 2, the field named)', { timeout: 600_000 }, async () => {
  const out = join(tempDir('flawscope-defres-cli-'), 'model');
  const ckpt = checkpointPath(out);
  let sent = false;
  const stopped = await startCli(['train', '--data', data, '--out', out, '--preset', 'defects', '--epochs', '3', '--time-budget', '10m', '--json'], (e, kill) => {
    if (!sent && e.type === 'checkpoint' && e.reason === 'epoch' && e.epoch === 1) { sent = true; kill('SIGTERM'); }
  });
  assert.equal(stopped.code, 0, stopped.stderr);
  const c = stopped.events.find((e) => e.type === 'cancelled');
  assert.equal(c?.checkpoint, ckpt, stopped.stdout.slice(-2000));
  assert.equal(c.model, out);
  assert.ok(c.epoch >= 1 && c.epoch < 3);
  assert.ok(existsSync(join(out, MAP_WEIGHTS_FILE)) && existsSync(join(ckpt, 'generator', 'weights.bin')));

  // Damaged copies, refused before anything trains.
  const bad = (edit: (s: any) => void, field: RegExp) => {
    const copy = join(tempDir('flawscope-defres-bad-'), 'm.checkpoint');
    cpSync(ckpt, copy, { recursive: true });
    const s = JSON.parse(readFileSync(join(copy, 'state.json'), 'utf8'));
    edit(s);
    writeFileSync(join(copy, 'state.json'), JSON.stringify(s));
    const r = runCli(['train', '--resume', copy, '--json']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const err = r.events.find((e) => e.type === 'error');
    assert.match(err?.message ?? '', field);
    assert.match(err.message, new RegExp(`--resume ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: state.json`));
    assert.ok(!existsSync(join(copy, '..', 'm')), 'nothing written');
  };
  bad((s) => { s.defectMap.synRngState = -1; }, /field "defectMap\.synRngState": expected an integer 0\.\.2\^32-1/);
  bad((s) => { delete s.defectMap.samplerPos; }, /field "defectMap\.samplerPos": missing/);
  bad((s) => { s.defectMap.init.prior = 2; }, /field "defectMap\.init\.prior": expected a number in \(0, 1\)/);
  bad((s) => { s.defectMap.samplerPos.normal = 1e6; }, /field "defectMap\.samplerPos\.normal": 1000000 is past/);
  bad((s) => { s.config.preset = 'quick'; }, /field "config\.preset": expected "defects"/);
  {
    const copy = join(tempDir('flawscope-defres-bad-'), 'm.checkpoint');
    cpSync(ckpt, copy, { recursive: true });
    rmSync(join(copy, 'generator', 'model.json'));
    const r = runCli(['train', '--resume', copy, '--json']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.events.find((e) => e.type === 'error')?.message ?? '', /missing generator\/model\.json \(the frozen generator\)/);
  }

  const resumed = runCli(['train', '--resume', ckpt, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const done = resumed.events.find((e) => e.type === 'done');
  assert.equal(done?.out, out);
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.deepEqual(info.config.defectMap.history.map((h: { epoch: number }) => h.epoch), [1, 2, 3]);
  assert.equal(info.formatVersion, 6);
  assert.ok(!existsSync(ckpt), 'a run that finished its epochs removes its checkpoint');
});

test('a run the time budget ended keeps OUT.checkpoint; --resume --epochs N extends it with the budget lifted', { timeout: 600_000 }, async () => {
  const out = join(tempDir('flawscope-defres-budget-'), 'model');
  const ckpt = checkpointPath(out);
  // 10 s: stage 1 takes most of it, the map gets its floor of steps in epoch 1 and stops there.
  const first = runCli(['train', '--data', data, '--out', out, '--preset', 'defects', '--time-budget', '10s', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const info1 = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.equal(info1.config.stoppedBy, 'time-budget');
  const epochs1 = info1.config.defectMap.history.length;
  assert.ok(existsSync(join(ckpt, 'state.json')), 'the budget-ended run keeps its checkpoint');
  const resumed = runCli(['train', '--resume', ckpt, '--epochs', String(epochs1 + 1), '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const info2 = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.deepEqual(info2.config.defectMap.history.map((h: { epoch: number }) => h.epoch), Array.from({ length: epochs1 + 1 }, (_, i) => i + 1));
  assert.equal(info2.config.defectMap.history[epochs1].steps, info2.config.defectMap.stepsPerEpoch, 'the extension ran a whole epoch');
  assert.equal(info2.config.stoppedBy, undefined);
  assert.ok(!existsSync(ckpt));
});
