/**
 * What the extension keeps on disk in the workspace's storage folder (context.storageUri) so a
 * window reload loses nothing: the runs (runs.json), each run's event log (runs/<id>.events.json,
 * what its dashboard draws) and the datasets' inspection reports (datasets.json).
 *
 * Every file is written to a temporary name and renamed over the old one (a reload mid-write
 * leaves the old file, never half a file), and read through its zod schema: a file that does not
 * parse is set aside and reported, and the extension starts from empty rather than from bad state.
 * No `vscode` import: unit-tested in Node.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { ProgressEvent } from '../trainer/progress';
import { backendSchema } from '../shared/backends';
import { RUN_STATES } from './run-lifecycle';
import type { TrainSpec } from './training';

const trainSpecSchema = z.object({
  data: z.string(),
  normal: z.string(),
  out: z.string(),
  size: z.number().int().optional(),
  epochs: z.number().int().optional(),
  batch: z.number().int().optional(),
  lr: z.number().optional(),
  lrDecayEvery: z.number().int().optional(),
  augment: z.enum(['auto', 'none']).optional(),
  seed: z.number().int().optional(),
  // Runs stored before the shared vocabulary said cpu or wasm for the fast kernels: read as fast.
  backend: backendSchema('train').optional(),
  resume: z.string().optional(),
  weights: z.string().optional(),
  config: z.string().optional(),
  extraArgs: z.array(z.string()).optional(),
}) satisfies z.ZodType<TrainSpec, z.ZodTypeDef, unknown>;

export const runRecordSchema = z.object({
  id: z.string().regex(/^[\w-]{1,80}$/),
  title: z.string(),
  spec: trainSpecSchema,
  /** The wizard's preset ('quick', 'custom', …) or null when the run was started with explicit settings. */
  preset: z.string().nullable().default(null),
  state: z.enum(RUN_STATES),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  checkpoint: z.string().nullable(),
  error: z.string().nullable(),
  lastEpoch: z.number().int().min(0),
  /** Epochs the run was set to train (from its `start` event, else its settings). */
  epochs: z.number().int().min(0).nullable().default(null),
  metrics: z.record(z.number().nullable()).nullable(),
  /** The run whose checkpoint this one resumed, and the run that resumed this one's. */
  resumedFrom: z.string().nullable().default(null),
  resumedBy: z.string().nullable().default(null),
});
export type RunRecord = z.output<typeof runRecordSchema>;

const runsFileSchema = z.object({ version: z.literal(1), runs: z.array(runRecordSchema) });

/** The fields of each event the dashboard and the run list read; the rest is kept as written. */
const num = z.number();
const progressEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), backend: z.string(), backendReason: z.string(), epochs: num, stepsPerEpoch: num, out: z.string() }).passthrough(),
  z.object({ type: z.literal('step'), epoch: num, step: num, stepsPerEpoch: num, losses: z.record(num), imgPerSec: num, etaSec: num }).passthrough(),
  z.object({ type: z.literal('epoch'), epoch: num, epochs: num, losses: z.record(num), valAuroc: num.nullable(), bestValAuroc: num.nullable(), imgPerSec: num, etaSec: num, seconds: num }).passthrough(),
  z.object({ type: z.literal('warning'), message: z.string() }).passthrough(),
  z.object({ type: z.literal('stage'), stage: z.string(), message: z.string() }).passthrough(),
  z.object({ type: z.literal('checkpoint'), path: z.string(), epoch: num }).passthrough(),
  z.object({ type: z.literal('done'), out: z.string(), metrics: z.record(num.nullable()), seconds: num }).passthrough(),
  z.object({ type: z.literal('cancelled'), checkpoint: z.string(), epoch: num }).passthrough(),
  z.object({ type: z.literal('error'), message: z.string(), code: num }).passthrough(),
]);
const eventsFileSchema = z.object({ version: z.literal(1), runId: z.string(), events: z.array(progressEventSchema) });

/** A dataset's `datasets inspect --json` report (the fields the views read; the rest kept), or why inspecting failed. */
const datasetReportSchema = z
  .object({
    root: z.string(),
    layout: z.string(),
    normalClass: z.string().nullable(),
    total: z.number(),
    classes: z.array(z.object({ name: z.string(), count: z.number() }).passthrough()),
  })
  .passthrough();
const reportOrErrorSchema = z.union([z.object({ error: z.string() }).strict(), datasetReportSchema]);
const datasetsFileSchema = z.object({ version: z.literal(1), reports: z.record(reportOrErrorSchema) });
export type StoredReport = z.output<typeof reportOrErrorSchema>;

/** Step events kept per stored log: all epoch-level events stay, steps are thinned to this many. */
export const MAX_STORED_STEPS = 2000;
/** Ended runs kept in runs.json (the oldest beyond are dropped with their logs). */
export const MAX_STORED_RUNS = 50;

/** Writes `text` to `file` through a temporary file in the same folder and a rename. */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.promises.writeFile(tmp, text);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

