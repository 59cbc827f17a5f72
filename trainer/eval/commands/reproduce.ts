/** `flawscope reproduce`: the §4.1 one-vs-rest protocol per normal class, with a Table-5 report beside the paper. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { mergeFlagPairs, UsageError } from '../../args';
import { HELP, jsonSwitch, OptionTable } from '../../cli-schema';
import { BENCH_DATASETS, budget, benchSpec, classId, defaultCacheDir, parseClasses } from '../bench';
import { DATASET_TITLES, type BenchDataset } from '../paper';
import { runOne, shellLine, machineDescription, type RunResult, type RunSpec } from '../run-one';
import { aurocVsEpochSvg, rocSvg, type Series } from '../svg';
import { htmlPage, mdTable, pct, REFERENCE_NOTE, reproduceCsvRow, REPRODUCE_CSV_HEADER, table5Markdown, testAurocOf, toCsv } from '../report';
import { BUDGET_OPTIONS, budgetArgs, budgetData, budgetFrom, CACHE_OPTION, DATASET_OPTION, guarded, historySeries, installStop, PATH, passOnHelp, progressPrinter, readCommandLine, withTrainFlags, type BudgetFlags } from './shared';

export const REPRODUCE_OPTIONS = new OptionTable('reproduce option', {
  dataset: DATASET_OPTION,
  classes: { expect: 'class ids or names, comma-separated', schema: z.string().min(1), help: '0,1,...  the normal classes run (default: all)' },
  ...BUDGET_OPTIONS,
  out: PATH('DIR  results (default results/DATASET-BUDGET)'),
  data: PATH("DIR  the benchmark's folder (default: found under shared/)"),
  cache: CACHE_OPTION,
  json: jsonSwitch('print progress as JSON lines'),
  help: HELP,
});

const REPRO_USAGE = `usage: flawscope reproduce --dataset mnist|fashion-mnist|cifar10|cifar100|magnetic-tile
                      [--classes 0,1,...] [--budget quick|standard|paper] [--out DIR] [--data DIR]
                      [--epochs N] [--batch N] [--lr X] [--train-per-class N] [--cache DIR] [--json] [train/reader flags]
  Runs the §4.1 one-vs-rest protocol for each normal class: trains, measures the test AUROC with the
  scorer, writes runs/<class>/{model,result.json}, results.csv, results.md (Table 5 layout beside
  the paper and ARNet), auroc-vs-epoch.svg and roc.svg. Finished classes are skipped, interrupted
  ones resume from their checkpoint: run the same command again.
  Budgets: quick = ${budget('quick').describe}; standard = ${budget('standard').describe};
           paper = ${budget('paper').describe}.
Options:
${REPRODUCE_OPTIONS.help()}
${passOnHelp('train')}
`;

export async function runReproduceCommand(argv: string[]): Promise<number> {
  return guarded('reproduce', async () => {
    const { o, pass, help } = readCommandLine(argv, 'reproduce', REPRODUCE_OPTIONS, REPRO_USAGE, 'train');
    if (help) { process.stdout.write(REPRO_USAGE); return 0; }
    const dataset = o.dataset;
    if (!dataset) throw new UsageError(`--dataset is required: one of ${BENCH_DATASETS.join(', ')}\n${REPRO_USAGE}`);
    const b = withTrainFlags(budgetFrom(o, 'quick'), pass);
    const out = resolve(o.out ?? join('results', `${dataset}-${b.budget}`));
    const cache = o.cache ?? defaultCacheDir();
    const spec = benchSpec(dataset, o.data, cache);
    const classes = parseClasses(o.classes, spec);
    const data = budgetData(spec, b, cache);
    const json = o.json === true;
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
    out.push(`## ${id}: whole photos, then patches`, '',
      `- whole-photo image AUROC (each test photo tiled and scored as \`flawscope score\` does${e.photoAuroc?.tileStride ? `, tiles ${e.photoAuroc.tileStride} px apart` : ''}): ${e.photoAuroc ? `${pct(e.photoAuroc.auroc, 2)}% over ${e.photoAuroc.normals} normal and ${e.photoAuroc.anomalies} defect photos` : '–'}`,
      `- whole-photo pixel AUROC (every pixel of the test photos against the masks): ${pct(e.photoAuroc?.pixelAuroc, 2)}%`,
      `- patch-level AUROC (test patches; ${e.normals} normal, ${e.anomalies} defect): ${pct(e.auroc, 2)}% (mean-L1 ${pct(e.aurocMean, 2)}, top-patch ${pct(e.aurocTopPatch, 2)})`,
      `- patch-level, source-image AUROC (an image scores its highest patch): ${e.sourceAuroc ? `${pct(e.sourceAuroc.auroc, 2)}% over ${e.sourceAuroc.normals} normal and ${e.sourceAuroc.anomalies} defect images` : '–'}`,
      `- patch-level pixel AUROC (the test patches against their piece of the masks): ${pct(e.pixelAuroc, 2)}%`, '',
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

