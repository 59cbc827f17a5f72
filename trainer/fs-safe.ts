/**
 * Crash-safe output: everything is written into a temporary sibling folder, then renamed into
 * place, so a reader never sees a half-written model and an earlier one is never lost.
 */
import { InputError } from './errors';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes a folder atomically. `fill` writes files into the temp folder it is given. */
export async function writeFolderAtomically(dest: string, fill: (tmp: string) => Promise<void>, opts: { force?: boolean } = {}): Promise<void> {
  if (existsSync(dest) && !opts.force) throw new OutputExistsError(dest);
  const tmp = join(dirname(dest), `.${basename(dest)}.tmp-${process.pid}-${Date.now()}`);
  const existed = existsSync(dest);
  try {
    await fs.mkdir(dirname(dest), { recursive: true });
    await sweepStaleTemps(dest);
    await fs.mkdir(tmp);
    await fill(tmp);
    if (existsSync(dest)) {
      // Keep the old folder until the new one is in place: rename is atomic, rm is not.
      const old = `${tmp}.old`;
      await fs.rename(dest, old);
      await fs.rename(tmp, dest);
      await fs.rm(old, { recursive: true, force: true });
    } else await fs.rename(tmp, dest);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw ioError(e, dest, existed);
  }
}

/** A failed write (disk full, read-only, no permission...) of `path`; what was there before is untouched. */
export class WriteError extends InputError {
  constructor(readonly path: string, readonly code: string | undefined, message: string) {
    super(message);
    this.name = 'WriteError';
  }
}

const IO_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
};

