/**
 * One benchmark run — train (or resume, or skip when finished), then measure the saved model with
 * the scorer — shared by reproduce, grid and ablation. Everything a run leaves is in its folder:
 * `model/` (the model folder), `train.jsonl` (the trainer's events), `result.json` (written last:
 * its presence marks the run finished, which is what makes the commands resumable).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { decodeImageFile, loadScorerFromDir } from '../../scorer/node/index';
import { parseModelInfo } from '../../scorer/model-format';
import type { ProgressEvent } from '../progress';
import type { LossWeights } from '../losses';
import { checkpointPath } from '../train';
import { evaluateSet, type EvalResult } from './evaluate';
import { loadEvalSet, type EvalSplit } from './evaldata';
import { runTrain } from './runner';
import { mergeFlagPairs } from '../args';

export interface RunSpec {
  id: string;
  dir: string;
  /** Full `train` argv without --out/--json (data, normal, budget flags, reader flags, weights). */
  trainArgs: string[];
  /** Measure on this split after training (grid: 'validation' only; reproduce/ablation: 'test'). */
  evalSplit: EvalSplit | null;
  meta?: Record<string, unknown>;
}

export interface EpochRecord {
  epoch: number; valAuroc: number | null; seconds: number; imgPerSec: number; losses: Record<string, number>;
  /** With --weight-average: the trained weights' own validation AUROC (valAuroc is the average's). */
  valAurocTrained?: number | null;
}

/** The fields a run result keeps of an epoch event or of a saved history entry (they carry the same names). */
function epochRecord(h: EpochRecord): EpochRecord {
  const { epoch, valAuroc, seconds, imgPerSec, losses, valAurocTrained } = h;
  return { epoch, valAuroc, seconds, imgPerSec, losses, ...(valAurocTrained !== undefined ? { valAurocTrained } : {}) };
}

