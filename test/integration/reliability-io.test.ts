/**
 * Reliability of files on disk: the `<out>.lock` under contention (many processes against one stale
 * lock), temp files of killed writers (swept by the next write; removed on SIGINT/SIGTERM during
 * `score --heatmap`), and permission errors (reported as such, exit 2, never a stack).
 * Permission tests run the CLI as an unprivileged user (root ignores file modes); they fail, not
 * skip, where that user cannot be switched to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLI, ROOT, spawnWithEvents, tempDir } from '../helpers/cli';
import { tinyData } from '../helpers/tiny-data';
import { asUser, giveToUser, isRoot, NOBODY, permDir } from '../helpers/unprivileged';
import { acquireLock, sweepStaleTemps, writeFolderAtomically } from '../../trainer/fs-safe';

const TIMEOUT_MS = 120_000;
const STACK = /^\s+at .+:\d+:\d+\)?$/m;
const FLAGS = ['--normal', 'good', '--size', '16', '--batch', '4', '--json'];

const start = (cmd: string, args: string[], onEvent?: (e: any, p: ChildProcess) => void, onStdout?: (p: ChildProcess) => void) => spawnWithEvents(cmd, args, onEvent, onStdout, TIMEOUT_MS);

/** A pid that no longer runs: a finished child's. */
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

// ---------------------------------------------------------------- item 4: the lock under contention

test('a stale lock and 8 contenders released in the same millisecond: exactly one wins, every time', { timeout: 180_000 }, async () => {
  const dir = tempDir('flawscope-io-lockrace-');
  for (let round = 0; round < 4; round++) {
    const target = join(dir, `model${round}`);
    writeFileSync(`${target}.lock`, String(deadPid()));
    const at = Date.now() + 2500; // every contender is loaded and waiting by then
    const runs = await Promise.all(Array.from({ length: 8 }, () => start(process.execPath, ['--import', 'tsx', 'test/helpers/lock-contender.ts', target, String(at), '1500']).done));
    const outs = runs.map((r) => r.stdout.trim() + r.stderr);
    const won = outs.filter((o) => o === 'won');
    assert.equal(won.length, 1, `round ${round}: exactly one winner:\n${outs.join('\n')}`);
    for (const o of outs.filter((x) => x !== 'won')) assert.match(o, new RegExp(`^lost: ${target} is in use by another training \\(pid \\d+, lock ${target}\\.lock\\)`), `round ${round}`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(`model${round}`) || f.startsWith(`.model${round}`)), [], `round ${round}: lock released, no temp or takeover file left`);
  }
});

test('6 trainings into one --out with a stale lock, started at once: one trains, 5 exit 2 naming the lock and its pid', { timeout: 240_000 }, async () => {
  const data = tinyData('flawscope-io-data-');
  const parent = tempDir('flawscope-io-lockcli-');
  const out = join(parent, 'model');
  writeFileSync(`${out}.lock`, String(deadPid()));
  const held: ChildProcess[] = [];
  let settled = 0;
  const N = 6;
  const maybeRelease = () => { if (settled === N) for (const p of held) p.kill('SIGCONT'); };
  const runs = Array.from({ length: N }, () => {
    const r = start(process.execPath, [CLI, 'train', '--data', data, '--out', out, '--epochs', '1', ...FLAGS], (e, p) => {
      // A training that got the lock is held (still holding it) until every other one has finished.
      if (e.type === 'start') { p.kill('SIGSTOP'); held.push(p); settled++; maybeRelease(); }
    });
    r.done.then((res) => { if (!res.events.some((e) => e.type === 'start')) { settled++; maybeRelease(); } });
    return r;
  });
  const results = await Promise.all(runs.map((r) => r.done));
  const winners = results.filter((r) => r.events.some((e) => e.type === 'start'));
  assert.equal(winners.length, 1, `exactly one training ran: ${results.map((r) => `exit ${r.code}`).join(', ')}`);
  const winnerPid = runs[results.indexOf(winners[0])].proc.pid;
  assert.equal(winners[0].code, 0, winners[0].stderr);
  for (const r of results.filter((x) => x !== winners[0])) {
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`${out} is in use by another training \\(pid ${winnerPid}, lock ${out}\\.lock\\)`));
    assert.doesNotMatch(r.stdout + r.stderr, STACK);
  }
  assert.deepEqual(readdirSync(parent), ['model'], 'the lock is released; no temp or takeover file left');
});

// ---------------------------------------------------------------- item 5: temp files of killed writers

