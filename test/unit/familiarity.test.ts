/** The "unfamiliar" verdict's rules (scorer/familiarity.ts) and the readable score (scorer/percentile.ts), on hand-made inputs. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarityReasons, meanChroma, percentiles, pixelStats, GREY_CHROMA_MAX, type ImageFacts, type TrainingImages } from '../../scorer/familiarity';
import { describePercentile, scorePercentile } from '../../scorer/percentile';
import { validateModelInfo } from '../../scorer/model-format';
import { info as folderInfo } from '../browser/fixtures';
import { ScorerError } from '../../scorer/errors';

const flat = (v: number) => Array.from({ length: 101 }, () => v);
const ramp = (lo: number, hi: number) => Array.from({ length: 101 }, (_, i) => lo + ((hi - lo) * i) / 100);

/** A 32x32 grey model trained on 28x28 digits: pixel mean 20–60, std 50–100, mid-tones 10–20 %; validation scores 0.30–0.40 (median 0.35). */
function digitModel(over: { trainingImages?: TrainingImages | null; channels?: 1 | 3; quantiles?: number[] | null; mode?: 'tile' | 'resize' } = {}) {
  const t: TrainingImages = { count: 900, sources: 900, colourShare: 0, width: flat(28), height: flat(28), aspect: flat(1), mean: ramp(20, 60), std: ramp(50, 100), midtones: ramp(0.1, 0.2) };
  return {
    input: { height: 32, width: 32, channels: over.channels ?? 1 },
    preprocess: { mode: over.mode ?? 'resize', scale: 1 },
    normalStats: { mean: 0.35, std: 0.02, p95: 0.38, p99: 0.39, count: 100, ...(over.quantiles === null ? {} : { quantiles: over.quantiles ?? ramp(0.3, 0.4) }) },
    ...(over.trainingImages === null ? {} : { trainingImages: over.trainingImages ?? t }),
  } as Parameters<typeof familiarityReasons>[0];
}
const digit: ImageFacts = { width: 28, height: 28, channels: 1, chroma: 0, pixels: { mean: 40, std: 80, midtones: 0.15 } };
const reasons = (m: Parameters<typeof familiarityReasons>[0], f: Partial<ImageFacts> = {}, score = 0.35) => familiarityReasons(m, { ...digit, ...f }, score);

