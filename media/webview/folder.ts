/**
 * Score Folder: every image scored, in a table sortable by any column (click or Enter on a header),
 * filterable by verdict, walked with the arrow keys; a click or Enter on a row shows its heatmap in
 * the score panel. Stop ends the work; ROC + AUROC; CSV export; "Use this folder to set the
 * threshold" on a labelled folder. The pure parts are in shared/folder-table.ts.
 */
import type { FolderItem, FolderSort, FolderSortKey, HostToWebview, ModelRef, ScorerRef, Verdict } from '../../shared/protocol';
import { VERDICTS } from '../../shared/protocol';
import { folderRoc, toCsv } from '../../shared/folder-math';
import { DEFAULT_SORT, ariaSort, filterRows, moveSelection, nextSort, sortRows, type TableRow } from '../../shared/folder-table';
import { announceReady, el, onMessage, post } from './lib/host';
import { PALETTE, drawPlot } from './lib/plot';
import { loadImage, loadScorer, type ScorerInstance } from './lib/scorer';
import { describePercentile, type ScorePercentile } from '../../scorer/percentile';

const VERDICT_CLASS = { normal: 'good', anomaly: 'bad', unfamiliar: 'unfamiliar' } as const;
const COLUMNS: { key: FolderSortKey | null; title: string }[] = [
  { key: null, title: '#' }, { key: null, title: '' }, { key: 'name', title: 'image' }, { key: 'className', title: 'class' },
  { key: 'score', title: 'how unusual' }, { key: 'verdict', title: 'verdict' }, { key: 'label', title: 'label' },
];

interface Row extends TableRow {
  item: FolderItem;
  isAnomaly: boolean;
  reasons: string[];
  percentile: ScorePercentile | null;
  /** The scorer's own verdict: 'unfamiliar' stands whatever the threshold. */
  familiar: boolean;
}

const app = document.getElementById('app')!;
const head = el('h2', { id: 'title' });
const backendBadge = el('span', { id: 'backend', class: 'badge' });
const status = el('p', { id: 'status', class: 'muted', role: 'status' });
const aurocText = el('p', { id: 'auroc-text' });
const rocCanvas = el('canvas', { id: 'roc', class: 'plot square' });
const exportBtn = el('button', { id: 'export', type: 'button' }, 'Export CSV');
exportBtn.disabled = true;
const stopBtn = el('button', { id: 'stop', type: 'button', class: 'secondary', hidden: '' }, 'Stop');
const calibrateBtn = el('button', { id: 'calibrate', type: 'button' }, 'Use this folder to set the threshold');
const calibrateText = el('span', { id: 'calibrate-text', class: 'small muted' });
const calibrateRow = el('div', { id: 'calibrate-row', class: 'row', hidden: '' }, calibrateBtn, calibrateText);
const filterBoxes = Object.fromEntries(VERDICTS.map((v) => [v, el('input', { type: 'checkbox', id: `filter-${v}` })])) as Record<Verdict, HTMLInputElement>;
const filterCounts = Object.fromEntries(VERDICTS.map((v) => [v, el('span', { class: 'muted' })])) as Record<Verdict, HTMLSpanElement>;
const filterBar = el('fieldset', { id: 'filter', class: 'row' }, el('legend', {}, 'Show'), ...VERDICTS.map((v) => el('label', {}, filterBoxes[v], ` ${v} `, filterCounts[v])));
const headRow = el('tr');
const tbody = el('tbody');
const table = el('table', { id: 'results', class: 'full' }, el('thead', {}, headRow), tbody);
app.replaceChildren(el('header', {}, head, backendBadge), status, el('div', { class: 'row' }, exportBtn, stopBtn, aurocText), calibrateRow, filterBar, rocCanvas, table);

let scorerRef: ScorerRef | null = null;
let model: ModelRef | null = null;
let scorer: Promise<ScorerInstance> | null = null;
let folder = '';
let rows: Row[] = [];
let sort: FolderSort = DEFAULT_SORT;
let shown: Verdict[] = [...VERDICTS];
/** The rows as drawn (after sort and filter), and the one the keyboard is on. */
let visible: Row[] = [];
let selected: string | null = null;
let queue: Promise<void> = Promise.resolve();
/** Folders sent but not finished; Stop applies to them. */
let pending = 0;
let stopRequested = false;

for (const v of VERDICTS) {
  filterBoxes[v].checked = true;
  filterBoxes[v].addEventListener('change', () => {
    shown = VERDICTS.filter((x) => filterBoxes[x].checked);
    renderTable();
  });
}

function threshold(): number {
  return model ? model.thresholdOverride ?? model.info.threshold : 0;
}

