/** Score Folder: every image scored and sorted by score, thumbnails, verdicts, ROC + AUROC, CSV export. */
import type { Colormap, FolderItem, ModelRef, ScorerRef } from '../../shared/protocol';
import { folderRoc, toCsv } from '../../shared/folder-math';
import { announceReady, el, onMessage, post } from './lib/host';
import { PALETTE, drawPlot } from './lib/plot';
import { loadImage, loadScorer, type ScorerInstance } from './lib/scorer';
import { describePercentile, type ScorePercentile } from '../../scorer/percentile';

type Verdict = 'normal' | 'anomaly' | 'unfamiliar';
const VERDICT_CLASS = { normal: 'good', anomaly: 'bad', unfamiliar: 'unfamiliar' } as const;

const app = document.getElementById('app')!;
const head = el('h2', { id: 'title' });
const backendBadge = el('span', { id: 'backend', class: 'badge' });
const status = el('p', { id: 'status', class: 'muted' });
const aurocText = el('p', { id: 'auroc-text' });
const rocCanvas = el('canvas', { id: 'roc', class: 'plot square' });
const exportBtn = el('button', { id: 'export', type: 'button' }, 'Export CSV');
exportBtn.disabled = true;
const tbody = el('tbody');
const table = el('table', { id: 'results' }, el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, ''), el('th', {}, 'image'), el('th', {}, 'how unusual'), el('th', {}, 'verdict'), el('th', {}, 'label'))), tbody);
app.replaceChildren(el('header', {}, head, backendBadge), status, el('div', { class: 'row' }, exportBtn, aurocText), rocCanvas, table);

let scorerRef: ScorerRef | null = null;
let model: ModelRef | null = null;
let scorer: Promise<ScorerInstance> | null = null;
let folder = '';
let rows: { item: FolderItem; score: number; isAnomaly: boolean; verdict: Verdict; reasons: string[]; percentile: ScorePercentile | null }[] = [];
let queue: Promise<void> = Promise.resolve();

function threshold(): number {
  return model ? model.thresholdOverride ?? model.info.threshold : 0;
}

function renderTable(): void {
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  tbody.replaceChildren(
    ...sorted.map((r, i) => {
      const img = el('img', { src: r.item.url, alt: '', class: 'thumbnail', loading: 'lazy' });
      const tr = el('tr', { class: VERDICT_CLASS[r.verdict] },
        el('td', {}, String(i + 1)), el('td', {}, img), el('td', { class: 'name' }, r.item.name),
        el('td', { title: `score ${r.score.toPrecision(5)}` }, describePercentile(r.percentile)),
        el('td', r.reasons.length ? { title: r.reasons.join('\n') } : {}, el('span', { class: `verdict ${VERDICT_CLASS[r.verdict]}` }, r.verdict)),
        el('td', {}, r.item.label === null ? '' : r.item.label ? 'anomaly' : 'normal'));
      tr.addEventListener('dblclick', () => post({ type: 'openFile', path: r.item.path }));
      return tr;
    }),
  );
}

function computeRoc(): number | null {
  const c = folderRoc(rows.map((r) => ({ score: r.score, label: r.item.label })));
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

async function scoreAll(requestId: number, items: FolderItem[]): Promise<void> {
  rows = [];
  exportBtn.disabled = true;
  try {
    if (!scorer || !model) throw new Error('no model is loaded');
    const s = await scorer;
    backendBadge.textContent = s.backend;
    const th = threshold();
    const t0 = performance.now();
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      try {
        const { bitmap, data } = await loadImage(it.url);
        bitmap.close();
        const r = await s.score(data);
        const isAnomaly = r.score > th;
        rows.push({ item: it, score: r.score, isAnomaly, verdict: r.verdict === 'unfamiliar' ? 'unfamiliar' : isAnomaly ? 'anomaly' : 'normal', reasons: r.reasons, percentile: r.percentile });
      } catch (e) {
        post({ type: 'log', level: 'warn', message: `skipped ${it.name}: ${(e as Error).message}` });
      }
      if (i % 25 === 24 || i === items.length - 1) {
        status.textContent = `Scored ${i + 1}/${items.length} (${((i + 1) / ((performance.now() - t0) / 1000)).toFixed(1)} img/s, ${s.backend})`;
        renderTable();
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    const auroc = computeRoc();
    exportBtn.disabled = rows.length === 0;
    document.body.dataset.done = String(requestId);
    post({ type: 'folderScored', requestId, folder, backend: s.backend, auroc, rows: rows.map((r) => ({ path: r.item.path, score: r.score, isAnomaly: r.isAnomaly, verdict: r.verdict, label: r.item.label })) });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    status.textContent = `Could not score the folder: ${msg}`;
    status.className = 'error';
    post({ type: 'scoreFailed', requestId, path: folder, message: msg.slice(0, 4000) });
  }
}

let exportId = 1;
exportBtn.addEventListener('click', () => {
  const csv = toCsv([...rows].sort((a, b) => b.score - a.score).map((r) => ({ name: r.item.name, score: r.score, isAnomaly: r.isAnomaly, verdict: r.verdict, label: r.item.label })), threshold());
  const base = (folder.split(/[\\/]/).filter(Boolean).pop() ?? 'scores').replace(/^\.+/, '') || 'scores';
  post({ type: 'exportCsv', requestId: exportId++, suggestedName: `${base}-scores.csv`, csv });
});

function useModel(m: ModelRef): void {
  model = m;
  if (scorerRef) scorer = loadScorer(scorerRef, m);
  scorer?.catch((e: unknown) => {
    status.textContent = `Could not load the model: ${e instanceof Error ? e.message : String(e)}`;
    status.className = 'error';
  });
}

onMessage((m) => {
  if (m.type === 'init' && m.panel === 'folder') {
    scorerRef = m.scorer;
    folder = m.folder;
    head.textContent = m.folder;
    void (m.colormap as Colormap);
    useModel(m.model);
  } else if (m.type === 'setModel') {
    useModel(m.model);
  } else if (m.type === 'scoreFolder') {
    folder = m.folder;
    head.textContent = m.folder;
    status.textContent = `Scoring ${m.items.length} images with ${model?.name ?? '?'}…`;
    status.className = 'muted';
    queue = queue.then(() => scoreAll(m.requestId, m.items));
  }
});
announceReady('folder');
