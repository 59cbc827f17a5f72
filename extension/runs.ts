/**
 * A training run: the trainer CLI as a child process of system Node (started and read by
 * cli-client.ts), its `--json` events, cancel by SIGTERM (the trainer saves a resumable checkpoint
 * and exits 0). No `vscode` import.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ProgressEvent } from '../trainer/progress';
import type { RunView } from '../shared/protocol';
import { streamCli } from './cli-client';
import { isLive, nextState, type RunTransition } from './run-lifecycle';
import type { RunRecord } from './run-store';
import { trainArgs } from './training';

export type { RunRecord } from './run-store';
export type { RunState } from './run-lifecycle';

export class TrainingRun extends EventEmitter {
  readonly events: ProgressEvent[] = [];
  readonly logTail: string[] = [];
  private child: ChildProcess | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  readonly finished: Promise<RunRecord>;
  private finish!: (r: RunRecord) => void;
  epochs: number;
  startEpoch = 0;
  fraction = 0;
  cancelRequested = false;
  /** The trainer's `start` event arrived: training really began (a run that fails before it never started). */
  started = false;
  /** The argv the trainer process was started with (after the node path); null until start(). */
  launchArgs: readonly string[] | null = null;

  constructor(readonly record: RunRecord) {
    super();
    this.epochs = record.spec.epochs ?? 1;
    this.finished = new Promise((r) => (this.finish = r));
  }

  get id(): string {
    return this.record.id;
  }

  view(): RunView {
    const r = this.record;
    return runViewOf(r, this.epochs);
  }

  private move(t: RunTransition): void {
    this.record.state = nextState(this.record.state, t);
  }

  /** Starts `<node> <cli> train ... --json`. `onLog` gets every non-event line (stdout and stderr). */
  start(nodePath: string, cli: string, cwd: string, onLog: (line: string, stream: 'stdout' | 'stderr') => void): void {
    const args = trainArgs(cli, this.record.spec);
    this.launchArgs = args;
    onLog(`$ ${nodePath} ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`, 'stdout');
    const keep = (line: string) => {
      this.logTail.push(line);
      if (this.logTail.length > 40) this.logTail.shift();
    };
    this.child = streamCli(nodePath, args, cwd, {
      onEvent: (e) => this.onEvent(e),
      onLine: (line, stream) => {
        keep(line);
        onLog(line, stream);
      },
      onError: (e) => {
        this.record.error = `could not start the trainer: ${e.message}`;
        this.move({ type: 'failed' });
        this.end();
      },
      onClose: (code, signal) => this.onClose(code, signal),
    });
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.record.state === 'done' && code !== 0) {
      // A `done` event followed by a failing exit: the model folder may be incomplete.
      this.record.state = 'failed';
      this.record.error = `the trainer exited with code ${code}`;
    } else if (isLive(this.record.state)) {
      if (this.cancelRequested) this.record.error = this.record.error ?? (signal ? `stopped by ${signal} before a checkpoint was reported` : null);
      else this.record.error = this.record.error ?? `the trainer exited with ${signal ? `signal ${signal}` : `code ${code}`}${this.logTail.length ? `: ${this.logTail.slice(-3).join(' | ')}` : ''}`;
      this.move({ type: 'exited', cancelRequested: this.cancelRequested });
    }
    this.end();
  }

  private onEvent(e: ProgressEvent): void {
    this.events.push(e);
    if (this.events.length > 20000) this.events.splice(0, this.events.length - 20000);
    switch (e.type) {
      case 'start':
        this.started = true;
        this.move({ type: 'started' });
        this.epochs = this.record.epochs = e.epochs;
        this.startEpoch = e.resumedFromEpoch ?? 0;
        break;
      case 'epoch':
        this.record.lastEpoch = e.epoch;
        break;
      case 'checkpoint':
        this.record.checkpoint = e.path;
        this.record.lastEpoch = e.epoch;
        break;
      case 'done':
        this.move({ type: 'done' });
        this.record.metrics = e.metrics;
        break;
      case 'cancelled':
        this.move({ type: 'cancelled' });
        this.record.checkpoint = e.checkpoint;
        this.record.lastEpoch = e.epoch;
        break;
      case 'error':
        this.move({ type: 'failed' });
        this.record.error = e.message;
        break;
      default:
        break;
    }
    this.emit('event', e);
  }

  /** SIGTERM: the trainer saves a resumable checkpoint and exits 0. SIGKILL after `graceMs`. */
  cancel(graceMs = 60000): void {
    if (!this.child || this.child.exitCode !== null || this.cancelRequested) return;
    this.cancelRequested = true;
    this.child.kill('SIGTERM');
    this.killTimer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  private end(): void {
    if (this.record.endedAt !== null) return;
    this.record.endedAt = Date.now();
    this.emit('end', this.record);
    this.finish(this.record);
  }
}

/** What the dashboard shows of a run (live or stored). */
export function runViewOf(r: RunRecord, epochs?: number): RunView {
  return { id: r.id, title: r.title, state: r.state, dataset: r.spec.data, normalClass: r.spec.normal, out: r.spec.out, epochs: epochs ?? r.epochs ?? r.spec.epochs ?? 1, metrics: r.metrics };
}
