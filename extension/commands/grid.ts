/**
 * Grid Search (paper §3.4) through the CLI's `grid`: a seeded sample of the valid loss-weight
 * combinations at a quick budget, ranked on validation; opens the results table when done.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Host } from '../host';
import type { Datasets } from './datasets';
import type { Models } from './models';

export interface GridArgs {
  data?: string;
  normal?: string;
  sample?: number;
  budget?: string;
  extraArgs?: string[];
}

export async function gridSearch(host: Host, models: Models, datasets: Datasets, args: GridArgs = {}): Promise<unknown> {
  if (host.blockedByTrust()) return null;
  const data = args.data ?? (await datasets.pick('Grid Search (1/2): dataset'));
  if (!data) return null;
  const normal = args.normal ?? (await datasets.pickNormalClass(data, 'Grid Search (2/2): the normal class'));
  if (!normal) return null;
  const out = path.join(models.folder(), `grid-${normal.replace(/[^\w.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const cliArgs = ['grid', '--data', data, '--normal', normal, '--out', out, '--sample', String(args.sample ?? 8), '--budget', args.budget ?? 'quick', '--json', ...(args.extraArgs ?? [])];
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flawscope: grid search on ${path.basename(data)} (normal: ${normal})`, cancellable: true }, async (_p, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    try {
      const r = await host.cli.json<Record<string, unknown>>(cliArgs, 12 * 3600_000, abort.signal);
      host.log.info(`grid search done: ${JSON.stringify(r)}`);
      const table = path.join(out, 'grid.md');
      if (fs.existsSync(table)) await vscode.window.showTextDocument(vscode.Uri.file(table), { preview: true });
      return { ...r, out };
    } catch (e) {
      if (!abort.signal.aborted) void vscode.window.showErrorMessage(`Flawscope: grid search failed: ${(e as Error).message}`);
      return null;
    }
  });
}

export function registerGridCommands(host: Host, models: Models, datasets: Datasets): void {
  host.command('flawscope.gridSearch', (a?: unknown) => gridSearch(host, models, datasets, a && typeof a === 'object' && !(a instanceof vscode.Uri) ? (a as GridArgs) : {}));
}
