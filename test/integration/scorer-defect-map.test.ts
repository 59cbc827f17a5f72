/**
 * The defect map (docs/defect-map.md, format 6) in the Node scorer and the CLI, on the committed
 * fixture test/fixtures/defect-map (scripts/make-defect-map-fixture.mjs): a 5x5 box-blur
 * "generator" and a defect map p = sigmoid(20·|x − r| − 4), so every probability can be computed
 * here by hand and compared with what the scorer stitches.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir, testImage } from '../browser/fixtures';
import { ROOT } from '../helpers/cli';
import { loadScorerFromDir, runScoreCommand } from '../../scorer/node';
import { tensorCount } from '../../scorer/scorer';
import { blendHeat } from '../../scorer/colormap';
import { ScorerError } from '../../scorer/errors';
import { boxMax } from '../helpers/maps';

const FIXTURE = join(ROOT, 'test/fixtures/defect-map');
const T = 16, BLUR = 5, GAIN = 20, BIAS = 4; // as written by scripts/make-defect-map-fixture.mjs
const STRIDE = 8; // the fixture's preprocess.tileStride

type Img = { data: Uint8Array; width: number; height: number; channels: 1 };

/** A copy of the fixture with flawscope.json changed by `edit` (and files removed or replaced). */
function variant(edit: (info: Record<string, any>) => void = () => {}): string {
  const d = tempDir('flawscope-dmap-');
  cpSync(FIXTURE, d, { recursive: true });
  const info = JSON.parse(readFileSync(join(d, 'flawscope.json'), 'utf8'));
  edit(info);
  writeFileSync(join(d, 'flawscope.json'), JSON.stringify(info));
  return d;
}
/** The same generator as a format-5 model: no defect map. */
const withoutMap = () => variant((i) => { delete i.defectMap; i.formatVersion = 5; });

/** A flat grey image (128) with a bright square (255) pasted at (sx, sy). */
function squareImage(w: number, h: number, sx: number, sy: number, side: number): Img {
  const data = new Uint8Array(w * h).fill(128);
  for (let y = sy; y < sy + side; y++) for (let x = sx; x < sx + side; x++) data[y * w + x] = 255;
  return { data, width: w, height: h, channels: 1 };
}

function starts(size: number, stride: number): number[] {
  const s: number[] = [];
  for (let p = 0; p + T < size; p += stride) s.push(p);
  s.push(size - T);
  return s;
}

/**
 * The contract computed by hand for the fixture's networks: every 16x16 tile (tiles `stride`
 * apart, the last flush with the edge), every view (the tile moved right/down by one pixel with
 * its first column/row repeated, and mirrored), r = box blur with zero padding, the error |x − r|
 * and p = sigmoid(20·|x − r| − 4) moved back onto the tile; each pixel the mean over the views
 * that saw it, then over the tiles that cover it. For images of at least 16x16 (scale 1).
 */
function byHand(img: Img, stride: number, views: { flip?: boolean; shift?: boolean }): { err: Float64Array; prob: Float64Array; tiles: number } {
  const { width: w, height: h, data } = img;
  const err = new Float64Array(w * h), prob = new Float64Array(w * h), cnt = new Float64Array(w * h);
  const shifts = views.shift ? [[0, 0], [0, 1], [1, 0], [1, 1]] : [[0, 0]];
  const flips = views.flip ? [false, true] : [false];
  let tiles = 0;
  for (const ty of starts(h, stride))
    for (const tx of starts(w, stride)) {
      tiles++;
      const x = (r: number, c: number) => data[(ty + r) * w + tx + c] / 127.5 - 1;
      const sumE = new Float64Array(T * T), sumP = new Float64Array(T * T), seen = new Float64Array(T * T);
      for (const [dy, dx] of shifts)
        for (const mirrored of flips) {
          const v = new Float64Array(T * T);
          for (let r = 0; r < T; r++)
            for (let c = 0; c < T; c++) {
              const cc = mirrored ? T - 1 - c : c;
              v[r * T + c] = x(Math.max(0, r - dy), Math.max(0, cc - dx));
            }
          for (let r = 0; r < T; r++)
            for (let c = 0; c < T; c++) {
              let s = 0;
              for (let a = -2; a <= 2; a++) for (let b = -2; b <= 2; b++) if (r + a >= 0 && r + a < T && c + b >= 0 && c + b < T) s += v[(r + a) * T + c + b];
              const d = Math.abs(v[r * T + c] - s / (BLUR * BLUR));
              // back onto the tile: un-mirror, then move back; what falls off was never seen
              const oc = mirrored ? T - 1 - c : c;
              const br = r - dy, bc = oc - dx;
              if (br < 0 || bc < 0) continue;
              sumE[br * T + bc] += d;
              sumP[br * T + bc] += 1 / (1 + Math.exp(-(GAIN * d - BIAS)));
              seen[br * T + bc] += 1;
            }
        }
      for (let r = 0; r < T; r++)
        for (let c = 0; c < T; c++) {
          const i = (ty + r) * w + tx + c;
          err[i] += sumE[r * T + c] / seen[r * T + c];
          prob[i] += sumP[r * T + c] / seen[r * T + c];
          cnt[i] += 1;
        }
    }
  for (let i = 0; i < w * h; i++) { err[i] /= cnt[i]; prob[i] /= cnt[i]; }
  return { err, prob, tiles };
}

