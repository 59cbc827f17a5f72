/**
 * `flawscope eval | reproduce | grid | ablation`: evaluation and the paper's experiments. Each returns an exit code: 0 ok,
 * 1 a run failed, 2 bad input (the message names the flag or file).
 */
import { isInputError } from '../errors';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mergeFlagPairs, parseArgs, UsageError, numFlag, choiceFlag } from '../args';
import type { LossWeights } from '../losses';
import { PAPER_WEIGHTS } from '../losses';
import { valAurocText, type ProgressEvent } from '../progress';
import { decodeImageFile, loadScorerFromDir } from '../../scorer/node/index';
import { FLIP_MODES, SHIFT_MODES, scoreLabel } from '../../scorer/model-format';
import { evaluateSet } from './evaluate';
import { loadEvalSet, type EvalSplit } from './evaldata';
import { presetTrainFlags } from '../presets';
import { BENCH_DATASETS, BUDGETS, budget, benchSpec, classId, defaultCacheDir, parseClasses, type BenchSpec, type BudgetName } from './bench';
import { subsampledCopy } from './subsample';
import { DATASET_TITLES, PAPER_TABLE6, type BenchDataset } from './paper';
import { allCombinations, comboId, gridCombinations, PAPER_GRID_COUNT, parseValues, sampleCombinations, GRID_VALUES, WEIGHT_KEYS } from './grid';
import { runOne, shellLine, machineDescription, writeJsonAtomic, type RunResult, type RunSpec } from './run-one';
import { runPool, stopAllChildren } from './runner';
import { aurocVsEpochSvg, rocSvg, type Series } from './svg';
import { evalMarkdown, gridRows, htmlPage, mdTable, pct, REFERENCE_NOTE, reproduceCsvRow, REPRODUCE_CSV_HEADER, table5Markdown, testAurocOf, toCsv } from './report';

const isInput = isInputError;

async function guarded(name: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    const code = isInput(e) ? 2 : 1;
    process.stderr.write(`flawscope ${name}: ${(e as Error).message ?? e}\n`);
    if (code === 1) process.stderr.write(((e as Error).stack ?? '') + '\n');
    return code;
  }
}

/** Flags a command understands itself; anything else is passed to `train` (reader options). */
function splitFlags(flags: Map<string, string>, own: Set<string>): { mine: Map<string, string>; pass: string[] } {
  const mine = new Map<string, string>();
  const pass: string[] = [];
  for (const [k, v] of flags) {
    if (own.has(k)) mine.set(k, v);
    else pass.push(`--${k}`, v);
  }
  return { mine, pass };
}

function fmtEpoch(e: Extract<ProgressEvent, { type: 'epoch' }>): string {
  return `epoch ${e.epoch}/${e.epochs}  ${valAurocText(e)}  ${e.imgPerSec.toFixed(0)} img/s  ${e.seconds.toFixed(1)} s`;
}

