/** Minimal line plots on a canvas (no dependencies, CSP-safe). */
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

/** A vertical line at `x` with a label (the kept epoch). */
export interface PlotMarker {
  x: number;
  label: string;
}

export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

function css(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** A canvas sized to its CSS box at the device's pixel ratio, cleared, with the theme's colours and the plot font. */
function prepareCanvas(canvas: HTMLCanvasElement, cssW: number, cssH: number): { ctx: CanvasRenderingContext2D; fg: string; grid: string } {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  ctx.font = '11px sans-serif';
  return { ctx, fg: css('--vscode-foreground', '#ccc'), grid: css('--vscode-editorWidget-border', '#555') };
}

export function drawPlot(canvas: HTMLCanvasElement, series: Series[], opts: { title: string; xLabel: string; yMin?: number; yMax?: number; square?: boolean; diagonal?: boolean; marker?: PlotMarker | null }): void {
  const cssW = canvas.clientWidth || 480;
  const cssH = canvas.clientHeight || (opts.square ? cssW : 240);
  const { ctx, fg, grid } = prepareCanvas(canvas, cssW, cssH);
  const L = 46, R = 10, T = 22, B = 30;
  const W = cssW - L - R, H = cssH - T - B;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  ctx.fillStyle = fg;
  ctx.fillText(opts.title, L, 14);
  if (all.length === 0) {
    ctx.fillText('waiting for data…', L + 10, T + H / 2);
    return;
  }
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  let y0 = opts.yMin ?? Math.min(...all.map((p) => p[1])), y1 = opts.yMax ?? Math.max(...all.map((p) => p[1]));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y1 += 0.5; y0 -= 0.5; }
  const X = (x: number) => L + ((x - x0) / (x1 - x0)) * W;
  const Y = (y: number) => T + H - ((y - y0) / (y1 - y0)) * H;
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.strokeRect(L, T, W, H);
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    ctx.beginPath(); ctx.moveTo(L, Y(y)); ctx.lineTo(L + W, Y(y)); ctx.stroke();
    ctx.fillText(Math.abs(y) >= 100 ? y.toFixed(0) : y.toPrecision(3), 2, Y(y) + 4);
  }
  ctx.fillText(`${opts.xLabel}: ${+x0.toPrecision(4)} … ${+x1.toPrecision(4)}`, L, cssH - 8);
  if (opts.diagonal) {
    ctx.setLineDash([4, 4]);
    ctx.beginPath(); ctx.moveTo(X(0), Y(0)); ctx.lineTo(X(1), Y(1)); ctx.stroke();
    ctx.setLineDash([]);
  }
  if (opts.marker && opts.marker.x >= x0 && opts.marker.x <= x1) {
    const mx = X(opts.marker.x);
    ctx.strokeStyle = fg;
    ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(mx, T); ctx.lineTo(mx, T + H); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = fg;
    ctx.fillText(`◆ epoch ${opts.marker.x}`, Math.min(mx + 3, L + W - 60), T + H - 6);
  }
  let lx = L + 8;
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    if (pts.length === 1) { ctx.fillStyle = s.color; ctx.fillRect(X(pts[0][0]) - 2, Y(pts[0][1]) - 2, 4, 4); }
    ctx.fillStyle = s.color;
    ctx.fillRect(lx, T + 6, 10, 3);
    ctx.fillStyle = fg;
    ctx.fillText(s.name, lx + 13, T + 11);
    lx += 18 + ctx.measureText(s.name).width + 8;
  }
}

export interface BarSeries {
  name: string;
  color: string;
  counts: number[];
}

/**
 * Histogram bars on a canvas: bins `start + i·width`, each series drawn half-transparent over the
 * others (normal and anomalous scores overlap where the model cannot tell them apart), and an
 * optional vertical marker (the threshold) with its label.
 */
export function drawHistogram(canvas: HTMLCanvasElement, h: { start: number; width: number; series: BarSeries[]; marker?: { x: number; label: string } }, opts: { title: string; xLabel: string }): void {
  const cssW = canvas.clientWidth || 480;
  const cssH = canvas.clientHeight || 220;
  const { ctx, fg, grid } = prepareCanvas(canvas, cssW, cssH);
  const L = 46, R = 10, T = 22, B = 30;
  const W = cssW - L - R, H = cssH - T - B;
  ctx.fillStyle = fg;
  ctx.fillText(opts.title, L, 14);
  const bins = Math.max(0, ...h.series.map((s) => s.counts.length));
  const yMax = Math.max(1, ...h.series.flatMap((s) => s.counts));
  let x0 = h.start, x1 = h.start + bins * h.width;
  if (h.marker) { x0 = Math.min(x0, h.marker.x); x1 = Math.max(x1, h.marker.x); }
  if (x1 === x0) x1 = x0 + 1;
  const X = (x: number) => L + ((x - x0) / (x1 - x0)) * W;
  const Y = (y: number) => T + H - (y / yMax) * H;
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.strokeRect(L, T, W, H);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    ctx.fillText(String(Math.round(y)), 2, Y(y) + 4);
  }
  ctx.fillText(`${opts.xLabel}: ${+x0.toPrecision(4)} … ${+x1.toPrecision(4)}`, L, cssH - 8);
  ctx.globalAlpha = 0.6;
  for (const s of h.series) {
    ctx.fillStyle = s.color;
    s.counts.forEach((c, i) => {
      if (c <= 0) return;
      const left = X(h.start + i * h.width);
      const right = X(h.start + (i + 1) * h.width);
      ctx.fillRect(left, Y(c), Math.max(1, right - left - 1), T + H - Y(c));
    });
  }
  ctx.globalAlpha = 1;
  if (h.marker) {
    ctx.strokeStyle = fg;
    ctx.setLineDash([5, 3]);
    ctx.beginPath(); ctx.moveTo(X(h.marker.x), T); ctx.lineTo(X(h.marker.x), T + H); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = fg;
    ctx.fillText(h.marker.label, Math.min(X(h.marker.x) + 4, L + W - ctx.measureText(h.marker.label).width), T + H - 6);
  }
  let lx = L + 8;
  for (const s of h.series) {
    ctx.fillStyle = s.color;
    ctx.fillRect(lx, T + 5, 10, 6);
    ctx.fillStyle = fg;
    ctx.fillText(s.name, lx + 13, T + 11);
    lx += 18 + ctx.measureText(s.name).width + 8;
  }
}

/** Horizontal bars for labelled counts (image sizes, class counts): one row per item. */
export function drawLabelledBars(canvas: HTMLCanvasElement, items: { label: string; count: number }[], opts: { title: string; color: string }): void {
  const rowH = 18;
  const cssW = canvas.clientWidth || 480;
  const cssH = 24 + rowH * Math.max(1, items.length) + 6;
  canvas.style.height = `${cssH}px`;
  const { ctx, fg } = prepareCanvas(canvas, cssW, cssH);
  ctx.fillStyle = fg;
  ctx.fillText(opts.title, 4, 14);
  const L = Math.min(cssW / 3, 8 + Math.max(0, ...items.map((i) => ctx.measureText(i.label).width)));
  const max = Math.max(1, ...items.map((i) => i.count));
  items.forEach((it, k) => {
    const y = 24 + k * rowH;
    ctx.fillStyle = fg;
    ctx.fillText(it.label, 4, y + 12);
    const w = ((cssW - L - 60) * it.count) / max;
    ctx.fillStyle = opts.color;
    ctx.fillRect(L + 4, y + 3, Math.max(1, w), rowH - 6);
    ctx.fillStyle = fg;
    ctx.fillText(String(it.count), L + 8 + w, y + 12);
  });
}
