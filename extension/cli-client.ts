/**
 * The one way the extension runs the trainer CLI (dist/cli.js under system Node, never inside VS
 * Code): the system-Node check, one-shot `--json` commands whose result is the last JSON on
 * stdout, and long runs whose stdout is a stream of progress events (`train --json`). Every process
 * the extension starts goes through here. No `vscode` import: the host side (trust, settings,
 * messages) is passed in, so this module is unit-tested in plain Node.
 */
import * as fs from 'node:fs';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { ProgressEvent } from '../trainer/progress';
import { classifyCliLine, logCliText } from './cli-log';
import type { TrainingRun } from './runs';

export const MIN_NODE_MAJOR = 20;

export const RESTRICTED_MSG =
  'Flawscope: training and running the trainer are disabled in Restricted Mode, because they start processes from this workspace. Trust the workspace to enable them. Scoring images still works.';

/** "v20.11.1" → 20; null when unparseable. */
export function parseNodeMajor(version: string): number | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return m ? Number(m[1]) : null;
}

export type NodeCheck = { ok: true; version: string } | { ok: false; message: string };

/** Runs `<nodePath> --version` (no shell). */
export function checkNode(nodePath: string, timeoutMs = 10000): Promise<NodeCheck> {
  const fix = 'Install Node.js 20 or newer (https://nodejs.org) or set "flawscope.nodePath" to its executable.';
  return new Promise((resolve) => {
    let out = '';
    let settled = false;
    const done = (r: NodeCheck) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    let child;
    try {
      child = spawn(nodePath, ['--version'], { shell: false, windowsHide: true });
    } catch (e) {
      return done({ ok: false, message: `Cannot run Node.js at "${nodePath}": ${(e as Error).message}. ${fix}` });
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, message: `"${nodePath} --version" did not answer within ${timeoutMs / 1000} s. ${fix}` });
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({
        ok: false,
        message: e.code === 'ENOENT' ? `Node.js was not found ("${nodePath}"). ${fix}` : `Cannot run Node.js at "${nodePath}": ${e.message}. ${fix}`,
      });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const major = parseNodeMajor(out);
      if (code !== 0 || major === null) done({ ok: false, message: `"${nodePath}" does not look like Node.js (printed "${out.trim().slice(0, 80)}"). ${fix}` });
      else if (major < MIN_NODE_MAJOR) done({ ok: false, message: `Node.js ${out.trim()} at "${nodePath}" is too old; Flawscope's trainer needs ${MIN_NODE_MAJOR} or newer. ${fix}` });
      else done({ ok: true, version: out.trim() });
    });
  });
}

const EVENT_TYPES = new Set(['start', 'step', 'epoch', 'warning', 'checkpoint', 'done', 'cancelled', 'error']);

/** One stdout line → a progress event, or null for plain log text. */
export function parseProgressLine(line: string): ProgressEvent | null {
  const t = line.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return null;
  try {
    const o = JSON.parse(t);
    if (o && typeof o === 'object' && typeof o.type === 'string' && EVENT_TYPES.has(o.type)) return o as ProgressEvent;
  } catch {
    /* not JSON: log text */
  }
  return null;
}

/** Splits a byte stream into lines (handles chunks that end mid-line). */
export class LineSplitter {
  private buf = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).replace(/\r$/, '');
      this.buf = this.buf.slice(i + 1);
      this.onLine(line);
    }
  }
  end(): void {
    if (this.buf) this.onLine(this.buf);
    this.buf = '';
  }
}


export interface CliStreamHandlers {
  onEvent(e: ProgressEvent): void;
  /** Every non-blank line that is not an event, from stdout and stderr. */
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  onError(e: Error): void;
  /** After both streams' last lines were delivered. */
  onClose(code: number | null, signal: NodeJS.Signals | null): void;
}