function renderHeader(): void {
  headRow.replaceChildren(
    ...COLUMNS.map((c) => {
      if (!c.key) return el('th', { scope: 'col' }, c.title);
      const key = c.key;
      const mark = sort.key === key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : '';
      // A button inside the header: focusable and activated by Enter and Space like any button.
      const b = el('button', { type: 'button', class: 'sort', 'data-key': key, title: `Sort by ${c.title}` }, c.title + mark);
      b.addEventListener('click', () => {
        sort = nextSort(sort, key);
        renderTable();
      });
      return el('th', { scope: 'col', 'aria-sort': ariaSort(sort, key) }, b);
    }),
  );
}

function choose(r: Row): void {
  selected = r.path;
  post({ type: 'showHeatmap', path: r.path });
  markSelected();
}

function markSelected(): void {
  for (const tr of tbody.children) (tr as HTMLElement).setAttribute('aria-selected', String((tr as HTMLElement).dataset.path === selected));
}

function renderTable(): void {
  renderHeader();
  for (const v of VERDICTS) filterCounts[v].textContent = `(${rows.filter((r) => r.verdict === v).length})`;
  visible = sortRows(filterRows(rows, shown), sort);
  table.dataset.sort = `${sort.key}:${sort.dir}`;
  tbody.replaceChildren(
    ...visible.map((r, i) => {
      const img = el('img', { src: r.item.url, alt: '', class: 'thumbnail', loading: 'lazy' });
      const tr = el('tr', { class: VERDICT_CLASS[r.verdict], tabindex: i === 0 ? '0' : '-1', 'data-path': r.path, title: 'Click or press Enter to see its heatmap' },
        el('td', {}, String(i + 1)), el('td', {}, img), el('td', { class: 'name' }, r.item.name), el('td', {}, r.className ?? ''),
        el('td', { title: `score ${r.score.toPrecision(5)}` }, describePercentile(r.percentile)),
        el('td', r.reasons.length ? { title: r.reasons.join('\n') } : {}, el('span', { class: `verdict ${VERDICT_CLASS[r.verdict]}` }, r.verdict)),
        el('td', {}, r.label === null ? '' : r.label ? 'anomaly' : 'normal'));
      tr.addEventListener('click', () => choose(r));
      return tr;
    }),
  );
  markSelected();
}

tbody.addEventListener('keydown', (ev) => {
  const tr = (ev.target as HTMLElement).closest('tr');
  if (!tr) return;
  const at = visible.findIndex((r) => r.path === tr.dataset.path);
  if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    if (at >= 0) choose(visible[at]);
    return;
  }
  const to = moveSelection(at < 0 ? null : at, ev.key, visible.length);
  if (to === null) return;
  ev.preventDefault();
  const next = tbody.children[to] as HTMLElement | undefined;
  if (!next) return;
  tr.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
  next.scrollIntoView({ block: 'nearest' });
});

function computeRoc(): number | null {
  const c = folderRoc(rows.map((r) => ({ score: r.score, label: r.label })));
  if (!c) {
    aurocText.textContent = 'No ROC: the folder names do not give both normal and anomaly labels.';
    rocCanvas.hidden = true;
    return null;
  }
  rocCanvas.hidden = false;
  aurocText.textContent = `AUROC ${c.auroc.toFixed(4)} on ${c.labelled} labelled images (normal = ${c.normals})`;
  aurocText.dataset.auroc = String(c.auroc);
  drawPlot(rocCanvas, [{ name: `ROC (AUROC ${c.auroc.toFixed(3)})`, color: PALETTE[0], points: c.points.map((p) => [p.fpr, p.tpr]) }], { title: 'ROC curve', xLabel: 'false positive rate', yMin: 0, yMax: 1, square: true, diagonal: true });
  return c.auroc;
}

function verdictFor(familiar: boolean, score: number, th: number): Verdict {
  return !familiar ? 'unfamiliar' : score > th ? 'anomaly' : 'normal';
}

