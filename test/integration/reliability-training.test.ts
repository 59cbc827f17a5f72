/**
 * Crash-safe training: SIGKILL mid-epoch, write failures on a full disk (a tiny tmpfs),
 * concurrent trainings and the `<out>.lock` file (in use → refused; stale → taken over).
 * Trainings are tiny (48 MNIST-fixture images, 16 px, batch 4: ~10 steps an epoch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, spawnWithEvents, tempDir, type ProcessRun } from '../helpers/cli';
import { tinyData } from '../helpers/tiny-data';
import '@tensorflow/tfjs-backend-cpu'; // readCheckpoint makes tensors in this process
import { readCheckpoint } from '../../trainer/checkpoint';
import { acquireLock, LockedError } from '../../trainer/fs-safe';

const TIMEOUT_MS = 120_000;

type Run = ProcessRun;

/** Starts the CLI; `onEvent` sees each --json event (with the child process) as it arrives. */
const start = (args: string[], onEvent?: (e: any, p: ChildProcess) => void) => spawnWithEvents(process.execPath, [CLI, ...args], onEvent, undefined, TIMEOUT_MS);
const run = (args: string[]) => start(args).done;

const FLAGS = ['--normal', 'good', '--size', '16', '--batch', '4', '--json'];

const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
const noTemp = (parent: string) => assert.deepEqual(readdirSync(parent).filter((f) => f.includes('.tmp')), [], `no temp folders left in ${parent}`);
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

test('SIGKILL mid-epoch: the earlier model and the last checkpoint are intact; --resume continues (taking over the stale lock)', async () => {
  const data = tinyData('flawscope-rel-data-');
  const parent = tempDir('flawscope-rel-kill-');
  const out = join(parent, 'model');
  const first = await run(['train', '--data', data, '--out', out, '--epochs', '1', ...FLAGS]);
  assert.equal(first.code, 0, first.stderr);
  const before = snapshot(out);

  let killedAt: any = null;
  const k = start(['train', '--data', data, '--out', out, '--epochs', '3', '--force', ...FLAGS], (e, p) => {
    if (!killedAt && e.type === 'step' && e.epoch === 2) { killedAt = e; p.kill('SIGKILL'); }
  });
  const killed = await k.done;
  assert.equal(killed.signal, 'SIGKILL', `the trainer was killed (exit ${killed.code}) ${killed.stderr}`);
  assert.ok(killedAt && killedAt.step < killedAt.stepsPerEpoch, `killed mid-epoch (step ${killedAt?.step} of ${killedAt?.stepsPerEpoch})`);
  assert.ok(killed.events.some((e) => e.type === 'checkpoint' && e.epoch === 1), 'epoch 1 was checkpointed');

  assert.deepEqual(snapshot(out), before, 'the earlier model is byte for byte intact');
  const ckpt = `${out}.checkpoint`;
  const { state, tensors } = await readCheckpoint(ckpt);
  assert.equal(state.epoch, 1, 'the checkpoint holds the last finished epoch');
  assert.ok(tensors.size > 10);
  tensors.forEach((t) => t.dispose());
  noTemp(parent);
  const lock = `${out}.lock`;
  assert.equal(readFileSync(lock, 'utf8').split(' ')[0], String(k.proc.pid), 'a stale lock (the killed pid) is left behind');

  const resumed = await run(['train', '--resume', ckpt, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout.slice(-1000));
  assert.equal(resumed.events.find((e) => e.type === 'start').resumedFromEpoch, 1);
  assert.deepEqual(resumed.events.filter((e) => e.type === 'epoch').map((e) => e.epoch), [2, 3]);
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  assert.equal(info.config.history.length, 3, 'history spans the killed run and the resumed one');
  assert.notDeepEqual(snapshot(out), before, 'the new model replaced the earlier one');
  assert.deepEqual(readdirSync(parent), ['model'], 'checkpoint and (stale) lock are gone');
});

test('a full disk (tiny tmpfs): checkpoint and model writes fail with a clear message, earlier files intact; works again once there is space', async (t) => {
  const mnt = tempDir('flawscope-rel-tmpfs-');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    t.skip(`cannot mount a tmpfs here (${m.stderr.trim()}); the write-failure test needs one (run as root)`);
    return;
  }
  t.after(() => { spawnSync('umount', ['-l', mnt]); });
  const data = tinyData('flawscope-rel-data-');
  const out = join(mnt, 'model');
  const ckpt = `${out}.checkpoint`;
  const first = await run(['train', '--data', data, '--out', out, '--epochs', '1', ...FLAGS]);
  assert.equal(first.code, 0, first.stderr);
  const first0 = snapshot(out);

  // A second training (--force) stopped by SIGTERM after epoch 1 leaves a checkpoint, and its best epoch as the model.
  let sent = false;
  const stopped = await start(['train', '--data', data, '--out', out, '--epochs', '5', '--force', ...FLAGS], (e, p) => {
    if (!sent && e.type === 'checkpoint' && e.epoch === 1) { sent = true; p.kill('SIGTERM'); }
  }).done;
  assert.equal(stopped.code, 0, stopped.stderr);
  const ckpt0 = snapshot(ckpt);
  assert.equal(stopped.events.find((e) => e.type === 'cancelled')?.model, out, 'the stop wrote the best epoch as the model');
  const model0 = snapshot(out);
  assert.notDeepEqual(model0, first0);

  // Fill the disk, leaving 64 KB: less than a checkpoint (MBs) or a model (~0.4 MB).
  const free = () => { const s = statfsSync(mnt); return s.bavail * s.bsize; };
  writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, free() - 64 * 1024)));
  assert.ok(free() <= 64 * 1024);

  // (a) the epoch-2 checkpoint cannot be written.
  const a = await run(['train', '--resume', ckpt, '--epochs', '2']);
  assert.equal(a.code, 2, `exit ${a.code}: ${a.stderr}`);
  assert.match(a.stderr, /error: cannot write .*model\.checkpoint: no space left on device \(ENOSPC\); the previous version is unchanged/);
  assert.doesNotMatch(a.stderr, STACK, 'no stack trace for a full disk');
  assert.deepEqual(snapshot(ckpt), ckpt0, 'the previous checkpoint is intact');
  assert.deepEqual(snapshot(out), model0, 'the previous model is intact');
  assert.equal((await readCheckpoint(ckpt)).state.epoch, 1);
  assert.deepEqual(readdirSync(mnt).sort(), ['filler', 'model', 'model.checkpoint'], 'no temp folder, no lock left');

  // (b) the final model cannot be written (no epoch left to run: straight to saving).
  const b = await run(['train', '--resume', ckpt, '--epochs', '1', '--json']);
  assert.equal(b.code, 2, `exit ${b.code}: ${b.stderr}`);
  const err = b.events.find((e) => e.type === 'error');
  assert.match(err.message, new RegExp(`cannot write ${out}: no space left on device \\(ENOSPC\\); the previous version is unchanged`));
  assert.deepEqual(snapshot(out), model0, 'the previous model is intact');
  assert.deepEqual(snapshot(ckpt), ckpt0, 'the checkpoint is kept for another try');
  assert.deepEqual(readdirSync(mnt).sort(), ['filler', 'model', 'model.checkpoint']);

  // (c) with space again, the same command succeeds.
  rmSync(join(mnt, 'filler'));
  const c = await run(['train', '--resume', ckpt, '--epochs', '1', '--json']);
  assert.equal(c.code, 0, c.stderr);
  assert.notDeepEqual(snapshot(out), model0);
  assert.deepEqual(readdirSync(mnt).sort(), ['model']);
});

