/** Grid Search's report: the ranked table, redrawn as runs finish, with a progress count, an ETA and "Train with these weights". */
import type { GridReportView } from '../../shared/protocol';
import { formatCount, formatDuration, formatPercent } from '../../shared/format';
import { announceReady, el, onMessage, post } from './lib/host';
import { rendered, table } from './lib/report-page';

const app = document.getElementById('app')!;
const head = el('h2', { id: 'title' });
const status = el('p', { id: 'grid-status' });
const body = el('div', { id: 'grid-table' });
app.replaceChildren(el('header', {}, head), el('p', { class: 'muted small', id: 'where' }), status, body);

function render(r: GridReportView): void {
  document.getElementById('where')!.textContent = `data ${r.data} · normal class "${r.normal}" · results in ${r.out}`;
  const of = r.total === null ? '?' : formatCount(r.total);
  const eta = r.etaSec !== null ? ` · about ${formatDuration(r.etaSec)} left` : '';
  const word = { running: 'running', done: 'finished', failed: 'failed', cancelled: 'cancelled' }[r.state];
  status.textContent = `${word}: ${formatCount(r.finished)} of ${of} combinations done · ${formatDuration(r.elapsedSec)} so far${eta}`;
  status.className = `grid-state grid-state-${r.state}`;
  const rows = r.rows.map((row) => {
    const train = el('button', { class: 'train-weights', title: `flawscope train --weights ${row.weights}` }, 'Train with these weights');
    if (row.status !== 'done' || !row.weights) train.setAttribute('disabled', '');
    else train.addEventListener('click', () => post({ type: 'trainWithWeights', weights: row.weights }));
    return [row.rank === null ? row.status : String(row.rank), el('span', { class: 'name' }, row.weights ? row.weights.replace(/,/g, ', ') : row.id), formatPercent(row.valAuroc), row.bestEpoch === null ? '–' : formatCount(row.bestEpoch), row.seconds === null ? '–' : formatDuration(row.seconds), train];
  });
  body.replaceChildren(rows.length ? table(['rank', 'loss weights', 'validation AUROC', 'best epoch', 'training time', ''], rows, 'grid') : el('p', { class: 'muted' }, 'waiting for the first run…'));
  rendered('gridReport', { rows: rows.length, finished: r.finished, total: r.total ?? 0, trainButtons: document.querySelectorAll('button.train-weights:not([disabled])').length });
}

onMessage((m) => {
  if (m.type === 'init' && m.panel === 'gridReport') {
    head.textContent = m.title;
    render(m.report);
  } else if (m.type === 'gridUpdate') render(m.report);
});
announceReady('gridReport');
