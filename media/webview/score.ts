/**
 * Score panel: the verdict first, then the image and its heatmap (side by side, swipe, toggle or
 * blended; colormap, and for a model with a defect map the layer: defect probability or
 * reconstruction error) with the most unusual areas numbered on it, reconstruction, error map, and
 * the numbers and the backend in a details section. Empty, it offers "Choose image…" and takes an
 * image dropped from the Explorer. The scorer bundle runs here, in the webview.
 */
import type { Colormap, HostToWebview, ModelRef, ScorerRef } from '../../shared/protocol';
import { COLORMAPS } from '../../shared/protocol';
import { announceReady, el, log, onMessage, post } from './lib/host';
import { installDrop } from './lib/drop';
import { PATCHES_HELP, VIEW_MODES, describePatch, labelPositions, patchAt, viewLayout, type PaneContent, type ViewMode } from './lib/patches';
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
let viewMode: ViewMode = 'side';
let swipe = 0.5;
let showHeat = true;
let current: { name: string; path: string; bitmap: ImageBitmap; result: ScoreResult; threshold: number; width: number; height: number } | null = null;
let queue: Promise<void> = Promise.resolve();

// ---- layout
const status = el('p', { id: 'status', class: 'muted' }, 'Waiting for the host…');
const title = el('h2', { id: 'title' });
const backendBadge = el('span', { id: 'backend', class: 'badge' });
const backendDetails = el('p', { id: 'backend-details', class: 'small muted' });
const chooseBtn = el('button', { id: 'choose', type: 'button', class: 'secondary' }, 'Choose image…');
const emptyChooseBtn = el('button', { id: 'empty-choose', type: 'button' }, 'Choose image…');
const empty = el('section', { id: 'empty', class: 'dropzone' },
  el('p', {}, 'No image scored yet.'), emptyChooseBtn,
  el('p', { class: 'muted small' }, 'or drop an image here from the Explorer (hold Shift while dragging), or right-click an image → Flawscope: Score Image.'));
const verdict = el('span', { id: 'verdict', class: 'verdict' });
const summaryText = el('span', { id: 'summary' });
const reasonsList = el('ul', { id: 'reasons', class: 'reasons' });
const scoreText = el('span', { id: 'score' });
const bar = el('div', { class: 'bar', id: 'bar' }, el('div', { class: 'fill', id: 'bar-fill' }), el('div', { class: 'marker', id: 'bar-marker', title: 'threshold' }));
const opacityInput = el('input', { id: 'opacity', type: 'range', min: '0', max: '1', step: '0.05' });
const viewSelect = el('select', { id: 'view' }, ...VIEW_MODES.map((v) => el('option', { value: v.mode }, v.label)));
const swipeInput = el('input', { id: 'swipe', type: 'range', min: '0', max: '1', step: '0.01', value: '0.5', 'aria-label': 'how much of the image shows the heatmap' });
const toggleBtn = el('button', { id: 'toggle', type: 'button', class: 'secondary' }, 'Show image');
const opacityLabel = el('label', {}, 'Overlay opacity ', opacityInput);
const swipeLabel = el('label', {}, 'Swipe ', swipeInput);
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
const patches = el('ol', { id: 'patches', class: 'small', title: PATCHES_HELP });
const resultSection = el('div', { id: 'result', hidden: '' });

opacityLabel.append(opacityValue);
resultSection.replaceChildren(
  el('div', { class: 'row' }, verdict, summaryText),
  reasonsList,
  el('div', { class: 'controls' },
    el('label', {}, 'View ', viewSelect), swipeLabel, toggleBtn, opacityLabel,
    el('label', {}, 'Colormap ', cmapSelect),
    layerLabel,
    el('label', { title: PATCHES_HELP }, boxesToggle, ' number the most unusual areas')),
  el('figure', {}, heat, el('figcaption', { id: 'heat-caption' }, 'image + error heatmap')),
  el('details', { id: 'patches-details', open: '' }, el('summary', { title: PATCHES_HELP }, 'Most unusual areas (?)'), patches),
  el('div', { class: 'row thumbs' },
    el('figure', {}, orig, el('figcaption', {}, 'input')),
    el('figure', {}, recon, el('figcaption', {}, 'reconstruction')),
    el('figure', {}, errCanvas, el('figcaption', {}, 'error map'))),
  el('details', { id: 'score-details' }, el('summary', {}, 'Score details'), el('div', { class: 'row small' }, scoreText), bar, backendDetails),
);
app.replaceChildren(el('header', {}, title, backendBadge, chooseBtn), empty, resultSection, status);

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