function installStop(): () => void {
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

// ---------------------------------------------------------------------------------------------
// eval

const EVAL_USAGE = `usage: flawscope eval --model DIR [--data DIR] [--normal CLASS] [--split test|validation]
                      [--score-flip none|horizontal] [--score-shift none|pixel] [--tile-stride N] [--json] [--report OUT_DIR] [--backend wasm|cpu]
                      [reader flags, e.g. --protocol one-vs-rest]
  Scores the data with the model (the scorer module) and prints image AUROC (both score
  definitions), per-class AUROC, precision/recall at the model's threshold, the F1-optimal
  threshold, and pixel AUROC where masks exist. Without --data it measures on the data, protocol
  and seed the model was trained with. --score-flip, --score-shift and --tile-stride override the
  model's own mirrored-score, shifted-score and photo-tile settings (to measure a model both ways;
  choose on --split validation; --tile-stride only changes the whole-photo AUROC of crop-trained
  models). --report writes report.md, report.html, roc.svg,
  eval.json and scores.csv into OUT_DIR.
`;
const EVAL_OWN = new Set(['model', 'data', 'normal', 'split', 'json', 'report', 'backend', 'help', 'seed', 'validation-fraction', 'score-flip', 'score-shift', 'tile-stride']);

export async function runEvalCommand(argv: string[]): Promise<number> {
  return guarded('eval', async () => {
    const { flags, positionals } = parseArgs(argv, ['json', 'help']);
    if (flags.get('help') === 'true') { process.stdout.write(EVAL_USAGE); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n${EVAL_USAGE}`);
    const { mine, pass } = splitFlags(flags, EVAL_OWN);
    const modelDir = mine.get('model');
    if (!modelDir) throw new UsageError(`--model DIR is required\n${EVAL_USAGE}`);
    if (!existsSync(join(modelDir, 'flawscope.json'))) throw new UsageError(`--model ${modelDir}: no flawscope.json there; pass a model folder written by flawscope train`);
    const split = (mine.get('split') ?? 'test') as EvalSplit;
    if (split !== 'test' && split !== 'validation') throw new UsageError(`--split ${split}: use test or validation`);
    const backend = mine.get('backend') ?? 'wasm';
    if (backend !== 'wasm' && backend !== 'cpu') throw new UsageError(`--backend ${backend}: eval runs on wasm or cpu`);
    const json = mine.get('json') === 'true';
    const flip = choiceFlag(mine, 'score-flip', FLIP_MODES, undefined);
    const shift = choiceFlag(mine, 'score-shift', SHIFT_MODES, undefined);
    const scorer = await loadScorerFromDir(modelDir, { backend });
    try {
      const side = Math.min(scorer.info.input.height, scorer.info.input.width);
      const tileStride = mine.has('tile-stride') ? numFlag(mine, 'tile-stride', side, { integer: true, min: 1, max: side }) : undefined;
      if (tileStride !== undefined && scorer.info.preprocess?.mode !== 'tile')
        throw new UsageError(`--tile-stride ${tileStride}: ${modelDir} scores whole images, not tiles of photos; leave it out`);
      const cfg = (scorer.info.config ?? {}) as Record<string, any>;
      const data = mine.get('data') ?? cfg.data;
      if (!data) throw new UsageError('--data DIR is required (the model does not record its training data)');
      if (!existsSync(data)) throw new UsageError(`--data ${data}: not found`);
      const dataOptions: Record<string, unknown> = { ...(mine.has('data') ? {} : cfg.dataOptions ?? {}) };
      for (let i = 0; i < pass.length; i += 2) dataOptions[pass[i].slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = pass[i + 1];
      const set = await loadEvalSet({
        data, normal: mine.get('normal') ?? (mine.has('data') ? undefined : cfg.normal) ?? scorer.info.dataset?.normalClass as string | undefined,
        size: scorer.info.input.height, channels: scorer.info.input.channels,
        seed: numFlag(mine, 'seed', cfg.seed ?? 0, { integer: true }),
        validationFraction: numFlag(mine, 'validation-fraction', cfg.validationFraction ?? 0.1, { min: 0, max: 0.9 }),
        split, dataOptions, standardize: scorer.info.preprocess?.standardize,
      });
      if (!json) process.stderr.write(`scoring ${set.isAnomaly.length} ${split} images of ${data} (normal class "${set.normalClass}") with ${modelDir} on ${scorer.backend}…\n`);
      const { result, scores } = await evaluateSet(scorer, set, { decodePhoto: decodeImageFile, flip, shift, tileStride });
      const full = { model: resolve(modelDir), data: resolve(data), normalClass: set.normalClass, split, ...result };
      if (json) process.stdout.write(JSON.stringify(full) + '\n');
      else {
        const p = (x: number | null) => (x === null ? '–' : x.toFixed(4));
        process.stdout.write(`image AUROC ${p(result.auroc)} (${scoreLabel(result)}; mean-L1 ${p(result.aurocMean)}, top-patch ${p(result.aurocTopPatch)})  pixel AUROC ${result.pixelAuroc === null ? 'no masks' : p(result.pixelAuroc)}\n`);
        process.stdout.write(`${result.count} images (${result.normals} normal, ${result.anomalies} anomalous); at the model threshold ${result.atModelThreshold.threshold.toPrecision(5)}: precision ${p(result.atModelThreshold.precision)} recall ${p(result.atModelThreshold.recall)} F1 ${p(result.atModelThreshold.f1)}\n`);
        if (result.sourceAuroc) process.stdout.write(`source-image AUROC ${p(result.sourceAuroc.auroc)} (max over crops; ${result.sourceAuroc.normals} normal, ${result.sourceAuroc.anomalies} defect images)\n`);
        if (result.photoAuroc) process.stdout.write(`whole-photo AUROC ${p(result.photoAuroc.auroc)} (each photo tiled and scored as \`flawscope score\` does, tiles ${result.photoAuroc.tileStride} px apart; ${result.photoAuroc.normals} normal, ${result.photoAuroc.anomalies} defect photos)\n`);
        for (const t of result.photoAuroc?.byType ?? []) process.stdout.write(`  ${t.className}: whole-photo AUROC ${p(t.auroc)} (${t.photos} photos against the normal ones)\n`);
        for (const c of result.perClass) if (c.anomaly) process.stdout.write(`  class ${c.className}: AUROC ${p(c.auroc)} (${c.count} images)\n`);
      }
      const out = mine.get('report');
      if (out) {
        mkdirSync(out, { recursive: true });
        const title = `Flawscope evaluation — ${set.normalClass} normal`;
        const roc = rocSvg([{ name: `AUROC ${pct(result.auroc, 2)}`, points: result.roc.map((q) => [q.fpr, q.tpr]) }], `ROC — ${set.normalClass} normal (${split}, AUROC ${pct(result.auroc, 2)}%)`);
        writeFileSync(join(out, 'roc.svg'), roc);
        const md = evalMarkdown(title, { ...result, split }, { model: resolve(modelDir), data: resolve(data), command: shellLine(['flawscope', 'eval', ...argv]), rocFile: 'roc.svg' });
        writeFileSync(join(out, 'report.md'), md);
        writeFileSync(join(out, 'report.html'), htmlPage(title, md, [roc]));
        writeJsonAtomic(join(out, 'eval.json'), full);
        writeFileSync(join(out, 'scores.csv'), toCsv(['index', 'class', 'is_anomaly', 'score', 'mean', 'top_patch'], Array.from(set.isAnomaly, (a, i) => [i, set.className?.[i], a, scores.own[i], scores.mean[i], scores.topPatch[i]])));
        if (!json) process.stderr.write(`report: ${join(out, 'report.md')} (+ report.html, roc.svg, eval.json, scores.csv)\n`);
      }
      return 0;
    } finally {
      scorer.dispose();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// shared: budgets and progress lines

interface BudgetFlags { budget: BudgetName; label: string; epochs: number; batch: number; lr: number; lrDecayEvery: number; trainPerClass: number; augment: 'auto' | 'none'; describe: string }

function budgetFromFlags(mine: Map<string, string>, dflt: BudgetName): BudgetFlags {
  const name = (mine.get('budget') ?? dflt) as BudgetName;
  if (!BUDGETS.includes(name)) throw new UsageError(`--budget ${name}: use one of ${BUDGETS.join(', ')}`);
  const b = budget(name);
  const epochs = numFlag(mine, 'epochs', b.epochs, { integer: true, min: 1 });
  const batch = numFlag(mine, 'batch', b.batch, { integer: true, min: 1 });
  const lr = numFlag(mine, 'lr', b.lr, { min: 0 });
  const trainPerClass = numFlag(mine, 'train-per-class', b.trainPerClass, { integer: true, min: 0 });
  const changed = [epochs !== b.epochs && `epochs ${epochs}`, batch !== b.batch && `batch ${batch}`, lr !== b.lr && `lr ${lr}`, trainPerClass !== b.trainPerClass && (trainPerClass ? `${trainPerClass} training images per class` : 'all training images')].filter(Boolean);
  return { budget: name, label: changed.length ? `${name}, ${changed.join(', ')}` : name, epochs, batch, lr, lrDecayEvery: b.lrDecayEvery, trainPerClass, augment: b.augment, describe: changed.length ? `${b.describe}; overridden: ${changed.join(', ')}` : b.describe };
}

/** Train flags given beside the budget (--weights, --lr-decay-every, ...) change the run: the report names them. */
function withTrainFlags(b: BudgetFlags, pass: string[]): BudgetFlags {
  if (!pass.length) return b;
  const flags = pass.join(' ');
  return { ...b, label: `${b.label}, ${flags}`, describe: `${b.describe}; train flags: ${flags}` };
}

/** The data folder a budget trains on: the benchmark's own, or its reduced copy. */
function budgetData(spec: BenchSpec, b: BudgetFlags, cache: string, withTest = true): string {
  if ((!b.trainPerClass && withTest) || spec.dataset === 'magnetic-tile') return spec.data;
  const tag = createHash('sha256').update(resolve(spec.data)).digest('hex').slice(0, 8);
  return subsampledCopy(spec.data, join(cache, `${spec.dataset}-${b.trainPerClass || 'all'}-per-class-${tag}${withTest ? '' : '-no-test'}`), b.trainPerClass, 0, withTest);
}

/** Train flags of a budget; the caller's own flags come after them and win (e.g. --augment auto). */
function budgetArgs(b: BudgetFlags): string[] {
  return presetTrainFlags(b);
}

function progressPrinter(json: boolean, prefix: string) {
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

function historySeries(results: { name: string; r: RunResult }[]): Series[] {
  return results.filter(({ r }) => r.history.length).map(({ name, r }) => ({ name, points: r.history.map((h) => [h.epoch, h.valAuroc ?? NaN] as [number, number]) }));
}

// ---------------------------------------------------------------------------------------------
// reproduce

const REPRO_USAGE = `usage: flawscope reproduce --dataset mnist|fashion-mnist|cifar10|cifar100|magnetic-tile
                      [--classes 0,1,...] [--budget quick|standard|paper] [--out DIR] [--data DIR]
                      [--epochs N] [--batch N] [--lr X] [--train-per-class N] [--cache DIR] [--json] [train/reader flags]
  Runs the §4.1 one-vs-rest protocol for each normal class: trains, measures the test AUROC with the
  scorer, writes runs/<class>/{model,result.json}, results.csv, results.md (Table 5 layout beside
  the paper and ARNet), auroc-vs-epoch.svg and roc.svg. Finished classes are skipped, interrupted
  ones resume from their checkpoint: run the same command again.
  Budgets: quick = ${budget('quick').describe}; standard = ${budget('standard').describe};
           paper = ${budget('paper').describe}.
`;
const REPRO_OWN = new Set(['dataset', 'classes', 'budget', 'out', 'data', 'epochs', 'batch', 'lr', 'train-per-class', 'json', 'help', 'cache']);

export async function runReproduceCommand(argv: string[]): Promise<number> {
  return guarded('reproduce', async () => {
    const { flags, positionals } = parseArgs(argv, ['json', 'help']);
    if (flags.get('help') === 'true') { process.stdout.write(REPRO_USAGE); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n${REPRO_USAGE}`);
    const { mine, pass } = splitFlags(flags, REPRO_OWN);
    const dataset = mine.get('dataset') as BenchDataset | undefined;
    if (!dataset || !BENCH_DATASETS.includes(dataset)) throw new UsageError(`--dataset ${dataset ?? '(missing)'}: use one of ${BENCH_DATASETS.join(', ')}\n${REPRO_USAGE}`);
    const b = withTrainFlags(budgetFromFlags(mine, 'quick'), pass);
    const out = resolve(mine.get('out') ?? join('results', `${dataset}-${b.budget}`));
    const cache = mine.get('cache') ?? defaultCacheDir();
    const spec = benchSpec(dataset, mine.get('data'), cache);
    const classes = parseClasses(mine.get('classes'), spec);
    const data = budgetData(spec, b, cache);
    const json = mine.get('json') === 'true';
    mkdirSync(join(out, 'runs'), { recursive: true });
    const uninstall = installStop();
    const results = new Map<string, RunResult>();
    const t0 = Date.now();
    let failed = 0;
    try {
      for (const [i, cls] of classes.entries()) {
        const id = classId(spec, cls);
        const prefix = `[${DATASET_TITLES[dataset]} ${i + 1}/${classes.length}, class ${id}${id !== cls ? ` ${cls}` : ''}]`;
        const trainArgs = mergeFlagPairs(['--data', data, '--normal', cls, '--size', String(spec.size)], spec.flags, budgetArgs(b), pass);
        const run: RunSpec = { id, dir: join(out, 'runs', `${id}`), trainArgs, evalSplit: 'test', meta: { dataset, classId: id, budget: b.label } };
        const r = await runOne(run, progressPrinter(json, prefix));
        results.set(id, r);
        if (r.status === 'cancelled') { process.stderr.write(`${prefix} stopped; run the same command again to continue\n`); break; }
        if (r.status !== 'done') { failed++; process.stderr.write(`${prefix} failed: ${r.error}\n`); continue; }
        const line = `${prefix} test AUROC ${pct(testAurocOf(r), 2)}% (val ${pct(r.valAuroc, 2)}%, best epoch ${r.bestEpoch}, ${r.trainSeconds.toFixed(0)} s training)`;
        if (json) process.stdout.write(JSON.stringify({ run: prefix, type: 'class-done', classId: id, testAuroc: testAurocOf(r), valAuroc: r.valAuroc }) + '\n');
        else process.stdout.write(line + '\n');
        writeReproduceReport(out, dataset, spec.classes.map((c) => classId(spec, c)), b, collect(out, spec.classes.map((c) => classId(spec, c))), argv, (Date.now() - t0) / 1000);
      }
    } finally {
      uninstall();
    }
    const all = collect(out, spec.classes.map((c) => classId(spec, c)));
    writeReproduceReport(out, dataset, spec.classes.map((c) => classId(spec, c)), b, all, argv, (Date.now() - t0) / 1000);
    if (!json) process.stdout.write(`results: ${join(out, 'results.md')} and results.csv\n`);
    return failed ? 1 : 0;
  });
}

function collect(out: string, ids: string[]): Map<string, RunResult> {
  const m = new Map<string, RunResult>();
  for (const id of ids) {
    const p = join(out, 'runs', id, 'result.json');
    if (existsSync(p)) m.set(id, JSON.parse(readFileSync(p, 'utf8')));
  }
  return m;
}

/** Per defect type: its patches against the normal patches and, where measured, its whole photos against the normal photos. */
function defectTypeTable(e: NonNullable<RunResult['eval']>): string {
  const byType = new Map((e.photoAuroc?.byType ?? []).map((t) => [t.className, t]));
  const photoCols = byType.size > 0;
  return mdTable(
    ['defect type', 'test patches', 'AUROC vs normal patches (%)', ...(photoCols ? ['test photos', 'whole-photo AUROC vs normal photos (%)'] : [])],
    e.perClass.filter((c) => c.anomaly).map((c) => {
      const t = byType.get(c.className);
      return [c.className, String(c.count), pct(c.auroc, 2), ...(photoCols ? [t ? String(t.photos) : '0', t ? pct(t.auroc, 2) : '–'] : [])];
    }));
}

/** For defect data (masks, crops): pixel AUROC, source-image AUROC and AUROC per defect type. */
function defectDetails(ids: string[], runs: Map<string, RunResult>): string[] {
  const out: string[] = [];
  for (const id of ids) {
    const e = runs.get(id)?.eval;
    if (!e || (e.pixelAuroc === null && !e.sourceAuroc)) continue;
    out.push(`## ${id}: patches, source images, pixels`, '',
      `- patch AUROC (test patches; ${e.normals} normal, ${e.anomalies} defect): ${pct(e.auroc, 2)}% (mean-L1 ${pct(e.aurocMean, 2)}, top-patch ${pct(e.aurocTopPatch, 2)})`,
      `- source-image AUROC (an image scores its highest patch): ${e.sourceAuroc ? `${pct(e.sourceAuroc.auroc, 2)}% over ${e.sourceAuroc.normals} normal and ${e.sourceAuroc.anomalies} defect images` : '–'}`,
      `- whole-photo AUROC (each test photo tiled and scored as \`flawscope score\` does${e.photoAuroc?.tileStride ? `, tiles ${e.photoAuroc.tileStride} px apart` : ''}): ${e.photoAuroc ? `${pct(e.photoAuroc.auroc, 2)}% over ${e.photoAuroc.normals} normal and ${e.photoAuroc.anomalies} defect photos` : '–'}`,
      `- pixel AUROC from the masks: ${pct(e.pixelAuroc, 2)}%`, '',
      defectTypeTable(e), '');
  }
  return out;
}

function writeReproduceReport(out: string, dataset: BenchDataset, ids: string[], b: BudgetFlags, runs: Map<string, RunResult>, argv: string[], wall: number): void {
  const done = [...runs.values()].filter((r) => r.status === 'done');
  writeFileSync(join(out, 'results.csv'), toCsv(REPRODUCE_CSV_HEADER, ids.filter((id) => runs.has(id)).map((id) => reproduceCsvRow(runs.get(id)!))));
  const series = historySeries(ids.filter((id) => runs.has(id)).map((id) => ({ name: `class ${id}`, r: runs.get(id)! })));
  const epochSvg = aurocVsEpochSvg(series, `${DATASET_TITLES[dataset]}: validation AUROC per epoch (${b.label})`);
  writeFileSync(join(out, 'auroc-vs-epoch.svg'), epochSvg);
  const rocs: Series[] = ids.filter((id) => runs.get(id)?.eval).map((id) => ({ name: `class ${id} (${pct(runs.get(id)!.eval!.auroc)})`, points: runs.get(id)!.eval!.roc.map((q) => [q.fpr, q.tpr] as [number, number]) }));
  const rocFile = rocSvg(rocs, `${DATASET_TITLES[dataset]}: test ROC per normal class`);
  writeFileSync(join(out, 'roc.svg'), rocFile);
  const trainS = done.reduce((a, r) => a + r.trainSeconds, 0);
  const first = done[0];
  const lines = [
    `# ${DATASET_TITLES[dataset]} — paper reproduction (budget: ${b.label})`, '',
    `- command: \`${shellLine(['flawscope', 'reproduce', ...argv])}\``,
    `- budget: ${b.describe}`,
    first ? `- images per class run: ${first.counts?.trainNormal} normal + ${first.counts?.trainAnomaly} labelled anomalies in training, ${first.counts?.validation} validation, ${first.counts?.test} test; about ${first.imagesSeen.toLocaleString('en')} training images seen (epochs x steps x batch)` : '- no class finished yet',
    `- backend: ${[...new Set(done.map((r) => r.backend))].join(', ') || '–'}; machine: ${first?.machine ?? machineDescription()}`,
    `- classes finished: ${done.length} of ${ids.length}; training ${(trainS / 60).toFixed(1)} wall-clock minutes in all on the shared machine (${done.length ? (trainS / done.length / 60).toFixed(1) : '–'} min per class, validation scoring included, final test scoring not); wall time of the finished runs (training, validation and test scoring) ${(done.reduce((a, r) => a + r.wallSeconds, 0) / 60).toFixed(1)} min; this invocation ${(wall / 60).toFixed(1)} min`,
    `- score: each run's model picks mean-L1 or top-patch on validation; the test AUROC is measured by \`flawscope eval\`'s code (the scorer) on the official test set, never used for any choice`, '',
    table5Markdown(dataset, runs, ids, b.label), REFERENCE_NOTE, '',
    '## Per class', '',
    mdTable(['class', 'test AUROC', 'mean-L1', 'top-patch', 'val AUROC', 'best epoch', 'epochs', 'train s'], ids.filter((id) => runs.has(id)).map((id) => {
      const r = runs.get(id)!;
      return [id, pct(testAurocOf(r), 2), pct(r.eval?.aurocMean, 2), pct(r.eval?.aurocTopPatch, 2), pct(r.valAuroc, 2), String(r.bestEpoch ?? '–'), String(r.history.length), r.trainSeconds.toFixed(0)];
    })), '',
    ...defectDetails(ids, runs),
    '![validation AUROC per epoch](auroc-vs-epoch.svg)', '', '![test ROC](roc.svg)', '',
  ];
  const md = lines.join('\n');
  writeFileSync(join(out, 'results.md'), md);
  writeFileSync(join(out, 'results.html'), htmlPage(`${DATASET_TITLES[dataset]} — ${b.label}`, md, [epochSvg, rocFile]));
}

// ---------------------------------------------------------------------------------------------
// grid

const GRID_USAGE = `usage: flawscope grid (--data DIR | --dataset mnist|fashion-mnist|cifar10) --normal CLASS --out DIR [--values 0.5,1,1.5] [--ratio 2]
                   [--strict] [--sample N] [--grid-seed N] [--include-paper] [--parallel N] [--budget quick|standard|paper]
                   [--epochs N] [--batch N] [--lr X] [--dry-run] [--json] [train/reader flags]
  §3.4: each of the six loss weights in --values; keeps combinations whose normal-group sum
  (recon+patch+latent+normalAdv) is at least --ratio times the anomaly-group sum (abc+anomalyAdv;
  --strict: more than). Trains each (up to --parallel at once), ranks on the VALIDATION AUROC of
  the best-by-validation model (the test split is never looked at), writes grid.md, grid.csv and
  best-config.json (use it with: flawscope train --config best-config.json --out DIR).
  --sample N runs a seeded random N of the valid combinations (--include-paper adds the Table 2
  weights). --dry-run only counts and lists.
  --dataset uses a benchmark's §4.1 protocol and the budget's training images, with the test
  split removed from the copy the runs train on.
`;
const GRID_OWN = new Set(['include-paper', 'dataset', 'train-per-class', 'cache', 'data', 'normal', 'out', 'values', 'ratio', 'strict', 'sample', 'grid-seed', 'parallel', 'budget', 'epochs', 'batch', 'lr', 'dry-run', 'json', 'help']);

export async function runGridCommand(argv: string[]): Promise<number> {
  return guarded('grid', async () => {
    const { flags, positionals } = parseArgs(argv, ['json', 'help', 'dry-run', 'strict', 'include-paper']);
    if (flags.get('help') === 'true') { process.stdout.write(GRID_USAGE); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n${GRID_USAGE}`);
    const { mine, pass } = splitFlags(flags, GRID_OWN);
    let values: number[];
    try { values = mine.has('values') ? parseValues(mine.get('values')!) : [...GRID_VALUES]; } catch (e) { throw new UsageError((e as Error).message); }
    const ratio = numFlag(mine, 'ratio', 2, { min: 0 });
    const strict = mine.get('strict') === 'true';
    const all = allCombinations(values);
    const valid = strict ? all.filter((w) => w.recon + w.patch + w.latent + w.normalAdv > ratio * (w.abc + w.anomalyAdv) + 1e-9) : gridCombinations(values, ratio);
    const sample = mine.has('sample') ? numFlag(mine, 'sample', valid.length, { integer: true, min: 1 }) : valid.length;
    const chosen = sampleCombinations(valid, sample, numFlag(mine, 'grid-seed', 1, { integer: true }));
    // --include-paper: the Table 2 weights run too (when they are in the grid and not drawn already).
    if (mine.get('include-paper') === 'true' && valid.some((w) => comboId(w) === comboId(PAPER_WEIGHTS)) && !chosen.some((w) => comboId(w) === comboId(PAPER_WEIGHTS))) chosen.push({ ...PAPER_WEIGHTS });
    const json = mine.get('json') === 'true';
    // Read before --dry-run returns, so a dry run refuses what the real run would.
    const parallel = numFlag(mine, 'parallel', 1, { integer: true, min: 1, max: 64 });
    const countLine = `${all.length} combinations of {${values.join(', ')}}^6; ${valid.length} satisfy normal-group sum ${strict ? '>' : '≥'} ${ratio} × anomaly-group sum (paper §3.4: ${PAPER_GRID_COUNT}); running ${chosen.length}`;
    if (mine.get('dry-run') === 'true') {
      if (json) process.stdout.write(JSON.stringify({ values, ratio, strict, total: all.length, valid: valid.length, paper: PAPER_GRID_COUNT, chosen: chosen.map((w) => ({ id: comboId(w), ...w })) }) + '\n');
      else process.stdout.write(countLine + '\n' + chosen.map((w) => comboId(w)).join('\n') + '\n');
      return 0;
    }
    const out = mine.get('out');
    const b = budgetFromFlags(mine, 'quick');
    let data = mine.get('data');
    let normal = mine.get('normal');
    if (mine.has('dataset')) {
      const dataset = mine.get('dataset') as BenchDataset;
      if (!BENCH_DATASETS.includes(dataset)) throw new UsageError(`--dataset ${dataset}: use one of ${BENCH_DATASETS.join(', ')}`);
      const cache = mine.get('cache') ?? defaultCacheDir();
      const spec = benchSpec(dataset, data, cache);
      if (!normal) throw new UsageError('--normal CLASS is required with --dataset');
      normal = parseClasses(normal, spec)[0];
      data = budgetData(spec, b, cache, false);
      pass.unshift('--size', String(spec.size), ...spec.flags);
    } else if (mine.has('train-per-class')) throw new UsageError('--train-per-class needs --dataset');
    if (!data) throw new UsageError(`--data DIR (or --dataset NAME) is required\n${GRID_USAGE}`);
    if (!existsSync(data)) throw new UsageError(`--data ${data}: not found`);
    if (!out) throw new UsageError(`--out DIR is required\n${GRID_USAGE}`);
    mkdirSync(join(out, 'runs'), { recursive: true });
    if (!json) process.stdout.write(countLine + `; ${parallel} at a time; budget ${b.label}\n`);
    const uninstall = installStop();
    const t0 = Date.now();
    let results: RunResult[];
    try {
      results = await runPool(chosen, parallel, async (w, i) => {
        const id = comboId(w);
        const prefix = `[grid ${i + 1}/${chosen.length} ${id}]`;
        const weights = WEIGHT_KEYS.map((k) => `${k}=${w[k]}`).join(',');
        const trainArgs = mergeFlagPairs(['--data', data, ...(normal ? ['--normal', normal] : [])], budgetArgs(b), ['--weights', weights], pass);
        const r = await runOne({ id, dir: join(out, 'runs', id), trainArgs, evalSplit: null, meta: { weights: w } }, progressPrinter(json, prefix));
        if (!json) process.stdout.write(`${prefix} ${r.status === 'done' ? `val AUROC ${r.valAuroc?.toFixed(4) ?? '–'}` : `${r.status}: ${r.error ?? ''}`}\n`);
        return r.weights ? r : { ...r, weights: w };
      });
    } finally {
      uninstall();
    }
    const { ranked, csv, md } = gridRows(results);
    writeFileSync(join(out, 'grid.csv'), csv);
    const best = ranked.find((r) => r.status === 'done' && r.valAuroc !== null);
    let bestNote = 'no run finished';
    if (best) {
      const model = JSON.parse(readFileSync(join(out, 'runs', best.id, 'model', 'flawscope.json'), 'utf8'));
      const { out: _o, force: _f, history: _h, ...cfg } = model.config;
      writeJsonAtomic(join(out, 'best-config.json'), cfg);
      bestNote = `best on validation: ${comboId(best.weights!)} (val AUROC ${best.valAuroc!.toFixed(4)}); config in best-config.json`;
    }
    const series = historySeries(ranked.slice(0, 8).map((r) => ({ name: r.weights ? comboId(r.weights) : r.id, r })));
    const svg = aurocVsEpochSvg(series, 'grid: validation AUROC per epoch (top 8)');
    writeFileSync(join(out, 'grid-auroc-vs-epoch.svg'), svg);
    const doc = [
      `# Loss-weight grid search (§3.4)`, '',
      `- command: \`${shellLine(['flawscope', 'grid', ...argv])}\``,
      `- ${countLine}`,
      `- for reference: with {0.5, 1.0, 1.5} the constraint "normal sum ≥ 2 × anomaly sum" keeps ${gridCombinations().length} of 729 combinations and "normal sum > 2 × anomaly sum" keeps ${allCombinations().filter((w) => w.recon + w.patch + w.latent + w.normalAdv > 2 * (w.abc + w.anomalyAdv) + 1e-9).length}; the paper reports ${PAPER_GRID_COUNT}`,
      `- budget per combination: ${b.describe}; data \`${data}\`${normal ? `, normal class ${normal}` : ''}${pass.length ? `, reader flags \`${pass.join(' ')}\`` : ''}`,
      `- ranked on the validation AUROC of each run's best-by-validation model; the test split is not used`,
      `- machine: ${machineDescription()}; wall time of this invocation ${((Date.now() - t0) / 60000).toFixed(1)} min, ${parallel} in parallel; training time of all runs ${(results.reduce((a, r) => a + r.trainSeconds, 0) / 60).toFixed(1)} min`,
      `- ${bestNote}`, '', md, '', '![validation AUROC per epoch](grid-auroc-vs-epoch.svg)', '',
    ].join('\n');
    writeFileSync(join(out, 'grid.md'), doc);
    if (json) process.stdout.write(JSON.stringify({ type: 'grid-done', best: best ? { id: best.id, weights: best.weights, valAuroc: best.valAuroc } : null, runs: results.length }) + '\n');
    else process.stdout.write(`${bestNote}\nresults: ${join(out, 'grid.md')}\n`);
    return results.some((r) => r.status === 'failed') ? 1 : 0;
  });
}

// ---------------------------------------------------------------------------------------------
// ablation

/** Table 6 rows: the autoencoder alone, + each loss alone, and all losses (Table 2 weights when on). */
export function ablationRows(w: LossWeights = PAPER_WEIGHTS): { id: string; label: string; weights: LossWeights }[] {
  const zero: LossWeights = { recon: 0, abc: 0, normalAdv: 0, patch: 0, latent: 0, anomalyAdv: 0 };
  const rows = [{ id: 'recon', label: 'autoencoder (L_recon only)', weights: { ...zero, recon: w.recon } }];
  const names: Record<string, string> = { patch: 'L_patch', latent: 'L_latent', normalAdv: 'L_adv (normal)', abc: 'L_ABC', anomalyAdv: 'L_adv (anomaly)' };
  for (const k of ['patch', 'latent', 'normalAdv', 'abc', 'anomalyAdv'] as const) rows.push({ id: `recon+${k}`, label: `L_recon + ${names[k]}`, weights: { ...zero, recon: w.recon, [k]: w[k] } });
  rows.push({ id: 'all', label: 'all losses (Table 2 weights)', weights: { ...w } });
  return rows;
}

const ABL_USAGE = `usage: flawscope ablation [--dataset cifar10] [--class bird] [--budget quick|standard|paper] [--out DIR]
                       [--data DIR] [--parallel N] [--epochs N] [--batch N] [--lr X] [--train-per-class N] [--json] [train/reader flags]
  Table 6: trains the autoencoder alone (L_recon), L_recon plus each other loss alone, and all
  losses, with one class normal (default CIFAR-10 bird), and reports the test AUROC of each
  (validation AUROC beside it) in the paper's layout. Resumable like reproduce.
`;
const ABL_OWN = new Set(['dataset', 'class', 'budget', 'out', 'data', 'parallel', 'epochs', 'batch', 'lr', 'train-per-class', 'json', 'help', 'cache']);

export async function runAblationCommand(argv: string[]): Promise<number> {
  return guarded('ablation', async () => {
    const { flags, positionals } = parseArgs(argv, ['json', 'help']);
    if (flags.get('help') === 'true') { process.stdout.write(ABL_USAGE); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n${ABL_USAGE}`);
    const { mine, pass } = splitFlags(flags, ABL_OWN);
    const dataset = (mine.get('dataset') ?? 'cifar10') as BenchDataset;
    if (!BENCH_DATASETS.includes(dataset)) throw new UsageError(`--dataset ${dataset}: use one of ${BENCH_DATASETS.join(', ')}`);
    const b = budgetFromFlags(mine, 'quick');
    const out = resolve(mine.get('out') ?? join('results', `ablation-${dataset}-${b.budget}`));
    const cache = mine.get('cache') ?? defaultCacheDir();
    const spec = benchSpec(dataset, mine.get('data'), cache);
    const data = budgetData(spec, b, cache);
    const [cls] = parseClasses(mine.get('class') ?? (dataset === 'cifar10' ? 'bird' : '0'), spec);
    const id = classId(spec, cls);
    const json = mine.get('json') === 'true';
    const parallel = numFlag(mine, 'parallel', 1, { integer: true, min: 1, max: 16 });
    mkdirSync(join(out, 'runs'), { recursive: true });
    const rows = ablationRows();
    const uninstall = installStop();
    const t0 = Date.now();
    let results: RunResult[];
    try {
      results = await runPool(rows, parallel, async (row, i) => {
        const prefix = `[ablation ${i + 1}/${rows.length} ${row.id}]`;
        const weights = WEIGHT_KEYS.map((k) => `${k}=${row.weights[k]}`).join(',');
        const trainArgs = mergeFlagPairs(['--data', data, '--normal', cls, '--size', String(spec.size)], spec.flags, budgetArgs(b), ['--weights', weights], pass);
        const r = await runOne({ id: row.id, dir: join(out, 'runs', row.id), trainArgs, evalSplit: 'test', meta: { dataset, classId: id, budget: b.label, row: row.id } }, progressPrinter(json, prefix));
        if (!json) process.stdout.write(`${prefix} ${r.status === 'done' ? `test AUROC ${pct(testAurocOf(r), 2)}% (val ${pct(r.valAuroc, 2)}%)` : `${r.status}: ${r.error ?? ''}`}\n`);
        return r;
      });
    } finally {
      uninstall();
    }
    const tick = (on: boolean) => (on ? '✓' : '');
    const table = mdTable(['L_recon', 'L_patch', 'L_latent', 'L_adv (normal)', 'L_ABC', 'L_adv (anomaly)', 'test AUROC (%)', 'val AUROC (%)', 'paper (%)', 'train s'], rows.map((row, i) => {
      const r = results[i];
      const w = row.weights;
      return [tick(w.recon > 0), tick(w.patch > 0), tick(w.latent > 0), tick(w.normalAdv > 0), tick(w.abc > 0), tick(w.anomalyAdv > 0), r.status === 'done' ? pct(testAurocOf(r), 2) : r.status, pct(r.valAuroc, 2), PAPER_TABLE6[row.id]?.toFixed(1) ?? '–', r.trainSeconds.toFixed(0)];
    }), ['l', 'l', 'l', 'l', 'l', 'l', 'r', 'r', 'r', 'r']);
    const series = historySeries(rows.map((row, i) => ({ name: row.id, r: results[i] })));
    const svg = aurocVsEpochSvg(series, `ablation, ${DATASET_TITLES[dataset]} class ${id} normal: validation AUROC per epoch`);
    writeFileSync(join(out, 'ablation-auroc-vs-epoch.svg'), svg);
    writeFileSync(join(out, 'ablation.csv'), toCsv(['row', ...WEIGHT_KEYS, 'test_auroc', 'val_auroc', 'best_epoch', 'epochs', 'train_seconds', 'status'], rows.map((row, i) => [row.id, ...WEIGHT_KEYS.map((k) => row.weights[k]), testAurocOf(results[i]), results[i].valAuroc, results[i].bestEpoch, results[i].history.length, results[i].trainSeconds, results[i].status])));
    const first = results.find((r) => r.status === 'done');
    const doc = [
      `# Ablation (Table 6 layout) — ${DATASET_TITLES[dataset]}, class ${id} (${cls}) normal`, '',
      `- command: \`${shellLine(['flawscope', 'ablation', ...argv])}\``,
      `- budget per row: ${b.describe}; ${first ? `${first.counts?.trainNormal} normal + ${first.counts?.trainAnomaly} anomalous training images, ${first.counts?.test} test` : ''}`,
      `- weights when on: Table 2 (recon ${PAPER_WEIGHTS.recon}, patch ${PAPER_WEIGHTS.patch}, latent ${PAPER_WEIGHTS.latent}, normal adv ${PAPER_WEIGHTS.normalAdv}, ABC ${PAPER_WEIGHTS.abc}, anomaly adv ${PAPER_WEIGHTS.anomalyAdv}); off = 0`,
      `- rows without anomaly-group losses still draw anomaly batches (the trainer picks the group by data share); with both anomaly weights 0 those steps give the generator a zero gradient (Adam momentum still moves it) and train only the anomaly discriminator. The labelled anomalies are kept so that every row selects its best epoch on the same validation set.`,
      `- machine: ${machineDescription()}; wall time ${((Date.now() - t0) / 60000).toFixed(1)} min, ${parallel} in parallel`,
      `- paper column: only the all-losses figure (CIFAR-10 bird 86.9, = Table 5) is filled; the other Table 6 cells are not known to us. shared/bench/README.md quotes 64.7 as the paper's plain autoencoder baseline.`, '',
      table, '', '![validation AUROC per epoch](ablation-auroc-vs-epoch.svg)', '',
    ].join('\n');
    writeFileSync(join(out, 'ablation.md'), doc);
    if (!json) process.stdout.write(`results: ${join(out, 'ablation.md')}\n`);
    return results.some((r) => r.status === 'failed') ? 1 : 0;
  });
}