export function ioError(e: unknown, dest: string, existed: boolean): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !(code in IO_REASONS)) return e;
  return new WriteError(dest, code, `cannot write ${dest}: ${IO_REASONS[code]} (${code}); ${existed ? 'the previous version is unchanged' : 'nothing was written'}`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes the temps a killed writer of `dest` left beside it (SIGKILL, power loss: no handler
 * runs), so they do not pile up. Only our own exact names for this destination, and only those
 * whose pid no longer runs: a live writer's temp — another process's or our own — is in use.
 *   .DEST.tmp-PID-STAMP[.old]  writeFolderAtomically (and the lock's temp files)
 *   DEST.tmp-PID               a single-file temp (no writer here makes one now; still swept)
 * A `.old` left while DEST is missing is the previous version, caught between the two renames:
 * it is put back rather than deleted, since the write it belonged to never finished.
 */
export async function sweepStaleTemps(dest: string): Promise<void> {
  const dir = dirname(dest);
  const base = escapeRe(basename(dest));
  const patterns = [new RegExp(`^\\.${base}\\.tmp-(\\d+)-\\d+(\\.old)?$`), new RegExp(`^${base}\\.tmp-(\\d+)$`)];
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return; // nothing there yet (or unlistable: the write itself reports that)
  }
  // `.old` first, so a previous version is restored before its sibling temp is removed.
  for (const name of names.sort((a, b) => Number(b.endsWith('.old')) - Number(a.endsWith('.old')))) {
    const m = patterns.map((re) => re.exec(name)).find(Boolean);
    if (!m || isAlive(Number(m[1]))) continue;
    const p = join(dir, name);
    if (m[2] && !existsSync(dest)) {
      await fs.rename(p, dest).catch(() => {});
      continue;
    }
    await fs.rm(p, { recursive: true, force: true }).catch(() => {});
  }
}

export class OutputExistsError extends InputError {
  constructor(readonly path: string) {
    super(`output folder ${path} already exists; choose another --out or pass --force to replace it`);
    this.name = 'OutputExistsError';
  }
}

/**
 * An exclusive lock file beside `target` (`target.lock`, holding "PID NONCE"). A lock whose pid
 * no longer runs is stale and taken over.
 *
 * Why this is race-free (several trainings started at once against a stale lock):
 *  - A lock only ever appears whole: its text is written to a private temp file first, then
 *    link()ed to the lock name, which fails with EEXIST if the name exists. So exactly one of any
 *    number of processes creates it, and no reader ever sees an empty or half-written lock.
 *  - A lock's text is unique (a random nonce): once removed, the same text never comes back.
 *  - A stale lock with text T is only removed by whoever creates `target.lock.takeover-hash(T)`
 *    (again by link, so only one process can). That process re-reads the lock and removes it
 *    only if it still holds T. Nobody else removes a lock with text T — its owner is dead — so
 *    the lock cannot change between that re-read and the unlink; the winner then competes for
 *    the free name like everyone else (link: exactly one wins). A late process that creates the
 *    same takeover name after the winner is done reads a different text and leaves the lock alone.
 *  - A takeover file whose holder died is itself a stale lock, taken over the same way.
 * (Reading a pid and deleting the file, as before, let two processes each delete the other's
 * fresh lock: both ran.)
 */
export async function acquireLock(target: string): Promise<() => Promise<void>> {
  const lock = `${target}.lock`;
  try {
    await fs.mkdir(dirname(lock), { recursive: true });
    await sweepStaleTemps(lock);
  } catch (e) {
    throw lockWriteError(e, lock, target);
  }
  await takeExclusive(lock, async (holder) => {
    throw new LockedError(`${target} is in use by another training (pid ${holder}, lock ${lock}); wait for it or choose another --out`);
  }, target);
  // Takeover files of earlier stale locks are finished with: their lock text never returns.
  const prefix = `${basename(lock)}.takeover-`;
  for (const n of await fs.readdir(dirname(lock)).catch(() => [] as string[]))
    if (n.startsWith(prefix) && /^[0-9a-f]{16}(\.takeover-[0-9a-f]{16})*$/.test(n.slice(prefix.length))) await removeIfStale(join(dirname(lock), n));
  return async () => { await fs.rm(lock, { force: true }); };
}

/** Creates `path` holding "PID NONCE" unless a live process holds it; `busy` is told that pid. */
async function takeExclusive(path: string, busy: (pid: number) => Promise<never>, target: string, depth = 0): Promise<void> {
  if (depth > 8) throw new LockedError(`could not take the lock ${path}: too many stale takeover files beside it; remove ${path}* by hand once no training runs`);
  if (depth > 0) await sweepStaleTemps(path).catch(() => {});
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await linkNew(path, target)) return;
    const text = await fs.readFile(path, 'utf8').catch((e) => (e.code === 'ENOENT' ? null : Promise.reject(lockWriteError(e, path, target))));
    if (text === null) continue; // released meanwhile: try again
    const pid = lockPid(text);
    if (pid && isAlive(pid)) await busy(pid);
    // Stale. Only the process that creates this takeover file may remove a lock with this text.
    const guard = `${path}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    let won = false;
    await takeExclusive(guard, async () => { throw new Busy(); }, target, depth + 1).then(() => { won = true; }, (e) => { if (!(e instanceof Busy)) throw e; });
    if (won) {
      try {
        if ((await fs.readFile(path, 'utf8').catch(() => null)) === text) await fs.rm(path, { force: true });
      } finally {
        await fs.rm(guard, { force: true });
      }
    } else await sleep(5 + Math.random() * 20); // another process is taking it over: look again
  }
  throw new LockedError(`could not take the lock ${path}: it kept changing hands; try again`);
}

class Busy extends Error {}

/** link() a fully written temp file to `path`: true if we created it, false if it exists. */
async function linkNew(path: string, target: string): Promise<boolean> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}${randomInt(1e9)}`);
  try {
    await fs.writeFile(tmp, `${process.pid} ${randomBytes(12).toString('hex')}`, { flag: 'wx' });
    await fs.link(tmp, path);
    return true;
  } catch (e: any) {
    if (e.code === 'EEXIST') return false;
    throw lockWriteError(e, path, target);
  } finally {
    await fs.rm(tmp, { force: true }).catch(() => {});
  }
}

async function removeIfStale(path: string): Promise<void> {
  const pid = lockPid(await fs.readFile(path, 'utf8').catch(() => ''));
  if (!pid || !isAlive(pid)) await fs.rm(path, { force: true }).catch(() => {});
}

/** The pid in a lock's text ("PID NONCE", or just "PID" from older Flawscope versions); 0 if none. */
function lockPid(text: string): number {
  const m = /^\s*(\d+)(\s|$)/.exec(text);
  return m ? Number(m[1]) : 0;
}

function lockWriteError(e: unknown, lock: string, target: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !(code in IO_REASONS)) return e;
  return new WriteError(lock, code, `cannot create the lock ${lock} for ${target}: ${IO_REASONS[code]} (${code}); nothing was written — choose an --out in a folder you can write`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LockedError extends InputError {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e.code === 'EPERM';
  }
}
