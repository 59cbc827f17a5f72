/** `flawscope ablation`: Table 6 — the autoencoder alone, plus each loss alone, and all losses. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { mergeFlagPairs } from '../../args';
import { HELP, jsonSwitch, OptionTable } from '../../cli-schema';
import { PAPER_WEIGHTS, type LossWeights } from '../../losses';
import { benchSpec, classId, defaultCacheDir, parseClasses } from '../bench';
import { DATASET_TITLES, PAPER_TABLE6 } from '../paper';
import { WEIGHT_KEYS } from '../grid';
import { runOne, shellLine, machineDescription } from '../run-one';
import { aurocVsEpochSvg } from '../svg';
import { mdTable, pct, testAurocOf, toCsv } from '../report';
import { BUDGET_OPTIONS, budgetArgs, budgetData, budgetFrom, CACHE_OPTION, DATASET_OPTION, guarded, historySeries, PATH, passOnHelp, progressPrinter, readCommandLine, runWithStop } from './shared';

/** Table 6 rows: the autoencoder alone, + each loss alone, and all losses (Table 2 weights when on). */
export function ablationRows(w: LossWeights = PAPER_WEIGHTS): { id: string; label: string; weights: LossWeights }[] {
  const zero: LossWeights = { recon: 0, abc: 0, normalAdv: 0, patch: 0, latent: 0, anomalyAdv: 0 };
  const rows = [{ id: 'recon', label: 'autoencoder (L_recon only)', weights: { ...zero, recon: w.recon } }];
  const names: Record<string, string> = { patch: 'L_patch', latent: 'L_latent', normalAdv: 'L_adv (normal)', abc: 'L_ABC', anomalyAdv: 'L_adv (anomaly)' };
  for (const k of ['patch', 'latent', 'normalAdv', 'abc', 'anomalyAdv'] as const) rows.push({ id: `recon+${k}`, label: `L_recon + ${names[k]}`, weights: { ...zero, recon: w.recon, [k]: w[k] } });
  rows.push({ id: 'all', label: 'all losses (Table 2 weights)', weights: { ...w } });
  return rows;
}

export const ABLATION_OPTIONS = new OptionTable('ablation option', {
  dataset: { ...DATASET_OPTION, help: `${DATASET_OPTION.help} (default cifar10)` },
  class: { expect: 'a class id or name', schema: z.string().min(1), help: 'CLASS  the normal class (default: bird on CIFAR-10, else 0)' },
  ...BUDGET_OPTIONS,
  out: PATH('DIR  results (default results/ablation-DATASET-BUDGET)'),
  data: PATH("DIR  the benchmark's folder (default: found under shared/)"),
  parallel: { expect: 'an integer from 1 to 16', schema: z.number().int().min(1).max(16), help: 'N  trainings at once (default 1)' },
  cache: CACHE_OPTION,
  json: jsonSwitch('print progress as JSON lines'),
  help: HELP,
});

const ABL_USAGE = `usage: flawscope ablation [--dataset cifar10] [--class bird] [--budget quick|standard|paper] [--out DIR]
                       [--data DIR] [--parallel N] [--epochs N] [--batch N] [--lr X] [--train-per-class N] [--json] [train/reader flags]
  Table 6: trains the autoencoder alone (L_recon), L_recon plus each other loss alone, and all
  losses, with one class normal (default CIFAR-10 bird), and reports the test AUROC of each
  (validation AUROC beside it) in the paper's layout. Resumable like reproduce.
Options:
${ABLATION_OPTIONS.help()}
${passOnHelp('train')}
`;

export async function runAblationCommand(argv: string[]): Promise<number> {
  return guarded('ablation', async () => {
    const { o, pass, help } = readCommandLine(argv, 'ablation', ABLATION_OPTIONS, ABL_USAGE, 'train');
    if (help) { process.stdout.write(ABL_USAGE); return 0; }
    const dataset = o.dataset ?? 'cifar10';
    const b = budgetFrom(o, 'quick');
    const out = resolve(o.out ?? join('results', `ablation-${dataset}-${b.budget}`));
    const cache = o.cache ?? defaultCacheDir();
    const spec = benchSpec(dataset, o.data, cache);
    const data = budgetData(spec, b, cache);
    const [cls] = parseClasses(o.class ?? (dataset === 'cifar10' ? 'bird' : '0'), spec);
    const id = classId(spec, cls);
    const json = o.json === true;
    const parallel = o.parallel ?? 1;
    mkdirSync(join(out, 'runs'), { recursive: true });
    const rows = ablationRows();
    const t0 = Date.now();
    const results = await runWithStop(rows, parallel, async (row, i) => {
        const prefix = `[ablation ${i + 1}/${rows.length} ${row.id}]`;
        const weights = WEIGHT_KEYS.map((k) => `${k}=${row.weights[k]}`).join(',');
        const trainArgs = mergeFlagPairs(['--data', data, '--normal', cls, '--size', String(spec.size)], spec.flags, budgetArgs(b), ['--weights', weights], pass);
        const r = await runOne({ id: row.id, dir: join(out, 'runs', row.id), trainArgs, evalSplit: 'test', meta: { dataset, classId: id, budget: b.label, row: row.id } }, progressPrinter(json, prefix));
        if (!json) process.stdout.write(`${prefix} ${r.status === 'done' ? `test AUROC ${pct(testAurocOf(r), 2)}% (val ${pct(r.valAuroc, 2)}%)` : `${r.status}: ${r.error ?? ''}`}\n`);
        return r;
    });
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