test('temps of a SIGKILLed writer (dead pid) are swept by the next write of that destination; a live pid\'s and other names are left alone', async () => {
  const dir = tempDir('flawscope-io-sweep-');
  const dead = deadPid();
  const sleeper = spawn('sleep', ['60']);
  try {
    const live = sleeper.pid!;
    const mk = (name: string, folder = true) => { const p = join(dir, name); if (folder) { mkdirSync(p); writeFileSync(join(p, 'weights.bin'), 'x'); } else writeFileSync(p, 'x'); };
    const stale = [`.model.tmp-${dead}-1700000000000`, `model.tmp-${dead}`, `.model.lock.tmp-${dead}-1700000000000123`];
    const kept = [
      `.model.tmp-${live}-1700000000000`, // a live writer's
      `.model.tmp-${process.pid}-1700000000000`, // our own (in use)
      `.other.tmp-${dead}-1700000000000`, // beside another destination
      `.model.tmp-${dead}-1700000000000x`, `.model.tmp-${dead}`, `model.tmp-${dead}-1`, `notes.txt`, // not our pattern
    ];
    for (const n of [...stale, ...kept]) mk(n, !n.startsWith('model.tmp') && n !== 'notes.txt');
    await writeFolderAtomically(join(dir, 'model'), async (tmp) => writeFileSync(join(tmp, 'flawscope.json'), '{}'));
    const release = await acquireLock(join(dir, 'model'));
    await release();
    assert.deepEqual(readdirSync(dir).sort(), ['model', ...kept].sort(), 'exactly the dead writer\'s temps are gone');
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test('a writer killed between its two renames: the previous version (.old) is put back by the next sweep, not deleted', async () => {
  const dir = tempDir('flawscope-io-sweep-old-');
  const dead = deadPid();
  const old = join(dir, `.model.tmp-${dead}-1700000000000.old`);
  mkdirSync(old);
  writeFileSync(join(old, 'flawscope.json'), 'previous');
  mkdirSync(join(dir, `.model.tmp-${dead}-1700000000000`)); // the unfinished new one
  await sweepStaleTemps(join(dir, 'model'));
  assert.deepEqual(readdirSync(dir), ['model']);
  assert.equal(readFileSync(join(dir, 'model', 'flawscope.json'), 'utf8'), 'previous');
});

const OK_MODEL = join(ROOT, 'test/fixtures/bad/models/ok');

test('score --heatmap: a dead writer\'s heatmap temp is swept by the next write of that heatmap, a live one\'s is kept', async () => {
  const dir = tempDir('flawscope-io-heat-');
  const img = join(dir, 'x.png');
  await sharp({ create: { width: 24, height: 24, channels: 3, background: '#808080' } }).png().toFile(img);
  const heat = join(dir, 'heat');
  mkdirSync(heat);
  const sleeper = spawn('sleep', ['60']);
  try {
    const deadTmp = `.x.heatmap.png.${deadPid()}.tmp`, liveTmp = `.x.heatmap.png.${sleeper.pid}.tmp`, other = `.y.heatmap.png.${deadPid()}.tmp`;
    for (const n of [deadTmp, liveTmp, other]) writeFileSync(join(heat, n), 'partial');
    const r = spawnSync(process.execPath, [CLI, 'score', '--model', OK_MODEL, img, '--heatmap', heat], { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUT_MS });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(heat).sort(), [liveTmp, other, 'x.heatmap.png'].sort());
  } finally {
    sleeper.kill('SIGKILL');
  }
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`${sig} during score --heatmap (mid-write): the temp file is removed, exit ${sig === 'SIGINT' ? 130 : 143}`, { timeout: 180_000 }, async () => {
    const dir = tempDir('flawscope-io-heatsig-');
    // Large noisy photos: each heatmap takes long to encode, so the signal lands during a write.
    const imgs = join(dir, 'imgs');
    mkdirSync(imgs);
    const W = 2500;
    const noise = Buffer.alloc(W * W * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    for (let k = 0; k < 6; k++) await sharp(noise, { raw: { width: W, height: W, channels: 3 } }).png({ compressionLevel: 1 }).toFile(join(imgs, `p${k}.png`));
    const heat = join(dir, 'heat');
    let sent = false, sawTemp = false;
    const run = start(process.execPath, [CLI, 'score', '--model', OK_MODEL, imgs, '--heatmap', heat, '--mode', 'resize']);
    // Poll for a heatmap temp; signal as soon as one exists.
    const poll = setInterval(() => {
      if (sent) return;
      const names = existsSync(heat) ? readdirSync(heat) : [];
      if (names.some((n) => /^\.p\d\.heatmap\.png\.\d+\.tmp$/.test(n))) { sawTemp = true; sent = true; run.proc.kill(sig); }
    }, 2);
    const r = await run.done;
    clearInterval(poll);
    assert.ok(sawTemp, `the signal was sent while a heatmap was being written (exit ${r.code}, ${r.stderr})`);
    assert.equal(r.signal, null, `exited by itself, not killed by ${r.signal}`);
    assert.equal(r.code, sig === 'SIGINT' ? 130 : 143, r.stderr);
    assert.deepEqual(readdirSync(heat).filter((n) => n.includes('.tmp')), [], 'no temp left');
    for (const n of readdirSync(heat)) assert.ok((await sharp(join(heat, n)).metadata()).width === W, `${n}: only complete heatmaps`);
  });
}

// ---------------------------------------------------------------- item 11: permissions

/** ROOT/good with `nGood` MNIST digits and ROOT/defect with 8, owned by the test user. */
function permData(dir: string, nGood: number): string {
  const d = join(dir, 'data');
  const src = join(ROOT, 'test/fixtures/mnist-small/train');
  mkdirSync(join(d, 'good'), { recursive: true });
  mkdirSync(join(d, 'defect'));
  const ones = readdirSync(join(src, '1'));
  for (let i = 0; i < nGood; i++) cpSync(join(src, '1', ones[i % ones.length]), join(d, 'good', `${i}.png`));
  for (const f of readdirSync(join(src, '7')).slice(0, 8)) cpSync(join(src, '7', f), join(d, 'defect', f));
  giveToUser(dir);
  return d;
}

test('permissions: one unreadable image among 150 (under 1 %) is skipped as "permission denied", the training runs', { timeout: 180_000 }, () => {
  const dir = permDir('flawscope-io-perm1-');
  const data = permData(dir, 142);
  const bad = join(data, 'good', '7.png');
  chmodSync(bad, 0o000);
  const r = asUser(['train', '--data', data, '--out', join(dir, 'model'), '--normal', 'good', '--size', '16', '--batch', '32', '--epochs', '1', '--json']);
  assert.equal(r.code, 0, r.stdout.slice(-2000) + r.stderr);
  const skipped = r.events.find((e) => e.type === 'start').summary.skipped;
  assert.deepEqual(skipped.map((s: any) => s.path), [bad]);
  assert.match(skipped[0].reason, /permission denied \(EACCES\)/);
});

test('permissions: unreadable images over 1 % stop the training (exit 2) with "permission denied" and the paths', { timeout: 180_000 }, () => {
  const dir = permDir('flawscope-io-perm2-');
  const data = permData(dir, 92);
  for (const f of ['3.png', '5.png']) chmodSync(join(data, 'good', f), 0o000);
  const r = asUser(['train', '--data', data, '--out', join(dir, 'model'), '--normal', 'good', '--size', '16', '--json']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const msg = r.events.find((e) => e.type === 'error').message;
  assert.match(msg, /2 of 100 images .* are unreadable/);
  assert.match(msg, new RegExp(`${join(data, 'good', '3.png')}: cannot be read: permission denied \\(EACCES\\)`));
  assert.doesNotMatch(r.stdout + r.stderr, STACK);
  assert.ok(!existsSync(join(dir, 'model')) && !existsSync(join(dir, 'model.lock')), 'nothing written');
});

test('permissions: an unreadable class folder is an error naming it (not "has no images" and the class dropped)', { timeout: 180_000 }, () => {
  const dir = permDir('flawscope-io-perm3-');
  const data = permData(dir, 20);
  chmodSync(join(data, 'defect'), 0o000);
  for (const args of [['train', '--data', data, '--out', join(dir, 'model'), '--normal', 'good', '--size', '16', '--json'], ['datasets', 'inspect', data]]) {
    const r = asUser(args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, new RegExp(`${join(data, 'defect')}: cannot list the folder: permission denied \\(EACCES\\)`), args[0]);
    assert.doesNotMatch(r.stdout + r.stderr, /has no images/);
    assert.doesNotMatch(r.stdout + r.stderr, STACK);
  }
});

test('permissions: inspect and score say "permission denied" for an unreadable file, not "unsupported image format"', { timeout: 180_000 }, () => {
  const dir = permDir('flawscope-io-perm4-');
  const data = permData(dir, 20);
  const bad = join(data, 'good', '4.png');
  chmodSync(bad, 0o000);
  const ins = asUser(['datasets', 'inspect', data, '--json']);
  assert.equal(ins.code, 0, ins.stdout + ins.stderr);
  const rep = JSON.parse(ins.stdout);
  const k = rep.skipped.find((s: any) => s.path === bad);
  assert.ok(k, `listed under skipped: ${JSON.stringify(rep.skipped)}`);
  assert.match(k.reason, /permission denied \(EACCES\)/);
  const sc = asUser(['score', '--model', OK_MODEL, bad]);
  assert.equal(sc.code, 2, sc.stdout + sc.stderr);
  assert.match(sc.stderr, new RegExp(`${bad}: cannot read: permission denied \\(EACCES\\)`));
  assert.doesNotMatch(ins.stdout + ins.stderr + sc.stderr, /unsupported image format/);
});

test('permissions: --out in a read-only folder: exit 2 naming the lock path, "permission denied", no stack, nothing written', { timeout: 180_000 }, () => {
  const dir = permDir('flawscope-io-perm5-');
  const data = permData(dir, 20);
  const ro = join(dir, 'readonly');
  mkdirSync(ro);
  if (isRoot) chownSync(ro, NOBODY, NOBODY);
  chmodSync(ro, 0o555);
  const r = asUser(['train', '--data', data, '--out', join(ro, 'model'), '--normal', 'good', '--size', '16']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`cannot create the lock ${join(ro, 'model')}\\.lock for ${join(ro, 'model')}: permission denied \\(EACCES\\)`));
  assert.doesNotMatch(r.stdout + r.stderr, STACK);
  assert.deepEqual(readdirSync(ro), []);
});
