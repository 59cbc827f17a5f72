/** Runs the built CLI (dist/cli.js) as users do, with a time bound. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const CLI = join(ROOT, 'dist/cli.js');

export interface CliResult { code: number | null; stdout: string; stderr: string; events: any[] }

function parseEvents(stdout: string): any[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

export function runCli(args: string[], timeoutMs = 300_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, events: parseEvents(r.stdout) };
}

/** Starts the CLI; `onEvent` sees each --json event as it arrives. */
export function startCli(args: string[], onEvent: (e: any, kill: (sig: NodeJS.Signals) => void) => void): Promise<CliResult> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
    let stdout = '', stderr = '', buf = '';
    const kill = (sig: NodeJS.Signals) => p.kill(sig);
    p.stdout.on('data', (d) => {
      stdout += d;
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) onEvent(JSON.parse(line), kill);
      }
    });
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 300_000);
    p.on('close', (code) => { clearTimeout(timer); res({ code, stdout, stderr, events: parseEvents(stdout) }); });
  });
}

export function tempDir(prefix = 'flawscope-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ProcessRun { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; events: any[] }

/**
 * Starts a process (cwd ROOT); `onEvent` sees each JSON line of stdout (with the process) as it
 * arrives, `onStdout` each chunk. Killed with SIGKILL after `timeoutMs`.
 */
export function spawnWithEvents(
  cmd: string, args: string[],
  onEvent: (e: any, p: ChildProcess) => void = () => {}, onStdout: (p: ChildProcess) => void = () => {}, timeoutMs = 120_000,
): { proc: ChildProcess; done: Promise<ProcessRun> } {
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<ProcessRun>((resolve) => {
    let stdout = '', stderr = '', buf = '';
    const events: any[] = [];
    proc.stdout!.on('data', (d) => {
      stdout += d;
      buf += d;
      for (let nl; (nl = buf.indexOf('\n')) >= 0; ) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) { const e = JSON.parse(line); events.push(e); onEvent(e, proc); }
      }
      onStdout(proc);
    });
    proc.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr, events }); });
  });
  return { proc, done };
}
