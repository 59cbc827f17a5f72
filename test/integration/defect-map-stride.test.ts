/**
 * --preset defects chooses the photo-tile stride on the validation photos (docs/defect-map.md
 * "The tile stride"): the written model records the comparison and the pick, its
 * preprocess.tileStride is the pick, and its threshold and normalStats are fitted on the
 * validation photos' scores at that stride (checked by scoring them again through the scorer at
 * both strides). A --tile-stride the user gives skips the choice.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { paintedDefects } from '../helpers/painted-defects';
import { tempDir } from '../helpers/cli';
import { trainConfigFromFlags } from '../../trainer/cli-train-config';
import { trainDefects, type DefectsConfig } from '../../trainer/defect-map/train-map';
import { loadMapData } from '../../trainer/data/map-data';
import { decodeImageFile, loadScorerFromDir } from '../../scorer/node';
import type { ProgressEvent } from '../../trainer/progress';

// 128 px photos: at stride 64 four tiles, at stride 32 nine, so the two strides score them differently.
let data: string;
before(async () => { data = await paintedDefects({ normal: 12, defect: 10, size: 128 }); });

const flags = (o: Record<string, string>) => new Map(Object.entries(o));
const hooks = (events: ProgressEvent[]) => ({ emit: (e: ProgressEvent) => events.push(e), shouldStop: () => false, loadData: () => { throw new Error('unused'); } });
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

async function train(extra: Record<string, string>) {
  const out = join(tempDir(), 'model');
  const cfg = trainConfigFromFlags(flags({ data, out, preset: 'defects', epochs: '1', 'validation-fraction': '0.4', ...extra })) as DefectsConfig;
  const events: ProgressEvent[] = [];
  assert.equal(await trainDefects(cfg, hooks(events)), 'done');
  return { cfg, out, events, info: JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8')) };
}

/** The validation photos' normal scores, scored by the written model through the Node scorer at `stride`. */
async function validationNormalScores(cfg: DefectsConfig, out: string, stride: number): Promise<number[]> {
  const d = await loadMapData({ ...cfg.dataOptions, root: cfg.data, normalClass: cfg.normal, size: cfg.size, channels: cfg.channels, seed: cfg.seed, validationFraction: cfg.validationFraction });
  const s = await loadScorerFromDir(out, { backend: 'cpu' });
  try {
    const scores: number[] = [];
    for (const p of d.photos.validation.filter((q) => !q.isAnomaly)) scores.push((await s.score(await decodeImageFile(p.source), { stride, reconstruction: false })).score);
    return scores;
  } finally {
    s.dispose();
  }
}

test('the written model records both strides\' validation image AUROC, the margin and the pick; preprocess.tileStride, the threshold and normalStats follow the pick', { timeout: 300_000 }, async () => {
  const { cfg, out, events, info } = await train({});
  const rec = info.config.defectMap.tileStride;
  assert.equal(rec.source, 'validation');
  assert.deepEqual(rec.candidates.map((c: { stride: number }) => c.stride), [64, 32]);
  for (const c of rec.candidates) assert.ok(typeof c.auroc === 'number' && c.auroc >= 0 && c.auroc <= 1, JSON.stringify(rec));
  assert.ok([64, 32].includes(rec.stride));
  assert.match(rec.method, /one standard error .* paired difference: stratified bootstrap, 1000 resamples, seed/);
  assert.deepEqual(Object.keys(rec.rules).sort(), ['32', '64']);
  // The pick is what the scorer uses by default, and the flat figures are in metrics (printed by the CLI).
  assert.equal(info.preprocess.tileStride, rec.stride);
  assert.equal(info.metrics.tileStride, rec.stride);
  assert.equal(info.metrics.valPhotoAuroc_stride64, rec.candidates[0].auroc);
  assert.equal(info.metrics.valPhotoAuroc_stride32, rec.candidates[1].auroc);
  assert.equal(info.metrics.tileStrideMargin, Math.max(rec.candidates[0].margin, rec.candidates[1].margin));
  assert.equal(info.config.tileStride, null, 'the user gave no stride; a resume chooses again');
  assert.ok(events.some((e) => e.type === 'stage' && /^tile stride (64|32) px, chosen on \d+ validation photos \(image AUROC 64 px [\d.]+, 32 px [\d.]+\)/.test(e.message)), 'the training output states the comparison');
  // normalStats and the threshold come from the validation photos' scores at the chosen stride, not at the other.
  const other = rec.stride === 64 ? 32 : 64;
  const atPick = await validationNormalScores(cfg, out, rec.stride);
  const atOther = await validationNormalScores(cfg, out, other);
  assert.equal(info.normalStats.count, atPick.length);
  assert.ok(Math.abs(mean(atPick) - mean(atOther)) > 1e-4, `the fixture must tell the strides apart: ${mean(atPick)} vs ${mean(atOther)}`);
  assert.ok(Math.abs(info.normalStats.mean - mean(atPick)) < 2e-5, `normalStats.mean ${info.normalStats.mean} = mean at stride ${rec.stride} ${mean(atPick)} (at ${other}: ${mean(atOther)})`);
  assert.ok(info.threshold >= Math.max(...atPick) - 2e-5, `threshold ${info.threshold} is at or above the highest validation normal at the pick (1 % false alarms of ${atPick.length})`);
});

test('--tile-stride given by the user wins: nothing compared, the model scores at it, the record says so', { timeout: 300_000 }, async () => {
  const { info, events } = await train({ 'tile-stride': '32' });
  assert.equal(info.preprocess.tileStride, 32);
  assert.equal(info.config.tileStride, 32);
  const rec = info.config.defectMap.tileStride;
  assert.equal(rec.source, 'user');
  assert.deepEqual(rec.candidates.map((c: { stride: number }) => c.stride), [32]);
  assert.equal(info.metrics.valPhotoAuroc_stride64, undefined);
  assert.equal(info.metrics.tileStrideMargin, undefined);
  assert.ok(events.some((e) => e.type === 'stage' && /tile stride 32 px, as given \(--tile-stride\): no stride compared/.test(e.message)));
  assert.ok(!events.some((e) => e.type === 'stage' && /chosen on \d+ validation photos/.test(e.message)));
});
