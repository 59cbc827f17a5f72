/**
 * A training run's life cycle, as a pure state machine (no `vscode`, no processes):
 *
 *   starting ──start──▶ running ──done──▶ done
 *      │                  │ └──failed──▶ failed
 *      └──failed──▶ failed└──cancelled──▶ cancelled ──resumedBy──▶ resumed
 *
 * `cancelled` with a checkpoint is the only state that offers Resume. Once a later run has resumed
 * from that checkpoint and really started, the cancelled run becomes `resumed`: its checkpoint now
 * belongs to the new run (which deletes it when it finishes), so offering Resume again would fail.
 */
export const RUN_STATES = ['starting', 'running', 'cancelled', 'resumed', 'done', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export type RunTransition =
  /** The trainer's `start` event: training has really begun. */
  | { type: 'started' }
  | { type: 'cancelled' }
  | { type: 'done' }
  | { type: 'failed' }
  /** A new run resumed from this run's checkpoint and started. */
  | { type: 'resumedBy' }
  /** The process ended without a final event (killed, crashed, or the window closed). */
  | { type: 'exited'; cancelRequested: boolean };

const NEXT: Readonly<Record<RunState, Partial<Record<RunTransition['type'], RunState>>>> = {
  starting: { started: 'running', failed: 'failed', cancelled: 'cancelled', done: 'done' },
  running: { done: 'done', failed: 'failed', cancelled: 'cancelled' },
  cancelled: { resumedBy: 'resumed' },
  resumed: {},
  done: {},
  failed: {},
};

/** The state after `t`; a transition the state does not have leaves it unchanged (e.g. a late event after the end). */
export function nextState(state: RunState, t: RunTransition): RunState {
  if (t.type === 'exited') {
    if (state !== 'starting' && state !== 'running') return state;
    return t.cancelRequested ? 'cancelled' : 'failed';
  }
  return NEXT[state][t.type] ?? state;
}

export function isLive(state: RunState): boolean {
  return state === 'starting' || state === 'running';
}

/** What a run record needs for the questions below. */
export interface RunFacts {
  state: RunState;
  checkpoint: string | null;
}

/** Resume is offered only by a cancelled run whose checkpoint is still on disk. */
export function offersResume(r: RunFacts, checkpointExists: (p: string) => boolean): boolean {
  return r.state === 'cancelled' && r.checkpoint !== null && checkpointExists(r.checkpoint);
}

/**
 * Clear Finished removes every ended run that holds nothing to come back to: done, failed,
 * resumed, and cancelled runs whose checkpoint is gone. A resumable run stays until deleted.
 */
export function isClearable(r: RunFacts, checkpointExists: (p: string) => boolean): boolean {
  if (isLive(r.state)) return false;
  return !offersResume(r, checkpointExists);
}

/**
 * The checkpoint Delete Run would leave behind: only a cancelled run's (a resumed run's belongs to
 * the run that resumed it; a done or failed run's trainer has already removed its own).
 */
export function leftoverCheckpoint(r: RunFacts, checkpointExists: (p: string) => boolean): string | null {
  return r.state === 'cancelled' && r.checkpoint !== null && checkpointExists(r.checkpoint) ? r.checkpoint : null;
}

/** What labels a run: where it trained and with which budget. */
export interface RunLabelFacts {
  title: string;
  startedAt: number;
  preset?: string | null;
  epochs?: number | null;
  size?: number | null;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "Dec 5 14:05": a run's start, short (local time). */
export function startTimeText(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleString('en-US', { month: 'short' })} ${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "mnist / 0 · quick · 20 epochs · Dec 5 14:05": tells apart runs on the same data. */
export function runLabel(r: RunLabelFacts): string {
  const budget = r.preset && r.preset !== 'custom' ? r.preset : r.size ? `custom ${r.size} px` : r.preset ?? null;
  return [r.title, budget, r.epochs ? `${r.epochs} epoch${r.epochs === 1 ? '' : 's'}` : null, startTimeText(r.startedAt)].filter(Boolean).join(' · ');
}

/** The Runs view's words for a state. */
export function stateText(r: RunFacts & { lastEpoch: number }, checkpointExists: (p: string) => boolean): string {
  const epoch = r.lastEpoch ? ` · epoch ${r.lastEpoch}` : '';
  switch (r.state) {
    case 'cancelled':
      return `cancelled${epoch}${offersResume(r, checkpointExists) ? ' · resumable' : r.checkpoint ? ' · checkpoint gone' : ''}`;
    case 'resumed':
      return `cancelled${epoch} · resumed in a later run`;
    default:
      return `${r.state}${epoch}`;
  }
}
