/**
 * The scorer in Node (WASM backend): tiling and stitching, scoreBatch, dispose, the CLI, and every
 * bad model folder / bad image giving a clear ScorerError quickly (never a hang).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync, truncateSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { makeModelFolder, tempDir, testImage } from '../browser/fixtures';
import { loadScorerFromDir, decodeImageFile, runScoreCommand, folderReader, collectImages } from '../../scorer/node';
import { weightPathProblem, insideBase, MANIFEST_LIMITS } from '../../scorer/loader';
import { CLI, ROOT } from '../helpers/cli';
import { Scorer, tensorCount, DEFAULT_WORK_LIMITS } from '../../scorer/scorer';
import { ScorerError } from '../../scorer/errors';

let good: string; // 32x32x3
let good1: string; // 32x32x1
before(async () => {
  await tf.setBackend('cpu');
  good = await makeModelFolder(join(tempDir(), 'm3'), { height: 32, width: 32, channels: 3, seed: 5 });
  good1 = await makeModelFolder(join(tempDir(), 'm1'), { height: 32, width: 32, channels: 1, seed: 6, kind: 'topPatch' });
});

describe('scoring in Node (WASM)', () => {
  test('a 2192x1000 photo gets a 2192x1000 error map; stitched tiles equal the tiles scored alone', async () => {
    const s = await loadScorerFromDir(good);
    assert.equal(s.backend, 'wasm');
    const big = testImage(2192, 1000, 3, 3);
    const r = await s.score(big, { reconstruction: false });
    assert.equal(r.errorMap.length, 2192 * 1000);
    assert.equal(r.tiles, 69 * 32);
    // tile at (64, 96) scored on its own
    const crop = new Uint8Array(32 * 32 * 3);
    for (let y = 0; y < 32; y++) crop.set(big.data.subarray(((96 + y) * 2192 + 64) * 3, ((96 + y) * 2192 + 96) * 3), y * 96);
    const one = await s.score({ data: crop, width: 32, height: 32, channels: 3 });
    let worst = 0;
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) worst = Math.max(worst, Math.abs(one.errorMap[y * 32 + x] - r.errorMap[(96 + y) * 2192 + 64 + x]));
    assert.ok(worst < 1e-6, `stitched tile differs by ${worst}`);
    let mean = 0;
    for (const v of r.errorMap) mean += v;
    assert.ok(Math.abs(mean / r.errorMap.length - r.scores.mean) < 1e-4 * r.scores.mean);
    s.dispose();
  });

  test('overlapping tiles are averaged; small images are enlarged and mapped back; resize mode', async () => {
    const s = await loadScorerFromDir(good);
    const img = testImage(48, 32, 3, 9);
    const r = await s.score(img, { stride: 8 }); // x origins 0, 8, 16 → the middle columns are the mean of 3 tiles
    assert.equal(r.tiles, 3);
    const tiles = await Promise.all([0, 8, 16].map((x0) => {
      const d = new Uint8Array(32 * 32 * 3);
      for (let y = 0; y < 32; y++) d.set(img.data.subarray((y * 48 + x0) * 3, (y * 48 + x0 + 32) * 3), y * 96);
      return s.score({ data: d, width: 32, height: 32, channels: 3 });
    }));
    const px = (t: number, x: number, y: number) => tiles[t].errorMap[y * 32 + x];
    const want = (px(0, 20, 5) + px(1, 12, 5) + px(2, 4, 5)) / 3;
    assert.ok(Math.abs(r.errorMap[5 * 48 + 20] - want) < 1e-5, `${r.errorMap[5 * 48 + 20]} vs ${want}`);
    const small = await s.score(testImage(20, 12, 3, 2));
    assert.equal(small.errorMap.length, 20 * 12);
    assert.equal(small.reconstruction.data.length, 20 * 12 * 3);
    const rs = await s.score(testImage(300, 100, 3, 2), { mode: 'resize' });
    assert.equal(rs.tiles, 1);
    assert.equal(rs.errorMap.length, 300 * 100);
    for (const p of rs.topPatches) assert.ok(p.x + p.w <= 300 && p.y + p.h <= 100);
    await assert.rejects(s.score(img, { stride: 0 }), /stride/);
    s.dispose();
  });

  test("the model's own preprocess decides: whole-image models resize, patch models tile at their training scale", async () => {
    const whole = await makeModelFolder(join(tempDir(), 'whole'), { height: 32, width: 32, channels: 3, seed: 5, preprocess: { mode: 'resize', scale: 1 } });
    const patch = await makeModelFolder(join(tempDir(), 'patch'), { height: 32, width: 32, channels: 3, seed: 5, preprocess: { mode: 'tile', scale: 0.5 } });
    const img = testImage(128, 64, 3, 4);
    const sw = await loadScorerFromDir(whole);
    const rw = await sw.score(img);
    assert.equal(rw.tiles, 1, 'squeezed to one model input');
    assert.equal(rw.errorMap.length, 128 * 64);
    const sp = await loadScorerFromDir(patch);
    const rp = await sp.score(img);
    assert.equal(rp.tiles, 2, '128x64 scaled by 0.5 → 64x32 → two 32x32 tiles');
    assert.equal(rp.errorMap.length, 128 * 64, 'the map is back at the image resolution');
    assert.equal((await sp.score(img, { mode: 'resize' })).tiles, 1, 'an explicit mode wins');
    // preprocess.tileStride: the model's own overlap is the default, the same as asking for it; an explicit stride wins
    const overlapped = await makeModelFolder(join(tempDir(), 'overlap'), { height: 32, width: 32, channels: 3, seed: 5, preprocess: { mode: 'tile', scale: 0.5, tileStride: 8 } });
    const so = await loadScorerFromDir(overlapped);
    const ro = await so.score(img);
    assert.equal(ro.tiles, 5, '64x32 with tiles 8 px apart: x origins 0, 8, 16, 24, 32');
    const asked = await sp.score(img, { stride: 8 });
    assert.equal(ro.score, asked.score);
    assert.deepEqual(ro.errorMap, asked.errorMap);
    assert.notEqual(ro.score, rp.score, 'overlapping tiles change the stitched map');
    assert.equal((await so.score(img, { stride: 32 })).tiles, 2);
    sw.dispose();
    sp.dispose();
    so.dispose();
  });

  test('photo standardisation: another exposure of the same photo scores the same; reconstructions drawn at the photo\'s own exposure', async () => {
    const preprocess = { mode: 'tile' as const, scale: 1, standardize: { mean: 128, std: 40 } };
    // G(x) = 0 → every pixel "reconstructed" as 127.5 in the standardised photo, i.e. about the photo's mean.
    const dir = await makeModelFolder(join(tempDir(), 'std'), { height: 32, width: 32, channels: 1, constantOutput: 0, preprocess });
    const plainDir = await makeModelFolder(join(tempDir(), 'plain'), { height: 32, width: 32, channels: 1, constantOutput: 0, preprocess: { mode: 'tile', scale: 1 } });
    const s = await loadScorerFromDir(dir), plain = await loadScorerFromDir(plainDir);
    assert.equal(s.info.formatVersion, 2);
    const a = testImage(64, 32, 1, 11);
    let lo = 255, hi = 0, sum = 0;
    for (const v of a.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const b = { ...a, data: Uint8Array.from(a.data, (v) => Math.round(10 + ((v - lo) * 60) / (hi - lo))) }; // darker, flatter
    for (const v of b.data) sum += v;
    const [ra, rb] = [await s.score(a), await s.score(b)];
    assert.ok(Math.abs(ra.score - rb.score) < 0.02 * ra.score, `standardised scores ${ra.score} vs ${rb.score}`);
    const [pa, pb] = [await plain.score(a), await plain.score(b)];
    assert.ok(Math.abs(pa.score - pb.score) > 0.1 * pa.score, `without standardisation the exposure changes the score (${pa.score} vs ${pb.score})`);
    const meanB = sum / b.data.length;
    assert.ok(Math.abs(rb.reconstruction.data[100] - meanB) <= 1.5, `reconstruction ${rb.reconstruction.data[100]} vs photo mean ${meanB}`);
    s.dispose();
    plain.dispose();
  });

  test('the mirrored score (score.flip): an image and its mirror score alike; each tile averaged with its mirror; the option overrides', async () => {
    const dir = await makeModelFolder(join(tempDir(), 'flip'), { height: 32, width: 32, channels: 3, seed: 5, flip: 'horizontal' });
    const s = await loadScorerFromDir(dir);
    assert.equal(s.info.formatVersion, 3);
    const mirrorTiles = (im: ReturnType<typeof testImage>, tile: number) => {
      // Mirrors each `tile`-wide column band in place (the whole image when tile = width).
      const { width: w, height: h, channels: c } = im;
      const d = new Uint8Array(im.data.length);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const x0 = Math.floor(x / tile) * tile, mx = x0 + tile - 1 - (x - x0);
        for (let k = 0; k < c; k++) d[(y * w + x) * c + k] = im.data[(y * w + mx) * c + k];
      }
      return { ...im, data: d };
    };
    const a = testImage(32, 32, 3, 21), m = mirrorTiles(a, 32);
    const [fa, fm] = [await s.score(a), await s.score(m)];
    assert.ok(Math.abs(fa.score - fm.score) < 1e-5 * fa.score, `mirror-invariant: ${fa.score} vs ${fm.score}`);
    const [pa, pm] = [await s.score(a, { flip: 'none' }), await s.score(m, { flip: 'none' })];
    assert.ok(Math.abs(pa.score - pm.score) > 1e-3 * pa.score, `the random generator is not mirror-symmetric (${pa.score} vs ${pm.score})`);
    let worst = 0, worstRec = 0;
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
      worst = Math.max(worst, Math.abs(fa.errorMap[y * 32 + x] - (pa.errorMap[y * 32 + x] + pm.errorMap[y * 32 + 31 - x]) / 2));
      for (let k = 0; k < 3; k++) worstRec = Math.max(worstRec, Math.abs(fa.reconstruction.data[(y * 32 + x) * 3 + k] - (pa.reconstruction.data[(y * 32 + x) * 3 + k] + pm.reconstruction.data[(y * 32 + 31 - x) * 3 + k]) / 2));
    }
    assert.ok(worst < 1e-5, `error map = mean of the two maps (off by ${worst})`);
    assert.ok(worstRec <= 1, `reconstruction = mean of the two (off by ${worstRec} grey levels)`);
    // Tiled photo: each 32 px tile is averaged with its own mirror.
    const wide = testImage(64, 32, 3, 22), wideM = mirrorTiles(wide, 32);
    const [fw, pw, pwm] = [await s.score(wide), await s.score(wide, { flip: 'none' }), await s.score(wideM, { flip: 'none' })];
    assert.equal(fw.tiles, 2);
    worst = 0;
    for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) {
      const mx = Math.floor(x / 32) * 32 + 31 - (x % 32);
      worst = Math.max(worst, Math.abs(fw.errorMap[y * 64 + x] - (pw.errorMap[y * 64 + x] + pwm.errorMap[y * 64 + mx]) / 2));
    }
    assert.ok(worst < 1e-5, `tiled: off by ${worst}`);
    const plainDir = await makeModelFolder(join(tempDir(), 'noflip'), { height: 32, width: 32, channels: 3, seed: 5 });
    const plain = await loadScorerFromDir(plainDir);
    assert.equal(plain.info.formatVersion, 1);
    assert.ok(Math.abs((await plain.score(a)).score - pa.score) < 1e-6, "flip: 'none' is the paper's score");
    assert.ok(Math.abs((await plain.score(a, { flip: 'horizontal' })).score - fa.score) < 1e-6, 'and the option turns it on for any model');
    await assert.rejects(s.score(a, { flip: 'vertical' as never }), /flip must be "none" or "horizontal", got "vertical"/);
    s.dispose();
    plain.dispose();
  });

  test('the shifted score (score.shift): each pixel is the mean of the plain maps of the image moved right, down and both, moved back', async () => {
    const dir = await makeModelFolder(join(tempDir(), 'shift'), { height: 32, width: 32, channels: 3, seed: 5, shift: 'pixel' });
    const s = await loadScorerFromDir(dir);
    assert.equal(s.info.formatVersion, 4);
    const moved = (im: ReturnType<typeof testImage>, dy: number, dx: number) => {
      // Moved right by dx and down by dy, the first column/row repeated into the gap.
      const { width: w, height: h, channels: c } = im;
      const d = new Uint8Array(im.data.length);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) d[(y * w + x) * c + k] = im.data[(Math.max(0, y - dy) * w + Math.max(0, x - dx)) * c + k];
      return { ...im, data: d };
    };
    const a = testImage(32, 32, 3, 23);
    const sa = await s.score(a);
    const plain = await Promise.all(([[0, 0], [0, 1], [1, 0], [1, 1]] as const).map(async ([dy, dx]) => [dy, dx, (await s.score(moved(a, dy, dx), { shift: 'none' })).errorMap] as const));
    let worst = 0;
    // Pixels off the last row and column are seen by all four views.
    for (let y = 0; y < 31; y++) for (let x = 0; x < 31; x++) {
      const want = plain.reduce((acc, [dy, dx, m]) => acc + m[(y + dy) * 32 + x + dx] / 4, 0);
      worst = Math.max(worst, Math.abs(sa.errorMap[y * 32 + x] - want));
    }
    assert.ok(worst < 1e-5, `error map = mean of the four moved-back maps (off by ${worst})`);
    // The bottom-right pixel is seen by the unmoved view only.
    assert.ok(Math.abs(sa.errorMap[32 * 32 - 1] - plain[0][2][32 * 32 - 1]) < 1e-6);
    assert.ok(Math.abs(sa.score - (await s.score(a, { shift: 'none' })).score) > 1e-4 * sa.score, 'the shifts change the score of a random generator');
    const both = await s.score(a, { flip: 'horizontal' });
    assert.ok(Math.abs(both.score - sa.score) > 1e-4 * sa.score, 'the mirror adds views on top of the shifts');
    await assert.rejects(s.score(a, { shift: 'half' as never }), /shift must be "none" or "pixel", got "half"/);
    s.dispose();
  });

  test('scoreBatch equals score one by one; overlay is RGBA at image size; dispose frees every tensor', async () => {
    const t0 = tensorCount();
    const s = await loadScorerFromDir(good1);
    const imgs = [0, 1, 2, 3, 4].map((i) => testImage(32, 32, i % 2 ? 3 : 1, 30 + i));
    const batch = await s.scoreBatch(imgs);
    for (const [i, im] of imgs.entries()) {
      const one = await s.score(im);
      assert.ok(Math.abs(one.score - batch[i].score) <= 1e-5 * one.score);
      assert.equal(one.kind, 'topPatch');
      assert.equal(one.score, one.scores.topPatch);
      assert.equal(one.topPatches.length, 3);
      assert.ok(Math.abs(one.topPatches.reduce((a, p) => a + p.score, 0) / 3 - one.score) < 1e-5);
      assert.equal(one.isAnomaly, one.score > s.info.threshold);
    }
    for (const cm of ['turbo', 'viridis', 'grey'] as const) assert.equal(s.overlay(batch[0], { colormap: cm, alpha: 0.3 }).length, 32 * 32 * 4);
    for (let i = 0; i < 20; i++) await s.score(testImage(70, 40, 3, i));
    s.dispose();
    assert.equal(tensorCount(), t0);
    await assert.rejects(s.score(imgs[0]), (e: unknown) => e instanceof ScorerError && e.code === 'DISPOSED');
  });
});

describe('bad model folders → clear errors, quickly', () => {
  const cases: Array<[string, (dir: string) => void, string, RegExp]> = [
    ['missing folder', (d) => rmSync(d, { recursive: true }), 'MODEL_MISSING', /not found/],
    ['missing model.json', (d) => rmSync(join(d, 'model.json')), 'MODEL_MISSING', /model\.json not found/],
    ['model.json not JSON', (d) => writeFileSync(join(d, 'model.json'), '{"modelTopology": [1, 2'), 'MODEL_CORRUPT', /not valid JSON/],
    ['model.json without topology', (d) => writeFileSync(join(d, 'model.json'), '{"weightsManifest": []}'), 'MODEL_CORRUPT', /modelTopology/],
    ['missing weights.bin', (d) => rmSync(join(d, 'weights.bin')), 'WEIGHTS_MISSING', /weights\.bin.*not found/],
    ['weights.bin cut short', (d) => truncateSync(join(d, 'weights.bin'), 1000), 'WEIGHTS_SIZE', /1000 bytes.*cut short/],
    ['weights.bin too long', (d) => writeFileSync(join(d, 'weights.bin'), Buffer.concat([readFileSync(join(d, 'weights.bin')), Buffer.alloc(8)])), 'WEIGHTS_SIZE', /too long/],
    ['weights of the wrong shape', (d) => {
      const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
      const w = m.weightsManifest[0].weights;
      w[0].shape = [4, 4, 8, 3]; // enc1 kernel should be [4,4,3,8]: same byte size, wrong shape
      writeFileSync(join(d, 'model.json'), JSON.stringify(m));
    }, 'MODEL_MISMATCH', /shape|could not be built/i],
    ['model.json with a missing layer', (d) => {
      const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
      const cfg = (m.modelTopology.model_config ?? m.modelTopology).config;
      cfg.layers = cfg.layers.filter((l: { name: string }) => l.name !== 'enc2');
      writeFileSync(join(d, 'model.json'), JSON.stringify(m));
    }, 'MODEL_CORRUPT', /missing: the model cannot be built|could not be built/],
    ['flawscope.json missing', (d) => rmSync(join(d, 'flawscope.json')), 'MODEL_MISSING', /flawscope\.json not found/],
    ['flawscope.json from the future', (d) => {
      const i = JSON.parse(readFileSync(join(d, 'flawscope.json'), 'utf8'));
      i.formatVersion = 99;
      writeFileSync(join(d, 'flawscope.json'), JSON.stringify(i));
    }, 'INFO_INVALID', /format version 99 is newer/],
    ['flawscope.json input size differs from model.json', (d) => {
      const i = JSON.parse(readFileSync(join(d, 'flawscope.json'), 'utf8'));
      i.input.height = 64;
      writeFileSync(join(d, 'flawscope.json'), JSON.stringify(i));
    }, 'MODEL_MISMATCH', /different models/],
    ['weight path escaping the folder', (d) => {
      const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
      m.weightsManifest[0].paths = ['../../etc/passwd'];
      writeFileSync(join(d, 'model.json'), JSON.stringify(m));
    }, 'MODEL_CORRUPT', /plain file name/],
  ];
  for (const [name, damage, code, re] of cases) {
    test(name, async () => {
      const d = join(tempDir(), 'model');
      cpSync(good, d, { recursive: true });
      damage(d);
      const t = Date.now();
      await assert.rejects(loadScorerFromDir(d), (e: unknown) => {
        assert.ok(e instanceof ScorerError, String(e));
        assert.equal(e.code, code, e.message);
        assert.match(e.message, re);
        return true;
      });
      assert.ok(Date.now() - t < 10000);
    });
  }
  test('a forced backend that does not exist here is refused (WebGPU in Node)', async () => {
    await assert.rejects(Scorer.load(folderReader(good), { backend: 'webgpu' }), /WebGPU was requested but is unavailable/);
  });
});

describe('image files and the score command', () => {
  let dir: string;
  before(async () => {
    dir = tempDir();
    const g = testImage(40, 36, 3, 4);
    await sharp(Buffer.from(g.data), { raw: { width: 40, height: 36, channels: 3 } }).png().toFile(join(dir, 'ok one.png'));
    mkdirSync(join(dir, 'sub'));
    await sharp(Buffer.from(g.data), { raw: { width: 40, height: 36, channels: 3 } }).jpeg().toFile(join(dir, 'sub', 'zwei-ü.jpg'));
    writeFileSync(join(dir, 'text.png'), 'not an image');
    writeFileSync(join(dir, 'empty.png'), '');
  });

  test('decodeImageFile: bad files give IMAGE_INVALID naming the file', async () => {
    await assert.rejects(decodeImageFile(join(dir, 'text.png')), /text\.png: not a readable image/);
    await assert.rejects(decodeImageFile(join(dir, 'empty.png')), /empty\.png/);
    const ok = await decodeImageFile(join(dir, 'ok one.png'));
    assert.deepEqual([ok.width, ok.height, ok.channels], [40, 36, 3]);
  });

  test('flawscope score --json --heatmap: one result per image, errors listed, PNGs at image size, exit 1', async () => {
    const out = join(tempDir(), 'heat');
    let text = '';
    const code = await runScoreCommand(['--model', good, dir, '--json', '--heatmap', out], { out: (s) => (text += s), err: () => {} });
    const ev = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(code, 1);
    assert.equal(ev[0].event, 'model');
    assert.equal(ev[0].backend, 'fast', 'the CLI runs on Flawscope\'s WASM kernels by default');
    const results = ev.filter((e) => e.event === 'result');
    assert.equal(results.length, 2);
    // tfjs-wasm (what the browser runs) gives the same scores.
    let textWasm = '';
    await runScoreCommand(['--model', good, dir, '--json', '--backend', 'wasm'], { out: (s) => (textWasm += s), err: () => {} });
    const evWasm = textWasm.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(evWasm[0].backend, 'wasm');
    const wasmResults = evWasm.filter((e) => e.event === 'result');
    for (const [i, r] of results.entries()) assert.ok(Math.abs(r.score - wasmResults[i].score) <= 1e-4 * Math.abs(wasmResults[i].score), `fast ${r.score} vs wasm ${wasmResults[i].score}`);
    assert.equal(ev.filter((e) => e.event === 'error').length, 2);
    assert.deepEqual(ev.at(-1), { event: 'done', scored: 2, anomalies: results.filter((r) => r.isAnomaly).length, unfamiliar: results.filter((r) => r.verdict === 'unfamiliar').length, failed: 2 });
    for (const r of results) {
      const meta = await sharp(r.heatmap).metadata();
      assert.deepEqual([meta.width, meta.height], [40, 36]);
    }
    assert.equal(readdirSync(out).filter((f) => f.startsWith('.')).length, 0, 'no temporary files left');
  });

  test('flawscope score: usage and model errors exit 2 and write nothing', async () => {
    const quiet = (argv: string[]) => runScoreCommand(argv, { out: () => {}, err: () => {} });
    assert.equal(await quiet([dir]), 2);
    assert.equal(await quiet(['--model', good]), 2);
    assert.equal(await quiet(['--model', good, dir, '--backend', 'webgpu']), 2);
    const out = join(tempDir(), 'never');
    assert.equal(await quiet(['--model', join(dir, 'nope'), dir, '--heatmap', out]), 2);
    assert.ok(!existsSync(out));
    assert.equal(await quiet(['score', '--model', good, join(dir, 'text.png')]), 2);
  });
});

/** Rejects with a ScorerError of `code` whose message matches every pattern, within `ms` (a hang fails). */
async function refused(p: Promise<unknown>, code: string, res: RegExp[], ms = 5000): Promise<number> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms); });
  try {
    await assert.rejects(Promise.race([p, limit]), (e: unknown) => {
      assert.ok(e instanceof ScorerError, String((e as Error)?.stack ?? e));
      assert.equal(e.code, code, e.message);
      for (const re of res) assert.match(e.message, re);
      return true;
    });
  } finally {
    clearTimeout(timer);
  }
  return Date.now() - t0;
}

