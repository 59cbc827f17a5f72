/**
 * What `eval`, `reproduce`, `grid` and `ablation` share: reading a command line against the
 * command's options table (flags it does not own are passed on: reader flags for eval, train
 * settings and reader flags for the trainings), budgets, progress lines and the stop handler.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { camel, parseArgs, UsageError } from '../../args';
import { declaredFlags, either, enumOf, OptionTable, type OptionSpec, type OptionSpecs, type OptionValues } from '../../cli-schema';
import { parseDataOptions, READER_OPTIONS } from '../../data/options';
import { isInputError } from '../../errors';
import { presetTrainFlags } from '../../presets';
import { valAurocText, type ProgressEvent } from '../../progress';
import { TRAIN_COMMAND, TRAIN_SETTINGS } from '../../train-options';
import { configFileOptions } from '../../cli-train-config';
import { BENCH_DATASETS, BUDGETS, budget, type BenchSpec, type BudgetName } from '../bench';
import { runPool, stopAllChildren } from '../runner';
import { subsampledCopy } from '../subsample';
import type { RunResult } from '../run-one';
import type { Series } from '../svg';

export async function guarded(name: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    const code = isInputError(e) ? 2 : 1;
    process.stderr.write(`flawscope ${name}: ${(e as Error).message ?? e}\n`);
    if (code === 1) process.stderr.write(((e as Error).stack ?? '') + '\n');
    return code;
  }
}

/** `--config FILE.json`: train's settings file, passed on to every training (docs/results/configs/). */
const TRAIN_CONFIG_FILE = new OptionTable('train flag', { config: TRAIN_COMMAND.specs.config });

/** What a command line holds: the command's typed options, and the flags it passes on as `--flag value` pairs (in the order given). */
export interface CommandLine<T extends OptionSpecs> {
  o: OptionValues<T>;
  pass: string[];
  help: boolean;
}

/**
 * Reads argv against the command's table; flags of the `passOn` tables are passed on, each
 * validated here by its own schema (a bad value exits 2 naming the flag, before anything runs):
 * 'reader' = the data-reader flags (eval), 'train' = train's settings and the reader flags.
 */
export function readCommandLine<T extends OptionSpecs>(argv: string[], command: string, table: OptionTable<T>, usage: string, passOn: 'reader' | 'train'): CommandLine<T> {
  const passTables = passOn === 'train' ? [TRAIN_SETTINGS, READER_OPTIONS, TRAIN_CONFIG_FILE] : [READER_OPTIONS];
  const { flags, positionals } = parseArgs(argv, declaredFlags(table, ...passTables), command);
  if (flags.get('help') === 'true') return { o: {}, pass: [], help: true };
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n${usage}`);
  const o = table.fromFlags(flags);
  const passed = new Map([...flags].filter(([k]) => table.keyOf(k) === undefined));
  if (passOn === 'train') {
    TRAIN_SETTINGS.fromFlags(passed);
    // Each training reads the file itself (flags beside it win, as in train); read here once so
    // a bad file stops the command before any training, and passed as an absolute path.
    const cfg = passed.get('config');
    if (cfg !== undefined) {
      configFileOptions(cfg);
      passed.set('config', resolve(cfg));
    }
  }
  const reader: Record<string, string> = {};
  for (const [k, v] of passed) if (READER_OPTIONS.keyOf(k) !== undefined) reader[camel(k)] = v;
  parseDataOptions(reader);
  return { o, pass: [...passed].flatMap(([k, v]) => [`--${k}`, v]), help: false };
}

/** The note under a command's options about the flags it passes on. */
export function passOnHelp(passOn: 'reader' | 'train'): string {
  const reader = READER_OPTIONS.flags.strings.map((f) => `--${f}`).join(' ');
  return passOn === 'train'
    ? `Passed on to each training: train's settings (see flawscope train --help), --config FILE.json (a settings file, e.g. docs/results/configs/) and the data-reader flags\n  ${reader}`
    : `Passed on to the data reader (as for train):\n  ${reader}`;
}

// ---------------------------------------------------------------------------------------------
// options the experiment commands share

export const DATASET_OPTION = { expect: either(BENCH_DATASETS), schema: enumOf(BENCH_DATASETS), help: `${BENCH_DATASETS.join('|')}  a benchmark (its §4.1 protocol)` } satisfies OptionSpec;
export const PATH = (help: string): OptionSpec<z.ZodString> => ({ expect: 'a path', schema: z.string().min(1), help });
export const CACHE_OPTION = PATH('DIR  where benchmarks are unpacked and reduced copies kept');

