/** Inspect Dataset's report: counts per split and class, image sizes, sample thumbnails per class, skipped files with reasons. */
import type { DatasetReportView } from '../../shared/protocol';
import { formatCount } from '../../shared/format';
import { announceReady, el, onMessage, post } from './lib/host';
import { PALETTE, drawLabelledBars } from './lib/plot';
import { rendered, section, table, thumbnails } from './lib/report-page';

const app = document.getElementById('app')!;

function render(title: string, r: DatasetReportView): void {
  const split = r.splits !== null;
  const classRows = r.classes.map((c) => [c.name, c.role, formatCount(c.count), ...(split ? [formatCount(c.train), formatCount(c.test)] : []), ...(c.masks !== null ? [formatCount(c.masks)] : [])]);
  const hasMasks = r.classes.some((c) => c.masks !== null);
  const sizes = el('canvas', { id: 'sizes', class: 'plot bars' });
  const ch = r.channels;
  const open = (i: { path: string }) => post({ type: 'openFile', path: i.path });
  app.replaceChildren(
    el('header', {}, el('h2', { id: 'title' }, title)),
    el('p', { class: 'muted small' }, `${r.root} · layout ${r.layout}`),
    el('p', {}, `${formatCount(r.total)} images${split ? ` (train ${formatCount(r.splits!.train)}, test ${formatCount(r.splits!.test)})` : ''} · normal class: ${r.normalClass ?? `not detected (${r.normalClassNote ?? 'choose it when training'})`}`),
    section('Classes', table(['class', 'role', 'images', ...(split ? ['train', 'test'] : []), ...(hasMasks ? ['masks'] : [])], classRows, 'classes')),
    section('Image sizes', sizes, el('p', { class: 'muted small' }, `${r.sizeNote} · ${formatCount(ch.grey)} greyscale, ${formatCount(ch.colour)} colour${ch.alpha ? `, ${formatCount(ch.alpha)} with alpha` : ''}${ch.highBitDepth ? `, ${formatCount(ch.highBitDepth)} 16-bit` : ''}`)),
    section('Samples per class (click to open)', ...(r.samples.length ? r.samples.map((s) => el('div', { class: 'sample-class' }, el('h4', {}, s.className), thumbnails(s.images, (i) => i.name, open))) : [el('p', { class: 'muted' }, 'no image files to show (records inside IDX/CIFAR files)')])),
    section(`Skipped files (${formatCount(r.skipped.length)})`, r.skipped.length ? table(['file', 'reason'], r.skipped.map((k) => [el('span', { class: 'name' }, k.path), k.reason]), 'skipped') : el('p', { class: 'muted' }, 'none')),
    ...(r.warnings.length ? [section('Warnings', el('ul', {}, ...r.warnings.map((w) => el('li', {}, w))))] : []),
  );
  const draw = () => drawLabelledBars(sizes, r.sizes, { title: 'Most common image sizes (images)', color: PALETTE[0] });
  draw();
  window.onresize = draw;
  rendered('datasetReport', {
    classRows: classRows.length,
    sizeBars: r.sizes.length,
    sampleClasses: r.samples.length,
    thumbnails: document.querySelectorAll('img.report-thumb').length,
    skippedRows: r.skipped.length,
  });
}

onMessage((m) => {
  if (m.type === 'init' && m.panel === 'datasetReport') render(m.title, m.report);
});
announceReady('datasetReport');
