/** `flawscope grid`: the §3.4 loss-weight grid search, ranked on validation AUROC. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { mergeFlagPairs, UsageError } from '../../args';
import { HELP, jsonSwitch, OptionTable, SWITCH } from '../../cli-schema';
import { PAPER_WEIGHTS } from '../../losses';
import { benchSpec, defaultCacheDir, parseClasses } from '../bench';
import { allCombinations, comboId, gridCombinations, PAPER_GRID_COUNT, parseValues, sampleCombinations, GRID_VALUES, WEIGHT_KEYS } from '../grid';
import { runOne, shellLine, machineDescription, writeJsonAtomic } from '../run-one';
import { parseModelInfo } from '../../../scorer/model-format';
import { aurocVsEpochSvg } from '../svg';
import { gridRows } from '../report';
import { BUDGET_OPTIONS, budgetArgs, budgetData, budgetFrom, CACHE_OPTION, DATASET_OPTION, guarded, historySeries, PATH, passOnHelp, progressPrinter, readCommandLine, runWithStop } from './shared';

/** `--values 0.5,1,1.5`: read by parseValues (its message), as a schema so it is refused with the other flags. */
const weightValues = z.string().transform((s, ctx) => {
  try { return parseValues(s); } catch { ctx.addIssue({ code: z.ZodIssueCode.custom }); return z.NEVER; }
});

export const GRID_OPTIONS = new OptionTable('grid option', {
  data: PATH('DIR  the images (or --dataset)'),
  dataset: { ...DATASET_OPTION, help: `${DATASET_OPTION.help}; its test split is left out of the copy trained on` },
  normal: { expect: 'a class name (or id with --dataset)', schema: z.string().min(1), help: 'CLASS  the normal class' },
  out: PATH('DIR  results: grid.md, grid.csv, best-config.json, runs/'),
  values: { expect: 'comma-separated numbers ≥ 0', schema: weightValues, help: 'X,Y,…  values of each loss weight (default 0.5,1,1.5)' },
  ratio: { expect: 'a number from 0 up', schema: z.number().finite().min(0), help: 'R  normal-group sum ≥ R × anomaly-group sum (default 2)' },
  strict: { ...SWITCH, help: '  normal-group sum > R × anomaly-group sum instead' },
  sample: { expect: 'an integer from 1 up', schema: z.number().int().min(1), help: 'N  a seeded random N of the valid combinations' },
  gridSeed: { expect: 'an integer', schema: z.number().int(), help: 'N  seed of that draw (default 1)' },
  includePaper: { ...SWITCH, help: '  also run the Table 2 weights' },
  parallel: { expect: 'an integer from 1 to 64', schema: z.number().int().min(1).max(64), help: 'N  trainings at once (default 1)' },
  ...BUDGET_OPTIONS,
  cache: CACHE_OPTION,
  dryRun: { ...SWITCH, help: '  only count and list the combinations' },
  json: jsonSwitch('print progress as JSON lines'),
  help: HELP,
});

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
Options:
${GRID_OPTIONS.help()}
${passOnHelp('train')}
`;

export async function runGridCommand(argv: string[]): Promise<number> {
  return guarded('grid', async () => {
    const { o, pass, help } = readCommandLine(argv, 'grid', GRID_OPTIONS, GRID_USAGE, 'train');
    if (help) { process.stdout.write(GRID_USAGE); return 0; }
    const values = o.values ?? [...GRID_VALUES];
    const ratio = o.ratio ?? 2;
    const strict = o.strict === true;
    const all = allCombinations(values);
    const valid = strict ? all.filter((w) => w.recon + w.patch + w.latent + w.normalAdv > ratio * (w.abc + w.anomalyAdv) + 1e-9) : gridCombinations(values, ratio);
    const chosen = sampleCombinations(valid, o.sample ?? valid.length, o.gridSeed ?? 1);
    // --include-paper: the Table 2 weights run too (when they are in the grid and not drawn already).
    if (o.includePaper === true && valid.some((w) => comboId(w) === comboId(PAPER_WEIGHTS)) && !chosen.some((w) => comboId(w) === comboId(PAPER_WEIGHTS))) chosen.push({ ...PAPER_WEIGHTS });
    const json = o.json === true;
    const parallel = o.parallel ?? 1;
    const countLine = `${all.length} combinations of {${values.join(', ')}}^6; ${valid.length} satisfy normal-group sum ${strict ? '>' : '≥'} ${ratio} × anomaly-group sum (paper §3.4: ${PAPER_GRID_COUNT}); running ${chosen.length}`;
    if (o.dryRun === true) {
      if (json) process.stdout.write(JSON.stringify({ values, ratio, strict, total: all.length, valid: valid.length, paper: PAPER_GRID_COUNT, chosen: chosen.map((w) => ({ id: comboId(w), ...w })) }) + '\n');
      else process.stdout.write(countLine + '\n' + chosen.map((w) => comboId(w)).join('\n') + '\n');
      return 0;
    }
    const out = o.out;
    const b = budgetFrom(o, 'quick');
    let data = o.data;
    let normal = o.normal;
    if (o.dataset) {
      const dataset = o.dataset;
      const cache = o.cache ?? defaultCacheDir();
      const spec = benchSpec(dataset, data, cache);
      if (!normal) throw new UsageError('--normal CLASS is required with --dataset');
      normal = parseClasses(normal, spec)[0];
      data = budgetData(spec, b, cache, false);
      pass.unshift('--size', String(spec.size), ...spec.flags);
    } else if (o.trainPerClass !== undefined) throw new UsageError('--train-per-class needs --dataset');
    if (!data) throw new UsageError(`--data DIR (or --dataset NAME) is required\n${GRID_USAGE}`);
    if (!existsSync(data)) throw new UsageError(`--data ${data}: not found`);
    if (!out) throw new UsageError(`--out DIR is required\n${GRID_USAGE}`);
    mkdirSync(join(out, 'runs'), { recursive: true });
    if (!json) process.stdout.write(countLine + `; ${parallel} at a time; budget ${b.label}\n`);
    const t0 = Date.now();
    const results = await runWithStop(chosen, parallel, async (w, i) => {
        const id = comboId(w);
        const prefix = `[grid ${i + 1}/${chosen.length} ${id}]`;
        const weights = WEIGHT_KEYS.map((k) => `${k}=${w[k]}`).join(',');
        const trainArgs = mergeFlagPairs(['--data', data, ...(normal ? ['--normal', normal] : [])], budgetArgs(b), ['--weights', weights], pass);
        const r = await runOne({ id, dir: join(out, 'runs', id), trainArgs, evalSplit: null, meta: { weights: w } }, progressPrinter(json, prefix));
        if (!json) process.stdout.write(`${prefix} ${r.status === 'done' ? `val AUROC ${r.valAuroc?.toFixed(4) ?? '–'}` : `${r.status}: ${r.error ?? ''}`}\n`);
        return r.weights ? r : { ...r, weights: w };
    });
    const { ranked, csv, md } = gridRows(results);
    writeFileSync(join(out, 'grid.csv'), csv);
    const best = ranked.find((r) => r.status === 'done' && r.valAuroc !== null);
    let bestNote = 'no run finished';
    if (best) {
      const infoPath = join(out, 'runs', best.id, 'model', 'flawscope.json');
      const model = parseModelInfo(JSON.parse(readFileSync(infoPath, 'utf8')), infoPath);
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