/** Starts `<nodePath> <argv>` (argv[0] is the CLI) and reads its `--json` event stream line by line. */
export function streamCli(nodePath: string, argv: string[], cwd: string, h: CliStreamHandlers): ChildProcess {
  const child = spawn(nodePath, argv, { cwd, shell: false, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  const out = new LineSplitter((line) => {
    const e = parseProgressLine(line);
    if (e) h.onEvent(e);
    else if (line.trim()) h.onLine(line, 'stdout');
  });
  const err = new LineSplitter((line) => {
    if (line.trim()) h.onLine(line, 'stderr');
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
  child.on('error', (e) => h.onError(e));
  child.on('close', (code, signal) => {
    out.end();
    err.end();
    h.onClose(code, signal);
  });
  return child;
}

/**
 * Runs `<nodePath> <argv>` once and resolves with its result: one JSON document on stdout, or JSON
 * lines (progress events, then the result last). An `error` event or result rejects with its message.
 */
export function runCliJson<T>(nodePath: string, argv: string[], opts: { cwd: string; timeoutMs: number; signal?: AbortSignal; onStderr(text: string): void }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    execFile(nodePath, argv, { cwd: opts.cwd, timeout: opts.timeoutMs, maxBuffer: 64 * 1024 * 1024, windowsHide: true, signal: opts.signal, killSignal: 'SIGTERM' }, (err, stdout, stderr) => {
      if (stderr.trim()) opts.onStderr(stderr.trim());
      const lines = stdout.trim().split('\n').filter((l) => l.trim().startsWith('{') || l.trim().startsWith('['));
      if (err && lines.length === 0) return reject(new Error(stderr.trim().split('\n').slice(-3).join(' ') || err.message));
      try {
        let parsed: any;
        try {
          parsed = JSON.parse(stdout);
        } catch {
          const events = lines.map((l) => JSON.parse(l));
          const failed = events.find((e) => e && typeof e === 'object' && e.type === 'error');
          if (failed) return reject(new Error(failed.message));
          parsed = events[events.length - 1];
        }
        if (parsed && typeof parsed === 'object' && parsed.type === 'error') return reject(new Error(parsed.message));
        // A failed command that printed `{"error": …, "code": 2}` (datasets inspect --json) failed: it is not a result.
        if (err && parsed && typeof parsed === 'object' && typeof parsed.error === 'string') return reject(new Error(parsed.error));
        resolve(parsed as T);
      } catch {
        reject(new Error(`unexpected output from the CLI: ${stdout.slice(0, 300)}`));
      }
    });
  });
}

/** What the host gives the client: where the CLI is, which Node, trust, the log and the UI for problems. */
export interface CliHost {
  readonly cliPath: string;
  /** Working directory of every CLI process (the extension's folder). */
  readonly cwd: string;
  nodePath(): string;
  trusted(): boolean;
  readonly log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  /** Node.js (`node`) or the bundled CLI (`cli`) cannot be used; `message` says why and how to fix it. */
  unavailable(message: string, what: 'node' | 'cli'): void;
}

export class CliClient {
  /** Processes started (one-shot commands and training runs), for tests. */
  launches = 0;

  constructor(private readonly host: CliHost) {}

  get cliPath(): string {
    return this.host.cliPath;
  }

  /** The configured Node when it runs and is new enough and the CLI bundle exists; else null (and says so). */
  async nodeOk(): Promise<string | null> {
    const nodePath = this.host.nodePath();
    const r = await checkNode(nodePath);
    if (!r.ok) {
      this.host.log.error(r.message);
      this.host.unavailable(r.message, 'node');
      return null;
    }
    if (!fs.existsSync(this.host.cliPath)) {
      const msg = `the trainer CLI is missing (${this.host.cliPath}); reinstall Flawscope or run "npm run build".`;
      this.host.log.error(msg);
      this.host.unavailable(msg, 'cli');
      return null;
    }
    return nodePath;
  }

  /** Runs the CLI once with `args` (which include --json) and parses its result. Trust-gated. */
  async json<T>(args: string[], timeoutMs = 120000, signal?: AbortSignal): Promise<T> {
    if (!this.host.trusted()) throw new Error(RESTRICTED_MSG);
    const nodePath = await this.nodeOk();
    if (!nodePath) throw new Error('Node.js is not available (see the Flawscope output)');
    this.launches++;
    this.host.log.info(`$ ${nodePath} ${this.host.cliPath} ${args.join(' ')}`);
    return runCliJson<T>(nodePath, [this.host.cliPath, ...args], { cwd: this.host.cwd, timeoutMs, signal, onStderr: (t) => logCliText(this.host.log, t) });
  }

  /**
   * Runs the CLI with `args` (a long `--json` command such as `grid`), handing every stdout line to
   * `onStdout` as it arrives; stderr goes to the log by level. Resolves with the exit code (null
   * when stopped by a signal, e.g. through `signal`). Trust-gated.
   */
  async lines(args: string[], onStdout: (line: string) => void, signal?: AbortSignal): Promise<{ code: number | null; stderrTail: string[] }> {
    if (!this.host.trusted()) throw new Error(RESTRICTED_MSG);
    const nodePath = await this.nodeOk();
    if (!nodePath) throw new Error('Node.js is not available (see the Flawscope output)');
    this.launches++;
    this.host.log.info(`$ ${nodePath} ${this.host.cliPath} ${args.join(' ')}`);
    const tail: string[] = [];
    return new Promise((resolve, reject) => {
      const child = spawn(nodePath, [this.host.cliPath, ...args], { cwd: this.host.cwd, shell: false, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' }, signal, killSignal: 'SIGTERM' });
      const out = new LineSplitter(onStdout);
      const err = new LineSplitter((line) => {
        const level = classifyCliLine(line);
        if (level === 'noise') return;
        this.host.log[level](`[trainer] ${line}`);
        tail.push(line);
        if (tail.length > 5) tail.shift();
      });
      child.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
      child.on('error', (e) => {
        if ((e as NodeJS.ErrnoException).name !== 'AbortError') reject(e);
      });
      child.on('close', (code) => {
        out.end();
        err.end();
        resolve({ code, stderrTail: tail });
      });
    });
  }

  /** Starts a training run's `train --json` process (the node path from nodeOk). */
  startRun(run: TrainingRun, nodePath: string): void {
    this.launches++;
    const log = this.host.log;
    run.start(nodePath, this.host.cliPath, this.host.cwd, (line, stream) => {
      // stderr text that is neither an error nor noise stays a warning, as before.
      const level = classifyCliLine(line, stream === 'stderr' ? 'warn' : 'info');
      if (level !== 'noise') log[level](`[trainer] ${line}`);
    });
  }
}
