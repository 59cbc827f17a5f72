/**
 * How numbers reach a person, in one place for the extension host and the webviews: durations as
 * "4 h 45 min", counts as integers, rates as percentages, and every AUROC named by the split it
 * was measured on (validation or test), so no figure appears without saying what it is.
 * Pure (no `vscode`, no DOM): bundled into webview scripts and unit-tested in Node.
 */

/** "42 s", "3 min 5 s", "4 h 45 min"; '' for a negative or non-finite number (no estimate yet). */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '';
  if (sec < 59.5) return `${Math.round(sec)} s`;
  if (sec < 3600) {
    const s = Math.round(sec);
    return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  // Rounded to whole minutes first, so 2 h 59.7 min reads "3 h 0 min", never "2 h 60 min".
  const min = Math.round(sec / 60);
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** An integer with thousands separators ("1,500"); rounds what is not one. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return Math.round(n).toLocaleString('en-US');
}

/** A share 0–1 as a percentage: "1.0 %", "0.25 %" (two digits below 1 %). */
export function formatPercent(rate: number): string {
  if (!Number.isFinite(rate)) return 'n/a';
  const pct = rate * 100;
  return `${pct !== 0 && Math.abs(pct) < 1 ? pct.toFixed(2) : pct.toFixed(1)} %`;
}

/** An AUROC (0–1) to three decimals. */
export function formatAuroc(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(3);
}

/** What each metric key a trainer writes (flawscope.json `metrics`, the `done` event) means, in words. */
const METRIC_LABELS: Readonly<Record<string, string>> = {
  valAuroc: 'validation AUROC',
  valAurocMean: 'validation AUROC (mean score)',
  valAurocTopPatch: 'validation AUROC (top-patch score)',
  bestValAuroc: 'best validation AUROC',
  testAuroc: 'test AUROC',
  auroc: 'AUROC (split not recorded)',
  bestEpoch: 'kept epoch',
};

/** The words for a metric key: known ones from the table, others split at capitals ("falseAlarmRate" → "false alarm rate"). */
export function metricLabel(key: string): string {
  return METRIC_LABELS[key] ?? key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

type MetricKind = 'auroc' | 'rate' | 'seconds' | 'count' | 'number';

function metricKind(key: string, value: number): MetricKind {
  if (/auroc/i.test(key)) return 'auroc';
  if (/rate$|fraction$|share$/i.test(key)) return 'rate';
  if (/(sec|seconds)$/i.test(key)) return 'seconds';
  if (/epoch|count$|^n[A-Z]|images$/.test(key) || Number.isInteger(value)) return 'count';
  return 'number';
}

/** One metric's value as text, by what the key measures (AUROC, a rate, seconds, a count). */
export function formatMetricValue(key: string, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  switch (metricKind(key, value)) {
    case 'auroc':
      return formatAuroc(value);
    case 'rate':
      return formatPercent(value);
    case 'seconds':
      return formatDuration(value);
    case 'count':
      return formatCount(value);
    case 'number':
      return String(Number(value.toPrecision(4)));
  }
}

/** "test AUROC 0.912": a metric with its label. */
export function formatMetric(key: string, value: number | null | undefined): string {
  return `${metricLabel(key)} ${formatMetricValue(key, value)}`;
}

/** The AUROC a model is summed up by, and which split it is from: test when measured, else validation. */
export function headlineAuroc(metrics: Readonly<Record<string, number | null | undefined>>): { key: string; value: number } | null {
  for (const key of ['testAuroc', 'valAuroc', 'bestValAuroc', 'auroc']) {
    const v = metrics[key];
    if (typeof v === 'number' && Number.isFinite(v)) return { key, value: v };
  }
  return null;
}

/**
 * Why the deployed weights are those of epoch `bestEpoch`: the trainer keeps the epoch with the
 * highest validation AUROC, and the first one when validation has no anomalies to compute it.
 */
export function keptEpochText(bestEpoch: number, epochs: number, bestValAuroc: number | null): string {
  const which = `kept epoch ${formatCount(bestEpoch)} of ${formatCount(epochs)}`;
  if (bestValAuroc === null || !Number.isFinite(bestValAuroc)) return `${which}: validation has no anomalies to choose an epoch by, so the first was kept`;
  return `${which}: validation AUROC peaked there (${formatAuroc(bestValAuroc)})`;
}

/**
 * A finished training in one line, every figure labelled: "test AUROC 0.912 · validation AUROC
 * 0.951 · kept epoch 2 of 30: validation AUROC peaked there (0.951)". The validation AUROC is the
 * deployed weights' (the kept epoch's), which is why it gives the reason.
 */
export function trainedSummary(metrics: Readonly<Record<string, number | null | undefined>>, epochs: number): string {
  const parts: string[] = [];
  const val = metrics.valAuroc ?? null;
  if (typeof metrics.testAuroc === 'number') parts.push(formatMetric('testAuroc', metrics.testAuroc));
  else parts.push('no test split');
  if (typeof val === 'number') parts.push(formatMetric('valAuroc', val));
  if (typeof metrics.bestEpoch === 'number' && metrics.bestEpoch > 0) parts.push(keptEpochText(metrics.bestEpoch, epochs, val));
  return parts.join(' · ');
}
