/**
 * Small dependency-free SVG line charts: the ROC curve and validation AUROC against epochs.
 * Deterministic output (fixed number formatting) so reports diff cleanly.
 */

export interface Series { name: string; points: [number, number][]; color?: string; dashed?: boolean }

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xRange: [number, number];
  yRange: [number, number];
  width?: number;
  height?: number;
  /** Draw the y = x diagonal (ROC chance line). */
  diagonal?: boolean;
  xTicks?: number[];
  yTicks?: number[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const f = (x: number) => (Math.round(x * 100) / 100).toString();

function ticks([lo, hi]: [number, number], n = 5): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 560, H = o.height ?? 420;
  const m = { l: 60, r: 20, t: 40, b: 50 };
  const legendH = series.length > 1 ? 18 * series.length : 0;
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const [x0, x1] = o.xRange, [y0, y1] = o.yRange;
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * pw;
  const Y = (y: number) => m.t + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + legendH}" viewBox="0 0 ${W} ${H + legendH}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`);
  for (const t of o.xTicks ?? ticks(o.xRange)) {
    parts.push(`<line x1="${f(X(t))}" y1="${m.t}" x2="${f(X(t))}" y2="${m.t + ph}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f(X(t))}" y="${m.t + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of o.yTicks ?? ticks(o.yRange)) {
    parts.push(`<line x1="${m.l}" y1="${f(Y(t))}" x2="${m.l + pw}" y2="${f(Y(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${f(Y(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  if (o.diagonal) parts.push(`<line x1="${f(X(x0))}" y1="${f(Y(y0))}" x2="${f(X(x1))}" y2="${f(Y(y1))}" stroke="#999" stroke-dasharray="4 4"/>`);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (!pts.length) return;
    const d = pts.map(([x, y], k) => `${k ? 'L' : 'M'}${f(X(x))} ${f(Y(Math.min(y1, Math.max(y0, y))))}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    if (pts.length <= 60) for (const [x, y] of pts) parts.push(`<circle cx="${f(X(x))}" cy="${f(Y(Math.min(y1, Math.max(y0, y))))}" r="2.5" fill="${color}"/>`);
    if (series.length > 1) {
      const ly = H + 18 * i + 6;
      parts.push(`<line x1="${m.l}" y1="${ly}" x2="${m.l + 24}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
      parts.push(`<text x="${m.l + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export function rocSvg(series: Series[], title: string): string {
  return lineChart(series, { title, xLabel: 'false positive rate', yLabel: 'true positive rate', xRange: [0, 1], yRange: [0, 1], diagonal: true, xTicks: [0, 0.2, 0.4, 0.6, 0.8, 1], yTicks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
}

/** AUROC (0–1) against epoch for one or more runs. */
export function aurocVsEpochSvg(series: Series[], title: string): string {
  let maxX = 1, minY = 1;
  for (const s of series) for (const [x, y] of s.points) { if (x > maxX) maxX = x; if (Number.isFinite(y) && y < minY) minY = y; }
  const lo = Math.max(0, Math.floor(Math.min(minY, 0.9) * 10) / 10);
  return lineChart(series, { title, xLabel: 'epoch', yLabel: 'AUROC', xRange: [0, maxX], yRange: [lo, 1] });
}
