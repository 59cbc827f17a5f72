/**
 * Evaluate Model: `flawscope eval --json` on a dataset's test split (else its validation split),
 * shown as a rendered report (AUROC, ROC curve, score histogram with the threshold, confusion
 * counts, per-class table, the worst false positives and missed defects).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatPercent } from '../../shared/format';
import type { Host } from '../host';
import { pathOf } from '../host';
import { buildEvalReport, parseEvalJson, type EvalJson } from '../reports/eval-model';
import { notifyFailure, notifyReport } from '../reports/notify';
import type { Reports } from '../reports/report-panels';
import type { Datasets } from './datasets';
import type { Models } from './models';

export async function evaluate(host: Host, reports: Reports, models: Models, datasets: Datasets, modelPath?: string, dataPath?: string): Promise<EvalJson | null> {
  if (host.blockedByTrust()) return null;
  const m = modelPath ?? (await models.pick('Evaluate which model?'))?.path;
  if (!m) return null;
  const data = dataPath ?? (await datasets.pick('Evaluate on which dataset?'));
  if (!data) return null;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flawscope: evaluating ${path.basename(m)}` }, async () => {
    try {
      // A folder known to have no official test split is measured on its held-out validation split
      // straight away (asking for the test split first would log a failure that is none).
      const known = datasets.report(data);
      const noTestSplit = known !== undefined && !('error' in known) && known.splits === null;
      const args = ['eval', '--model', m, '--data', data, '--json', ...(noTestSplit ? ['--split', 'validation'] : [])];
      const raw = await host.cli.json<unknown>(args, 30 * 60000).catch((e: Error) => {
        // Folders without an official test split: measure on the held-out validation split.
        if (!/no test split/.test(e.message)) throw e;
        host.log.info(`${data} has no test split: evaluating on its validation split`);
        return host.cli.json<unknown>([...args, '--split', 'validation'], 30 * 60000);
      });
      const r = parseEvalJson(raw);
      const report = buildEvalReport(r);
      const lead = report.headline[0];
      const title = `Evaluation: ${path.basename(m)} on ${path.basename(data)} (${r.split})`;
      const panel = reports.open({ type: 'init', panel: 'evalReport', title, report }, [data]);
      host.log.info(`evaluated ${m} on ${data} (${r.split} split, ${r.count} images): ${report.headline.map((h) => `${h.label} ${formatPercent(h.value)}`).join(', ')}`);
      notifyReport(`evaluation of ${path.basename(m)} finished: ${lead.label} ${formatPercent(lead.value)}.`, panel);
      return r;
    } catch (e) {
      notifyFailure(host.log, `evaluating ${path.basename(m)} on ${path.basename(data)} failed`, e, 'Check that the dataset has the model’s classes, or see the log.');
      return null;
    }
  });
}

export function registerEvaluateCommands(host: Host, reports: Reports, models: Models, datasets: Datasets): void {
  host.command('flawscope.evaluateModel', (a?: unknown, data?: unknown) => evaluate(host, reports, models, datasets, pathOf(a), typeof data === 'string' ? data : undefined));
}
