/**
 * Score panel: the image with the heatmap overlay (opacity slider, colormap, and for a model with a
 * defect map the layer: defect probability or reconstruction error), reconstruction, error map,
 * score against the threshold, verdict badge, top-patch boxes and the backend in use.
 * The scorer bundle runs here, in the webview.
 */
import type { Colormap, HostToWebview, ModelRef, ScorerRef } from '../../shared/protocol';
import { COLORMAPS } from '../../shared/protocol';
import { announceReady, el, log, onMessage, post } from './lib/host';
import { scoredStatus } from './lib/score-status';
import { describePercentile } from '../../scorer/percentile';
import { errorMapImage, loadImage, loadScorer, toImageData, type HeatLayer, type ScoreResult, type ScorerInstance } from './lib/scorer';

const app = document.getElementById('app')!;
let scorerRef: ScorerRef | null = null;
let model: ModelRef | null = null;
let scorer: Promise<ScorerInstance> | null = null;
let colormap: Colormap = 'turbo';
let opacity = 0.5;
let layer: HeatLayer = 'probability';
let current: { name: string; path: string; bitmap: ImageBitmap; result: ScoreResult; threshold: number; width: number; height: number } | null = null;
let queue: Promise<void> = Promise.resolve();

// ---- layout
const status = el('p', { id: 'status', class: 'muted' }, 'Waiting for the host…');
const title = el('h2', { id: 'title' });
const backendBadge = el('span', { id: 'backend', class: 'badge' });
const verdict = el('span', { id: 'verdict', class: 'verdict' });
const summaryText = el('span', { id: 'summary' });
const reasonsList = el('ul', { id: 'reasons', class: 'reasons' });
const scoreText = el('span', { id: 'score' });
const bar = el('div', { class: 'bar', id: 'bar' }, el('div', { class: 'fill', id: 'bar-fill' }), el('div', { class: 'marker', id: 'bar-marker', title: 'threshold' }));
const opacityInput = el('input', { id: 'opacity', type: 'range', min: '0', max: '1', step: '0.05' });
const opacityValue = el('span', { id: 'opacity-value' });
const cmapSelect = el('select', { id: 'colormap' }, ...COLORMAPS.map((c) => el('option', { value: c }, c)));
const layerSelect = el('select', { id: 'layer' }, el('option', { value: 'probability' }, 'defect probability'), el('option', { value: 'error' }, 'reconstruction error'));
// Shown only for a result with a probability map: without a defect map there is one layer.
const layerLabel = el('label', { id: 'layer-label', hidden: '' }, 'Layer ', layerSelect);
const boxesToggle = el('input', { id: 'boxes', type: 'checkbox' });
boxesToggle.checked = true;
const heat = el('canvas', { id: 'heat', class: 'main', width: '1', height: '1' });
const recon = el('canvas', { id: 'recon', class: 'thumb', width: '1', height: '1' });
const errCanvas = el('canvas', { id: 'error', class: 'thumb', width: '1', height: '1' });
const orig = el('canvas', { id: 'orig', class: 'thumb', width: '1', height: '1' });
const patches = el('ol', { id: 'patches', class: 'small' });

app.replaceChildren(
  el('header', {}, title, backendBadge),
  el('div', { class: 'row' }, verdict, summaryText),
  reasonsList,
  el('details', { id: 'score-details' }, el('summary', {}, 'Score details'), el('div', { class: 'row small' }, scoreText), bar),
  el('div', { class: 'controls' },
    el('label', {}, 'Overlay opacity ', opacityInput, opacityValue),
    el('label', {}, 'Colormap ', cmapSelect),
    layerLabel,
    el('label', {}, boxesToggle, ' top-patch boxes')),
  el('figure', {}, heat, el('figcaption', { id: 'heat-caption' }, 'image + error heatmap')),
  el('div', { class: 'row thumbs' },
    el('figure', {}, orig, el('figcaption', {}, 'input')),
    el('figure', {}, recon, el('figcaption', {}, 'reconstruction')),
    el('figure', {}, errCanvas, el('figcaption', {}, 'error map'))),
  el('details', {}, el('summary', {}, 'Top patches'), patches),
  status,
);

function setStatus(text: string, kind: 'muted' | 'error' = 'muted'): void {
  status.textContent = text;
  status.className = kind;
}

function sizeCanvas(c: HTMLCanvasElement, w: number, h: number, maxCss: number): void {
  c.width = w;
  c.height = h;
  const k = Math.max(1, Math.min(maxCss / w, maxCss / h));
  c.style.width = `${Math.round(w * Math.min(k, maxCss / Math.max(w, h)))}px`;
  c.style.height = `${Math.round(h * Math.min(k, maxCss / Math.max(w, h)))}px`;
}