export interface RunResult {
  id: string;
  meta: Record<string, unknown>;
  command: string;
  status: 'done' | 'failed' | 'cancelled';
  error?: string;
  backend: string | null;
  normalClass: string | null;
  weights: LossWeights | null;
  epochs: number;
  batch: number;
  lr: number;
  size: number;
  counts: { trainNormal: number; trainAnomaly: number; validation: number; test: number } | null;
  /** Images the generator saw in training (steps x batch over all epochs run). */
  imagesSeen: number;
  bestEpoch: number | null;
  /** Validation AUROC of the saved (best-by-validation) model, as the trainer measured it. */
  valAuroc: number | null;
  /** The trainer's own test AUROC of the saved model (same scoring code). */
  trainerTestAuroc: number | null;
  /** Our measurement through the Scorer on `evalSplit`. */
  eval: (EvalResult & { split: EvalSplit }) | null;
  history: EpochRecord[];
  trainSeconds: number;
  wallSeconds: number;
  machine: string;
  finishedAt: string;
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model?.trim() ?? 'cpu'} x${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, node ${process.version}, load ${os.loadavg()[0].toFixed(1)}`;
}

function readJson<T>(p: string): T | null {
  try { return JSON.parse(readFileSync(p, 'utf8')) as T; } catch { return null; }
}

export function writeJsonAtomic(p: string, v: unknown): void {
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(v, null, 2) + '\n');
  renameSync(tmp, p);
}

export function readResult(dir: string): RunResult | null {
  return readJson<RunResult>(join(dir, 'result.json'));
}

/** Quotes an argv for the "command that made it" lines of the reports. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export interface RunHooks {
  onEvent?: (e: ProgressEvent) => void;
  onStatus?: (msg: string) => void;
}

/** The last `--epochs` of a train argv (budget flags, then overrides), or null. */
function epochsAsked(trainArgs: string[]): number | null {
  const i = trainArgs.lastIndexOf('--epochs');
  const n = i >= 0 ? Number(trainArgs[i + 1]) : NaN;
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * Trains (resuming a checkpoint, skipping a finished run) and measures. A finished run asked for
 * more epochs is extended from its kept checkpoint (`--keep-checkpoint true`) — exactly the run
 * that budget would have made from the start. Never throws for a failed training: the result says so.
 */
export async function runOne(spec: RunSpec, hooks: RunHooks = {}): Promise<RunResult> {
  const model = join(spec.dir, 'model');
  const ckpt = checkpointPath(model);
  const asked = epochsAsked(spec.trainArgs);
  const done = readResult(spec.dir);
  let extend = false;
  if (done && done.status === 'done') {
    if (asked === null || asked <= done.epochs) return done;
    if (!existsSync(join(ckpt, 'state.json'))) {
      hooks.onStatus?.(`finished with ${done.epochs} epochs; ${asked} asked, but its checkpoint was not kept (--keep-checkpoint true), so it cannot be extended: kept as it is — train into another --out for ${asked} epochs`);
      return done;
    }
    extend = true;
  }
  mkdirSync(spec.dir, { recursive: true });
  const log = join(spec.dir, 'train.jsonl');
  const t0 = Date.now();
  const epochs: EpochRecord[] = [];
  let start: Extract<ProgressEvent, { type: 'start' }> | null = null;
  let doneEv: Extract<ProgressEvent, { type: 'done' }> | null = null;
  const base: Omit<RunResult, 'status'> = {
    id: spec.id, meta: spec.meta ?? {}, command: shellLine(['flawscope', 'train', ...spec.trainArgs, '--out', model]),
    backend: null, normalClass: null, weights: null, epochs: 0, batch: 0, lr: 0, size: 0, counts: null, imagesSeen: 0,
    bestEpoch: null, valAuroc: null, trainerTestAuroc: null, eval: null, history: epochs, trainSeconds: 0, wallSeconds: 0,
    machine: machineDescription(), finishedAt: '',
  };
  if (extend || !existsSync(join(model, 'flawscope.json'))) {
    // A resume takes the epochs asked now, so a stopped run can also be given a larger budget.
    const args = extend || existsSync(join(ckpt, 'state.json')) ? ['--resume', ckpt, ...(asked ? ['--epochs', String(asked)] : [])] : mergeFlagPairs(spec.trainArgs, ['--out', model, '--force', 'true']);
    hooks.onStatus?.(extend ? `extending from ${done!.epochs} to ${asked} epochs (${ckpt})` : args[0] === '--resume' ? `resuming from ${ckpt}` : 'training');
    const r = await runTrain(args, (e) => {
      appendFileSync(log, JSON.stringify(e) + '\n');
      if (e.type === 'start') start = e;
      if (e.type === 'epoch') epochs.push(epochRecord(e));
      if (e.type === 'done') doneEv = e;
      hooks.onEvent?.(e);
    });
    if (r.cancelled) return { ...base, status: 'cancelled', error: `stopped; checkpoint ${r.cancelled.checkpoint}`, wallSeconds: r.wallSeconds, finishedAt: new Date().toISOString() };
    if (!r.done) {
      const res: RunResult = { ...base, status: 'failed', error: r.error ?? `trainer exited ${r.code}: ${r.stderrTail.slice(-800)}`, wallSeconds: r.wallSeconds, finishedAt: new Date().toISOString() };
      writeJsonAtomic(join(spec.dir, 'failed.json'), res);
      return res;
    }
  }
  // The model folder holds the config, history and metrics the trainer saved.
  const infoPath = join(model, 'flawscope.json');
  const info = parseModelInfo(JSON.parse(readFileSync(infoPath, 'utf8')), infoPath);
  // The trainer wrote this config through train-options' schema a moment ago; read it as its record.
  const cfg = info.config as Record<string, any>;
  const history: EpochRecord[] = (cfg.history ?? []).map(epochRecord);
  const counts = (info.dataset as { counts?: { trainNormal: number; trainAnomaly: number; validation: number; test: number } }).counts ?? null;
  const stepsPerEpoch = counts ? Math.max(1, Math.floor((counts.trainNormal + counts.trainAnomaly) / cfg.batch)) : 0;
  let evalRes: RunResult['eval'] = null;
  if (spec.evalSplit) {
    hooks.onStatus?.(`measuring on the ${spec.evalSplit} split with the scorer`);
    const set = await loadEvalSet({
      data: cfg.data, normal: cfg.normal, size: info.input.height, channels: info.input.channels, seed: cfg.seed,
      validationFraction: cfg.validationFraction, split: spec.evalSplit, dataOptions: cfg.dataOptions ?? {}, standardize: info.preprocess?.standardize, unmaskedDefectCrops: !!cfg.defectMap?.bags,
    });
    const scorer = await loadScorerFromDir(model, { backend: 'fast' });
    try {
      const { result } = await evaluateSet(scorer, set, { decodePhoto: decodeImageFile });
      evalRes = { ...result, split: spec.evalSplit };
    } finally {
      scorer.dispose();
    }
  }
  const res: RunResult = {
    ...base,
    status: 'done',
    backend: info.backend ?? (start as any)?.backend ?? null,
    normalClass: info.dataset?.normalClass ?? cfg.normal ?? null,
    weights: cfg.weights ?? null,
    epochs: cfg.epochs, batch: cfg.batch, lr: cfg.lr, size: info.input.height,
    counts,
    imagesSeen: stepsPerEpoch * cfg.batch * history.length,
    bestEpoch: info.metrics?.bestEpoch ?? null,
    valAuroc: info.metrics?.valAuroc ?? null,
    trainerTestAuroc: spec.evalSplit === 'test' ? (info.metrics?.testAuroc ?? (doneEv as any)?.metrics?.testAuroc ?? null) : null,
    eval: evalRes,
    history,
    trainSeconds: info.trainingSeconds ?? 0,
    wallSeconds: (Date.now() - t0) / 1000,
    finishedAt: new Date().toISOString(),
  };
  writeJsonAtomic(join(spec.dir, 'result.json'), res);
  return res;
}
