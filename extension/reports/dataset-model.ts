/**
 * Inspect Dataset's report: `flawscope datasets inspect --json` parsed with one schema and turned
 * into what the panel draws. No `vscode` import; the host adds the thumbnails' webview URLs.
 */
import * as path from 'node:path';
import { z } from 'zod';
import type { DatasetReportView } from '../../shared/protocol';

const size = z.object({ width: z.number(), height: z.number() }).nullable();

/** The fields of the inspect report the panel shows (the CLI prints more). */
export const DatasetJsonSchema = z.object({
  root: z.string(),
  layout: z.string(),
  normalClass: z.string().nullable(),
  normalClassNote: z.string().optional(),
  total: z.number().int(),
  classes: z.array(z.object({ name: z.string(), count: z.number().int(), train: z.number().int().optional(), test: z.number().int().optional(), masks: z.number().int().optional(), anomaly: z.boolean().nullable() })),
  splits: z.object({ train: z.number().int(), test: z.number().int() }).nullable(),
  imageSizes: z.object({ probed: z.number().int(), sampled: z.boolean(), min: size, max: size, common: z.array(z.object({ size: z.string(), count: z.number().int() })) }),
  channels: z.object({ grey: z.number().int(), colour: z.number().int(), alpha: z.number().int(), highBitDepth: z.number().int() }),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  warnings: z.array(z.string()),
  // Reports kept from an older CLI have no samples: the panel then shows no thumbnails.
  samples: z.record(z.array(z.string())).default({}),
});
export type DatasetJson = z.infer<typeof DatasetJsonSchema>;

export function parseDatasetJson(raw: unknown): DatasetJson {
  const r = DatasetJsonSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new Error(`the dataset report is not what this extension reads (field "${issue.path.join('.') || '(top level)'}": ${issue.message}); rebuild the trainer CLI (npm run build) so it matches the extension`);
}

export function buildDatasetReport(r: DatasetJson): DatasetReportView {
  const s = r.imageSizes;
  const range = s.min && s.max ? (s.min.width === s.max.width && s.min.height === s.max.height ? `all ${s.min.width}×${s.min.height}` : `from ${s.min.width}×${s.min.height} to ${s.max.width}×${s.max.height}`) : 'no readable image';
  return {
    root: r.root,
    layout: r.layout,
    normalClass: r.normalClass,
    normalClassNote: r.normalClassNote ?? null,
    total: r.total,
    splits: r.splits,
    classes: r.classes.map((c) => ({ name: c.name, count: c.count, train: c.train ?? null, test: c.test ?? null, masks: c.masks ?? null, role: c.anomaly === null ? 'unknown' : c.anomaly ? 'anomaly' : 'normal' })),
    sizes: s.common.map((c) => ({ label: c.size.replace('x', '×'), count: c.count })),
    sizeNote: `${range}; ${s.sampled ? `headers of ${s.probed} sampled images` : `${s.probed} images`}${s.common.length === 5 ? '; the five most common sizes shown' : ''}`,
    channels: r.channels,
    samples: Object.entries(r.samples).map(([className, files]) => ({ className, images: files.map((p) => ({ path: p, url: null, name: path.basename(p), className, score: null })) })),
    skipped: r.skipped,
    warnings: r.warnings,
  };
}