/** The layer drawn for a result: the chosen one when the result has a probability map, else the error. */
function layerOf(r: ScoreResult): HeatLayer {
  return r.probability ? layer : 'error';
}

function overlayImage(s: ScorerInstance, r: ScoreResult, w: number, h: number): ImageData {
  const o = s.overlay(r, { colormap, alpha: opacity, layer: layerOf(r) });
  if (o instanceof Uint8ClampedArray || o instanceof Uint8Array) return new ImageData(new Uint8ClampedArray(o), w, h);
  return toImageData(o, w, h);
}

async function render(): Promise<void> {
  if (!current || !scorer) return;
  const s = await scorer;
  const { result, width: w, height: h } = current;
  // Small images are drawn enlarged (nearest neighbour) so that patch boxes stay thin lines.
  const k = Math.max(1, Math.floor(512 / Math.max(w, h)));
  heat.width = w * k;
  heat.height = h * k;
  const css = Math.min(1, 512 / Math.max(w * k, h * k));
  heat.style.width = `${Math.round(w * k * css)}px`;
  heat.style.height = `${Math.round(h * k * css)}px`;
  const tmp = document.createElement('canvas');
  tmp.width = w;
  tmp.height = h;
  // The scorer blends the heat over the input pixels: (1 - alpha) * image + alpha * colormap(error).
  tmp.getContext('2d')!.putImageData(overlayImage(s, result, w, h), 0, 0);
  const ctx = heat.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, w * k, h * k);
  if (boxesToggle.checked) {
    ctx.lineWidth = Math.max(1, Math.round(Math.max(w * k, h * k) / 256));
    result.topPatches.forEach((p, i) => {
      ctx.strokeStyle = i === 0 ? '#ff2d2d' : '#ffd400';
      ctx.strokeRect(p.x * k + ctx.lineWidth / 2, p.y * k + ctx.lineWidth / 2, Math.max(1, p.w * k - ctx.lineWidth), Math.max(1, p.h * k - ctx.lineWidth));
    });
  }
  heat.dataset.opacity = String(opacity);
  heat.dataset.layer = layerOf(result);
  layerLabel.hidden = !result.probability;
  (document.getElementById('heat-caption') as HTMLElement).textContent = layerOf(result) === 'probability' ? 'image + defect probability' : 'image + error heatmap';
  heat.dataset.colormap = colormap;
  heat.dataset.scale = String(k);
  opacityValue.textContent = ` ${Math.round(opacity * 100)}%`;
}

/** The panel's verdict: the scorer's 'unfamiliar' stands; otherwise the threshold in use (flawscope.thresholdOverride or the model's) decides. */
function verdictOf(r: ScoreResult, threshold: number): 'normal' | 'anomaly' | 'unfamiliar' {
  return r.verdict === 'unfamiliar' ? 'unfamiliar' : r.score > threshold ? 'anomaly' : 'normal';
}

const VERDICT_CLASS = { normal: 'good', anomaly: 'bad', unfamiliar: 'unfamiliar' } as const;

function showResult(): void {
  if (!current) return;
  const { result, threshold } = current;
  const v = verdictOf(result, threshold);
  verdict.textContent = v.toUpperCase();
  verdict.className = `verdict ${VERDICT_CLASS[v]}`;
  verdict.dataset.verdict = v;
  summaryText.textContent = describePercentile(result.percentile);
  reasonsList.replaceChildren(...result.reasons.map((r) => el('li', {}, r)));
  reasonsList.hidden = result.reasons.length === 0;
  const pct = result.percentile ? `${result.percentile.value.toFixed(2)}${result.percentile.estimated ? ' (estimated from mean and std)' : ''}` : 'n/a';
  const f = result.facts;
  scoreText.textContent = `score ${result.score.toPrecision(5)} · threshold ${threshold.toPrecision(5)} · percentile ${pct} · image ${f.width}x${f.height}, ${f.chroma > 4 ? 'colour' : 'grey'}${f.pixels ? `, pixel mean ${f.pixels.mean.toFixed(1)}, std ${f.pixels.std.toFixed(1)}, mid-tones ${(100 * f.pixels.midtones).toFixed(1)} %` : ''}`;
  scoreText.dataset.score = String(result.score);
  const max = Math.max(threshold * 2, result.score * 1.1, 1e-9);
  (document.getElementById('bar-fill') as HTMLElement).style.width = `${Math.min(100, (100 * result.score) / max)}%`;
  (document.getElementById('bar-fill') as HTMLElement).className = `fill ${VERDICT_CLASS[v]}`;
  (document.getElementById('bar-marker') as HTMLElement).style.left = `${(100 * threshold) / max}%`;
  patches.replaceChildren(...result.topPatches.map((p) => el('li', {}, `(${p.x}, ${p.y}) ${p.w}×${p.h}: ${p.score.toPrecision(4)}`)));
}