describe('familiarity rules', () => {
  test('a digit like the training digits, scoring in the normal range, is familiar', () => {
    assert.deepEqual(reasons(digitModel()), []);
    assert.deepEqual(reasons(digitModel(), {}, 0.45), [], 'an anomaly-like score above the normal range is not unfamiliar');
  });
  test('channels: a colour image into a grey model, and a grey image into a colour model', () => {
    const r = reasons(digitModel(), { channels: 3, chroma: 30 });
    assert.equal(r.length, 1);
    assert.match(r[0], /^this model was trained on 28x28 grey images; this is a 28x28 colour image \(colour\)$/);
    assert.deepEqual(reasons(digitModel(), { channels: 3, chroma: GREY_CHROMA_MAX }), [], 'an RGB image of grey content is grey');
    const colourModel = digitModel({ channels: 3, trainingImages: { ...digitModel().trainingImages!, colourShare: 1, chroma: ramp(10, 60) } });
    assert.match(reasons(colourModel)[0], /trained on 28x28 colour images; this is a 28x28 grey image \(grey\)/);
    assert.deepEqual(reasons(colourModel, { channels: 3, chroma: 20 }), []);
    // 1 % or more grey training images: grey is familiar.
    const mixed = digitModel({ channels: 3, trainingImages: { ...digitModel().trainingImages!, colourShare: 0.9, chroma: [0, 0, ...ramp(10, 60).slice(2)] } });
    assert.deepEqual(reasons(mixed), []);
    // A grey model trained with some colour sources (--channels 1 on photos): colour is familiar.
    assert.deepEqual(reasons(digitModel({ trainingImages: { ...digitModel().trainingImages!, colourShare: 0.5 } }), { channels: 3, chroma: 30 }), []);
  });
  test('size: far larger or far smaller than the training sources; aspect far off (resize models)', () => {
    assert.match(reasons(digitModel(), { width: 300, height: 300 })[0], /trained on 28x28 grey images; this is a 300x300 grey image \(11x larger\)/);
    assert.deepEqual(reasons(digitModel(), { width: 56, height: 56 }), [], 'twice the size is still familiar');
    assert.match(reasons(digitModel(), { width: 10, height: 10 })[0], /this is a 10x10 grey image \(2\.8x smaller\)/);
    assert.match(reasons(digitModel(), { width: 56, height: 28 })[0], /\(aspect 2 where the training images have 1\)/);
    assert.deepEqual(reasons(digitModel(), { width: 36, height: 28 }), [], 'aspect 1.29 is within 1.5x');
  });
  test('tile models compare the photo with the training photos, and aspect is free', () => {
    const t = { ...digitModel().trainingImages!, width: ramp(200, 600), height: ramp(220, 400), aspect: ramp(0.5, 2) };
    const m = digitModel({ mode: 'tile', trainingImages: t });
    assert.deepEqual(reasons(m, { width: 1000, height: 300 }), [], 'a wide photo of training scale');
    assert.match(reasons(m, { width: 28, height: 28 })[0], /trained on about 400x310 \(200–600 x 220–400\) grey photos; this is a 28x28 grey image \(7\.1x smaller\)/);
    assert.match(reasons(m, { width: 1300, height: 900 })[0], /2\.2x larger/);
  });
  test('pixel statistics: brightness and contrast either way, mid-tones only above', () => {
    const m = digitModel();
    assert.match(reasons(m, { pixels: { mean: 130, std: 80, midtones: 0.15 } })[0], /^its brightness \(pixel mean\) is 130\.0, far above the training images' \(20\.4–59\.6 for 98 % of them\)$/);
    assert.match(reasons(m, { pixels: { mean: 0, std: 80, midtones: 0.15 } })[0], /brightness .* far below/);
    assert.match(reasons(m, { pixels: { mean: 40, std: 10, midtones: 0.15 } })[0], /contrast \(pixel standard deviation\) is 10\.0, far below/);
    assert.match(reasons(m, { pixels: { mean: 40, std: 140, midtones: 0.15 } })[0], /contrast .* far above/);
    assert.match(reasons(m, { pixels: { mean: 40, std: 80, midtones: 0.5 } })[0], /share of mid-tone pixels is 50\.0 %, far above the training images' \(10\.1 %–19\.9 %/);
    assert.deepEqual(reasons(m, { pixels: { mean: 40, std: 80, midtones: 0 } }), [], 'fewer mid-tones (a thin "1") is an anomaly, not unfamiliar');
    assert.deepEqual(reasons(m, { pixels: { mean: 62, std: 102, midtones: 0.22 } }), [], 'just past the 1–99 % range is still familiar');
    assert.deepEqual(familiarityReasons(m, { ...digit, pixels: { mean: 130, std: 80, midtones: 0.15 } }, 0.35, 'tile'), [], 'scored another way than trained: no pixel rule');
  });
  test('ink: more ink, or a wider or taller drawing, than any training digit is unfamiliar; less is an anomaly', () => {
    const inked = digitModel({ trainingImages: { ...digitModel().trainingImages!, ink: ramp(0.12, 0.32), inkWidth: ramp(0.35, 0.7), inkHeight: ramp(0.5, 0.75) } });
    const px = { mean: 40, std: 80, midtones: 0.15 };
    assert.deepEqual(reasons(inked, { pixels: { ...px, ink: 0.2, inkWidth: 0.5, inkHeight: 0.7 } }), []);
    assert.match(reasons(inked, { pixels: { ...px, ink: 0.6, inkWidth: 0.5, inkHeight: 0.7 } })[0], /^its share of ink pixels \(brighter than 32\) is 60\.0 %, far above the training images' \(12\.2 %–31\.8 %/);
    assert.match(reasons(inked, { pixels: { ...px, ink: 0.2, inkWidth: 0.95, inkHeight: 0.7 } })[0], /ink width \(share of the image width\) is 95\.0 %, far above/);
    assert.match(reasons(inked, { pixels: { ...px, ink: 0.2, inkWidth: 0.5, inkHeight: 1 } })[0], /ink height .* far above/);
    assert.deepEqual(reasons(inked, { pixels: { ...px, ink: 0.05, inkWidth: 0.1, inkHeight: 0.7 } }), [], 'a thin "1": an anomaly, not unfamiliar');
    // Models trained before the ink statistics, and images scored without them (tiles), skip the rule.
    assert.deepEqual(reasons(digitModel(), { pixels: { ...px, ink: 0.9, inkWidth: 1, inkHeight: 1 } }), []);
    assert.deepEqual(reasons(inked, { pixels: px }), []);
  });
  test('ink extent: wider than any training digit by half the room left to the edge is unfamiliar, even inside the spread rule', () => {
    // Widths like MNIST 8s at 32 px (34–75 %): the 1–99 % spread rule alone allows up to 94 %.
    const eights = digitModel({ trainingImages: { ...digitModel().trainingImages!, ink: ramp(0.12, 0.32), inkWidth: ramp(0.34, 0.75), inkHeight: ramp(0.5, 0.75) } });
    const px = { mean: 40, std: 80, midtones: 0.15, ink: 0.15 };
    assert.deepEqual(reasons(eights, { pixels: { ...px, inkWidth: 0.75, inkHeight: 0.75 } }), [], 'as wide as the widest training 8');
    assert.deepEqual(reasons(eights, { pixels: { ...px, inkWidth: 0.875, inkHeight: 0.7 } }), [], 'exactly at q100 + half the room (75 % + 12.5 %)');
    // A sandal drawn edge to edge at 30 of 32 px (a Fashion-MNIST image the old rule called familiar).
    assert.match(reasons(eights, { pixels: { ...px, inkWidth: 0.9375, inkHeight: 0.7 } })[0], /^its ink width \(share of the image width\) is 93\.8 %, far above the training images' \(34\.4 %–74\.6 % for 98 % of them, 75\.0 % at most\)$/);
    assert.match(reasons(eights, { pixels: { ...px, inkWidth: 0.5, inkHeight: 0.9 } })[0], /ink height .* 75\.0 % at most/);
    // Training images that fill the frame (garments): the extent rule adds nothing.
    const garments = digitModel({ trainingImages: { ...digitModel().trainingImages!, ink: ramp(0.12, 0.6), inkWidth: ramp(0.5, 1), inkHeight: ramp(0.6, 1) } });
    assert.deepEqual(reasons(garments, { pixels: { ...px, inkWidth: 1, inkHeight: 1 } }), []);
  });
  test('pixelStats with a shape: the ink share and the ink box', () => {
    const img = new Uint8Array(10 * 8); // 10 wide, 8 high, grey
    for (const [x, y] of [[2, 1], [6, 1], [4, 5]]) img[y * 10 + x] = 255;
    img[3] = 32; // at the ink level: not ink
    const s = pixelStats(img, 0, img.length, { width: 10, height: 8, channels: 1 });
    assert.equal(s.ink, 3 / 80);
    assert.equal(s.inkWidth, 5 / 10);
    assert.equal(s.inkHeight, 5 / 8);
    assert.equal(pixelStats(new Uint8Array(12), 0, 12, { width: 2, height: 2, channels: 3 }).inkWidth, 0);
    const rgb = new Uint8Array(2 * 2 * 3);
    rgb.set([120, 0, 0], 3); // channel mean 40: ink
    assert.equal(pixelStats(rgb, 0, 12, { width: 2, height: 2, channels: 3 }).ink, 0.25);
    assert.equal(pixelStats(img).ink, undefined, 'no shape, no ink statistics');
  });
  test('score: far below the normal range (too perfect) or far above it', () => {
    const m = digitModel();
    // Low side in ratios: 0.30 × (0.30/0.35)^4 ≈ 0.162.
    assert.match(reasons(m, {}, 0.15)[0], /^its score 0\.1500 is far below the normal range \(the 100 normal validation images score 0\.3000–0\.4000\)/);
    assert.deepEqual(reasons(m, {}, 0.17), []);
    assert.deepEqual(reasons(m, {}, 0.24), [], 'under the old additive rule (0.30 − 1 × 0.05 = 0.25) this was unfamiliar');
    // 15 validation 8s in a tight band (a quick-preset MNIST model: 0.0403–0.0428 below the median):
    // normal test 8s of other writers scored down to 0.0334, and the old rule (0.0378) called 3.8 % of them unfamiliar.
    const tightLow = digitModel({ quantiles: [...Array.from({ length: 51 }, (_, i) => 0.0403 + (0.0025 * i) / 50), ...Array.from({ length: 50 }, (_, i) => 0.0428 + (0.936 * (i + 1)) / 50)] });
    assert.deepEqual(reasons(tightLow, {}, 0.0334), []);
    assert.match(reasons(tightLow, {}, 0.02)[0], /far below/);
    // High side in ratios: 0.40 × (0.40/0.35)^10 ≈ 1.52.
    assert.match(reasons(m, {}, 1.6)[0], /^its score 1\.6000 is far above/);
    assert.deepEqual(reasons(m, {}, 1.45), []);
    assert.deepEqual(reasons(m, {}, 0.95), [], 'under the old additive rule (0.40 + 10 × 0.05 = 0.90) this was unfamiliar');
    // A few validation normals with a tight spread (MNIST 8, 15 of them: 0.048–0.101, median 0.066): a
    // normal test 8 scoring 1.5 is a false alarm for the threshold to count, not an unfamiliar image.
    const tight = digitModel({ quantiles: [...Array.from({ length: 51 }, (_, i) => 0.048 + (0.018 * i) / 50), ...Array.from({ length: 50 }, (_, i) => 0.066 + (0.035 * (i + 1)) / 50)] });
    assert.deepEqual(reasons(tight, {}, 1.5), []);
    assert.match(reasons(tight, {}, 10)[0], /far above/);
    const dm = { ...m, defectMap: { file: 'd.json', inputs: [], imageScore: { kind: 'max', smooth: 3 } } } as typeof m;
    assert.deepEqual(reasons(dm, {}, 0.0), [], 'a defect map probability of 0 is not suspicious');
  });
  test('an older model (no trainingImages, no quantiles): the channel rule and the score rule from mean and std only', () => {
    const old = digitModel({ trainingImages: null, quantiles: null });
    assert.deepEqual(reasons(old, { width: 300, height: 300, pixels: { mean: 200, std: 5, midtones: 1 } }), [], 'no size or pixel rule without a record');
    assert.match(reasons(old, { channels: 3, chroma: 40 })[0], /^this model was trained on grey images; this is a 28x28 colour image \(colour\)$/);
    assert.match(reasons(digitModel({ channels: 3, trainingImages: null, quantiles: null }))[0], /trained on colour images; this is a 28x28 grey image/);
    assert.match(reasons(old, {}, 0.35 - 5.1 * 0.02)[0], /far below the normal range \(the normal validation images score 0\.3500 ± 0\.0200\)/);
    assert.deepEqual(reasons(old, {}, 0.35 - 4.9 * 0.02), []);
    assert.match(reasons(old, {}, 0.35 + 31 * 0.02)[0], /far above/);
    const none = { ...old, normalStats: { mean: NaN, std: NaN, p95: NaN, p99: NaN, count: 0 } };
    assert.deepEqual(reasons(none, {}, 100), [], 'no statistics at all: no score rule');
  });
  test('measurements: chroma, pixel statistics, percentiles', () => {
    assert.equal(meanChroma(Uint8Array.from([10, 10, 10, 0, 100, 50]), 2, 3), 50);
    assert.equal(meanChroma(Uint8Array.from([10, 200]), 2, 1), 0);
    const p = pixelStats(Uint8Array.from([0, 255, 100, 100]));
    assert.equal(p.mean, 113.75);
    assert.equal(p.midtones, 0.5);
    assert.ok(Math.abs(p.std - Math.sqrt((113.75 ** 2 + 141.25 ** 2 + 2 * 13.75 ** 2) / 4)) < 1e-9);
    const q = percentiles([3, 1, 2]);
    assert.equal(q.length, 101);
    assert.deepEqual([q[0], q[25], q[50], q[100]], [1, 1.5, 2, 3]);
  });
});

describe('readable score: percentile among the validation normal images', () => {
  const ns = { mean: 0.35, std: 0.02, p95: 0.38, p99: 0.39, count: 250, quantiles: ramp(0.3, 0.4) };
  test('from recorded quantiles: interpolated, 0 below the lowest, 100 above the highest', () => {
    assert.deepEqual(scorePercentile(0.35, ns), { value: 50, estimated: false, count: 250 });
    assert.ok(Math.abs(scorePercentile(0.3996, ns)!.value - 99.6) < 1e-6);
    assert.equal(scorePercentile(0.2, ns)!.value, 0);
    assert.equal(scorePercentile(0.5, ns)!.value, 100);
  });
  test('older models: estimated from mean and std', () => {
    const old = { mean: 0.35, std: 0.02, p95: 0.38, p99: 0.39, count: 80 };
    const p = scorePercentile(0.35 + 2 * 0.02, old)!;
    assert.equal(p.estimated, true);
    assert.ok(Math.abs(p.value - 97.725) < 0.01, String(p.value));
    assert.equal(scorePercentile(0.3, { mean: NaN, std: NaN, p95: NaN, p99: NaN, count: 0 }), null);
  });
  test('the one sentence every scorer prints', () => {
    assert.equal(describePercentile({ value: 99.64, estimated: false, count: 250 }), 'more unusual than 99.6 % of normal images');
    assert.equal(describePercentile({ value: 47.06, estimated: true, count: 80 }), 'about more unusual than 47.1 % of normal images');
    assert.equal(describePercentile({ value: 100, estimated: false, count: 250 }), 'more unusual than all 250 normal validation images');
    assert.equal(describePercentile({ value: 0, estimated: false, count: 250 }), 'less unusual than every normal validation image');
    assert.equal(describePercentile({ value: 99.97, estimated: true, count: 0 }), 'about more unusual than > 99.9 % of normal images');
    assert.equal(describePercentile({ value: 99.96, estimated: false, count: 250 }), 'more unusual than > 99.9 % of normal images', 'never "100" short of the highest');
    assert.equal(describePercentile(null), 'no normal validation scores in this model to compare with');
  });
});

describe('flawscope.json: the familiarity record is validated', () => {
  const base = folderInfo({ height: 32, width: 32, channels: 1 });
  const t = { count: 900, sources: 900, colourShare: 0, width: flat(28), height: flat(28), aspect: flat(1), mean: ramp(20, 60), std: ramp(50, 100), midtones: ramp(0.1, 0.2) };
  test('a good record and quantiles load; absent ones are fine', () => {
    const got = validateModelInfo({ ...base, trainingImages: t, normalStats: { ...base.normalStats, quantiles: ramp(0.1, 0.2) } });
    assert.deepEqual(got.trainingImages, t);
    assert.equal(got.normalStats.quantiles!.length, 101);
    assert.equal(validateModelInfo(base).trainingImages, undefined);
  });
  for (const [name, over, re] of [
    ['quantiles too short', { normalStats: { ...base.normalStats, quantiles: [0.1, 0.2] } }, /"normalStats\.quantiles" must be a list of 101/],
    ['quantiles decreasing', { normalStats: { ...base.normalStats, quantiles: ramp(0.2, 0.1) } }, /"normalStats\.quantiles"/],
    ['record not an object', { trainingImages: 3 }, /"trainingImages" must be an object/],
    ['colourShare 2', { trainingImages: { ...t, colourShare: 2 } }, /"trainingImages\.colourShare"/],
    ['mean above 255', { trainingImages: { ...t, mean: ramp(20, 300) } }, /"trainingImages\.mean" must be a list of 101 numbers from 0 to 255/],
    ['midtones missing', { trainingImages: { ...t, midtones: undefined } }, /"trainingImages\.midtones"/],
    ['count 0', { trainingImages: { ...t, count: 0 } }, /"trainingImages\.count"/],
  ] as const)
    test(`refused: ${name}`, () => {
      assert.throws(() => validateModelInfo({ ...base, ...over }), (e: unknown) => e instanceof ScorerError && e.code === 'INFO_INVALID' && re.test(e.message));
    });
});
