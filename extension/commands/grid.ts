/**
 * Grid Search (paper §3.4) through the CLI's `grid --json`: a seeded sample of the valid
 * loss-weight combinations at a quick budget, ranked on validation. The report panel shows the
 * ranked table as runs finish, with a progress count and an ETA, and "Train with these weights".
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatDuration, formatPercent } from '../../shared/format';
import type { Host } from '../host';
import { GridProgress } from '../reports/grid-model';
import { notifyFailure, notifyReport } from '../reports/notify';
import type { Reports } from '../reports/report-panels';
import type { Datasets } from './datasets';
import type { Models } from './models';

export interface GridArgs {
  data?: string;
  normal?: string;
  sample?: number;
  budget?: string;
  extraArgs?: string[];
}

/** How often the panel is redrawn while runs report epochs (each redraw posts the whole table). */
const REDRAW_MS = 500;

export async function gridSearch(host: Host, reports: Reports, models: Models, datasets: Datasets, args: GridArgs = {}): Promise<unknown> {
  if (host.blockedByTrust()) return null;
  const data = args.data ?? (await datasets.pick('Grid Search (1/2): dataset'));
  if (!data) return null;
  const normal = args.normal ?? (await datasets.pickNormalClass(data, 'Grid Search (2/2): the normal class'));
  if (!normal) return null;
  const out = path.join(models.folder(), `grid-${normal.replace(/[^\w.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const cliArgs = ['grid', '--data', data, '--normal', normal, '--out', out, '--sample', String(args.sample ?? 8), '--budget', args.budget ?? 'quick', '--json', ...(args.extraArgs ?? [])];
  const progress = new GridProgress({ data, normal, out });
  const panel = reports.open({ type: 'init', panel: 'gridReport', title: `Grid search: ${path.basename(data)} (normal: ${normal})`, report: progress.view() }, [out]);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flawscope: grid search on ${path.basename(data)} (normal: ${normal})`, cancellable: true }, async (bar, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    // Set from inside the line callback, so TypeScript cannot narrow a plain `let`.
    const finished: { result: Record<string, unknown> | null } = { result: null };
    let lastDraw = 0;
    const redraw = (force = false) => {
      if (!force && Date.now() - lastDraw < REDRAW_MS) return;
      lastDraw = Date.now();
      const v = progress.view();
      if (!panel.isDisposed) panel.updateGrid(v);
      bar.report({ message: `${v.finished}/${v.total ?? '?'} finished${v.etaSec !== null ? `, about ${formatDuration(v.etaSec)} left` : ''}` });
    };
    try {
      const { code, stderrTail } = await host.cli.lines(cliArgs, (line) => {
        if (line.includes('"grid-done"')) finished.result = JSON.parse(line) as Record<string, unknown>;
        if (progress.push(line)) redraw();
      }, abort.signal);
      if (abort.signal.aborted) {
        progress.finish('cancelled');
        redraw(true);
        host.log.info(`grid search on ${data} cancelled; finished runs are in ${out}`);
        return null;
      }
      const result = finished.result;
      if (!result) {
        progress.finish('failed');
        redraw(true);
        throw new Error(stderrTail.at(-1) ?? `the CLI exited with code ${code}`);
      }
      progress.finish('done');
      redraw(true);
      const best = progress.view().rows.find((r) => r.rank === 1);
      host.log.info(`grid search done: ${JSON.stringify(result)}`);
      notifyReport(`grid search finished: ${best ? `best ${best.weights} (validation AUROC ${formatPercent(best.valAuroc)})` : 'no run finished'}.`, panel);
      return { ...result, out };
    } catch (e) {
      notifyFailure(host.log, `grid search on ${path.basename(data)} failed`, e, 'The runs that finished are in the report.');
      return null;
    }
  });
}

export function registerGridCommands(host: Host, reports: Reports, models: Models, datasets: Datasets): void {
  host.command('flawscope.gridSearch', (a?: unknown) => gridSearch(host, reports, models, datasets, a && typeof a === 'object' && !(a instanceof vscode.Uri) ? (a as GridArgs) : {}));
}
