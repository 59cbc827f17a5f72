/** Histogram binning shared by the report builders (host side) and tested in plain Node. */

export interface Histogram {
  /** Left edge of the first bin and the width of every bin. */
  start: number;
  width: number;
  /** One count list per series, each `bins` long. */
  counts: number[][];
}

/**
 * Bins every series over one common range (so normal and anomalous bars line up). The last bin is
 * closed on the right, so the maximum lands in it; non-finite values are left out.
 */
export function binSeries(series: readonly (readonly number[])[], bins: number): Histogram {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`binSeries: bins must be a positive integer, got ${bins}`);
  const all = series.flat().filter(Number.isFinite);
  if (all.length === 0) return { start: 0, width: 1, counts: series.map(() => new Array<number>(bins).fill(0)) };
  let lo = Infinity, hi = -Infinity;
  for (const v of all) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // All equal: one unit-wide range around the value, so the bar is drawn, not divided by zero.
  const width = hi > lo ? (hi - lo) / bins : 1 / bins;
  const start = hi > lo ? lo : lo - 0.5;
  const counts = series.map((s) => {
    const c = new Array<number>(bins).fill(0);
    for (const v of s) if (Number.isFinite(v)) c[Math.min(bins - 1, Math.max(0, Math.floor((v - start) / width)))]++;
    return c;
  });
  return { start, width, counts };
}