describe('work limits: refused from the sizes alone, before any work', () => {
  const withInfo = (dir: string, over: (i: any) => void) => {
    const d = join(tempDir(), 'm');
    cpSync(dir, d, { recursive: true });
    const i = JSON.parse(readFileSync(join(d, 'flawscope.json'), 'utf8'));
    over(i);
    writeFileSync(join(d, 'flawscope.json'), JSON.stringify(i));
    return d;
  };
  const photo = testImage(1000, 1000, 3, 7);

  test('a stride of 1 on a 1000x1000 photo: refused at once, naming --tile-stride and a stride that fits', { timeout: 30_000 }, async () => {
    const s = await loadScorerFromDir(good);
    const t0 = tensorCount();
    const ms = await refused(s.score(photo, { stride: 1 }), 'IMAGE_TOO_LARGE', [/938,961 tiles of 32x32 = 961 million pixels/, /over the limit of 150 million \(limits\.maxTilePixels\)/, /flawscope score --tile-stride\) is 1 px; a stride of 3 px or more fits/]);
    assert.ok(ms < 1000, `refused after ${ms} ms`);
    assert.equal(tensorCount(), t0, 'nothing was run');
    // The bound is the work, not the stride: stride 3 fits and scores.
    assert.equal((await s.score(testImage(200, 200, 3, 1), { stride: 1, reconstruction: false })).tiles, 169 * 169);
    s.dispose();
  });

  test('the model\'s own preprocess.scale 64 or tileStride 1: refused naming the flawscope.json field', { timeout: 30_000 }, async () => {
    const scaled = await loadScorerFromDir(withInfo(good, (i) => { i.preprocess = { mode: 'tile', scale: 64 }; }));
    const ms = await refused(scaled.score(photo), 'IMAGE_TOO_LARGE', [/the 1000x1000 image: the model's "preprocess\.scale" 64 \(flawscope\.json\) enlarges it to 64000x64000 pixels/, /limits\.maxWorkPixels/]);
    assert.ok(ms < 1000, `refused after ${ms} ms`);
    scaled.dispose();
    const strided = await loadScorerFromDir(withInfo(good, (i) => { i.formatVersion = 5; i.preprocess = { mode: 'tile', scale: 1, tileStride: 1 }; }));
    await refused(strided.score(photo), 'IMAGE_TOO_LARGE', [/"preprocess\.tileStride" in flawscope\.json; --tile-stride overrides it\) is 1 px/]);
    assert.ok((await strided.score(photo, { stride: 32, reconstruction: false })).tiles > 0, '--stride overrides the model\'s');
    strided.dispose();
  });

  test('the score views count, limits can be set, and a batch is bounded as a whole', { timeout: 30_000 }, async () => {
    const s = await loadScorerFromDir(good, { limits: { maxTilePixels: 32 * 32 * 10 } });
    const img = testImage(96, 64, 3, 1); // 3 x 2 tiles side by side
    assert.equal((await s.score(img)).tiles, 6);
    await refused(s.score(img, { flip: 'horizontal' }), 'IMAGE_TOO_LARGE', [/6 tiles of 32x32 × 2 score views/]);
    await refused(s.scoreBatch([img, img]), 'IMAGE_TOO_LARGE', [/the 2 images of this call need 12,288 pixels through the generator together, over the limit of 10,240/, /smaller batches/]);
    s.dispose();
    assert.equal(DEFAULT_WORK_LIMITS.maxTilePixels, 150_000_000, 'the README states this limit');
  });

  test('flawscope score --tile-stride 1 (and its old name --stride) on a 1000x1000 photo exits 2 within seconds, naming the file and the flag', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const f = join(dir, 'photo.png');
    await sharp(Buffer.from(photo.data), { raw: { width: 1000, height: 1000, channels: 3 } }).png().toFile(f);
    let err = '';
    const t0 = Date.now();
    const code = await runScoreCommand(['--model', good, f, '--tile-stride', '1'], { out: () => {}, err: (m) => (err += m) });
    assert.equal(code, 2, err);
    assert.match(err, /photo\.png: the 1000x1000 image .* --tile-stride\) is 1 px; a stride of 3 px or more fits/);
    assert.ok(Date.now() - t0 < 10_000, `${Date.now() - t0} ms`);
    let old = '';
    assert.equal(await runScoreCommand(['--model', good, f, '--stride', '1'], { out: () => {}, err: (m) => (old += m) }), 2);
    assert.match(old, /--stride is the old name of --tile-stride/);
    assert.match(old, /is 1 px; a stride of 3 px or more fits/);
  });
});

