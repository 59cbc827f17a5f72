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

export function drawPlot(canvas: HTMLCanvasElement, series: Series[], opts: { title: string; xLabel: string; yMin?: number; yMax?: number; square?: boolean; diagonal?: boolean; marker?: PlotMarker | null }): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 480;
  const cssH = canvas.clientHeight || (opts.square ? cssW : 240);
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const fg = css('--vscode-foreground', '#ccc');
  const grid = css('--vscode-editorWidget-border', '#555');
  ctx.clearRect(0, 0, cssW, cssH);
  ctx.font = '11px sans-serif';
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