const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};


async function refused(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ScorerError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

before(async () => {
  await tf.setBackend('cpu');
});

describe('the defect map in the Node scorer', () => {
  test('the probability map has the image\'s resolution and is the contract computed by hand (tiles, stride, views)', async () => {
    const s = await loadScorerFromDir(FIXTURE);
    assert.equal(s.hasDefectMap, true);
    assert.equal(s.info.formatVersion, 6);
    const img = squareImage(45, 30, 20, 9, 4);
    // texture, so that the views and the tile seams change the numbers
    const tex = testImage(45, 30, 1, 3).data;
    img.data.forEach((v, i) => (img.data[i] = v === 255 ? 255 : Math.round((v + tex[i]) / 2)));
    for (const views of [{}, { flip: true, shift: true }]) {
      const r = await s.score(img, views.flip ? { flip: 'horizontal', shift: 'pixel' } : {});
      const want = byHand(img, STRIDE, views);
      assert.equal(r.tiles, want.tiles);
      assert.equal(r.probability?.length, 45 * 30);
      const dp = worst(r.probability!, want.prob), de = worst(r.errorMap, want.err);
      assert.ok(dp < 1e-5, `${JSON.stringify(views)}: probability differs from the hand computation by ${dp}`);
      assert.ok(de < 1e-5, `${JSON.stringify(views)}: error map differs by ${de}`);
    }
    const small = await s.score(testImage(10, 12, 1, 4));
    assert.equal(small.probability?.length, 10 * 12, 'an enlarged small image maps back to its own size');
    s.dispose();
  });

  test('a bright square pasted into a flat image raises the probability there and not elsewhere', async () => {
    const s = await loadScorerFromDir(FIXTURE);
    const [w, h, sx, sy, side] = [64, 48, 40, 20, 4];
    const plain = await s.score(squareImage(w, h, 0, 0, 0));
    const hit = await s.score(squareImage(w, h, sx, sy, side));
    const p = hit.probability!;
    let inside = 1, outside = 0, control = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = p[y * w + x];
        control = Math.max(control, plain.probability![y * w + x]);
        if (x >= sx && x < sx + side && y >= sy && y < sy + side) inside = Math.min(inside, v);
        // the blur reaches 2 px, so the probability may rise up to 2 px around the square
        else if (x < sx - 2 || x >= sx + side + 2 || y < sy - 2 || y >= sy + side + 2) outside = Math.max(outside, v);
      }
    assert.ok(inside > 0.9, `lowest probability on the square ${inside}`);
    assert.ok(outside < 0.05, `highest probability away from the square ${outside}`);
    assert.ok(control < 0.05, `highest probability without the square ${control}`);
    assert.equal(hit.isAnomaly, true);
    assert.equal(plain.isAnomaly, false);
    assert.ok(hit.score > 0.9 && plain.score < 0.05, `scores ${hit.score} / ${plain.score}`);
    assert.ok(hit.reconstructionScore > plain.reconstructionScore, 'the error score is still there');
    s.dispose();
  });

  test('the image score is "max" of the k x k box means, or "topMean", computed directly on the map; the error scores stay', async () => {
    const img = squareImage(45, 30, 10, 5, 1); // one bright pixel: its 3x3 box mean is far below its own probability
    const tex = testImage(45, 30, 1, 8).data;
    img.data.forEach((v, i) => (img.data[i] = v === 255 ? 255 : Math.round((v + tex[i]) / 2)));
    const sMax = await loadScorerFromDir(FIXTURE);
    const r = await sMax.score(img);
    assert.equal(r.kind, 'max');
    assert.ok(Math.abs(r.score - boxMax(r.probability!, 45, 30, 3)) < 1e-9, `${r.score} vs ${boxMax(r.probability!, 45, 30, 3)}`);
    assert.ok(Math.abs(r.score - boxMax(r.probability!, 45, 30, 1)) > 1e-3, 'the smoothing matters here');
    let mean = 0;
    for (const v of r.errorMap) mean += v / r.errorMap.length;
    assert.ok(Math.abs(r.reconstructionScore - mean) < 1e-5, 'score.kind "mean" of the error map');
    assert.equal(r.reconstructionScore, r.scores.mean);
    assert.equal(r.normalized > 0.5, r.score > r.threshold);
    sMax.dispose();

    const sTop = await loadScorerFromDir(variant((i) => (i.defectMap.imageScore = { kind: 'topMean', fraction: 0.05 })));
    const t = await sTop.score(img);
    assert.equal(t.kind, 'topMean');
    const desc = Array.from(t.probability!).sort((a, b) => b - a);
    const n = Math.round(0.05 * 45 * 30);
    const direct = desc.slice(0, n).reduce((a, b) => a + b, 0) / n;
    assert.ok(Math.abs(t.score - direct) < 1e-9, `${t.score} vs ${direct}`);
    assert.deepEqual(t.probability, r.probability, 'the image score does not change the map');
    sTop.dispose();
  });

  test('the work limits count the defect map as a second network', async () => {
    const img = testImage(45, 30, 1, 2);
    const old = await loadScorerFromDir(withoutMap());
    const tiles = (await old.score(img)).tiles;
    assert.equal(tiles, 15);
    const gen = tiles * T * T;
    const oldAtLimit = await loadScorerFromDir(withoutMap(), { limits: { maxTilePixels: gen } });
    await oldAtLimit.score(img);
    const tight = await loadScorerFromDir(FIXTURE, { limits: { maxTilePixels: 2 * gen - 1 } });
    await refused(tight.score(img), 'IMAGE_TOO_LARGE', /× 2 networks \(the generator and the defect map\).*limits\.maxTilePixels/);
    await refused(tight.scoreBatch([testImage(20, 20, 1, 1), img]), 'IMAGE_TOO_LARGE', /defect map|limits\.maxTilePixels/);
    const enough = await loadScorerFromDir(FIXTURE, { limits: { maxTilePixels: 2 * gen } });
    assert.equal((await enough.score(img)).tiles, tiles);
    const twoImages = await loadScorerFromDir(FIXTURE, { limits: { maxTilePixels: 2 * gen + 1 } });
    await refused(twoImages.scoreBatch([img, img]), 'IMAGE_TOO_LARGE', /pixels through the generator and the defect map together/);
    for (const s of [old, oldAtLimit, tight, enough, twoImages]) s.dispose();
  });

  test('a model from before the defect map (format 5) scores exactly as before the change', async () => {
    // Recorded with the scorer of commit aab78aa (before the defect map) on the same folder
    // without "defectMap", tfjs WASM backend.
    const recorded = [
      { views: {}, score: 0.11667700111865997, topPatch: 0.3902483880519867, err: '50ac241866980f9d', rec: '58f213e0beced1f8' },
      { views: { flip: 'horizontal', shift: 'pixel' } as const, score: 0.1193193793296814, topPatch: 0.45420098304748535, err: 'ce1d403ba7ce75a6', rec: 'da34fb98c6c0cdbe' },
    ];
    const hash = (a: ArrayBufferView) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);
    const s = await loadScorerFromDir(withoutMap(), { backend: 'wasm' });
    assert.equal(s.hasDefectMap, false);
    for (const want of recorded) {
      const r = await s.score(testImage(45, 30, 1, 3), want.views);
      assert.equal(r.score, want.score);
      assert.equal(r.scores.mean, want.score);
      assert.equal(r.scores.topPatch, want.topPatch);
      assert.equal(hash(r.errorMap), want.err, 'error map bytes');
      assert.equal(hash(r.reconstruction.data), want.rec, 'reconstruction bytes');
      assert.equal(r.kind, 'mean');
      assert.equal(r.reconstructionScore, r.score);
      assert.equal(r.probability, null);
    }
    s.dispose();
  });

  test('overlay draws the probability by default, the error on request; dispose frees both networks', async () => {
    const before = tensorCount();
    const s = await loadScorerFromDir(FIXTURE);
    const r = await s.score(squareImage(40, 24, 5, 5, 4));
    const byDefault = s.overlay(r);
    assert.deepEqual(byDefault, blendHeat(r.image, r.probability!, 0, 1, 'turbo', 0.5), 'probability on [0, 1]');
    assert.deepEqual(s.overlay(r, { layer: 'probability' }), byDefault);
    const errLayer = s.overlay(r, { layer: 'error' });
    let emax = 0;
    for (const v of r.errorMap) emax = Math.max(emax, v);
    assert.deepEqual(errLayer, blendHeat(r.image, r.errorMap, 0, emax, 'turbo', 0.5), 'the error on its own range: the threshold is a probability score here');
    assert.notDeepEqual(errLayer, byDefault);
    assert.throws(() => s.overlay(r, { layer: 'bogus' as never }), /layer must be "probability" or "error"/);
    s.dispose();
    assert.equal(tensorCount(), before, 'both networks freed');
    const old = await loadScorerFromDir(withoutMap());
    const ro = await old.score(squareImage(40, 24, 5, 5, 4));
    assert.throws(() => old.overlay(ro, { layer: 'probability' }), (e: unknown) => e instanceof ScorerError && /no defect map/.test(e.message));
    assert.deepEqual(old.overlay(ro), old.overlay(ro, { layer: 'error' }));
    old.dispose();
  });
});

