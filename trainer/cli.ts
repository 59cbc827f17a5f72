/**
 * `flawscope` — the headless CLI: train, score, datasets inspect, eval, grid.
 * Exit codes: 0 ok (also after a signal-saved checkpoint), 1 unexpected failure, 2 bad input or an
 * output that cannot be written (no permission, read-only, disk full: the message names the path).
 */
import { existsSync, readFileSync } from 'node:fs';
import { camel, choiceFlag, numFlag, parseArgs, UsageError } from './args';
import { BACKEND_REQUESTS, BackendUnavailableError, type BackendRequest } from './backend';
import { loadTrainingData } from './data';
import { InputError } from './data/types';
import { LockedError, OutputExistsError, WriteError } from './fs-safe';
import type { LossWeights } from './losses';
import { stopPoint, valAurocText, type ProgressEvent } from './progress';
import { DEFAULT_CONFIG, train, type TrainConfig } from './train';
import { SKIP_MODES, type SkipMode } from './model';
import { FLIP_MODES, SHIFT_MODES } from '../scorer/model-format';

const USAGE = `Flawscope — GAN-based anomaly detection (Kim et al. 2020)

Usage:
  flawscope train --data DIR --out DIR [--normal CLASS] [--size N] [--channels 1|3] [--epochs N]
                  [--batch N] [--seed N] [--lr X] [--lr-decay-every N] [--weight-average DECAY] [--skips all|no-outer|none] [--backend auto|tensorflow|wasm|cpu]
                  [--weights recon=1.5,abc=0.5,normalAdv=0.5,patch=1.5,latent=0.5,anomalyAdv=1]
                  [--score auto|mean|topPatch] [--score-flip none|horizontal] [--score-shift none|pixel] [--tile-stride N] [--loss-patch SIZE,STRIDE,TOPN] [--config FILE.json]
                  [--validation-fraction X] [--force] [--json] [--resume CHECKPOINT_DIR] [--keep-checkpoint]
                  (other --options go to the dataset reader; see "flawscope datasets --help")
  flawscope score --model DIR IMAGE_OR_FOLDER... [--json] [--heatmap OUT_DIR]
  flawscope datasets inspect DIR [--json]
`;

const TRAIN_BOOLEANS = ['json', 'force', 'help', 'keep-checkpoint'] as const;
const TRAIN_KEYS = new Set(['data', 'normal', 'out', 'size', 'channels', 'epochs', 'batch', 'seed', 'lr', 'lr-decay-every', 'backend', 'weights', 'score', 'score-flip', 'score-shift', 'tile-stride', 'loss-patch', 'config', 'validation-fraction', 'resume', 'beta1', 'beta2', 'skips', 'weight-average', ...TRAIN_BOOLEANS]);

export function isInputError(e: unknown): boolean {
  return e instanceof InputError || e instanceof UsageError || e instanceof OutputExistsError || e instanceof LockedError || e instanceof WriteError || e instanceof BackendUnavailableError || (e as Error)?.name === 'InputError' || /^--resume /.test((e as Error)?.message ?? '');
}