async function scoreAll(requestId: number, items: FolderItem[]): Promise<void> {
  rows = [];
  exportBtn.disabled = true;
  calibrateRow.hidden = true;
  stopBtn.hidden = false;
  stopBtn.disabled = false;
  let stopped = false;
  try {
    if (!scorer || !model) throw new Error('no model is loaded');
    const s = await scorer;
    backendBadge.textContent = s.backend;
    backendBadge.title = s.backendReason ?? '';
    const th = threshold();
    const t0 = performance.now();
    for (let i = 0; i < items.length; i++) {
      if (stopRequested) {
        stopped = true;
        break;
      }
      const it = items[i];
      try {
        const { bitmap, data } = await loadImage(it.url);
        bitmap.close();
        const r = await s.score(data);
        const familiar = r.verdict !== 'unfamiliar';
        rows.push({ item: it, path: it.path, name: it.name, className: it.className, label: it.label, score: r.score, isAnomaly: r.score > th, verdict: verdictFor(familiar, r.score, th), familiar, reasons: r.reasons, percentile: r.percentile });
      } catch (e) {
        post({ type: 'log', level: 'warn', message: `skipped ${it.name}: ${(e as Error).message}` });
      }
      if (i % 25 === 24 || i === items.length - 1) {
        status.textContent = `Scored ${i + 1}/${items.length} (${((i + 1) / ((performance.now() - t0) / 1000)).toFixed(1)} img/s, ${s.backend})`;
        renderTable();
        // Lets the Stop button's click (and the host's stopFolder) in between images.
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    if (stopped) {
      status.textContent = `Stopped after ${rows.length} of ${items.length} images.`;
      renderTable();
    }
    const auroc = computeRoc();
    exportBtn.disabled = rows.length === 0;
    document.body.dataset.done = String(requestId);
    post({ type: 'folderScored', requestId, folder, backend: s.backend, auroc, stopped, rows: rows.map((r) => ({ path: r.path, score: r.score, isAnomaly: r.isAnomaly, verdict: r.verdict, label: r.label })) });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    status.textContent = `Could not score the folder: ${msg}`;
    status.className = 'error';
    post({ type: 'scoreFailed', requestId, path: folder, message: msg.slice(0, 4000) });
  } finally {
    pending--;
    if (pending === 0) {
      stopRequested = false;
      stopBtn.hidden = true;
    }
  }
}

function stop(): void {
  if (pending === 0) return;
  stopRequested = true;
  stopBtn.disabled = true;
  status.textContent = 'Stopping…';
}
stopBtn.addEventListener('click', stop);

let exportId = 1;
exportBtn.addEventListener('click', () => {
  // Every row in the order shown: a filter narrows the view, not the export.
  const csv = toCsv(sortRows(rows, sort).map((r) => ({ name: r.name, score: r.score, isAnomaly: r.isAnomaly, verdict: r.verdict, label: r.label })), threshold());
  const base = (folder.split(/[\\/]/).filter(Boolean).pop() ?? 'scores').replace(/^\.+/, '') || 'scores';
  post({ type: 'exportCsv', requestId: exportId++, suggestedName: `${base}-scores.csv`, csv });
});
calibrateBtn.addEventListener('click', () => post({ type: 'calibrate' }));

function useModel(m: ModelRef): void {
  const sameModel = model?.path === m.path;
  model = m;
  if (scorerRef && !sameModel) scorer = loadScorer(scorerRef, m);
  scorer?.catch((e: unknown) => {
    status.textContent = `Could not load the model: ${e instanceof Error ? e.message : String(e)}`;
    status.className = 'error';
  });
  // A new threshold (calibrated) changes the verdicts, not the scores.
  const th = threshold();
  for (const r of rows) {
    r.isAnomaly = r.score > th;
    r.verdict = verdictFor(r.familiar, r.score, th);
  }
  if (rows.length) renderTable();
}

function applyView(m: Extract<HostToWebview, { type: 'folderView' }>): void {
  if (m.sort) sort = m.sort;
  if (m.filter) {
    shown = VERDICTS.filter((v) => m.filter!.includes(v));
    for (const v of VERDICTS) filterBoxes[v].checked = shown.includes(v);
  }
  renderTable();
  post({ type: 'folderViewState', requestId: m.requestId, order: visible.map((r) => r.path), sort, filter: shown });
}

onMessage((m) => {
  switch (m.type) {
    case 'init':
      if (m.panel !== 'folder') return;
      scorerRef = m.scorer;
      folder = m.folder;
      head.textContent = m.folder;
      useModel(m.model);
      return;
    case 'setModel':
      useModel(m.model);
      return;
    case 'scoreFolder':
      folder = m.folder;
      head.textContent = m.folder;
      status.textContent = `Scoring ${m.items.length} images with ${model?.name ?? '?'}…`;
      status.className = 'muted';
      pending++;
      stopBtn.hidden = false;
      queue = queue.then(() => scoreAll(m.requestId, m.items));
      return;
    case 'stopFolder':
      stop();
      return;
    case 'folderView':
      // After the folder being scored, so the order answered is the final one.
      queue = queue.then(() => applyView(m));
      return;
    case 'calibration':
      calibrateRow.hidden = !m.available;
      calibrateText.textContent = m.text;
      return;
    default:
      return;
  }
});
renderHeader();
announceReady('folder');