describe('no verdict from a non-finite score', () => {
  test('NaN weights: MODEL_CORRUPT, never "isAnomaly": false; the CLI exits 2', async () => {
    const d = join(tempDir(), 'nan');
    cpSync(good, d, { recursive: true });
    const n = readFileSync(join(d, 'weights.bin')).length / 4;
    writeFileSync(join(d, 'weights.bin'), Buffer.from(new Float32Array(n).fill(NaN).buffer));
    const s = await loadScorerFromDir(d);
    await refused(s.score(testImage(32, 32, 3, 1)), 'MODEL_CORRUPT', [/non-finite score \(mean NaN/, /no verdict/]);
    s.dispose();
    const dir = tempDir();
    await sharp(Buffer.from(testImage(32, 32, 3, 1).data), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(dir, 'a.png'));
    let out = '';
    assert.equal(await runScoreCommand(['--model', d, join(dir, 'a.png'), '--json'], { out: (m) => (out += m), err: () => {} }), 2);
    assert.ok(!out.includes('"event":"result"'), out);
  });
});

describe('model files stay inside the model folder', () => {
  /** A fetch over the files of `dir` served at http://models.test/m/, recording every URL asked for. */
  const served = (dir: string, asked: string[]) => (async (u: string) => {
    asked.push(u);
    const url = new URL(u);
    const name = url.pathname.startsWith('/m/') ? decodeURIComponent(url.pathname.slice(3)) : null;
    const f = name && url.host === 'models.test' ? join(dir, name) : null;
    if (!f || !existsSync(f)) return new Response('nope', { status: 404 });
    return new Response(readFileSync(f));
  }) as unknown as typeof fetch;
  const withPaths = (paths: string[]) => {
    const d = join(tempDir(), 'model');
    cpSync(good, d, { recursive: true });
    const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    m.weightsManifest[0].paths = paths;
    writeFileSync(join(d, 'model.json'), JSON.stringify(m));
    return d;
  };
  const hostile = ['%2e%2e/%2e%2e/x', '%2E%2E/secret', '\\\\host\\w.bin', '..\\x', 'a%2f..%2f..%2fx', 'sub/../../x', '//evil.test/w.bin', 'http://evil.test/w.bin', '/etc/passwd', './weights.bin', 'a/%252e%252e/x', 'w.bin?x=1', 'w\nbin'];

  for (const p of hostile)
    test(`URL reader: ${JSON.stringify(p)} is refused as MODEL_CORRUPT and never fetched`, async () => {
      const asked: string[] = [];
      const d = withPaths([p]);
      await refused(Scorer.load('http://models.test/m/', { backend: 'cpu', warmup: false, fetch: served(d, asked) }), 'MODEL_CORRUPT', [/weight path .* must be a plain file name beside model\.json/]);
      assert.deepEqual(asked.filter((u) => !u.startsWith('http://models.test/m/')), [], 'nothing outside the folder was fetched');
      assert.deepEqual(asked.map((u) => u.slice('http://models.test/m/'.length)).sort(), ['flawscope.json', 'model.json']);
    });

  test('directory reader: the same paths are refused; names outside the folder refused by the reader itself', async () => {
    for (const p of hostile) await refused(loadScorerFromDir(withPaths([p]), { backend: 'cpu', warmup: false }), 'MODEL_CORRUPT', [/must be a plain file name beside model\.json/]);
    const r = folderReader(good);
    for (const p of ['../x', '..', '\\\\host\\w.bin', '/etc/passwd', ''])
      await refused(r.read(p), 'MODEL_CORRUPT', [/points outside the model folder/]);
    assert.ok(await r.read('weights.bin'));
  });

  test('a weight file in a sub-folder of the model folder still loads, by URL and from disk', async () => {
    const d = withPaths(['shards/weights.bin']);
    mkdirSync(join(d, 'shards'));
    cpSync(join(d, 'weights.bin'), join(d, 'shards', 'weights.bin'));
    const asked: string[] = [];
    (await Scorer.load('http://models.test/m/model.json', { backend: 'cpu', warmup: false, fetch: served(d, asked) })).dispose();
    assert.ok(asked.includes('http://models.test/m/shards/weights.bin'), asked.join(' '));
    (await loadScorerFromDir(d, { backend: 'cpu', warmup: false })).dispose();
  });

  test('weightPathProblem and insideBase, directly', () => {
    for (const p of hostile) assert.ok(weightPathProblem(p), p);
    for (const p of ['weights.bin', 'group1-shard1of2.bin', 'shards/w 1.bin', 'caf%C3%A9.bin']) assert.equal(weightPathProblem(p), null, p);
    const base = new URL('https://x.test/models/m/');
    assert.equal(insideBase('w.bin', base).href, 'https://x.test/models/m/w.bin');
    for (const p of ['%2e%2e/w.bin', '\\\\evil\\w.bin', '//evil/w.bin', '../m2/w.bin', 'https://x.test/other/w.bin'])
      assert.throws(() => insideBase(p, base), (e: unknown) => e instanceof ScorerError && e.code === 'MODEL_CORRUPT' && e.message.includes('outside the model folder'), p);
  });
});

describe('weightsManifest is bounded before anything is read', () => {
  const damaged = (f: (m: any) => void) => {
    const d = join(tempDir(), 'model');
    cpSync(good, d, { recursive: true });
    const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    f(m);
    writeFileSync(join(d, 'model.json'), JSON.stringify(m));
    return d;
  };
  /** folderReader that counts what it reads. */
  const counting = (d: string, reads: string[]) => { const r = folderReader(d); return { describe: r.describe, read: (n: string) => { reads.push(n); return r.read(n); } }; };
  const cases: Array<[string, (m: any) => void, RegExp]> = [
    ['2,000 repeated groups', (m) => { m.weightsManifest = Array.from({ length: 2000 }, () => m.weightsManifest[0]); }, /"weightsManifest" has 2000 groups, over the limit of 64/],
    ['one file named in two groups', (m) => { m.weightsManifest = [m.weightsManifest[0], m.weightsManifest[0]]; }, /weight file weights\.bin is named twice/],
    ['a weight of 10^12 elements', (m) => { m.weightsManifest[0].weights[0].shape = [1e6, 1e6]; }, /take over 256 MiB, over the limit/],
    ['5,000 weights', (m) => { m.weightsManifest[0].weights = Array.from({ length: 5000 }, (_, i) => ({ name: `w${i}`, shape: [1], dtype: 'float32' })); }, /more than 4096 weights/],
    ['300 weight files', (m) => { m.weightsManifest[0].paths = Array.from({ length: 300 }, (_, i) => `w${i}.bin`); }, /more than 256 weight files/],
  ];
  for (const [name, f, re] of cases)
    test(`${name}: MODEL_CORRUPT naming the limit, no weight file read`, async () => {
      const reads: string[] = [];
      const before = process.memoryUsage().rss;
      await refused(Scorer.load(counting(damaged(f), reads), { backend: 'cpu', warmup: false }), 'MODEL_CORRUPT', [re]);
      assert.deepEqual(reads, ['flawscope.json', 'model.json']);
      assert.ok(process.memoryUsage().rss - before < 200 * 2 ** 20, 'no large allocation');
    });
  test('the limits leave room for a real generator', () => {
    assert.ok(MANIFEST_LIMITS.groups >= 1 && MANIFEST_LIMITS.bytes > 50 * 2 ** 20);
  });
});

describe('file names that are not UTF-8', () => {
  // Linux file names are bytes; Node reads them as UTF-8 and turns a Latin-1 "é" (E9) into U+FFFD.
  let dir: string;
  before(() => {
    dir = tempDir();
    const png = readFileSync(join(ROOT, 'test/fixtures/bad/datasets/symlink-loop/good/0.png'));
    writeFileSync(Buffer.concat([Buffer.from(join(dir, 'caf')), Buffer.from([0xe9]), Buffer.from('.png')]), png);
    writeFileSync(join(dir, 'ok.png'), png);
  });
  test('a folder walk reports the file by its bytes and says why, instead of "not found"; the others score', async () => {
    const { files, problems } = await collectImages([dir]);
    assert.deepEqual(files, [join(dir, 'ok.png')]);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /caf\\xE9\.png: the file name is not valid UTF-8 .* rename it to UTF-8/);
  });
  test('named on the command line: exit 2 and the same reason, not "not found"', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" score --model "${good}" "${dir}"/$'caf\\xe9.png'`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /caf\uFFFD\.png: the file name is not valid UTF-8/);
    assert.doesNotMatch(r.stderr, /not found/);
  });
});

