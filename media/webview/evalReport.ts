/** Evaluate Model's report: headline AUROC, ROC curve, score histogram with the threshold, confusion counts, per-class table, worst cases. */
import type { EvalReportView } from '../../shared/protocol';
import { formatCount, formatPercent, formatScore } from '../../shared/format';
import { announceReady, el, onMessage, post } from './lib/host';
import { PALETTE, drawHistogram, drawPlot } from './lib/plot';
import { figures, rendered, section, table, thumbnails } from './lib/report-page';

const app = document.getElementById('app')!;
let report: EvalReportView | null = null;
let title = '';

function render(r: EvalReportView): void {
  const roc = el('canvas', { id: 'roc', class: 'plot square' });
  const hist = el('canvas', { id: 'histogram', class: 'plot' });
  const c = r.confusion;
  const unit = c.unit === 'photo' ? 'photos' : 'images';
  const classRows = r.classes.map((k) => [k.name, k.role, formatCount(k.count), k.role === 'normal' ? '—' : formatPercent(k.auroc), formatScore(k.meanScore)]);
  const open = (p: { path: string }) => post({ type: 'showHeatmap', path: p.path });
  const caption = (i: { className: string | null; score: number | null; name: string }) => `${i.className ?? ''} · ${formatScore(i.score)}`;
  app.replaceChildren(
    el('header', {}, el('h2', { id: 'title' }, title)),
    el('p', { class: 'muted small' }, `model ${r.model} · data ${r.data} · ${r.split} split · normal class "${r.normalClass}"`),
    figures(r.headline.map((h) => ({ label: h.label, value: h.kind === 'rate' ? formatPercent(h.value) : formatCount(h.value), note: h.note }))),
    el('div', { class: 'plots' }, roc, hist),
    section(
      `At the threshold ${formatScore(r.threshold)} (${unit})`,
      table(['', 'flagged anomalous', 'passed as normal'], [
        ['anomalous', el('span', { class: 'count good-count', id: 'tp' }, formatCount(c.tp)), el('span', { class: `count ${c.fn ? 'bad-count' : 'good-count'}`, id: 'fn' }, `${formatCount(c.fn)} missed`)],
        ['normal', el('span', { class: `count ${c.fp ? 'bad-count' : 'good-count'}`, id: 'fp' }, `${formatCount(c.fp)} false alarms`), el('span', { class: 'count good-count', id: 'tn' }, formatCount(c.tn))],
      ], 'confusion'),
    ),
    section('Per class', table(['class', 'role', 'images', 'AUROC vs normal', 'mean score'], classRows, 'classes')),
    ...(r.defectTypes.length ? [section('Per defect type (whole photos)', table(['defect type', 'photos', 'AUROC vs normal photos'], r.defectTypes.map((t) => [t.name, formatCount(t.photos), formatPercent(t.auroc)]), 'defect-types'))] : []),
    section(`Worst false positives (normal ${unit} flagged; click for the heatmap)`, r.falsePositives.length ? thumbnails(r.falsePositives, caption, open) : el('p', { class: 'muted' }, 'none at this threshold')),
    section(`Missed defects (anomalous ${unit} passed; click for the heatmap)`, r.missed.length ? thumbnails(r.missed, caption, open) : el('p', { class: 'muted' }, 'none at this threshold')),
  );
  const draw = () => {
    drawPlot(roc, [{ name: `ROC (${r.split})`, color: PALETTE[0], points: r.roc }], { title: `ROC curve (${r.split})`, xLabel: 'false positive rate', yMin: 0, yMax: 1, square: true, diagonal: true });
    drawHistogram(hist, { start: r.histogram.start, width: r.histogram.width, series: [{ name: 'normal', color: PALETTE[0], counts: r.histogram.normal }, { name: 'anomalous', color: PALETTE[2], counts: r.histogram.anomalous }], marker: { x: r.threshold, label: `threshold ${formatScore(r.threshold)}` } }, { title: `Score histogram (${r.split})`, xLabel: 'score' });
  };
  draw();
  window.onresize = draw;
  rendered('evalReport', {
    figures: r.headline.length,
    rocPoints: r.roc.length,
    histogramImages: [...r.histogram.normal, ...r.histogram.anomalous].reduce((a, b) => a + b, 0),
    classRows: classRows.length,
    defectTypeRows: r.defectTypes.length,
    falsePositives: r.falsePositives.length,
    missed: r.missed.length,
    thumbnails: document.querySelectorAll('img.report-thumb').length,
  });
}

onMessage((m) => {
  if (m.type === 'init' && m.panel === 'evalReport') {
    report = m.report;
    title = m.title;
    render(report);
  }
});
announceReady('evalReport');
