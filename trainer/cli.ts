/**
 * `flawscope` — the headless CLI: train, score, datasets inspect, eval, grid.
 * Exit codes: 0 ok (also after a signal-saved checkpoint), 1 unexpected failure, 2 bad input or an
 * output that cannot be written (no permission, read-only, disk full: the message names the path).
 */
import { existsSync } from 'node:fs';
import { parseArgs, UsageError } from './args';
import { loadTrainingData } from './data';
import { isInputError } from './errors';
import { WriteError } from './fs-safe';
import { stopPoint, valAurocText, type ProgressEvent } from './progress';
import { PRESET_MAX_EPOCHS } from './presets';
import { DEFAULT_CONFIG, resumeTarget, train, type ResumeRequest, type TrainConfig } from './train';
import { readerFlagsHelp, trainConfigFromFlags, TRAIN_FLAGS } from './cli-train-config';
import type { DefectsConfig } from './defect-map/train-map';
import { parseTrainOptions, TRAIN_COMMAND, trainOptionsHelp } from './train-options';
import { oldBackendUse } from '../shared/backends';

const TRAIN_USAGE = `flawscope train --data DIR --out DIR [settings] [--config FILE.json] [--json]
flawscope train --resume OUT.checkpoint [--epochs N] [--out DIR] [--json]

${TRAIN_COMMAND.help()}
Settings (flags; in a --config file the same names in camelCase, e.g. "lrDecayEvery"; flags win):
${trainOptionsHelp()}
Data-reader flags (passed on to the dataset reader; see trainer/data/README.md):
${readerFlagsHelp()}
--force replaces only a Flawscope model folder (flawscope.json + model.json) or an empty folder,
never a file, a folder holding other files, or a folder that holds the data or lies inside it.
`;

const USAGE = `Flawscope — GAN-based anomaly detection (Kim et al. 2020)

Usage:
  flawscope train --data DIR --out DIR [--normal CLASS] [--size N] [--epochs N] [... see train --help]
  flawscope score --model DIR IMAGE_OR_FOLDER... [--json] [--heatmap OUT_DIR]
  flawscope datasets inspect DIR [--json]
  flawscope eval --model DIR [--data DIR] [--split test|validation] [--json] [--report OUT_DIR]
  flawscope calibrate --model DIR --data DIR [--false-alarm-rate R | --defect-rate P] [--json]
  flawscope reproduce --dataset NAME [--classes 0,1] [--budget quick|standard|paper] [--out DIR]
  flawscope grid (--data DIR | --dataset NAME) --normal CLASS --out DIR [--sample N] [--parallel N] [--dry-run]
  flawscope ablation [--dataset cifar10] [--class bird] [--budget quick]
Each command takes --help.
`;


/** Flags a resumed training honours; the rest belong to the checkpoint's own settings. */
const RESUME_FLAGS = new Set(['resume', 'epochs', 'out', 'json', 'help']);

/** `--resume DIR`: only --epochs and --out apply; the model goes beside the checkpoint unless --out names another folder (train.ts resumeTarget). */
function resumeRequest(dir: string, flags: Map<string, string>, emit: (e: ProgressEvent) => void): ResumeRequest {
  if (!existsSync(dir)) throw new UsageError(`--resume ${dir}: no such checkpoint folder`);
  const ignored = [...flags.keys()].filter((k) => !RESUME_FLAGS.has(k));
  if (ignored.length)
    emit({ type: 'warning', message: `--resume ${dir}: ignoring ${ignored.map((k) => `--${k}`).join(', ')}: a resumed training keeps its checkpoint's settings (only --epochs and --out apply)` });
  const epochs = flags.has('epochs') ? parseTrainOptions({ epochs: flags.get('epochs') }, { kind: 'flag' }).epochs : undefined;
  const request: ResumeRequest = { dir, epochs, out: flags.get('out') };
  resumeTarget(request); // refused here, before anything is read, when it has nowhere to go
  return request;
}

function fmt(x: number | null | undefined, d = 4): string {
  return x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d);
}

const epochsOf = (n: number) => (n < PRESET_MAX_EPOCHS ? `${n} epochs` : 'epochs');

