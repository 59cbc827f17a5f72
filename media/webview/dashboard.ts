/** Training dashboard: live loss curves (per step, per epoch) and validation AUROC per epoch. */
import type { RunView } from '../../shared/protocol';
import type { ProgressEvent } from '../../trainer/progress';
import { announceReady, el, onMessage } from './lib/host';
import { PALETTE, drawPlot, type Series } from './lib/plot';
import { aurocSeries, keptEpochMarker } from './lib/auroc-series';
import { formatAuroc, formatDuration, trainedSummary } from '../../shared/format';

const app = document.getElementById('app')!;
const head = el('h2', { id: 'title' });
const state = el('span', { id: 'state', class: 'badge' });
const summary = el('p', { id: 'summary', class: 'muted' });
/** The kept epoch and why (also marked on the epoch plots), and the finished run's labelled figures. */
const kept = el('p', { id: 'kept' });
const result = el('p', { id: 'result' });
const lossCanvas = el('canvas', { id: 'loss', class: 'plot' });
const epochCanvas = el('canvas', { id: 'epoch-loss', class: 'plot' });
const aurocCanvas = el('canvas', { id: 'auroc', class: 'plot' });
const logList = el('ul', { id: 'events', class: 'small' });
app.replaceChildren(el('header', {}, head, state), summary, result, kept, lossCanvas, epochCanvas, aurocCanvas, el('details', {}, el('summary', {}, 'Events'), logList));

let run: RunView | null = null;
let events: ProgressEvent[] = [];
let pending = false;

function seriesOf(points: { x: number; losses: Record<string, number> }[]): Series[] {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.losses)))];
  return names.map((n, i) => ({ name: n, color: PALETTE[i % PALETTE.length], points: points.filter((p) => Number.isFinite(p.losses[n])).map((p) => [p.x, p.losses[n]] as [number, number]) }));
}

function redraw(): void {
  pending = false;
  const steps = events.filter((e): e is Extract<ProgressEvent, { type: 'step' }> => e.type === 'step');
  const epochs = events.filter((e): e is Extract<ProgressEvent, { type: 'epoch' }> => e.type === 'epoch');
  drawPlot(lossCanvas, seriesOf(steps.map((s) => ({ x: s.epoch - 1 + s.step / Math.max(1, s.stepsPerEpoch), losses: s.losses }))), { title: 'Losses per step', xLabel: 'epoch' });
  const marker = keptEpochMarker(epochs, run?.metrics ?? null, run?.epochs ?? epochs.length);
  drawPlot(epochCanvas, seriesOf(epochs.map((e) => ({ x: e.epoch, losses: e.losses }))), { title: 'Losses per epoch', xLabel: 'epoch', marker });
  drawPlot(aurocCanvas, aurocSeries(epochs), { title: 'Validation AUROC', xLabel: 'epoch', yMin: 0, yMax: 1, marker });
  const finished = run !== null && run.state === 'done' && run.metrics !== null;
  result.textContent = run && finished ? `Result: ${trainedSummary(run.metrics ?? {}, run.epochs)} (◆ on the plots)` : '';
  // Once finished the result line gives the kept epoch's reason; while training this line tracks the best so far.
  kept.textContent = marker && !finished ? `◆ ${marker.label}` : '';
  kept.dataset.epoch = marker ? String(marker.x) : '';
  const last = [...events].reverse().find((e) => e.type === 'step' || e.type === 'epoch') as Extract<ProgressEvent, { type: 'step' | 'epoch' }> | undefined;
  const start = events.find((e) => e.type === 'start') as Extract<ProgressEvent, { type: 'start' }> | undefined;
  summary.textContent = [
    start ? `backend ${start.backend} (${start.backendReason})` : '',
    last ? `epoch ${last.epoch}/${run?.epochs ?? '?'}, ${last.imgPerSec.toFixed(1)} img/s${isLive() && last.etaSec >= 0 ? `, ETA ${formatDuration(last.etaSec)}` : ''}` : '',
    epochs.length ? `best validation AUROC ${formatAuroc(epochs[epochs.length - 1].bestValAuroc)}` : '',
  ].filter(Boolean).join(' · ');
  aurocCanvas.dataset.points = String(epochs.filter((e) => e.valAuroc !== null).length);
  lossCanvas.dataset.points = String(steps.length);
}

const isLive = () => run?.state === 'running' || run?.state === 'starting';

function schedule(): void {
  if (!pending) {
    pending = true;
    requestAnimationFrame(redraw);
  }
}

function note(e: ProgressEvent): void {
  if (e.type === 'step') return;
  const text = e.type === 'epoch' ? `epoch ${e.epoch}: validation AUROC ${formatAuroc(e.valAuroc)}` : e.type === 'warning' || e.type === 'error' ? `${e.type}: ${e.message}` : e.type === 'cancelled' ? `cancelled; checkpoint ${e.checkpoint}` : e.type === 'checkpoint' ? `checkpoint ${e.path}` : e.type === 'done' ? `done: ${e.out}` : `${e.type}`;
  logList.append(el('li', {}, text));
}

function setRun(r: RunView): void {
  run = r;
  head.textContent = r.title;
  state.textContent = r.state;
  state.className = `badge state-${r.state}`;
  document.body.dataset.state = r.state;
}

onMessage((m) => {
  if (m.type === 'init' && m.panel === 'dashboard') {
    setRun(m.run);
    events = m.history.slice();
    logList.replaceChildren();
    events.forEach(note);
    schedule();
  } else if (m.type === 'progress' && run && m.runId === run.id) {
    events.push(m.event);
    note(m.event);
    schedule();
  } else if (m.type === 'runState') {
    setRun(m.run);
    schedule();
  }
});
window.addEventListener('resize', schedule);
announceReady('dashboard');