function parseWeights(raw: string | undefined, base: LossWeights): LossWeights {
  if (!raw) return base;
  const w = { ...base };
  for (const part of raw.split(',')) {
    const [k, v] = part.split('=');
    if (!(k in w)) throw new UsageError(`--weights: unknown loss "${k}"; known: ${Object.keys(w).join(', ')}`);
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--weights ${k}=${v}: expected a number ≥ 0`);
    w[k as keyof LossWeights] = n;
  }
  return w;
}

/** Builds the train config from flags (and an optional --config JSON file underneath them). */
export function trainConfigFromFlags(flags: Map<string, string>): TrainConfig {
  let base: Partial<TrainConfig> = {};
  const cfgFile = flags.get('config');
  if (cfgFile) {
    try {
      base = JSON.parse(readFileSync(cfgFile, 'utf8'));
    } catch (e) {
      throw new UsageError(`--config ${cfgFile}: cannot read it as JSON (${(e as Error).message})`);
    }
  }
  const d = { ...DEFAULT_CONFIG, ...base };
  const data = flags.get('data') ?? base.data;
  const out = flags.get('out') ?? base.out;
  if (!data) throw new UsageError('--data DIR is required (a folder of class sub-folders)');
  if (!out) throw new UsageError('--out DIR is required (where the model folder is written)');
  const backend = (flags.get('backend') ?? d.backend) as BackendRequest;
  if (!BACKEND_REQUESTS.includes(backend)) throw new UsageError(`--backend ${backend}: use one of ${BACKEND_REQUESTS.join(', ')}`);
  const score = (flags.get('score') ?? d.score) as TrainConfig['score'];
  if (!['auto', 'mean', 'topPatch'].includes(score)) throw new UsageError(`--score ${score}: use auto, mean or topPatch`);
  const scoreFlip = choiceFlag(flags, 'score-flip', FLIP_MODES, d.scoreFlip ?? 'none');
  const scoreShift = choiceFlag(flags, 'score-shift', SHIFT_MODES, d.scoreShift ?? 'none');
  let patch = d.patch;
  const lp = flags.get('loss-patch');
  if (lp) {
    const [size, stride, topN] = lp.split(',').map(Number);
    if (![size, stride, topN].every((v) => Number.isInteger(v) && v >= 1)) throw new UsageError(`--loss-patch ${lp}: expected SIZE,STRIDE,TOPN, positive integers`);
    patch = { size, stride, topN };
  }
  const channelsRaw = flags.has('channels') ? numFlag(flags, 'channels', 3, { integer: true, min: 1, max: 3 }) : d.channels;
  if (channelsRaw === 2) throw new UsageError('--channels must be 1 or 3');
  const size = numFlag(flags, 'size', d.size, { integer: true, min: 16, max: 1024 });
  if (size % 16) throw new UsageError(`--size ${size}: must be a multiple of 16 (the generator halves it four times)`);
  const dataOptions: Record<string, unknown> = { ...d.dataOptions };
  for (const [k, v] of flags) if (!TRAIN_KEYS.has(k)) dataOptions[camel(k)] = v;
  return {
    ...d,
    data,
    out,
    normal: flags.get('normal') ?? d.normal,
    size,
    channels: channelsRaw as 1 | 3 | undefined,
    epochs: numFlag(flags, 'epochs', d.epochs, { integer: true, min: 1 }),
    batch: numFlag(flags, 'batch', d.batch, { integer: true, min: 1, max: 4096 }),
    seed: numFlag(flags, 'seed', d.seed, { integer: true }),
    lr: numFlag(flags, 'lr', d.lr, { min: 0 }),
    lrDecayEvery: numFlag(flags, 'lr-decay-every', d.lrDecayEvery, { integer: true, min: 1 }),
    beta1: numFlag(flags, 'beta1', d.beta1, { min: 0, max: 1 }),
    beta2: numFlag(flags, 'beta2', d.beta2, { min: 0, max: 1 }),
    validationFraction: numFlag(flags, 'validation-fraction', d.validationFraction, { min: 0, max: 0.9 }),
    weights: parseWeights(flags.get('weights'), d.weights),
    skips: parseSkips(flags.get('skips'), d.skips ?? 'all'),
    weightAverage: weightAverageOf(flags, d.weightAverage ?? 0, cfgFile),
    score,
    scoreFlip,
    scoreShift,
    tileStride: flags.has('tile-stride') ? numFlag(flags, 'tile-stride', 0, { integer: true, min: 1 }) : (d.tileStride ?? null),
    patch,
    backend,
    force: flags.get('force') === 'true' || !!base.force,
    keepCheckpoint: flags.has('keep-checkpoint') ? flags.get('keep-checkpoint') === 'true' : !!d.keepCheckpoint,
    dataOptions,
  };
}

/** --weight-average, or the config file's "weightAverage": a decay in [0, 1); 1 would never move. */
function weightAverageOf(flags: Map<string, string>, fromConfig: unknown, cfgFile: string | undefined): number {
  if (flags.has('weight-average')) return numFlag(flags, 'weight-average', 0, { min: 0, max: 0.99999 });
  if (typeof fromConfig !== 'number' || !(fromConfig >= 0 && fromConfig < 1))
    throw new UsageError(`--config ${cfgFile}: "weightAverage" ${JSON.stringify(fromConfig)}: expected a number ≥ 0 and < 1 (0 = no average)`);
  return fromConfig;
}

function parseSkips(v: string | undefined, d: SkipMode): SkipMode {
  if (v === undefined) return d;
  if (!(SKIP_MODES as readonly string[]).includes(v)) throw new UsageError(`--skips ${v}: use ${SKIP_MODES.join(', ')} (all = the paper's U-Net)`);
  return v as SkipMode;
}

function fmt(x: number | null | undefined, d = 4): string {
  return x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d);
}

function humanLine(e: ProgressEvent): string | null {
  switch (e.type) {
    case 'start':
      return `backend: ${e.backend} (${e.backendReason})\n${e.resumedFromEpoch !== undefined ? `resuming ${stopPoint(e.resumedFromEpoch, e.resumedAtStep)}; ` : ''}${e.epochs} epochs × ${e.stepsPerEpoch} steps → ${e.out}`;
    case 'epoch':
      return `epoch ${e.epoch}/${e.epochs}  ${Object.entries(e.losses).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}  ${valAurocText(e)}  ${e.imgPerSec.toFixed(0)} img/s  ${e.seconds.toFixed(1)} s  eta ${e.etaSec.toFixed(0)} s`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'cancelled':
      return `stopped: checkpoint saved in ${e.checkpoint} (${stopPoint(e.epoch, e.step)}); continue with: flawscope train --resume ${e.checkpoint}`;
    case 'done':
      return `done: model saved in ${e.out}  (${Object.entries(e.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})`;
    case 'error':
      return `error: ${e.message}`;
    default:
      return null;
  }
}

async function trainCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, TRAIN_BOOLEANS);
  const json = flags.get('json') === 'true';
  const emit = (e: ProgressEvent) => {
    if (json) process.stdout.write(JSON.stringify(e) + '\n');
    else {
      const line = humanLine(e);
      if (line) (e.type === 'error' || e.type === 'warning' ? process.stderr : process.stdout).write(line + '\n');
    }
  };
  try {
    if (flags.get('help') === 'true') { process.stdout.write(USAGE); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (options start with --)`);
    let stop = false;
    const onSignal = (sig: string) => {
      if (stop) process.exit(130); // a second signal: give up at once
      stop = true;
      if (!json) process.stderr.write(`${sig}: saving a checkpoint…\n`);
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    const resumeDir = flags.get('resume');
    let cfg: TrainConfig;
    if (resumeDir) {
      if (!existsSync(resumeDir)) throw new UsageError(`--resume ${resumeDir}: no such checkpoint folder`);
      cfg = { ...DEFAULT_CONFIG, data: '', out: '' };
    } else cfg = trainConfigFromFlags(flags);
    const result = await train(
      cfg,
      {
        emit,
        shouldStop: () => stop,
        loadData: (c) => loadTrainingData({ ...c.dataOptions, root: c.data, normalClass: c.normal, size: c.size, channels: c.channels, seed: c.seed, validationFraction: c.validationFraction }),
      },
      resumeDir ? { dir: resumeDir, epochs: flags.has('epochs') ? numFlag(flags, 'epochs', 1, { integer: true, min: 1 }) : undefined } : undefined,
    );
    return result === 'done' || result === 'cancelled' ? 0 : 1;
  } catch (e) {
    const code = isInputError(e) ? 2 : 1;
    emit({ type: 'error', message: (e as Error).message ?? String(e), code });
    if (code === 1 && !json && !(e instanceof WriteError)) process.stderr.write(((e as Error).stack ?? '') + '\n');
    return code;
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'train':
      return trainCommand(rest);
    case 'score': {
      const { runScoreCommand } = await import('../scorer/node/cli-score');
      return runScoreCommand(rest);
    }
    case 'datasets': {
      const { runDatasetsCommand } = await import('./data/cli-datasets');
      return runDatasetsCommand(rest);
    }
    case 'eval': return (await import('./eval/commands')).runEvalCommand(rest);
    case 'reproduce': return (await import('./eval/commands')).runReproduceCommand(rest);
    case 'grid': return (await import('./eval/commands')).runGridCommand(rest);
    case 'ablation': return (await import('./eval/commands')).runAblationCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd ? 0 : 2;
    default:
      process.stderr.write(`unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
