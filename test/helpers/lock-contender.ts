/**
 * One contender for a lock, for the lock-race test: waits until the wall-clock time given (so
 * all contenders call acquireLock within the same millisecond or so), tries once, prints "won" or
 * "lost: <message>", and a winner holds the lock for HOLD_MS so every loser meets it.
 * Usage: node --import tsx test/helpers/lock-contender.ts TARGET START_AT_MS HOLD_MS
 */
import { acquireLock } from '../../trainer/fs-safe';

const [target, startAt, hold] = process.argv.slice(2);
const wait = Number(startAt) - Date.now();
setTimeout(async () => {
  try {
    const release = await acquireLock(target);
    process.stdout.write('won\n');
    await new Promise((r) => setTimeout(r, Number(hold)));
    await release();
  } catch (e) {
    process.stdout.write(`lost: ${(e as Error).message}\n`);
  }
}, Math.max(0, wait));
