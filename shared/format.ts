/**
 * One way to show numbers to people, for the extension host and the webviews alike (no `vscode`
 * import): counts as integers, rates as percentages, durations as "4 h 45 min", scores with a few
 * significant digits. Nothing else in extension/ or media/ should hand-format these.
 */

/** 12345 → "12,345"; a non-integer count (an average) is rounded, not shown with decimals. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

/** 0.9312 → "93.1 %" (a rate in 0..1); null → "–". */
export function formatPercent(rate: number | null | undefined, digits = 1): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '–';
  return `${(rate * 100).toFixed(digits)} %`;
}

/** A raw score or threshold: 4 significant digits, no exponent for everyday magnitudes. */
export function formatScore(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(2);
  return String(+x.toPrecision(4));
}

/** Seconds → "42 s", "7 min 5 s", "4 h 45 min"; negative or non-finite → "". */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '';
  const s = Math.round(sec);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return rest ? `${Math.floor(s / 60)} min ${rest} s` : `${s / 60} min`;
  }
  const m = Math.round(s / 60);
  const rest = m % 60;
  return rest ? `${Math.floor(m / 60)} h ${rest} min` : `${m / 60} h`;
}
