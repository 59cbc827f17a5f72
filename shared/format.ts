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

/*
 * Metrics, each named by what it is and the split it was measured on (validation or test), so no
 * figure appears unlabelled: the Models view, the finish toast and the training dashboard.
 */

/** An AUROC (0–1) to three decimals. */
export function formatAuroc(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3);
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
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
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
      return formatScore(value);
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