describe('bad defect maps → clear errors', () => {
  test('"defectMap" in flawscope.json without its files: MODEL_MISSING / WEIGHTS_MISSING naming the file', async () => {
    const noJson = variant();
    rmSync(join(noJson, 'defect-map.json'));
    await refused(loadScorerFromDir(noJson), 'MODEL_MISSING', /defect-map\.json \(named by "defectMap\.file" in flawscope\.json; the model's defect map\) not found/);
    const noBin = variant();
    rmSync(join(noBin, 'defect-map.bin'));
    await refused(loadScorerFromDir(noBin), 'WEIGHTS_MISSING', /weight file defect-map\.bin \(named in defect-map\.json\) not found/);
    const otherName = variant((i) => (i.defectMap.file = 'other.json'));
    await refused(loadScorerFromDir(otherName), 'MODEL_MISSING', /other\.json .*not found/);
    const cut = variant();
    writeFileSync(join(cut, 'defect-map.bin'), new Uint8Array(8));
    await refused(loadScorerFromDir(cut), 'WEIGHTS_SIZE', /defect-map\.bin .*holds 8 bytes, defect-map\.json describes 16 bytes/);
  });

  test('the defect map\'s weight paths get the same checks as model.json\'s', async () => {
    for (const p of ['../defect-map.bin', '/etc/passwd', 'http://example.com/w.bin', '%2e%2e/w.bin']) {
      const d = variant();
      const j = JSON.parse(readFileSync(join(d, 'defect-map.json'), 'utf8'));
      j.weightsManifest[0].paths = [p];
      writeFileSync(join(d, 'defect-map.json'), JSON.stringify(j));
      await refused(loadScorerFromDir(d), 'MODEL_CORRUPT', /defect-map\.json in .*: weight path .* it must be a plain file name beside defect-map\.json/);
    }
  });

  test('a defect map of the wrong shape: MODEL_MISMATCH naming defect-map.json and the shape it needs', async () => {
    // the generator's own files as the defect map: 16x16x1 in, where 16x16x3 (x, r, |x - r|) is needed
    const gen = variant();
    cpSync(join(gen, 'model.json'), join(gen, 'defect-map.json'));
    await refused(loadScorerFromDir(gen), 'MODEL_MISMATCH', /defect-map\.json \(the defect map\) in .* takes 16x16x1 inputs; for this 16x16x1 generator it must map \[null,16,16,3\] .* to \[null,16,16,1\]/);
    // right input, two output channels
    const two = variant();
    const input = tfl.input({ shape: [T, T, 3] });
    const m = tfl.model({ inputs: input, outputs: tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'sigmoid' }).apply(input) as tfl.SymbolicTensor });
    await m.save(tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(two, 'defect-map.json'), JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['defect-map.bin'], weights: a.weightSpecs }] }));
      writeFileSync(join(two, 'defect-map.bin'), new Uint8Array(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    m.dispose();
    const before = tensorCount();
    await refused(loadScorerFromDir(two), 'MODEL_MISMATCH', /defect-map\.json \(the defect map\) in .* maps \[null,16,16,3\] → \[null,16,16,2\]/);
    assert.equal(tensorCount(), before, 'the generator built before the refusal is freed');
  });
});

