/** Pure parts of the scorer: resampling, tiling, score normalisation, colormaps, image validation. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { resampleFloat, resizePixels, toInputTensor, toPixelValue, convertChannels, standardizePhoto, NORMALIZATION, PHOTO_STANDARD } from '../../scorer/preprocess';
import { FORMAT_VERSION, formatVersionFor, imageScoreLabel, scoreLabel, validateModelInfo } from '../../scorer/model-format';
import { defectImageScore, reconstructWithError, scoreBatchTensor, type Reconstructor } from '../../scorer/score';
import { info as folderInfo } from '../browser/fixtures';
import { tileStarts, tileCount, normalizeScore } from '../../scorer/scorer';
import { colormapLut, blendHeat } from '../../scorer/colormap';
import { toPixels, DEFAULT_LIMITS } from '../../scorer/image';
import { ScorerError } from '../../scorer/errors';
import { boxMax } from '../helpers/maps';

describe('preprocess', () => {
  test('resampling keeps a constant image constant and is the identity at the same size', () => {
    const c = new Float32Array(10 * 7 * 2).fill(3.5);
    for (const [w, h] of [[3, 2], [10, 7], [25, 31], [1, 1]]) for (const v of resampleFloat(c, 10, 7, 2, w, h)) assert.ok(Math.abs(v - 3.5) < 1e-5);
    const r = Float32Array.from({ length: 12 }, (_, i) => i);
    assert.deepEqual(Array.from(resampleFloat(r, 4, 3, 1, 4, 3)), Array.from(r));
  });
  test('shrinking uses the widened triangle filter (antialiased bilinear); enlarging interpolates between neighbours', () => {
    const src = Float32Array.from([0, 2, 10, 10, 4, 6, 10, 10]); // 4x2
    const half = resampleFloat(src, 4, 2, 1, 2, 1); // taps .75 .75 .25 (/1.75) per row, rows averaged
    assert.ok(Math.abs(half[0] - 4) < 1e-5 && Math.abs(half[1] - 64 / 7) < 1e-5, String(half));
    const up = resampleFloat(Float32Array.from([0, 10]), 2, 1, 1, 4, 1);
    assert.deepEqual(Array.from(up).map((v) => +v.toFixed(3)), [0, 2.5, 7.5, 10]);
    assert.deepEqual(Array.from(resizePixels(Uint8Array.from([0, 255]), 2, 1, 1, 4, 1)), [0, 64, 191, 255]);
  });
  test('normalisation maps 0..255 to -1..1 and back', async () => {
    await tf.setBackend('cpu');
    const t = toInputTensor(Uint8Array.from([0, 127, 255]), 1, 1, 3, 1);
    const d = await t.data();
    t.dispose();
    assert.ok(Math.abs(d[0] + 1) < 1e-6 && Math.abs(d[2] - 1) < 1e-6);
    for (const p of [0, 1, 127, 128, 254, 255]) assert.equal(toPixelValue(p * NORMALIZATION.scale + NORMALIZATION.offset), p);
    assert.deepEqual(Array.from(convertChannels([10, 20, 30, 255], 1, 4, 3)), [10, 20, 30]);
  });
  test('photo standardisation: mean and std set, clipped to 0..255, a flat photo only shifted', () => {
    const photo = Uint8Array.from({ length: 400 }, (_, i) => 60 + (i % 20)); // mean 69.5, std ≈ 5.77
    const own = standardizePhoto(photo, PHOTO_STANDARD);
    assert.ok(Math.abs(own.mean - 69.5) < 1e-9 && Math.abs(own.std - Math.sqrt(399 / 12)) < 1e-9);
    let m = 0, v = 0;
    for (const p of photo) m += p / photo.length;
    for (const p of photo) v += (p - m) ** 2 / photo.length;
    assert.ok(Math.abs(m - 128) < 0.5 && Math.abs(Math.sqrt(v) - 40) < 0.5, `mean ${m}, std ${Math.sqrt(v)}`);
    const flat = new Uint8Array(10).fill(200);
    standardizePhoto(flat, PHOTO_STANDARD);
    assert.ok(flat.every((p) => p === 128));
    const spot = Uint8Array.from([...new Array(19).fill(100), 200]); // std 21.8: the spot lands at 302 → clipped
    standardizePhoto(spot, PHOTO_STANDARD);
    assert.equal(spot[19], 255);
    assert.equal(spot[0], 119);
  });

  test('flawscope.json: photo standardisation needs version 2 and valid fields; other models stay version 1', () => {
    const base = folderInfo({ height: 32, width: 32, channels: 1 });
    assert.equal(formatVersionFor(base), 1);
    const std = { ...base, formatVersion: 2, preprocess: { mode: 'tile' as const, scale: 0.5, standardize: { mean: 128, std: 40 } } };
    assert.equal(formatVersionFor(std), 2);
    assert.doesNotThrow(() => validateModelInfo(std));
    assert.throws(() => validateModelInfo({ ...std, preprocess: { ...std.preprocess, standardize: { mean: 128, std: 0 } } }), /"preprocess.standardize" needs/);
    assert.throws(() => validateModelInfo({ ...std, formatVersion: FORMAT_VERSION + 1 }), /newer than this Flawscope/);
  });

  test('flawscope.json: the mirrored score needs version 3 and a known mode; "none" stays at the lower version', () => {
    const base = folderInfo({ height: 32, width: 32, channels: 3 });
    const flip = { ...base, formatVersion: 3, score: { ...base.score, flip: 'horizontal' as const } };
    assert.equal(formatVersionFor(flip), 3);
    assert.equal(formatVersionFor({ ...flip, preprocess: { mode: 'tile', scale: 0.5, standardize: { mean: 128, std: 40 } } }), 3);
    assert.equal(formatVersionFor({ ...base, score: { ...base.score, flip: 'none' } }), 1);
    assert.doesNotThrow(() => validateModelInfo(flip));
    assert.throws(() => validateModelInfo({ ...flip, score: { ...flip.score, flip: 'vertical' } }), /"score.flip" must be "none" or "horizontal", got "vertical"/);
  });

  test('flawscope.json: the shifted score needs version 4 and a known mode', () => {
    const base = folderInfo({ height: 32, width: 32, channels: 3 });
    const both = { ...base, formatVersion: 4, score: { ...base.score, flip: 'horizontal' as const, shift: 'pixel' as const } };
    assert.equal(formatVersionFor(both), 4);
    assert.equal(formatVersionFor({ ...base, score: { ...base.score, shift: 'pixel' } }), 4);
    assert.equal(formatVersionFor({ ...base, score: { ...base.score, shift: 'none' } }), 1);
    assert.doesNotThrow(() => validateModelInfo(both));
    assert.throws(() => validateModelInfo({ ...both, score: { ...both.score, shift: 2 } }), /"score.shift" must be "none" or "pixel", got 2/);
    assert.equal(scoreLabel(both.score), 'mean, averaged with the mirror image and the one-pixel shifts');
    assert.equal(scoreLabel(base.score), base.score.kind);
  });

  test('flawscope.json: overlapping photo tiles need version 5, "mode": "tile" and a stride within the model', () => {
    const base = folderInfo({ height: 32, width: 32, channels: 1 });
    const tiled = { ...base, formatVersion: 5, preprocess: { mode: 'tile' as const, scale: 0.5, tileStride: 8 } };
    assert.equal(formatVersionFor(tiled), 5);
    assert.equal(formatVersionFor({ ...tiled, score: { ...tiled.score, shift: 'pixel' } }), 5);
    assert.equal(formatVersionFor({ ...base, preprocess: { mode: 'tile', scale: 0.5 } }), 1);
    assert.doesNotThrow(() => validateModelInfo(tiled));
    assert.doesNotThrow(() => validateModelInfo({ ...tiled, preprocess: { ...tiled.preprocess, tileStride: 32 } }));
    for (const bad of [0, 33, 4.5, '8'])
      assert.throws(() => validateModelInfo({ ...tiled, preprocess: { ...tiled.preprocess, tileStride: bad } }), /"preprocess.tileStride" must be an integer from 1 to the model size \(32x32\)/, String(bad));
    assert.throws(() => validateModelInfo({ ...tiled, preprocess: { mode: 'resize', scale: 1, tileStride: 8 } }), /with "mode": "tile"/);
  });
});

describe('flawscope.json: every field range-checked', () => {
  const base = folderInfo({ height: 32, width: 32, channels: 3 });
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['patch size as a string', { score: { kind: 'mean', patch: { size: '4', stride: 2, topN: 3 } } }, /"score\.patch\.size" must be an integer from 1 to the model size \(32\), got "4"/],
    ['patch stride as a string', { score: { kind: 'mean', patch: { size: 4, stride: '2', topN: 3 } } }, /"score\.patch\.stride" must be an integer/],
    ['patch topN a fraction', { score: { kind: 'topPatch', patch: { size: 4, stride: 2, topN: 2.5 } } }, /"score\.patch\.topN" must be an integer from 1 to 1000, got 2\.5/],
    ['patch topN huge', { score: { kind: 'topPatch', patch: { size: 4, stride: 2, topN: 1e9 } } }, /"score\.patch\.topN"/],
    ['patch larger than the model', { score: { kind: 'mean', patch: { size: 33, stride: 2, topN: 3 } } }, /"score\.patch\.size" .*got 33/],
    ['patch not an object', { score: { kind: 'mean', patch: 4 } }, /"score\.patch" must be an object/],
    ['normalization scale 0', { normalization: { scale: 0, offset: -1 } }, /"normalization\.scale" must be a number with 1e-4 ≤ \|scale\| ≤ 10/],
    ['normalization scale 1e308', { normalization: { scale: 1e308, offset: -1 } }, /"normalization\.scale"/],
    ['normalization scale -1e308', { normalization: { scale: -1e308, offset: -1 } }, /"normalization\.scale"/],
    ['normalization offset 1e308', { normalization: { scale: 1 / 127.5, offset: 1e308 } }, /"normalization\.offset" must be a number from -1000 to 1000/],
    ['normalization offset a string', { normalization: { scale: 1 / 127.5, offset: '-1' } }, /"normalization\.offset"/],
    ['input 8192x8192', { input: { height: 8192, width: 8192, channels: 3 } }, /"input\.height"\/"input\.width" must be integers from 16 to 1024, got 8192x8192/],
    ['input as strings', { input: { height: '32', width: '32', channels: 3 } }, /"input\.height"\/"input\.width"/],
    ['formatVersion a fraction', { formatVersion: 1.5 }, /unknown format version 1\.5/],
    ['threshold negative', { threshold: -0.1 }, /"threshold" must be ≥ 0/],
    ['threshold Infinity', { threshold: Infinity }, /"threshold" must be a finite number/],
    ['metrics holding a string', { metrics: { auroc: 'high' } }, /"metrics\.auroc" must be a number or null/],
    ['metrics an array', { metrics: [1] }, /"metrics" must be an object/],
    ['backend not a string', { backend: 3 }, /"backend" must be a string/],
    ['normalStats with a string', { normalStats: { mean: 'x' } }, /"normalStats"/],
    ['trainingSeconds negative', { trainingSeconds: -1 }, /"trainingSeconds"/],
    ['preprocess.scale NaN-ish string', { preprocess: { mode: 'tile', scale: '0.5' } }, /"preprocess\.scale" must be a number in \(0, 64\], got "0\.5"/],
    ['preprocess not an object', { preprocess: 'tile' }, /"preprocess\.mode"/],
  ];
  for (const [name, over, re] of bad)
    test(`refused as INFO_INVALID naming the file and the field: ${name}`, () => {
      assert.throws(() => validateModelInfo({ ...base, ...over }, 'flawscope.json in /m'), (e: unknown) => {
        assert.ok(e instanceof ScorerError, `${name}: ${String(e)}`);
        assert.equal(e.code, 'INFO_INVALID');
        assert.match(e.message, /^flawscope\.json in \/m: /);
        assert.match(e.message, re);
        return true;
      });
    });
  test('older and minimal files keep loading: version 1 without the descriptive fields gets neutral ones', () => {
    const { normalStats, dataset, config, metrics, backend, createdAt, trainingSeconds, ...minimal } = base;
    void [normalStats, dataset, config, metrics, backend, createdAt, trainingSeconds];
    const got = validateModelInfo({ ...minimal, formatVersion: 1 });
    assert.deepEqual([got.metrics, got.dataset, got.config, got.backend, got.trainingSeconds], [{}, {}, {}, 'unknown', 0]);
    for (let v = 1; v <= FORMAT_VERSION; v++) assert.doesNotThrow(() => validateModelInfo({ ...base, formatVersion: v }), `version ${v}`);
    assert.doesNotThrow(() => validateModelInfo({ ...base, metrics: { auroc: 0.9, test: null }, threshold: 0 }));
  });
});

describe('flawscope.json: the defect map (format 6, docs/defect-map.md)', () => {
  const base = folderInfo({ height: 32, width: 32, channels: 3 });
  const dm = { file: 'defect-map.json', inputs: ['image', 'reconstruction', 'difference'], imageScore: { kind: 'max', smooth: 5 } };
  const withMap = { ...base, formatVersion: 6, defectMap: dm };
  test('version 6 only with a defect map; a valid one loads and is copied without unknown fields', () => {
    assert.equal(FORMAT_VERSION, 6);
    assert.equal(formatVersionFor(withMap), 6);
    assert.equal(formatVersionFor({ ...withMap, defectMap: undefined, preprocess: { mode: 'tile', scale: 1, tileStride: 8 } }), 5);
    assert.equal(formatVersionFor(base), 1);
    const got = validateModelInfo({ ...withMap, defectMap: { ...dm, extra: 1, imageScore: { ...dm.imageScore, fraction: 0.5 } } });
    assert.deepEqual(got.defectMap, dm);
    const top = validateModelInfo({ ...withMap, defectMap: { ...dm, imageScore: { kind: 'topMean', fraction: 1 } } });
    assert.deepEqual(top.defectMap?.imageScore, { kind: 'topMean', fraction: 1 });
    assert.equal(validateModelInfo(base).defectMap, undefined);
    assert.equal(imageScoreLabel(got), 'defect map, max of 5x5 box means');
    assert.equal(imageScoreLabel(top), 'defect map, mean of the top 100%');
    assert.equal(imageScoreLabel(base), 'mean');
    assert.throws(() => validateModelInfo({ ...withMap, formatVersion: 7 }), /newer than this Flawscope understands \(6\); update Flawscope/);
  });
  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', 'defect-map.json', /"defectMap" must be an object/],
    ['file in a sub-folder', { ...dm, file: 'sub/defect-map.json' }, /"defectMap\.file" must be a plain \.json file name beside flawscope\.json/],
    ['file leaving the folder', { ...dm, file: '../defect-map.json' }, /"defectMap\.file"/],
    ['file absolute', { ...dm, file: '/tmp/defect-map.json' }, /"defectMap\.file"/],
    ['file a URL', { ...dm, file: 'http://x/defect-map.json' }, /"defectMap\.file"/],
    ['file with a backslash', { ...dm, file: '..\\defect-map.json' }, /"defectMap\.file"/],
    ['file not .json', { ...dm, file: 'defect-map.bin' }, /"defectMap\.file"/],
    ['file the generator', { ...dm, file: 'model.json' }, /"defectMap\.file"/],
    ['file missing', { ...dm, file: undefined }, /"defectMap\.file"/],
    ['inputs reordered', { ...dm, inputs: ['reconstruction', 'image', 'difference'] }, /"defectMap\.inputs" must be \["image","reconstruction","difference"\]/],
    ['inputs short', { ...dm, inputs: ['image', 'reconstruction'] }, /"defectMap\.inputs"/],
    ['inputs a string', { ...dm, inputs: 'image' }, /"defectMap\.inputs"/],
    ['imageScore kind unknown', { ...dm, imageScore: { kind: 'mean' } }, /"defectMap\.imageScore\.kind" must be "max" or "topMean", got "mean"/],
    ['imageScore missing', { ...dm, imageScore: undefined }, /"defectMap\.imageScore\.kind"/],
    ['smooth even', { ...dm, imageScore: { kind: 'max', smooth: 4 } }, /"defectMap\.imageScore\.smooth" must be an odd integer from 1 to 63, got 4/],
    ['smooth 0', { ...dm, imageScore: { kind: 'max', smooth: 0 } }, /"defectMap\.imageScore\.smooth"/],
    ['smooth 65', { ...dm, imageScore: { kind: 'max', smooth: 65 } }, /"defectMap\.imageScore\.smooth"/],
    ['smooth a fraction', { ...dm, imageScore: { kind: 'max', smooth: 2.5 } }, /"defectMap\.imageScore\.smooth"/],
    ['smooth a string', { ...dm, imageScore: { kind: 'max', smooth: '5' } }, /"defectMap\.imageScore\.smooth"/],
    ['fraction 0', { ...dm, imageScore: { kind: 'topMean', fraction: 0 } }, /"defectMap\.imageScore\.fraction" must be a number in \(0, 1\], got 0/],
    ['fraction over 1', { ...dm, imageScore: { kind: 'topMean', fraction: 1.5 } }, /"defectMap\.imageScore\.fraction"/],
    ['fraction missing', { ...dm, imageScore: { kind: 'topMean' } }, /"defectMap\.imageScore\.fraction"/],
  ];
  for (const [name, defectMap, re] of bad)
    test(`refused as INFO_INVALID naming the file and the field: ${name}`, () => {
      assert.throws(() => validateModelInfo({ ...withMap, defectMap }, 'flawscope.json in /m'), (e: unknown) => {
        assert.ok(e instanceof ScorerError && e.code === 'INFO_INVALID', String(e));
        assert.match(e.message, /^flawscope\.json in \/m: /);
        assert.match(e.message, re);
        return true;
      });
    });
  test('a defect map in a file of an older version is refused (older Flawscopes would ignore it and score otherwise)', () => {
    assert.throws(() => validateModelInfo({ ...withMap, formatVersion: 5 }), /"defectMap" needs format version 6, the file says 5/);
  });
});

describe('the image score from a probability map', () => {
  let seed = 3;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  test('"max": the largest k x k box mean, windows inside the map; k shrinks to a smaller map', () => {
    const w = 23, h = 17;
    const m = Float32Array.from({ length: w * h }, () => rnd());
    for (const k of [1, 3, 5, 9]) assert.ok(Math.abs(defectImageScore(m, w, h, { kind: 'max', smooth: k }) - boxMax(m, w, h, k)) < 1e-12, `k ${k}`);
    assert.equal(defectImageScore(m, w, h, { kind: 'max', smooth: 1 }), Math.max(...m));
    assert.ok(Math.abs(defectImageScore(m, w, h, { kind: 'max', smooth: 63 }) - boxMax(m, w, h, 17)) < 1e-12);
    // one hot pixel: smoothing divides it by k², so a lone pixel cannot decide the image
    const one = new Float32Array(w * h);
    one[8 * w + 11] = 1;
    assert.ok(Math.abs(defectImageScore(one, w, h, { kind: 'max', smooth: 5 }) - 1 / 25) < 1e-12);
  });
  test('"topMean": the mean of the max(1, round(f x pixels)) highest values', () => {
    const m = Float32Array.from({ length: 200 }, () => rnd());
    const desc = Array.from(m).sort((a, b) => b - a);
    const mean = (n: number) => desc.slice(0, n).reduce((a, b) => a + b, 0) / n;
    for (const [f, n] of [[0.1, 20], [1, 200], [0.0001, 1], [0.0125, 3]] as const)
      assert.ok(Math.abs(defectImageScore(m, 20, 10, { kind: 'topMean', fraction: f }) - mean(n)) < 1e-12, `fraction ${f}`);
  });
  test('a NaN anywhere gives NaN, never a finite score that would read as a verdict', () => {
    const m = new Float32Array(16).fill(0.2);
    m[5] = NaN;
    assert.ok(Number.isNaN(defectImageScore(m, 4, 4, { kind: 'max', smooth: 3 })));
    assert.ok(Number.isNaN(defectImageScore(m, 4, 4, { kind: 'topMean', fraction: 0.5 })));
  });
});

describe('tiling and scores', () => {
  test('the mirrored score by hand: error map and reconstruction are the means of the image\'s and of its mirror\'s, mirrored back', async () => {
    await tf.setBackend('cpu');
    // A generator that shifts the row right by one pixel (left edge 0): not mirror-symmetric.
    const shift: Reconstructor = { predict: (x) => tf.pad(tf.slice(x, [0, 0, 0, 0], [-1, -1, x.shape[2] - 1, -1]), [[0, 0], [0, 0], [1, 0], [0, 0]]) };
    const x = tf.tensor4d([0.1, 0.5, -0.2, 0.4], [1, 1, 4, 1]);
    const near = (got: Float32Array | Int32Array | Uint8Array, want: number[]) => assert.ok(want.every((w, i) => Math.abs(got[i] - w) < 1e-6), `${Array.from(got)} vs ${want}`);
    const plain = reconstructWithError(shift, x, { flip: 'none' });
    near(await plain.map.data(), [0.1, 0.4, 0.7, 0.6]);
    near(await plain.rec.data(), [0, 0.1, 0.5, -0.2]);
    const flip = reconstructWithError(shift, x, { flip: 'horizontal' });
    // mirror [0.4, -0.2, 0.5, 0.1] → G [0, 0.4, -0.2, 0.5], errors [0.4, 0.6, 0.7, 0.4]; mirrored back: [0.4, 0.7, 0.6, 0.4]
    near(await flip.map.data(), [0.25, 0.55, 0.65, 0.5]);
    near(await flip.rec.data(), [0.25, -0.05, 0.45, -0.1]);
    const patch = { size: 1, stride: 1, topN: 1 };
    near(await scoreBatchTensor(shift, x, 'mean', patch, { flip: 'horizontal' }), [(0.25 + 0.55 + 0.65 + 0.5) / 4]);
    near(await scoreBatchTensor(shift, x, 'topPatch', patch, { flip: 'horizontal' }), [0.65]);
    near(await scoreBatchTensor(shift, x, 'mean', patch), [(0.1 + 0.4 + 0.7 + 0.6) / 4]);
    tf.dispose([x, plain.map, plain.rec, flip.map, flip.rec]);
  });
  test('the shifted score by hand: each pixel averages the views that saw it, each view moved back', async () => {
    await tf.setBackend('cpu');
    const shift: Reconstructor = { predict: (x) => tf.pad(tf.slice(x, [0, 0, 0, 0], [-1, -1, x.shape[2] - 1, -1]), [[0, 0], [0, 0], [1, 0], [0, 0]]) };
    const near = (got: Float32Array | Int32Array | Uint8Array, want: number[]) => assert.ok(want.every((w, i) => Math.abs(got[i] - w) < 1e-6) && got.length === want.length, `${Array.from(got)} vs ${want}`);
    const x = tf.tensor4d([0.1, 0.5, -0.2, 0.4], [1, 2, 2, 1]);
    // Views [[.1,.5],[-.2,.4]] (as is), [[.1,.1],[-.2,-.2]] (right), [[.1,.5],[.1,.5]] (down), [[.1,.1],[.1,.1]] (both);
    // their maps [[.1,.4],[.2,.6]], [[.1,0],[.2,0]], [[.1,.4],[.1,.4]], [[.1,0],[.1,0]]; moved back, the top-left pixel
    // is seen 4 times, top-right and bottom-left twice, bottom-right once.
    const r = reconstructWithError(shift, x, { shift: 'pixel' });
    near(await r.map.data(), [(0.1 + 0 + 0.1 + 0) / 4, (0.4 + 0.4) / 2, (0.2 + 0) / 2, 0.6]);
    near(await r.rec.data(), [(0 + 0.1 + 0 + 0.1) / 4, (0.1 + 0.1) / 2, (0 - 0.2) / 2, -0.2]);
    tf.dispose([x, r.map, r.rec]);
  });
  test('mirror and shifts together agree with a plain-array implementation of the same views', async () => {
    await tf.setBackend('cpu');
    const shift: Reconstructor = { predict: (x) => tf.pad(tf.slice(x, [0, 0, 0, 0], [-1, -1, x.shape[2] - 1, -1]), [[0, 0], [0, 0], [1, 0], [0, 0]]) };
    const [n, h, w, c] = [2, 4, 6, 2];
    const px = Array.from({ length: n * h * w * c }, (_, i) => Math.sin(i * 1.7) * 0.9);
    const at = (i: number, y: number, x: number, k: number) => px[((i * h + y) * w + x) * c + k];
    const sum = new Float64Array(n * h * w), seen = new Float64Array(n * h * w);
    for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) for (const mirrored of [false, true]) for (let i = 0; i < n; i++) {
      // view pixel (y, x) = input (max(0, y-dy), max(0, x'-dx)) with x' = mirrored ? w-1-x : x; the generator copies pixel x-1 to x.
      const v = (y: number, x: number, k: number) => { const xs = mirrored ? w - 1 - x : x; return at(i, Math.max(0, y - dy), Math.max(0, xs - dx), k); };
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        let e = 0;
        for (let k = 0; k < c; k++) e += Math.abs(v(y, x, k) - (x > 0 ? v(y, x - 1, k) : 0)) / c;
        const xs = mirrored ? w - 1 - x : x; // the shifted image's column this view pixel holds
        const [oy, ox] = [y - dy, xs - dx]; // the input pixel it stands for, unless it is the repeated edge
        if (oy < 0 || ox < 0) continue;
        sum[(i * h + oy) * w + ox] += e;
        seen[(i * h + oy) * w + ox] += 1;
      }
    }
    const want = Array.from(sum, (s, j) => s / seen[j]);
    const x = tf.tensor4d(px, [n, h, w, c]);
    const r = reconstructWithError(shift, x, { flip: 'horizontal', shift: 'pixel' });
    const got = await r.map.data();
    assert.ok(want.every((v, j) => Math.abs(got[j] - v) < 1e-5), `${Array.from(got).slice(0, 8)} vs ${want.slice(0, 8)}`);
    tf.dispose([x, r.map, r.rec]);
  });
  test('tile origins cover the image with the last tile flush to the edge', () => {
    assert.deepEqual(tileStarts(32, 32, 32), [0]);
    assert.deepEqual(tileStarts(2192, 128, 128).slice(-2), [2048, 2064]);
    assert.equal(tileStarts(2192, 128, 128).length, 18);
    assert.deepEqual(tileStarts(80, 32, 16), [0, 16, 32, 48]);
    assert.deepEqual(tileStarts(100, 32, 32), [0, 32, 64, 68]);
  });
  test('tileCount is the length of tileStarts (the work limit counts tiles without listing them)', () => {
    for (const size of [1, 15, 16, 17, 31, 32, 33, 100, 1000]) for (const stride of [1, 3, 8, 16]) assert.equal(tileCount(size, 16, stride), tileStarts(size, 16, stride).length, `${size}/${stride}`);
  });
  test('normalized score: 0 at 0, 0.5 at the threshold, monotone, → 1', () => {
    assert.equal(normalizeScore(0, 0.2), 0);
    assert.equal(normalizeScore(0.2, 0.2), 0.5);
    assert.equal(normalizeScore(0.4, 0.2), 0.75);
    assert.ok(normalizeScore(1e9, 0.2) < 1 && normalizeScore(1e9, 0.2) > 0.999);
    let prev = -1;
    for (let s = 0; s < 2; s += 0.01) { const n = normalizeScore(s, 0.3); assert.ok(n >= prev); prev = n; }
  });
});

describe('colormaps and overlay', () => {
  test('turbo runs dark blue → red, viridis purple → yellow, grey black → white', () => {
    const t = colormapLut('turbo'), v = colormapLut('viridis'), g = colormapLut('grey');
    assert.ok(t[38 * 3 + 2] > t[38 * 3] && t[255 * 3] > 100 && t[255 * 3 + 2] < 30);
    assert.ok(v[2] > v[1] && v[255 * 3] > 200 && v[255 * 3 + 1] > 200 && v[255 * 3 + 2] < 60);
    assert.deepEqual([g[0], g[255 * 3]], [0, 255]);
    assert.throws(() => colormapLut('jet' as never), /unknown colormap/);
  });
  test('blendHeat: alpha 0 is the image, alpha 1 the colormap', () => {
    const base = { data: Uint8Array.from([10, 200]), width: 2, height: 1, channels: 1 };
    const err = Float32Array.from([0, 1]);
    assert.deepEqual(Array.from(blendHeat(base, err, 0, 1, 'grey', 0)), [10, 10, 10, 255, 200, 200, 200, 255]);
    assert.deepEqual(Array.from(blendHeat(base, err, 0, 1, 'grey', 1)), [0, 0, 0, 255, 255, 255, 255, 255]);
  });
});

describe('image validation', () => {
  const bad = (x: unknown, re: RegExp, code = 'IMAGE_INVALID') =>
    assert.throws(() => toPixels(x as never), (e: unknown) => e instanceof ScorerError && e.code === code && re.test(e.message));
  test('rejects empty, oversized, wrong-length, float and 5-channel images with clear errors', () => {
    bad({ data: new Uint8Array(0), width: 0, height: 0, channels: 1 }, /empty \(0x0/);
    bad({ data: new Uint8Array(0), width: 10, height: 0, channels: 1 }, /empty/);
    bad({ data: new Uint8Array(0), width: 100000, height: 100000, channels: 1 }, /over the limit/, 'IMAGE_TOO_LARGE');
    bad({ data: new Uint8Array(5 * 4 * 5), width: 5, height: 4, channels: 5 }, /unsupported channel count 5/);
    bad({ data: new Uint8Array(10), width: 5, height: 4, channels: 3 }, /expected 5x4x3/);
    bad({ data: new Float32Array(20), width: 5, height: 4, channels: 1 }, /8-bit/);
    bad({ data: new Uint8Array(7), width: 2, height: 2 }, /whole number of channels/);
    bad(null, /not an image/);
    bad({ foo: 1 }, /unsupported image/);
    bad({ data: new Uint8Array(4), width: 2.5, height: 2, channels: 1 }, /integers/);
  });
  test('infers ImageData-like RGBA and accepts plain arrays', () => {
    const p = toPixels({ data: new Uint8ClampedArray(2 * 2 * 4), width: 2, height: 2 });
    assert.equal(p.channels, 4);
    assert.equal(toPixels({ data: [1, 2, 3, 4], width: 2, height: 2, channels: 1 }).data[3], 4);
    assert.equal(DEFAULT_LIMITS.maxPixels, 50_000_000);
  });
});
