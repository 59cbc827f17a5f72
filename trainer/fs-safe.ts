/**
 * Crash-safe output: everything is written into a temporary sibling folder, then renamed into
 * place, so a reader never sees a half-written model and an earlier one is never lost.
 */
import { existsSync, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes a folder atomically. `fill` writes files into the temp folder it is given. */
export async function writeFolderAtomically(dest: string, fill: (tmp: string) => Promise<void>, opts: { force?: boolean } = {}): Promise<void> {
  if (existsSync(dest) && !opts.force) throw new OutputExistsError(dest);
  await fs.mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${basename(dest)}.tmp-${process.pid}-${Date.now()}`);
  const existed = existsSync(dest);
  try {
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
export class WriteError extends Error {
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

function ioError(e: unknown, dest: string, existed: boolean): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !(code in IO_REASONS)) return e;
  return new WriteError(dest, code, `cannot write ${dest}: ${IO_REASONS[code]} (${code}); ${existed ? 'the previous version is unchanged' : 'nothing was written'}`);
}

/** Writes one file atomically (temp file + rename). */
export async function writeFileAtomically(dest: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, dest);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

export class OutputExistsError extends Error {
  constructor(readonly path: string) {
    super(`output folder ${path} already exists; choose another --out or pass --force to replace it`);
    this.name = 'OutputExistsError';
  }
}

/**
 * An exclusive lock file beside `target` (`target.lock`, holding our pid). A lock whose pid no
 * longer runs is stale and taken over.
 */
export async function acquireLock(target: string): Promise<() => Promise<void>> {
  const lock = `${target}.lock`;
  await fs.mkdir(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
      return async () => { await fs.rm(lock, { force: true }); };
    } catch (e: any) {
      if (e.code !== 'EEXIST') throw e;
      const pid = Number((await fs.readFile(lock, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && isAlive(pid))
        throw new LockedError(`${target} is in use by another training (pid ${pid}, lock ${lock}); wait for it or choose another --out`);
      await fs.rm(lock, { force: true }); // stale: its process is gone
    }
  }
  throw new LockedError(`could not take the lock ${lock}`);
}

export class LockedError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e.code === 'EPERM';
  }
}