describe('flawscope score options: one table, node:util parsing, the same words as the other commands', () => {
  const good = join(ROOT, 'test/fixtures/bad/models/ok');
  const img = join(ROOT, 'test/fixtures/bad/datasets/symlink-loop/good/0.png');
  const run = async (argv: string[]) => {
    let out = '', err = '';
    const code = await runScoreCommand(argv, { out: (m) => (out += m), err: (m) => (err += m) });
    return { code, out, err };
  };
  test('--help lists every option from the table and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    for (const f of ['--model', '--json', '--heatmap', '--backend', '--mode', '--tile-stride', '--colormap', '--alpha', '--layer']) assert.match(r.out, new RegExp(`${f} `));
  });
  test('bad values, unknown and repeated options exit 2 naming the flag', async () => {
    for (const [argv, re] of [
      [['--tile-stride', '0'], /--tile-stride 0: expected an integer from 1/],
      [['--alpha', 'x'], /--alpha x: expected a number from 0 to 1/],
      [['--backend', 'gpu'], /--backend gpu: expected auto, webgpu, fast, wasm or cpu/],
      [['--bogus', '1'], /unknown option --bogus/],
      [['--json', '--json'], /--json is given twice/],
      [['--json=3'], /--json takes no value/],
      [['--tile-stride', '8', '--stride', '8'], /--stride and --tile-stride name the same setting/],
    ] as const) {
      const r = await run(['--model', good, img, ...argv]);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, re);
    }
  });
  test('--backend auto is the fast backend, as elsewhere', async () => {
    const r = await run(['--model', good, img, '--backend', 'auto', '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out.split('\n')[0]).backend, 'fast');
  });
});
