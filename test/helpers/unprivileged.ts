/**
 * Running the CLI as an unprivileged user. Root reads and writes any file whatever its mode, so a
 * permission test run as root would test nothing: as root (CI) the command runs through `setpriv`
 * as uid/gid 65534; as another user it runs as that user. `permDir` fails — never skips — where
 * permissions do not bind the test user.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, tempDir, type CliResult } from './cli';

export const NOBODY = 65534;
export const isRoot = process.getuid?.() === 0;

const prefix = (): string[] => (isRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath] : [process.execPath]);

/** The built CLI as the test user. */
export function asUser(args: string[], timeoutMs = 120_000): CliResult & { signal: NodeJS.Signals | null } {
  const [cmd, ...rest] = [...prefix(), CLI, ...args];
  const r = spawnSync(cmd, rest, { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, events: r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) };
}

/** Hands `paths` (recursively) to the test user. */
export function giveToUser(...paths: string[]): void {
  if (!isRoot) return;
  for (const p of paths) {
    const r = spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, p]);
    assert.equal(r.status, 0, `chown ${p}: ${r.stderr}`);
  }
}

/** A temp folder the test user can enter, after checking that a mode-000 file is unreadable to that user. */
export function permDir(prefixName: string): string {
  const dir = tempDir(prefixName);
  chmodSync(dir, 0o755);
  const probe = join(dir, 'probe');
  writeFileSync(probe, 'x');
  if (isRoot) chownSync(probe, NOBODY, NOBODY);
  chmodSync(probe, 0o000);
  const [cmd, ...rest] = prefix();
  const r = spawnSync(cmd, [...rest, '-e', `try { require('fs').readFileSync(${JSON.stringify(probe)}); console.log('READ') } catch (e) { console.log(e.code) }`], { encoding: 'utf8' });
  assert.equal(r.stdout?.trim(), 'EACCES', `cannot test permissions here: a mode-000 file must be unreadable to the test user (${isRoot ? `setpriv to uid ${NOBODY}` : 'current user'}): ${r.stdout}${r.stderr}${r.error ?? ''}`);
  return dir;
}
