/**
 * Grid Search's live report: folds `flawscope grid --json` lines (each run's events tagged
 * `run: "[grid 3/8 r1-p1-…]"`, then `{type: "grid-done"}`) into the ranked table the panel shows,
 * with a progress count and an ETA. No `vscode` import (unit-tested in plain Node).
 */
import { z } from 'zod';
import type { GridReportView, GridRowView } from '../../shared/protocol';

/** One line of grid's JSON output; anything else on stdout is ignored. */
const GridLineSchema = z.union([
  z.object({ type: z.literal('grid-done'), runs: z.number().int(), best: z.object({ id: z.string(), valAuroc: z.number().nullable() }).nullable() }),
  z.object({
    run: z.string(),
    type: z.string(),
    bestValAuroc: z.number().nullable().optional(),
    metrics: z.record(z.number().nullable()).optional(),
    seconds: z.number().optional(),
    message: z.string().optional(),
  }),
]);

const RUN_TAG = /^\[grid (\d+)\/(\d+) ([^\]]+)\]$/;
/** comboId's short names (trainer/eval/grid.ts) → the --weights names. */
const WEIGHT_TAGS: [string, string][] = [['aa', 'anomalyAdv'], ['r', 'recon'], ['p', 'patch'], ['l', 'latent'], ['n', 'normalAdv'], ['a', 'abc']];

/** "r1-p1-l1-n1-a0.5-aa0.5" → "recon=1,patch=1,latent=1,normalAdv=1,abc=0.5,anomalyAdv=0.5". */
export function weightsOfComboId(id: string): string {
  return id
    .split('-')
    .map((part) => {
      const tag = WEIGHT_TAGS.find(([t]) => new RegExp(`^${t}\\d`).test(part));
      if (!tag) throw new Error(`grid run id "${id}": "${part}" is not a loss weight`);
      return `${tag[1]}=${part.slice(tag[0].length)}`;
    })
    .join(',');
}

export class GridProgress {
  private readonly rows = new Map<string, GridRowView>();
  private total: number | null = null;
  private state: GridReportView['state'] = 'running';
  private readonly started: number;

  constructor(private readonly where: { data: string; normal: string; out: string }, now = Date.now()) {
    this.started = now;
  }

  /** Takes one stdout line; true when it changed the report. */
  push(line: string): boolean {
    const t = line.trim();
    if (!t.startsWith('{')) return false;
    let parsed: z.infer<typeof GridLineSchema>;
    try {
      const r = GridLineSchema.safeParse(JSON.parse(t));
      if (!r.success) return false;
      parsed = r.data;
    } catch {
      return false;
    }
    if (!('run' in parsed)) {
      this.state = 'done';
      return true;
    }
    const tag = RUN_TAG.exec(parsed.run);
    if (!tag) return false;
    this.total = Number(tag[2]);
    const id = tag[3];
    let row = this.rows.get(id);
    if (!row) {
      let weights = '';
      try {
        weights = weightsOfComboId(id);
      } catch {
        /* a run id that is not a weight combination: no Train button for it */
      }
      row = { rank: null, id, weights, status: 'running', valAuroc: null, bestEpoch: null, seconds: null };
      this.rows.set(id, row);
    }
    if (parsed.type === 'epoch' && parsed.bestValAuroc !== undefined) row.valAuroc = parsed.bestValAuroc;
    else if (parsed.type === 'done') {
      row.status = 'done';
      row.valAuroc = parsed.metrics?.valAuroc ?? row.valAuroc;
      row.bestEpoch = parsed.metrics?.bestEpoch ?? null;
      row.seconds = parsed.seconds ?? null;
    } else if (parsed.type === 'error') row.status = 'failed';
    this.rank();
    return true;
  }

  /** The process ended: `code` 0 is done; a cancel or a failure keeps the rows finished so far. */
  finish(outcome: 'done' | 'failed' | 'cancelled'): void {
    this.state = outcome;
  }

  private rank(): void {
    const done = [...this.rows.values()].filter((r) => r.status === 'done').sort((a, b) => (b.valAuroc ?? -1) - (a.valAuroc ?? -1));
    for (const r of this.rows.values()) r.rank = null;
    done.forEach((r, i) => (r.rank = i + 1));
  }

  view(now = Date.now()): GridReportView {
    const finished = [...this.rows.values()].filter((r) => r.status !== 'running').length;
    const elapsedSec = (now - this.started) / 1000;
    // Runs go one after another by default: the time so far per finished run, times those left.
    const etaSec = this.state === 'running' && this.total !== null && finished > 0 ? (elapsedSec / finished) * (this.total - finished) : null;
    const order = (r: GridRowView) => (r.rank ?? (r.status === 'running' ? 1e6 : 2e6));
    return {
      ...this.where,
      total: this.total,
      finished,
      elapsedSec,
      etaSec,
      state: this.state,
      rows: [...this.rows.values()].sort((a, b) => order(a) - order(b)).map((r) => ({ ...r })),
    };
  }
}