test('two trainings into different folders at once both succeed; one into a folder in use is refused', async () => {
  const data = tinyData('flawscope-rel-data-');
  const parent = tempDir('flawscope-rel-lock-');
  const a = join(parent, 'a'), b = join(parent, 'b');
  let refused: Run | null = null;
  let lockSeen = '';
  const x = start(['train', '--data', data, '--out', a, '--epochs', '2', ...FLAGS], (e, p) => {
    if (e.type === 'start' && !refused) {
      // Hold X still (it keeps its lock) while a second training tries the same folder.
      p.kill('SIGSTOP');
      lockSeen = readFileSync(`${a}.lock`, 'utf8').split(' ')[0];
      run(['train', '--data', data, '--out', a, '--epochs', '1', '--force', ...FLAGS]).then((r) => { refused = r; p.kill('SIGCONT'); });
    }
  });
  const y = start(['train', '--data', data, '--out', b, '--epochs', '2', ...FLAGS]);
  const [rx, ry] = await Promise.all([x.done, y.done]);
  assert.equal(lockSeen, String(x.proc.pid), 'the lock file holds the pid of the training');
  assert.ok(refused, 'the second training ran');
  const r = refused as Run;
  assert.equal(r.code, 2, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`${a} is in use by another training \\(pid ${x.proc.pid}, lock ${a}\\.lock\\)`));
  assert.equal(rx.code, 0, rx.stderr);
  assert.equal(ry.code, 0, ry.stderr);
  for (const o of [a, b]) assert.deepEqual(readdirSync(o).sort(), ['flawscope.json', 'model.json', 'weights.bin']);
  assert.deepEqual(readdirSync(parent).sort(), ['a', 'b'], 'no locks, checkpoints or temp folders left');
});

test('lock files: a live holder is refused, a dead or unreadable one is taken over', async () => {
  const dir = tempDir('flawscope-rel-lockfile-');
  const target = join(dir, 'model');
  // A live process that is not us.
  const sleeper = spawn('sleep', ['30']);
  try {
    writeFileSync(`${target}.lock`, String(sleeper.pid));
    await assert.rejects(acquireLock(target), (e: Error) => e instanceof LockedError && new RegExp(`in use by another training \\(pid ${sleeper.pid}`).test(e.message));
    assert.equal(readFileSync(`${target}.lock`, 'utf8'), String(sleeper.pid), 'a live lock is left alone');
  } finally {
    sleeper.kill('SIGKILL');
  }
  // A dead pid: a finished child's.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  writeFileSync(`${target}.lock`, dead);
  const release = await acquireLock(target);
  assert.match(readFileSync(`${target}.lock`, 'utf8'), new RegExp(`^${process.pid} [0-9a-f]+$`), 'the stale lock was taken over (pid and a nonce)');
  await release();
  assert.ok(!existsSync(`${target}.lock`));
  // Garbage in the lock file counts as stale.
  writeFileSync(`${target}.lock`, 'not a pid');
  await (await acquireLock(target))();
});