async function scoreOne(m: Extract<HostToWebview, { type: 'scoreImage' }>): Promise<void> {
  const t0 = performance.now();
  try {
    if (!scorer || !model) throw new Error('no model is loaded');
    setStatus(`Scoring ${m.name}…`);
    const s = await scorer;
    const { bitmap, data } = await loadImage(m.bytes);
    const result = await s.score(data);
    const ms = performance.now() - t0;
    const threshold = model.thresholdOverride ?? model.info.threshold;
    const w = result.width ?? data.width;
    const h = result.height ?? data.height;
    current?.bitmap.close();
    current = { name: m.name, path: m.path, bitmap, result, threshold, width: w, height: h };
    title.textContent = m.name;
    backendBadge.textContent = `${s.backend}${s.backendReason ? ` — ${s.backendReason}` : ''}`;
    backendBadge.dataset.backend = s.backend;
    sizeCanvas(orig, data.width, data.height, 160);
    orig.getContext('2d')!.putImageData(data, 0, 0);
    if (result.reconstruction) {
      const r = toImageData(result.reconstruction, w, h);
      sizeCanvas(recon, r.width, r.height, 160);
      recon.getContext('2d')!.putImageData(r, 0, 0);
    }
    sizeCanvas(errCanvas, w, h, 160);
    errCanvas.getContext('2d')!.putImageData(errorMapImage(result.errorMap, w, h), 0, 0);
    showResult();
    await render();
    setStatus(scoredStatus(m.name, ms, s.backend, model.name, model.info, result.tiles));
    document.body.dataset.scored = String(m.requestId);
    post({
      type: 'scored',
      requestId: m.requestId,
      path: m.path,
      result: {
        score: result.score,
        normalized: result.normalized,
        isAnomaly: result.score > threshold,
        verdict: verdictOf(result, threshold),
        reasons: result.reasons.slice(0, 16).map((r) => r.slice(0, 1000)),
        percentile: result.percentile?.value ?? null,
        threshold,
        backend: s.backend,
        ms,
        topPatches: result.topPatches.slice(0, 64).map((p) => ({ x: p.x, y: p.y, w: p.w, h: p.h, score: p.score })),
      },
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    setStatus(`Could not score ${m.name}: ${msg}`, 'error');
    post({ type: 'scoreFailed', requestId: m.requestId, path: m.path, message: msg.slice(0, 4000) });
  }
}

function useModel(m: ModelRef | null): void {
  model = m;
  if (!m || !scorerRef) {
    scorer = null;
    setStatus('No active model: train one or use “Flawscope: Select Active Model”.');
    return;
  }
  const prev = scorer;
  setStatus(`Loading ${m.name}…`);
  scorer = loadScorer(scorerRef, m);
  scorer.then(
    (s) => {
      backendBadge.textContent = `${s.backend}${s.backendReason ? ` — ${s.backendReason}` : ''}`;
      backendBadge.dataset.backend = s.backend;
      setStatus(`${m.name} loaded (${s.backend}). Right-click an image → Score Image.`);
      prev?.then((p) => p.dispose()).catch(() => undefined);
    },
    (e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      setStatus(`Could not load the model ${m.name}: ${msg}`, 'error');
      log('error', `loading ${m.path}: ${msg}`);
    },
  );
}

opacityInput.addEventListener('input', () => {
  opacity = Number(opacityInput.value);
  void render();
});
opacityInput.addEventListener('change', () => post({ type: 'setSetting', key: 'overlayOpacity', value: opacity }));
cmapSelect.addEventListener('change', () => {
  colormap = cmapSelect.value as Colormap;
  void render();
  post({ type: 'setSetting', key: 'colormap', value: colormap });
});
boxesToggle.addEventListener('change', () => void render());
layerSelect.addEventListener('change', () => {
  layer = layerSelect.value as HeatLayer;
  void render();
});

onMessage((m) => {
  switch (m.type) {
    case 'init':
      if (m.panel !== 'score') return;
      scorerRef = m.scorer;
      colormap = m.colormap;
      opacity = m.opacity;
      opacityInput.value = String(opacity);
      cmapSelect.value = colormap;
      useModel(m.model);
      return;
    case 'setModel':
      useModel(m.model);
      return;
    case 'settings':
      colormap = m.colormap;
      opacity = m.opacity;
      opacityInput.value = String(opacity);
      cmapSelect.value = colormap;
      void render();
      return;
    case 'scoreImage':
      queue = queue.then(() => scoreOne(m));
      return;
    default:
      return;
  }
});

announceReady('score');