/** The image, the heatmap alone and the blend, at the scorer's resolution (the scorer blends (1 - alpha) * image + alpha * colormap). */
function sources(s: ScorerInstance, r: ScoreResult, w: number, h: number): Record<PaneContent, HTMLCanvasElement> {
  const make = (alpha: number) => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const o = s.overlay(r, { colormap, alpha, layer: layerOf(r) });
    c.getContext('2d')!.putImageData(o instanceof Uint8ClampedArray || o instanceof Uint8Array ? new ImageData(new Uint8ClampedArray(o), w, h) : toImageData(o, w, h), 0, 0);
    return c;
  };
  return { image: make(0), heat: make(1), blend: make(opacity) };
}

function syncControls(): void {
  viewSelect.value = viewMode;
  swipeLabel.hidden = viewMode !== 'swipe';
  toggleBtn.hidden = viewMode !== 'toggle';
  toggleBtn.textContent = showHeat ? 'Show image' : 'Show heatmap';
  opacityLabel.hidden = viewMode !== 'blend';
  opacityValue.textContent = ` ${Math.round(opacity * 100)}%`;
}

async function render(): Promise<void> {
  syncControls();
  if (!current || !scorer) return;
  const s = await scorer;
  const { result, width: w, height: h } = current;
  // Small images are drawn enlarged (nearest neighbour) so that the boxes stay thin lines.
  const k = Math.max(1, Math.floor(512 / Math.max(w, h)));
  const lay = viewLayout(viewMode, w, h, k, { swipe, showHeat });
  heat.width = lay.width;
  heat.height = lay.height;
  const css = Math.min(1, (viewMode === 'side' ? 1024 : 512) / Math.max(lay.width, lay.height));
  heat.style.width = `${Math.round(lay.width * css)}px`;
  heat.style.height = `${Math.round(lay.height * css)}px`;
  const src = sources(s, result, w, h);
  const ctx = heat.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, lay.width, lay.height);
  for (const pane of lay.panes) {
    const cw = Math.round(w * (pane.clip ?? 1));
    if (cw > 0) ctx.drawImage(src[pane.content], 0, 0, cw, h, pane.x, 0, cw * k, h * k);
    if (pane.clip !== undefined) {
      ctx.fillStyle = '#fff';
      ctx.fillRect(pane.x + cw * k - 1, 0, 2, h * k);
    }
  }
  if (boxesToggle.checked) for (const x0 of new Set(lay.panes.map((p) => p.x))) drawBoxes(ctx, result.topPatches, x0, k, w, h);
  heat.dataset.opacity = String(opacity);
  heat.dataset.view = viewMode;
  heat.dataset.layer = layerOf(result);
  heat.dataset.panes = lay.panes.map((p) => p.content).join(',');
  layerLabel.hidden = !result.probability;
  const what = layerOf(result) === 'probability' ? 'defect probability' : 'error heatmap';
  (document.getElementById('heat-caption') as HTMLElement).textContent = viewMode === 'side' ? `image | ${what}` : viewMode === 'toggle' ? (showHeat ? what : 'image') : `image + ${what}`;
  heat.dataset.colormap = colormap;
  heat.dataset.scale = String(k);
}

