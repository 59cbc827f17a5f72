/**
 * `flawscope score --json`: the verdict ("normal" | "anomaly" | "unfamiliar"), its reasons and the
 * readable percentile, on the 16x16x1 fixture model (its flawscope.json set so each verdict occurs)
 * and on a tiny trained model, whose flawscope.json must record what the rules compare with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { ROOT, runCli, tempDir } from '../helpers/cli';
import { tinyData } from '../helpers/tiny-data';
import { percentiles } from '../../scorer/familiarity';

const grey = (w: number, h: number, f: (i: number) => number) => sharp(Buffer.from(Uint8Array.from({ length: w * h }, (_, i) => f(i))), { raw: { width: w, height: h, channels: 1 } }).png();
const colour = (w: number, h: number) => sharp(Buffer.from(Uint8Array.from({ length: w * h * 3 }, (_, i) => (i % 3 === 0 ? 220 : i % 3 === 1 ? 40 : 90))), { raw: { width: w, height: h, channels: 3 } }).png();
const results = (r: ReturnType<typeof runCli>) => new Map(r.events.filter((e) => e.event === 'result').map((e) => [e.file.split('/').pop(), e]));

test('score --json gives each verdict with its reasons and the percentile; the text line leads with them', async () => {
  const d = tempDir('flawscope-verdicts-');
  const model = join(d, 'model');
  cpSync(join(ROOT, 'test/fixtures/bad/models/ok'), model, { recursive: true });
  await grey(16, 16, () => 0).toFile(join(d, 'flat.png'));
  await grey(16, 16, (i) => ((i * 97) % 256)).toFile(join(d, 'noise.png'));
  await colour(16, 16).toFile(join(d, 'colour.png'));
  const first = results(runCli(['score', '--model', model, join(d, 'flat.png'), join(d, 'noise.png'), '--json']));
  const [lo, hi] = [first.get('flat.png').score, first.get('noise.png').score].sort((a, b) => a - b);
  assert.ok(hi > lo, `the two grey images score apart (${lo}, ${hi})`);
  const low = first.get('flat.png').score === lo ? 'flat.png' : 'noise.png', high = low === 'flat.png' ? 'noise.png' : 'flat.png';
  // Validation normals from just under the low image to just over the high one; the threshold between them.
  const info = JSON.parse(readFileSync(join(model, 'flawscope.json'), 'utf8'));
  const span = hi - lo;
  const normals = Array.from({ length: 50 }, (_, i) => lo - span * 0.1 + (span * 1.2 * i) / 49);
  info.normalStats = { mean: (lo + hi) / 2, std: span / 3, p95: hi, p99: hi, count: 50, quantiles: percentiles(normals) };
  info.threshold = (lo + hi) / 2;
  writeFileSync(join(model, 'flawscope.json'), JSON.stringify(info));

  const r = runCli(['score', '--model', model, d, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const got = results(r);
  assert.equal(got.get(low).verdict, 'normal');
  assert.equal(got.get(high).verdict, 'anomaly');
  assert.equal(got.get(high).isAnomaly, true, 'isAnomaly kept');
  const u = got.get('colour.png');
  assert.equal(u.verdict, 'unfamiliar');
  assert.equal(u.reasons.length >= 1, true);
  assert.match(u.reasons[0], /this model was trained on grey images; this is a 16x16 colour image/);
  for (const v of [low, high]) assert.deepEqual(got.get(v).reasons, []);
  assert.ok(typeof u.score === 'number' && typeof u.isAnomaly === 'boolean', 'the raw score is still there');
  const p = got.get(low).percentile;
  assert.equal(p.estimated, false);
  assert.ok(p.value > 0 && p.value < 50, `low image percentile ${p.value}`);
  assert.match(got.get(low).summary, /^more unusual than \d+\.\d % of normal images$/);
  const done = r.events.find((e) => e.event === 'done');
  assert.deepEqual([done.scored, done.anomalies, done.unfamiliar], [3, 1, 1]);

  const text = runCli(['score', '--model', model, d]);
  assert.match(text.stdout, new RegExp(`^UNFAMILIAR  (more|less) unusual than .* \\(score [0-9.e-]+\\)  .*colour\\.png\\n {12}this model was trained on grey images; this is a 16x16 colour image`, 'm'));
  assert.match(text.stdout, new RegExp(`^normal      more unusual than \\d+\\.\\d % of normal images \\(score .*${low.replace('.', '\\.')}`, 'm'));
  assert.doesNotMatch(text.stdout, /\d%\)/, 'no 0–1 "normalised" percentage any more');

  // An older model: no quantiles, the percentile is estimated ("about").
  delete info.normalStats.quantiles;
  writeFileSync(join(model, 'flawscope.json'), JSON.stringify(info));
  const old = results(runCli(['score', '--model', model, join(d, low), '--json'])).get(low);
  assert.equal(old.percentile.estimated, true);
  assert.match(old.summary, /^about more unusual than/);
});

test('a trained model records what its images were like, and calls a large colour photo unfamiliar', { timeout: 300_000 }, async () => {
  const data = tinyData('flawscope-verdict-data-');
  const out = join(data, '..', 'model');
  const t = runCli(['train', '--data', data, '--out', out, '--size', '16', '--epochs', '1', '--batch', '8', '--json']);
  assert.equal(t.code, 0, t.stderr);
  const info = JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8'));
  const ti = info.trainingImages;
  assert.equal(ti.colourShare, 0);
  assert.deepEqual([ti.width[0], ti.width[100], ti.height[50]], [28, 28, 28], 'the MNIST sources are 28x28');
  assert.equal(ti.mean.length, 101);
  assert.ok(ti.count >= 30 && ti.mean[50] > 10 && ti.mean[50] < 80, `digit brightness ${ti.mean[50]}`);
  assert.equal(info.normalStats.quantiles.length, 101);
  const photo = join(data, '..', 'photo.png');
  await colour(300, 300).toFile(photo);
  const digit = join(data, 'good', (await import('node:fs')).readdirSync(join(data, 'good'))[0]);
  const got = results(runCli(['score', '--model', out, photo, digit, '--json']));
  const u = got.get('photo.png');
  assert.equal(u.verdict, 'unfamiliar');
  assert.match(u.reasons[0], /^this model was trained on 28x28 grey images; this is a 300x300 colour image \(colour, 11x larger\)$/);
  assert.notEqual(got.get(digit.split('/').pop()!).verdict, 'unfamiliar', 'a training digit is familiar');
});
