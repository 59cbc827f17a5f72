/**
 * Runs trainings as child processes of this very CLI (`<node> [execArgv] <cli> train ... --json`),
 * reading their progress events line by line. Child processes keep each training's tfjs state
 * apart, let the grid search run several at once, and let a signal stop them cleanly (the
 * trainer saves a checkpoint on SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ProgressEvent } from '../progress';

export interface TrainRun {
  code: number | null;
  done: Extract<ProgressEvent, { type: 'done' }> | null;
  cancelled: Extract<ProgressEvent, { type: 'cancelled' }> | null;
  error: string | null;
  start: Extract<ProgressEvent, { type: 'start' }> | null;
  epochs: Extract<ProgressEvent, { type: 'epoch' }>[];
  wallSeconds: number;
  stderrTail: string;
}

/**
 * How to start this CLI again: the same node, loader flags (e.g. --import tsx) and script; or, with
 * FLAWSCOPE_CLI naming a built CLI (a library caller such as a test, whose own script is not the CLI), that file alone.
 */
export function cliCommand(): { cmd: string; args: string[] } {
  const cli = process.env.FLAWSCOPE_CLI;
  if (cli) return { cmd: process.execPath, args: [cli] };
  return { cmd: process.execPath, args: [...process.execArgv.filter((a) => !a.startsWith('--inspect')), process.argv[1]] };
}

const live = new Set<ChildProcess>();

/** Forwards a stop request to every running child (SIGTERM: they checkpoint and exit 0). */
export function stopAllChildren(sig: NodeJS.Signals = 'SIGTERM'): void {
  for (const c of live) c.kill(sig);
}

export function runTrain(args: string[], onEvent: (e: ProgressEvent) => void = () => {}, env: NodeJS.ProcessEnv = {}): Promise<TrainRun> {
  const { cmd, args: pre } = cliCommand();
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, [...pre, 'train', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    live.add(child);
    const run: TrainRun = { code: null, done: null, cancelled: null, error: null, start: null, epochs: [], wallSeconds: 0, stderrTail: '' };
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        let e: ProgressEvent;
        try { e = JSON.parse(line); } catch { continue; }
        if (e.type === 'start') run.start = e;
        else if (e.type === 'epoch') run.epochs.push(e);
        else if (e.type === 'done') run.done = e;
        else if (e.type === 'cancelled') run.cancelled = e;
        else if (e.type === 'error') run.error = e.message;
        onEvent(e);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => { run.stderrTail = (run.stderrTail + d).slice(-4000); });
    child.on('error', (err) => { run.error = `cannot start the trainer: ${err.message}`; });
    child.on('close', (code) => {
      live.delete(child);
      run.code = code;
      run.wallSeconds = (Date.now() - t0) / 1000;
      resolve(run);
    });
  });
}

/** Runs `jobs` with at most `limit` at a time; results in job order. */
export async function runPool<T, R>(jobs: T[], limit: number, fn: (job: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await fn(jobs[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  return out;
}