/** Numbered boxes: 1 (red) is the most unusual area. */
function drawBoxes(ctx: CanvasRenderingContext2D, list: ScoreResult['topPatches'], x0: number, k: number, w: number, h: number): void {
  const lw = Math.max(1, Math.round(Math.max(w * k, h * k) / 256));
  const font = Math.max(10, Math.round(Math.max(w * k, h * k) / 24));
  ctx.lineWidth = lw;
  ctx.font = `bold ${font}px sans-serif`;
  ctx.textBaseline = 'top';
  const labelW = Math.max(...list.map((_, i) => ctx.measureText(String(i + 1)).width), 0) + 4;
  const spots = labelPositions(list, k, labelW, font + 2);
  list.forEach((p, i) => {
    const colour = i === 0 ? '#ff2d2d' : '#ffd400';
    ctx.strokeStyle = colour;
    ctx.strokeRect(x0 + p.x * k + lw / 2, p.y * k + lw / 2, Math.max(1, p.w * k - lw), Math.max(1, p.h * k - lw));
    const at = spots[i];
    ctx.fillStyle = 'rgba(0,0,0,0.7)';
    ctx.fillRect(x0 + at.x, at.y, at.w, at.h);
    ctx.fillStyle = colour;
    ctx.fillText(String(i + 1), x0 + at.x + 2, at.y + 1);
  });
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
  patches.replaceChildren(...result.topPatches.map((p, i) => el('li', { title: PATCHES_HELP }, describePatch(p, i, result.topPatches, current!.width, current!.height).replace(/^\d+\. /, ''))));
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
    showBackend(s);
    empty.hidden = true;
    resultSection.hidden = false;
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
    // A new result starts at the top: the verdict is what the user looks for first.
    window.scrollTo({ top: 0, left: 0 });
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

/** The badge names the backend; why it was chosen (often long) goes to the details line. */
function showBackend(s: ScorerInstance): void {
  backendBadge.textContent = s.backend;
  backendBadge.dataset.backend = s.backend;
  backendBadge.title = s.backendReason || '';
  backendDetails.textContent = `Backend: ${s.backend}${s.backendReason ? ` — ${s.backendReason}` : ''}`;
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
      showBackend(s);
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
viewSelect.addEventListener('change', () => {
  viewMode = viewSelect.value as ViewMode;
  void render();
  // The host keeps it in the panel's restore state: a window reload comes back in this view.
  post({ type: 'setViewMode', mode: viewMode });
});
swipeInput.addEventListener('input', () => {
  swipe = Number(swipeInput.value);
  void render();
});
toggleBtn.addEventListener('click', () => {
  showHeat = !showHeat;
  void render();
});
// In toggle mode a click on the picture flips it too; a hovered box says what it is.
heat.addEventListener('click', () => {
  if (viewMode !== 'toggle') return;
  showHeat = !showHeat;
  void render();
});
heat.addEventListener('mousemove', (ev) => {
  if (!current) return;
  const k = Number(heat.dataset.scale ?? '1');
  const r = heat.getBoundingClientRect();
  const px = ((ev.clientX - r.left) * heat.width) / Math.max(1, r.width);
  const py = ((ev.clientY - r.top) * heat.height) / Math.max(1, r.height);
  const lay = viewLayout(viewMode, current.width, current.height, k, { swipe, showHeat });
  const pane = [...lay.panes].reverse().find((p) => px >= p.x && px < p.x + current!.width * k);
  const i = pane ? patchAt(current.result.topPatches, (px - pane.x) / k, py / k) : null;
  heat.title = i === null ? '' : `${describePatch(current.result.topPatches[i], i, current.result.topPatches, current.width, current.height)}\n\n${PATCHES_HELP}`;
});
for (const b of [chooseBtn, emptyChooseBtn]) b.addEventListener('click', () => post({ type: 'pickImage' }));

installDrop(
  (uris) => post({ type: 'scoreDropped', uris }),
  () => setStatus('Drop an image from the VS Code Explorer (hold Shift while dragging), or use “Choose image…”.', 'error'),
);
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
      viewMode = m.viewMode;
      opacityInput.value = String(opacity);
      cmapSelect.value = colormap;
      syncControls();
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
