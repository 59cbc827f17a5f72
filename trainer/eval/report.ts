/**
 * Reports: Markdown tables (Table 5 and Table 6 layouts, grid rankings), CSV, a self-contained
 * HTML page with the SVG charts inlined. Numbers are printed as they were measured; missing ones
 * as "–".
 */
import { DATASET_TITLES, PAPER_TABLE5, CLASS_NAMES, type BenchDataset } from './paper';
import type { EvalResult } from './evaluate';
import type { RunResult } from './run-one';
import { comboId, WEIGHT_KEYS } from './grid';
import { PAPER_WEIGHTS } from '../losses';
import { escapeXml } from './svg';
import { scoreLabel } from '../../scorer/model-format';

export const pct = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : (100 * x).toFixed(d));
const num = (x: number | null | undefined, d = 4): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

export function meanSd(xs: number[]): { mean: number | null; sd: number | null } {
  if (!xs.length) return { mean: null, sd: null };
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  // Population SD over the classes, as such tables usually report it.
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
  return { mean: m, sd };
}

export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : '') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n';
}

export function mdTable(header: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  return [`| ${header.join(' | ')} |`, `|${a.map((x) => (x === 'l' ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

/** The test AUROC of a run, measured through the scorer (falls back to the trainer's own figure). */
export function testAurocOf(r: RunResult): number | null {
  return r.eval && r.eval.split === 'test' ? r.eval.auroc : r.trainerTestAuroc;
}

export const REPRODUCE_CSV_HEADER = ['dataset', 'class_id', 'class', 'budget', 'test_auroc', 'test_auroc_mean_score', 'test_auroc_top_patch', 'score_kind', 'trainer_test_auroc', 'val_auroc', 'best_epoch', 'epochs', 'batch', 'lr', 'size', 'train_normal', 'train_anomaly', 'validation', 'test', 'images_seen', 'train_seconds', 'wall_seconds', 'backend', 'status'];

export function reproduceCsvRow(r: RunResult): unknown[] {
  const m = r.meta as { dataset?: string; classId?: string; budget?: string };
  return [m.dataset, m.classId, r.normalClass, m.budget, testAurocOf(r), r.eval?.aurocMean, r.eval?.aurocTopPatch, r.eval?.kind, r.trainerTestAuroc, r.valAuroc, r.bestEpoch, r.history.length, r.batch, r.lr, r.size,
    r.counts?.trainNormal, r.counts?.trainAnomaly, r.counts?.validation, r.counts?.test, r.imagesSeen, r.trainSeconds, r.wallSeconds, r.backend, r.status];
}

/**
 * Table 5 layout: one row per normal class, then avg and SD; columns ARNet, the paper, ours.
 * `runs` are keyed by class id ('0'..'9').
 */
export function table5Markdown(dataset: BenchDataset, runs: Map<string, RunResult>, classIds: string[], ourLabel: string): string {
  const ref = PAPER_TABLE5[dataset];
  const names = CLASS_NAMES[dataset];
  const rows: string[][] = [];
  const ours: number[] = [];
  for (const id of classIds) {
    const r = runs.get(id);
    const a = r ? testAurocOf(r) : null;
    if (a !== null) ours.push(a);
    const name = names?.[Number(id)] ?? id;
    rows.push([name === id ? id : `${id} (${name})`, ref ? (ref.arnet.perClass[id]?.toFixed(1) ?? '–') : '–', ref ? (ref.ours.perClass[id]?.toFixed(1) ?? '–') : '–', r?.status === 'done' ? pct(a) : r ? r.status : 'not run']);
  }
  const { mean, sd } = meanSd(ours);
  const complete = ours.length === classIds.length && classIds.length === (names?.length ?? classIds.length);
  rows.push([`**avg**${complete ? '' : ` (${ours.length} of ${names?.length ?? classIds.length} classes)`}`, ref?.arnet.average?.toFixed(1) ?? '–', ref?.ours.average?.toFixed(1) ?? '–', `**${pct(mean)}**`]);
  rows.push(['SD', ref?.arnet.sd?.toFixed(1) ?? '–', ref?.ours.sd?.toFixed(1) ?? '–', pct(sd)]);
  return `### ${DATASET_TITLES[dataset]} — test AUROC (%), one class normal, the rest anomalies (§4.1)\n\n` + mdTable(['normal class', 'ARNet', 'Kim et al. (paper)', `Flawscope (${ourLabel})`], rows);
}

export const REFERENCE_NOTE = `Reference columns: the paper's and ARNet's averages are the figures of Kim et al. (2020) Table 5 (as given in issue 8). Their per-class cells are left "–" except four figures of Kim et al. quoted in shared/bench/README.md (MNIST 1: 99.9, MNIST 8: 99.5, Fashion-MNIST 6: 95.9, CIFAR-10 bird: 86.9): we did not have the paper's table at hand and show a gap rather than a number we cannot check. SD of the references is not known to us. Our SD is the population SD over the classes run.`;

export function evalMarkdown(title: string, r: EvalResult & { split?: string }, extra: { model: string; data: string; command?: string; rocFile?: string }): string {
  const lines: string[] = [];
  lines.push(`# ${title}`, '');
  lines.push(`- model: \`${extra.model}\``, `- data: \`${extra.data}\`${r.split ? ` (${r.split} split)` : ''}: ${r.count} images, ${r.normals} normal, ${r.anomalies} anomalous`);
  if (extra.command) lines.push(`- command: \`${extra.command}\``);
  lines.push(`- scored with the Flawscope scorer at ${r.imagesPerSecond.toFixed(0)} images/s (${r.seconds.toFixed(1)} s)`, '');
  lines.push(mdTable(['metric', 'value'], [
    [`image AUROC (model's score: ${scoreLabel(r)})`, num(r.auroc)],
    ['image AUROC, mean-L1 score', num(r.aurocMean)],
    ['image AUROC, top-patch score', num(r.aurocTopPatch)],
    ['pixel AUROC (masks)', r.pixelAuroc === null ? 'no masks' : num(r.pixelAuroc)],
    ...(r.sourceAuroc ? [[`source-image AUROC (max over crops; ${r.sourceAuroc.normals} normal, ${r.sourceAuroc.anomalies} defect images)`, num(r.sourceAuroc.auroc)]] : []),
    ...(r.photoAuroc ? [[`whole-photo AUROC (each photo tiled as \`flawscope score\` does${r.photoAuroc.tileStride ? `, tiles ${r.photoAuroc.tileStride} px apart` : ''}; ${r.photoAuroc.normals} normal, ${r.photoAuroc.anomalies} defect photos)`, num(r.photoAuroc.auroc)]] : []),
    ...(r.photoAuroc?.byType ?? []).map((t) => [`whole-photo AUROC, ${t.className} (${t.photos} photos) vs the normal photos`, num(t.auroc)]),
    [`at the model's threshold ${num(r.atModelThreshold.threshold, 5)}: precision / recall / F1`, `${num(r.atModelThreshold.precision, 3)} / ${num(r.atModelThreshold.recall, 3)} / ${num(r.atModelThreshold.f1, 3)}`],
    [`F1-optimal threshold on this set (optimistic)`, `${num(r.f1Optimal.threshold, 5)} (F1 ${num(r.f1Optimal.f1, 3)})`],
  ], ['l', 'r']));
  if (r.perClass.length) {
    lines.push('', '## Per class', '', 'AUROC of the normal images against the images of each anomaly class alone.', '');
    lines.push(mdTable(['class', 'images', 'role', 'mean score', 'AUROC vs normal'], r.perClass.map((c) => [c.className, String(c.count), c.anomaly ? 'anomaly' : 'normal', num(c.meanScore, 5), c.anomaly ? num(c.auroc) : '']), ['l', 'r', 'l', 'r', 'r']));
  }
  if (extra.rocFile) lines.push('', `![ROC curve](${extra.rocFile})`);
  return lines.join('\n') + '\n';
}

export function htmlPage(title: string, markdownish: string, svgs: string[]): string {
  // A plain page: the Markdown text in <pre> (tables stay aligned) and the charts inline.
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeXml(title)}</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}pre{white-space:pre-wrap;font-size:13px}</style></head>\n<body>\n<h1>${escapeXml(title)}</h1>\n${svgs.join('\n')}\n<pre>${escapeXml(markdownish)}</pre>\n</body></html>\n`;
}

export const GRID_CSV_HEADER = ['rank', 'id', ...WEIGHT_KEYS, 'normal_sum', 'anomaly_sum', 'val_auroc', 'best_epoch', 'epochs', 'train_seconds', 'status'];

export function gridRows(results: RunResult[]): { ranked: RunResult[]; csv: string; md: string } {
  const ranked = results.slice().sort((a, b) => (b.valAuroc ?? -1) - (a.valAuroc ?? -1));
  const rows = ranked.map((r, i) => {
    const w = r.weights!;
    const ns = w ? w.recon + w.patch + w.latent + w.normalAdv : null;
    const as = w ? w.abc + w.anomalyAdv : null;
    return [r.status === 'done' ? i + 1 : '', w ? comboId(w) : r.id, ...WEIGHT_KEYS.map((k) => w?.[k]), ns, as, r.valAuroc, r.bestEpoch, r.history.length, r.trainSeconds, r.status];
  });
  const csv = toCsv(GRID_CSV_HEADER, rows);
  const paper = comboId(PAPER_WEIGHTS);
  const md = mdTable(['rank', ...WEIGHT_KEYS, 'val AUROC', 'best epoch', 'train s'], ranked.map((r, i) => [(r.status === 'done' ? String(i + 1) : r.status) + (r.weights && comboId(r.weights) === paper ? ' (Table 2)' : ''), ...WEIGHT_KEYS.map((k) => String(r.weights?.[k] ?? '–')), num(r.valAuroc), String(r.bestEpoch ?? '–'), r.trainSeconds.toFixed(0)]));
  return { ranked, csv, md };
}