/** ", stops at 90 s, or 300 updates without a better validation AUROC (after at least 600)". */
function stoppingRuleText(e: Extract<ProgressEvent, { type: 'start' }>): string {
  const parts = [
    ...(e.timeBudget ? [`at ${e.timeBudget} s of training`] : []),
    ...(e.patience ? [`after ${e.patience} updates without a better validation AUROC${e.minUpdates ? ` (once ${e.minUpdates} are done)` : ''}`] : []),
  ];
  return parts.length ? `; stops ${parts.join(', or ')}` : '';
}

function humanLine(e: ProgressEvent): string | null {
  switch (e.type) {
    case 'start':
      return `backend: ${e.backend} (${e.backendReason})\n${e.groups ? `batches: ${e.groups.text}\n` : ''}${e.resumedFromEpoch !== undefined ? `resuming ${stopPoint(e.resumedFromEpoch, e.resumedAtStep)}; ` : ''}${epochsOf(e.epochs)} × ${e.stepsPerEpoch} steps${stoppingRuleText(e)} → ${e.out}`;
    case 'epoch':
      return `${e.stage ? `${e.stage} ` : ''}epoch ${e.epoch}${e.epochs < PRESET_MAX_EPOCHS ? `/${e.epochs}` : ''}  ${Object.entries(e.losses).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}  ${valAurocText(e)}  ${e.imgPerSec.toFixed(0)} img/s  ${e.seconds.toFixed(1)} s  eta ${e.etaSec.toFixed(0)} s`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'stage':
      return e.message;
    case 'early-stop':
      return `early stop: ${e.message}`;
    case 'cancelled':
      return `stopped: ${e.model ? `the best epoch so far (${e.bestEpoch}) saved as a model in ${e.model}; ` : 'no epoch finished, so no model was written; '}checkpoint saved in ${e.checkpoint} (${stopPoint(e.epoch, e.step)}); continue with: flawscope train --resume ${e.checkpoint}`;
    case 'done':
      return `done: model saved in ${e.out}  (${Object.entries(e.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})`;
    case 'error':
      return `error: ${e.message}`;
    default:
      return null;
  }
}

async function trainCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv, TRAIN_FLAGS, 'train');
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
  const { flags, positionals } = parsed;
  const json = flags.get('json') === 'true';
  const emit = (e: ProgressEvent) => {
    if (json) process.stdout.write(JSON.stringify(e) + '\n');
    else {
      const line = humanLine(e);
      if (line) (e.type === 'error' || e.type === 'warning' ? process.stderr : process.stdout).write(line + '\n');
    }
  };
  try {
    if (flags.get('help') === 'true') { process.stdout.write(TRAIN_USAGE); return 0; }
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
    if (resumeDir && flags.has('preset')) throw new UsageError('--resume with --preset: a checkpoint keeps its own preset (a --preset defects one resumes its defect map); leave --preset out');
    let cfg: TrainConfig;
    let resume: ResumeRequest | undefined;
    if (resumeDir) {
      resume = resumeRequest(resumeDir, flags, emit);
      cfg = { ...DEFAULT_CONFIG, data: '', out: '' };
    } else {
      cfg = trainConfigFromFlags(flags);
      const old = oldBackendUse('train', flags.get('backend'));
      if (old) emit({ type: 'warning', message: old });
    }
    const defectsResume = resume ? await (await import('./defect-map/map-checkpoint')).isDefectsCheckpoint(resume.dir) : false;
    if ((cfg as Partial<DefectsConfig>).preset === 'defects' || defectsResume) {
      const { trainDefects } = await import('./defect-map/train-map');
      const r = await trainDefects(cfg as DefectsConfig, { emit, shouldStop: () => stop, loadData: () => { throw new Error('unused'); } }, defectsResume ? resume : undefined);
      return r === 'done' || r === 'cancelled' ? 0 : 1;
    }
    const result = await train(
      cfg,
      {
        emit,
        shouldStop: () => stop,
        loadData: (c) => loadTrainingData({ ...c.dataOptions, root: c.data, normalClass: c.normal, size: c.size, channels: c.channels, seed: c.seed, validationFraction: c.validationFraction }),
      },
      resume,
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
    case 'calibrate': return (await import('./calibrate')).runCalibrateCommand(rest);
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
