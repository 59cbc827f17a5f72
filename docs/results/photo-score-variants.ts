/**
 * How a defect photo's score is pooled from its stitched error map, measured on validation and
 * test photos of a crop-protocol model (Magnetic tile). Each photo is tiled and scored once the
 * way `flawscope score` does; its error map is then pooled several ways: the mean of the n
 * highest window means (window side in model pixels, stride half the side), the whole map's
 * mean, and high quantiles. The model's own photo score is printed beside them as the baseline.
 * The choice among the pools is made on validation photos; test is printed after, never used.
 * `--tile-stride N` overlaps the tiles (N model pixels apart; default the model size, no overlap).
 * Run: node --import tsx docs/results/photo-score-variants.ts MODEL_DIR [--score-flip horizontal] [--score-shift pixel] [--tile-stride N] [--out FILE.json]
 */
import { writeFileSync } from 'node:fs';
import { loadScorerFromDir, decodeImageFile } from '../../scorer/node/index';
import { loadEvalSet, type EvalSplit } from '../../trainer/eval/evaldata';
import { auroc } from '../../trainer/metrics';
import type { FlipMode, ShiftMode } from '../../scorer/model-format';

const args = process.argv.slice(2);
const modelDir = args[0];
if (!modelDir) throw new Error('usage: photo-score-variants.ts MODEL_DIR [--score-flip horizontal] [--score-shift pixel] [--out FILE.json]');
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i > 0 ? args[i + 1] : undefined;
};

/** Mean of each side x side window (stride side/2, at least 1) of a w x h map, from an integral image. */
function windowMeans(map: Float32Array, w: number, h: number, side: number): Float64Array {
  const s = Math.min(side, w, h), st = Math.max(1, Math.floor(s / 2));
  const ii = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += map[y * w + x];
      ii[(y + 1) * (w + 1) + x + 1] = ii[y * (w + 1) + x + 1] + row;
    }
  }
  const out: number[] = [];
  for (let y = 0; y + s <= h; y += st)
    for (let x = 0; x + s <= w; x += st)
      out.push((ii[(y + s) * (w + 1) + x + s] - ii[y * (w + 1) + x + s] - ii[(y + s) * (w + 1) + x] + ii[y * (w + 1) + x]) / (s * s));
  return Float64Array.from(out);
}

const topMean = (v: Float64Array, n: number): number => {
  const sorted = Float64Array.from(v).sort().reverse();
  const k = Math.min(n, sorted.length);
  let a = 0;
  for (let i = 0; i < k; i++) a += sorted[i];
  return a / k;
};
const quantile = (v: Float32Array, q: number): number => {
  const s = Float32Array.from(v).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function main(): Promise<void> {
  const scorer = await loadScorerFromDir(modelDir, { backend: 'wasm' });
  const cfg = (scorer.info.config ?? {}) as Record<string, any>;
  const flip = flag('score-flip') as FlipMode | undefined, shift = flag('score-shift') as ShiftMode | undefined;
  const stride = flag('tile-stride') === undefined ? undefined : Number(flag('tile-stride'));
  // Model pixels → photo pixels: the error map comes back at the photo's resolution.
  const toPhoto = 1 / (scorer.info.preprocess?.scale ?? 1);
  const pools: Array<{ name: string; f: (m: Float32Array, w: number, h: number) => number }> = [];
  for (const side of [4, 8, 16, 32])
    for (const n of [1, 3, 10, 30, 100])
      pools.push({ name: `top${n}-of-${side}px`, f: (m, w, h) => topMean(windowMeans(m, w, h, Math.round(side * toPhoto)), n) });
  // A fixed n favours large photos (more windows, higher extremes); a fraction of the windows does not.
  for (const side of [4, 8, 16])
    for (const frac of [0.005, 0.02, 0.1])
      pools.push({ name: `top${100 * frac}%-of-${side}px`, f: (m, w, h) => { const v = windowMeans(m, w, h, Math.round(side * toPhoto)); return topMean(v, Math.max(1, Math.round(frac * v.length))); } });
  pools.push({ name: 'mean', f: (m) => m.reduce((a, v) => a + v, 0) / m.length });
  for (const q of [0.99, 0.999]) pools.push({ name: `quantile-${q}`, f: (m) => quantile(m, q) });

  const report: Record<string, unknown> = { model: modelDir, flip: flip ?? 'model', shift: shift ?? 'model', tileStride: stride ?? 'model size', splits: {} };
  for (const split of ['validation', 'test'] as EvalSplit[]) {
    const set = await loadEvalSet({
      data: cfg.data, normal: cfg.normal, size: scorer.info.input.height, channels: scorer.info.input.channels,
      seed: cfg.seed ?? 0, validationFraction: cfg.validationFraction ?? 0.1, split,
      dataOptions: cfg.dataOptions ?? {}, standardize: scorer.info.preprocess?.standardize,
    });
    if (!set.groups) throw new Error(`${modelDir}: its data is not cut from photos; nothing to pool`);
    const label = new Map<string, number>(), type = new Map<string, string>();
    set.groups.forEach((g, i) => {
      label.set(g, Math.max(label.get(g) ?? 0, set.isAnomaly[i]));
      if (set.isAnomaly[i] || !type.has(g)) type.set(g, set.className?.[i] ?? 'defect');
    });
    const photos = [...label.keys()];
    const y = photos.map((p) => label.get(p)!);
    const scores = new Map<string, number[]>([['model', []], ...pools.map((p) => [p.name, []] as [string, number[]])]);
    for (const p of photos) {
      const r = await scorer.score(await decodeImageFile(p), { mode: 'tile', reconstruction: false, flip, shift, stride });
      scores.get('model')!.push(r.score);
      for (const pool of pools) scores.get(pool.name)!.push(pool.f(r.errorMap, r.width, r.height));
    }
    const types = [...new Set(photos.filter((_, i) => y[i]).map((p) => type.get(p)!))].sort();
    const rows: Record<string, { auroc: number; byType: Record<string, number> }> = {};
    for (const [name, s] of scores) {
      const byType: Record<string, number> = {};
      for (const t of types) {
        const idx = photos.map((p, i) => i).filter((i) => !y[i] || type.get(photos[i]) === t);
        byType[t] = auroc(idx.map((i) => s[i]), idx.map((i) => y[i]));
      }
      rows[name] = { auroc: auroc(s, y), byType };
    }
    (report.splits as Record<string, unknown>)[split] = { photos: photos.length, defects: y.filter((v) => v).length, rows };
    process.stderr.write(`${split}: ${photos.length} photos scored\n`);
  }
  const sp = report.splits as Record<string, { rows: Record<string, { auroc: number; byType: Record<string, number> }> }>;
  const names = Object.keys(sp.validation.rows).sort((a, b) => sp.validation.rows[b].auroc - sp.validation.rows[a].auroc);
  const types = Object.keys(sp.test.rows.model.byType);
  process.stdout.write(`| photo score | validation | test | test: ${types.join(' / ')} |\n|---|---:|---:|---|\n`);
  for (const n of names)
    process.stdout.write(`| ${n} | ${(100 * sp.validation.rows[n].auroc).toFixed(1)} | ${(100 * sp.test.rows[n].auroc).toFixed(1)} | ${types.map((t) => (100 * sp.test.rows[n].byType[t]).toFixed(0)).join(' / ')} |\n`);
  const out = flag('out');
  if (out) writeFileSync(out, JSON.stringify(report, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
