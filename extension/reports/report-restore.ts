/**
 * Report panels after a window reload (extension/restore.ts): the page kept the report it showed
 * and the folders its thumbnails come from; the restored panel shows that report again without
 * running the evaluation, inspection or grid search again. The saved state comes back from the
 * webview, so it is parsed in full here, each view by a schema kept equal to shared/protocol.ts's
 * type (`satisfies`), before anything is shown.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import type { DatasetReportView, EvalReportView, GridReportView, ReportImage, ReportKind } from '../../shared/protocol';
import type { Restorer } from '../restore';
import { REPORT_VIEW_TYPES, type ReportInit, type Reports } from './report-panels';

const num = z.number();
const numOrNull = z.number().nullable();
const role = z.enum(['normal', 'anomaly']);

const imageSchema = z.object({ path: z.string(), url: z.string().nullable(), name: z.string(), className: z.string().nullable(), score: numOrNull }) satisfies z.ZodType<ReportImage>;

const evalSchema = z.object({
  model: z.string(),
  data: z.string(),
  split: z.enum(['test', 'validation']),
  normalClass: z.string(),
  headline: z.array(z.object({ label: z.string(), value: numOrNull, kind: z.enum(['rate', 'count']), note: z.string() })),
  roc: z.array(z.tuple([num, num])),
  histogram: z.object({ start: num, width: num, normal: z.array(num), anomalous: z.array(num) }),
  threshold: num,
  confusion: z.object({ unit: z.enum(['image', 'photo']), tp: num, fp: num, fn: num, tn: num }),
  classes: z.array(z.object({ name: z.string(), role, count: num, auroc: numOrNull, meanScore: numOrNull })),
  defectTypes: z.array(z.object({ name: z.string(), photos: num, auroc: numOrNull })),
  falsePositives: z.array(imageSchema),
  missed: z.array(imageSchema),
}) satisfies z.ZodType<EvalReportView>;

const datasetSchema = z.object({
  root: z.string(),
  layout: z.string(),
  normalClass: z.string().nullable(),
  normalClassNote: z.string().nullable(),
  total: num,
  splits: z.object({ train: num, test: num }).nullable(),
  classes: z.array(z.object({ name: z.string(), count: num, train: numOrNull, test: numOrNull, masks: numOrNull, role: z.enum(['normal', 'anomaly', 'unknown']) })),
  sizes: z.array(z.object({ label: z.string(), count: num })),
  sizeNote: z.string(),
  channels: z.object({ grey: num, colour: num, alpha: num, highBitDepth: num }),
  samples: z.array(z.object({ className: z.string(), images: z.array(imageSchema) })),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  warnings: z.array(z.string()),
}) satisfies z.ZodType<DatasetReportView>;

const gridSchema = z.object({
  data: z.string(),
  normal: z.string(),
  out: z.string(),
  total: numOrNull,
  finished: num,
  elapsedSec: num,
  etaSec: numOrNull,
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  rows: z.array(
    z.object({ rank: numOrNull, id: z.string(), weights: z.string(), status: z.enum(['running', 'done', 'failed']), valAuroc: numOrNull, bestEpoch: numOrNull, seconds: numOrNull }),
  ),
}) satisfies z.ZodType<GridReportView>;

const initSchema = z.discriminatedUnion('panel', [
  z.object({ type: z.literal('init'), panel: z.literal('evalReport'), title: z.string(), report: evalSchema }),
  z.object({ type: z.literal('init'), panel: z.literal('datasetReport'), title: z.string(), report: datasetSchema }),
  z.object({ type: z.literal('init'), panel: z.literal('gridReport'), title: z.string(), report: gridSchema }),
]) satisfies z.ZodType<ReportInit>;

/** What ReportPanel.restoreData saves: the report as shown, and the folders its thumbnails come from. */
export const reportRestoreSchema = z.object({ init: initSchema, dataRoots: z.array(z.string()) });
export type ReportRestoreState = z.infer<typeof reportRestoreSchema>;

/** Brings the report panel of `kind` back with the report it showed (nothing is run again). */
export function reportRestorer(reports: Reports, kind: ReportKind): Restorer<ReportRestoreState> {
  return {
    viewType: REPORT_VIEW_TYPES[kind],
    schema: reportRestoreSchema,
    restore: (panel, st) => {
      if (st.init.panel !== kind) throw new Error(`its report is for the ${st.init.panel} panel, not the ${kind} panel`);
      // A data folder gone since: the report still shows, without its thumbnails.
      reports.adopt(panel, st.init, st.dataRoots.filter((r) => fs.existsSync(r)));
    },
  };
}