describe('flawscope score with a defect map', () => {
  let dir: string, png: string;
  before(async () => {
    dir = tempDir('flawscope-dmap-cli-');
    png = join(dir, 'square.png');
    const img = squareImage(40, 24, 20, 8, 4);
    await sharp(Buffer.from(img.data), { raw: { width: 40, height: 24, channels: 1 } }).png().toFile(png);
  });
  const run = async (argv: string[]) => {
    let out = '', err = '';
    const code = await runScoreCommand(argv, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, err, events: out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) };
  };
  const pixels = async (p: string) => new Uint8ClampedArray(await sharp(p).raw().toBuffer());

  test('--json prints the probability-based score; --heatmap draws the probability, --layer error the error', async () => {
    const s = await loadScorerFromDir(FIXTURE, { backend: 'wasm' });
    const want = await s.score({ ...squareImage(40, 24, 20, 8, 4) });
    const out = join(dir, 'heat');
    const a = await run(['--model', FIXTURE, png, '--json', '--heatmap', out, '--backend', 'wasm']);
    assert.equal(a.code, 0, a.err);
    const [model, result] = a.events;
    assert.deepEqual(model.defectMap, { file: 'defect-map.json', imageScore: { kind: 'max', smooth: 3 } });
    assert.equal(model.kind, 'max');
    assert.equal(model.layer, 'probability');
    assert.equal(result.kind, 'max');
    assert.equal(result.score, Number(want.score.toPrecision(6)));
    assert.equal(result.reconstructionScore, Number(want.reconstructionScore.toPrecision(6)));
    assert.equal(result.isAnomaly, true);
    assert.deepEqual(await pixels(result.heatmap), s.overlay(want, { layer: 'probability' }));
    const outErr = join(dir, 'heat-error');
    const b = await run(['--model', FIXTURE, png, '--json', '--heatmap', outErr, '--backend', 'wasm', '--layer', 'error']);
    assert.equal(b.code, 0, b.err);
    assert.equal(b.events[0].layer, 'error');
    assert.equal(b.events[1].score, result.score, 'the layer changes the picture, not the score');
    assert.deepEqual(await pixels(b.events[1].heatmap), s.overlay(want, { layer: 'error' }));
    s.dispose();
  });

  test('bad --layer values and --layer probability on a model without a defect map exit 2 naming the flag, writing nothing', async () => {
    const out = join(dir, 'never');
    for (const [argv, re] of [
      [['--layer', 'heat'], /--layer heat: expected probability .* or error/],
      [['--layer'], /--layer needs a value/],
      [['--layer', '--json'], /--layer needs a value/],
    ] as const) {
      const r = await run(['--model', FIXTURE, png, '--heatmap', out, ...argv]);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, re);
    }
    const r = await run(['--model', withoutMap(), png, '--heatmap', out, '--layer', 'probability', '--backend', 'wasm']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--layer probability: the model .* has no defect map .*use --layer error/);
    assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no heatmap written');
    const ok = await run(['--model', withoutMap(), png, '--json', '--layer', 'error', '--backend', 'wasm']);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.events[0].defectMap, null);
    assert.equal(ok.events[1].kind, 'mean');
  });
});