/** A budget and its overrides (epochs, batch and lr are train's settings, with train's ranges). */
export const BUDGET_OPTIONS = {
  budget: { expect: either(BUDGETS), schema: enumOf(BUDGETS), help: `${BUDGETS.join('|')}  training budget (default quick)` },
  epochs: { ...TRAIN_SETTINGS.specs.epochs, help: "N  instead of the budget's" },
  batch: { ...TRAIN_SETTINGS.specs.batch, help: "N  instead of the budget's" },
  lr: { ...TRAIN_SETTINGS.specs.lr, help: "X  instead of the budget's" },
  trainPerClass: { expect: 'an integer from 0 up (0 = all)', schema: z.number().int().min(0), help: "N  training images per class (0 = all; default: the budget's)" },
} satisfies Record<string, OptionSpec>;

export interface BudgetFlags { budget: BudgetName; label: string; epochs: number; batch: number; lr: number; lrDecayEvery: number; trainPerClass: number; augment: 'auto' | 'none'; describe: string }

export function budgetFrom(o: OptionValues<typeof BUDGET_OPTIONS>, dflt: BudgetName): BudgetFlags {
  const name = o.budget ?? dflt;
  const b = budget(name);
  const { epochs = b.epochs, batch = b.batch, lr = b.lr, trainPerClass = b.trainPerClass } = o;
  const changed = [epochs !== b.epochs && `epochs ${epochs}`, batch !== b.batch && `batch ${batch}`, lr !== b.lr && `lr ${lr}`, trainPerClass !== b.trainPerClass && (trainPerClass ? `${trainPerClass} training images per class` : 'all training images')].filter(Boolean);
  return { budget: name, label: changed.length ? `${name}, ${changed.join(', ')}` : name, epochs, batch, lr, lrDecayEvery: b.lrDecayEvery, trainPerClass, augment: b.augment, describe: changed.length ? `${b.describe}; overridden: ${changed.join(', ')}` : b.describe };
}

/** Train flags given beside the budget (--weights, --lr-decay-every, ...) change the run: the report names them. */
export function withTrainFlags(b: BudgetFlags, pass: string[]): BudgetFlags {
  if (!pass.length) return b;
  const flags = pass.join(' ');
  return { ...b, label: `${b.label}, ${flags}`, describe: `${b.describe}; train flags: ${flags}` };
}

/** The data folder a budget trains on: the benchmark's own, or its reduced copy. */
export function budgetData(spec: BenchSpec, b: BudgetFlags, cache: string, withTest = true): string {
  if ((!b.trainPerClass && withTest) || spec.dataset === 'magnetic-tile') return spec.data;
  const tag = createHash('sha256').update(resolve(spec.data)).digest('hex').slice(0, 8);
  return subsampledCopy(spec.data, join(cache, `${spec.dataset}-${b.trainPerClass || 'all'}-per-class-${tag}${withTest ? '' : '-no-test'}`), b.trainPerClass, 0, withTest);
}

/** Train flags of a budget; the caller's own flags come after them and win (e.g. --augment auto). */
export function budgetArgs(b: BudgetFlags): string[] {
  return presetTrainFlags(b);
}

// ---------------------------------------------------------------------------------------------
// running trainings

function fmtEpoch(e: Extract<ProgressEvent, { type: 'epoch' }>): string {
  return `epoch ${e.epoch}/${e.epochs}  ${valAurocText(e)}  ${e.imgPerSec.toFixed(0)} img/s  ${e.seconds.toFixed(1)} s`;
}

export function installStop(): () => void {
  let stopping = false;
  const h = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`${sig}: stopping the running trainings (they save checkpoints; run the same command again to resume)…\n`);
    stopAllChildren('SIGTERM');
  };
  const a = () => h('SIGINT'), b = () => h('SIGTERM');
  process.on('SIGINT', a);
  process.on('SIGTERM', b);
  return () => { process.off('SIGINT', a); process.off('SIGTERM', b); };
}

/** Runs the jobs (up to `parallel` at once) with the stop handler installed. */
export async function runWithStop<J>(jobs: J[], parallel: number, fn: (job: J, i: number) => Promise<RunResult>): Promise<RunResult[]> {
  const uninstall = installStop();
  try {
    return await runPool(jobs, parallel, fn);
  } finally {
    uninstall();
  }
}

export function progressPrinter(json: boolean, prefix: string) {
  return {
    onEvent: (e: ProgressEvent) => {
      if (json) { if (e.type !== 'step') process.stdout.write(JSON.stringify({ run: prefix, ...e }) + '\n'); return; }
      if (e.type === 'epoch') process.stdout.write(`${prefix} ${fmtEpoch(e)}\n`);
      else if (e.type === 'warning') process.stderr.write(`${prefix} warning: ${e.message}\n`);
      else if (e.type === 'error') process.stderr.write(`${prefix} error: ${e.message}\n`);
    },
    onStatus: (m: string) => { if (json) process.stdout.write(JSON.stringify({ run: prefix, type: 'status', message: m }) + '\n'); else process.stdout.write(`${prefix} ${m}\n`); },
  };
}

export function historySeries(results: { name: string; r: RunResult }[]): Series[] {
  return results.filter(({ r }) => r.history.length).map(({ name, r }) => ({ name, points: r.history.map((h) => [h.epoch, h.valAuroc ?? NaN] as [number, number]) }));
}
