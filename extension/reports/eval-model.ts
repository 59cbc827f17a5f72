/**
 * Evaluate Model's report: `flawscope eval --json` parsed with one schema, then turned into what the
 * panel draws (EvalReportView). No `vscode` import (unit-tested in plain Node); the host adds the
 * thumbnails' webview URLs.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { binSeries } from '../../shared/histogram';
import type { EvalReportView, ReportImage } from '../../shared/protocol';

const rate = z.number().min(0).max(1).nullable();
const imageAuroc = z.object({ auroc: rate, images: z.number().int(), normals: z.number().int(), anomalies: z.number().int() });

/** The parts of eval's JSON the report uses (the CLI prints more; unknown fields are ignored). */
export const EvalJsonSchema = z.object({
  model: z.string(),
  data: z.string(),
  normalClass: z.string(),
  split: z.enum(['test', 'validation']),
  count: z.number().int(),
  normals: z.number().int(),
  anomalies: z.number().int(),
  auroc: rate,
  pixelAuroc: rate,
  atModelThreshold: z.object({ threshold: z.number(), precision: rate, recall: rate, f1: rate, accuracy: z.number() }),
  perClass: z.array(z.object({ className: z.string(), count: z.number().int(), anomaly: z.boolean(), auroc: rate, meanScore: z.number().nullable() })),
  sourceAuroc: imageAuroc.nullable(),
  photoAuroc: imageAuroc.extend({ byType: z.array(z.object({ className: z.string(), photos: z.number().int(), auroc: rate })).optional() }).nullable().optional(),
  roc: z.array(z.object({ fpr: z.number(), tpr: z.number() })),
  images: z.array(z.object({ path: z.string(), className: z.string().nullable(), anomaly: z.boolean(), score: z.number() })),
});
export type EvalJson = z.infer<typeof EvalJsonSchema>;

/** Reads eval's JSON; a result from an older CLI (no per-image scores) is refused with what to do. */
export function parseEvalJson(raw: unknown): EvalJson {
  const r = EvalJsonSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.join('.') || '(top level)';
  throw new Error(`the evaluation result is not what this extension reads (field "${field}": ${issue.message}); rebuild the trainer CLI (npm run build) so it matches the extension`);
}

export const HISTOGRAM_BINS = 30;
export const WORST_SHOWN = 8;

/** A record inside an IDX/CIFAR file ("file#index") has no image file of its own to show or open. */
export function isImageFile(p: string): boolean {
  return !/#\d+$/.test(p);
}

function reportImage(i: EvalJson['images'][number]): ReportImage {
  return { path: i.path, url: null, name: path.basename(i.path), className: i.className, score: i.score };
}

export function buildEvalReport(r: EvalJson): EvalReportView {
  const threshold = r.atModelThreshold.threshold;
  const split = r.split;
  const photo = r.photoAuroc ?? null;
  const headline: EvalReportView['headline'] = [];
  // Photo models are used on whole photos: that figure leads, the crop figures follow.
  if (photo) headline.push({ label: `Whole-photo AUROC (${split})`, value: photo.auroc, kind: 'rate', note: `${photo.normals} normal and ${photo.anomalies} defect photos, each scored whole` });
  headline.push({ label: `${photo ? 'Crop' : 'Image'} AUROC (${split})`, value: r.auroc, kind: 'rate', note: `${r.normals} normal and ${r.anomalies} anomalous ${photo ? 'crops' : 'images'}` });
  if (r.sourceAuroc && !photo) headline.push({ label: `Source-image AUROC (${split})`, value: r.sourceAuroc.auroc, kind: 'rate', note: 'highest crop score per image' });
  if (r.pixelAuroc !== null) headline.push({ label: `Pixel AUROC (${split})`, value: r.pixelAuroc, kind: 'rate', note: 'defect masks against the error map' });
  headline.push({ label: `Precision at the threshold (${split})`, value: r.atModelThreshold.precision, kind: 'rate', note: `threshold ${+threshold.toPrecision(4)}, chosen on validation at training` });
  headline.push({ label: `Recall at the threshold (${split})`, value: r.atModelThreshold.recall, kind: 'rate', note: 'share of anomalies flagged' });

  const normals = r.images.filter((i) => !i.anomaly);
  const anomalous = r.images.filter((i) => i.anomaly);
  const h = binSeries([normals.map((i) => i.score), anomalous.map((i) => i.score)], HISTOGRAM_BINS);
  // The scorer flags an image when its score is above the threshold.
  const flagged = (i: { score: number }) => i.score > threshold;
  const confusion = {
    unit: photo || r.sourceAuroc ? ('photo' as const) : ('image' as const),
    tp: anomalous.filter(flagged).length,
    fn: anomalous.filter((i) => !flagged(i)).length,
    fp: normals.filter(flagged).length,
    tn: normals.filter((i) => !flagged(i)).length,
  };
  return {
    model: r.model,
    data: r.data,
    split,
    normalClass: r.normalClass,
    headline,
    roc: r.roc.map((p) => [p.fpr, p.tpr]),
    histogram: { start: h.start, width: h.width, normal: h.counts[0], anomalous: h.counts[1] },
    threshold,
    confusion,
    classes: r.perClass.map((c) => ({ name: c.className, role: c.anomaly ? 'anomaly' : 'normal', count: c.count, auroc: c.auroc, meanScore: c.meanScore })),
    defectTypes: (photo?.byType ?? []).map((t) => ({ name: t.className, photos: t.photos, auroc: t.auroc })),
    // Worst first: the highest-scoring normal images flagged, the lowest-scoring defects let through.
    falsePositives: normals.filter(flagged).sort((a, b) => b.score - a.score).slice(0, WORST_SHOWN).map(reportImage),
    missed: anomalous.filter((i) => !flagged(i)).sort((a, b) => a.score - b.score).slice(0, WORST_SHOWN).map(reportImage),
  };
}
