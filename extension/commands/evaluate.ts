/** Evaluate Model: `flawscope eval --json` on a dataset's test split (else its validation split); the metrics go to the log. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Host } from '../host';
import { pathOf } from '../host';
import type { Datasets } from './datasets';
import type { Models } from './models';

export async function evaluate(host: Host, models: Models, datasets: Datasets, modelPath?: string, dataPath?: string): Promise<unknown> {
  if (host.blockedByTrust()) return null;
  const m = modelPath ?? (await models.pick('Evaluate which model?'))?.path;
  if (!m) return null;
  const data = dataPath ?? (await datasets.pick('Evaluate on which dataset?'));
  if (!data) return null;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flawscope: evaluating ${path.basename(m)}` }, async () => {
    try {
      const args = ['eval', '--model', m, '--data', data, '--json'];
      const r = await host.cli.json<Record<string, unknown>>(args, 30 * 60000).catch((e: Error) => {
        // Folders without an official test split: measure on the held-out validation split.
        if (!/no test split/.test(e.message)) throw e;
        host.log.info(`${data} has no test split: evaluating on its validation split`);
        return host.cli.json<Record<string, unknown>>([...args, '--split', 'validation'], 30 * 60000);
      });
      host.log.info(`evaluation of ${m} on ${data}:\n${JSON.stringify(r, null, 2)}`);
      host.log.show(true);
      return r;
    } catch (e) {
      void vscode.window.showErrorMessage(`Flawscope: evaluation failed: ${(e as Error).message}`);
      return null;
    }
  });
}

export function registerEvaluateCommands(host: Host, models: Models, datasets: Datasets): void {
  host.command('flawscope.evaluateModel', (a?: unknown, data?: unknown) => evaluate(host, models, datasets, pathOf(a), typeof data === 'string' ? data : undefined));
}