/** Every step thinned evenly to at most `max`, the last always kept; other events untouched. */
export function thinSteps(events: readonly ProgressEvent[], max = MAX_STORED_STEPS): ProgressEvent[] {
  const steps = events.filter((e) => e.type === 'step').length;
  if (steps <= max) return [...events];
  const every = Math.ceil(steps / max);
  let i = 0;
  return events.filter((e) => e.type !== 'step' || ++i % every === 0 || i === steps);
}

export class RunStore {
  /** Writes to one file happen one after another (the last one wins, never interleaved). */
  private readonly queues = new Map<string, Promise<void>>();

  /** `dir`: the workspace storage folder; `warn` hears about files that did not parse. */
  constructor(
    readonly dir: string,
    private readonly warn: (message: string) => void,
  ) {}

  private get runsFile(): string {
    return path.join(this.dir, 'runs.json');
  }

  private get datasetsFile(): string {
    return path.join(this.dir, 'datasets.json');
  }

  eventsFile(runId: string): string {
    return path.join(this.dir, 'runs', `${runId}.events.json`);
  }

  private write(file: string, text: string): Promise<void> {
    const next = (this.queues.get(file) ?? Promise.resolve()).then(() => writeFileAtomically(file, text));
    const settled = next.catch((e: unknown) => this.warn(`could not save ${file}: ${(e as Error).message}`));
    this.queues.set(file, settled);
    return settled;
  }

  /** Waits for every queued write (tests, and before deleting files). */
  async flush(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  /** Reads `file` through `schema`; a missing file is `fallback`, a bad one is renamed to `.bad` and reported. */
  private read<T>(file: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, fallback: T): T {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return fallback;
    }
    let problem: string;
    try {
      const r = schema.safeParse(JSON.parse(text));
      if (r.success) return r.data;
      const issue = r.error.issues[0];
      problem = `${issue.path.join('.') || '(top level)'}: ${issue.message}`;
    } catch (e) {
      problem = `not JSON (${(e as Error).message})`;
    }
    const aside = `${file}.bad`;
    try {
      fs.renameSync(file, aside);
    } catch {
      /* left in place; it is read (and refused) again next time */
    }
    this.warn(`${file} could not be read (${problem}); it was moved to ${path.basename(aside)} and Flawscope starts without it`);
    return fallback;
  }

  /**
   * The stored runs. A run stored as live cannot be running any more (its process ended with the
   * window that started it, which asked it to stop): it becomes cancelled when it left a
   * checkpoint — the one it reported, or OUT.checkpoint, which the trainer writes on SIGTERM after
   * the window may already be gone — else failed.
   */
  loadRuns(checkpointExists: (p: string) => boolean = fs.existsSync): RunRecord[] {
    return this.read(this.runsFile, runsFileSchema, { version: 1 as const, runs: [] }).runs.map((r) => {
      if (r.state !== 'starting' && r.state !== 'running') return r;
      const checkpoint = r.checkpoint ?? (checkpointExists(`${r.spec.out}.checkpoint`) ? `${r.spec.out}.checkpoint` : null);
      const ended = { ...r, checkpoint, endedAt: r.endedAt ?? r.startedAt, error: r.error ?? 'the window closed while this run was training' };
      return checkpoint ? { ...ended, state: 'cancelled' as const } : { ...ended, state: 'failed' as const };
    });
  }

  /** Saves the runs (newest first; ended runs beyond MAX_STORED_RUNS dropped with their logs). */
  async saveRuns(runs: readonly RunRecord[]): Promise<void> {
    const sorted = [...runs].sort((a, b) => b.startedAt - a.startedAt);
    const kept: RunRecord[] = [];
    const dropped: RunRecord[] = [];
    let ended = 0;
    for (const r of sorted) (r.endedAt === null || ++ended <= MAX_STORED_RUNS ? kept : dropped).push(r);
    await this.write(this.runsFile, JSON.stringify({ version: 1, runs: kept }));
    await Promise.all(dropped.map((r) => this.deleteEvents(r.id)));
  }

  async saveEvents(runId: string, events: readonly ProgressEvent[]): Promise<void> {
    await this.write(this.eventsFile(runId), JSON.stringify({ version: 1, runId, events: thinSteps(events) }));
  }

  /** A run's stored events ([] when none were saved or the file did not parse). */
  loadEvents(runId: string): ProgressEvent[] {
    const f = this.read(this.eventsFile(runId), eventsFileSchema, { version: 1 as const, runId, events: [] });
    // The schema checked every field the dashboard reads; the trainer's type describes the rest.
    return f.runId === runId ? (f.events as ProgressEvent[]) : [];
  }

  async deleteEvents(runId: string): Promise<void> {
    const file = this.eventsFile(runId);
    await (this.queues.get(file) ?? Promise.resolve());
    await fs.promises.rm(file, { force: true });
  }

  loadReports(): Map<string, StoredReport> {
    return new Map(Object.entries(this.read(this.datasetsFile, datasetsFileSchema, { version: 1 as const, reports: {} }).reports));
  }

  /** Saves the reports as given (they are checked by the schema when read back). */
  async saveReports(reports: ReadonlyMap<string, StoredReport | object>): Promise<void> {
    await this.write(this.datasetsFile, JSON.stringify({ version: 1, reports: Object.fromEntries(reports) }));
  }
}
