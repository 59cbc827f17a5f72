/**
 * The scorer in real headless Chromium (Debian chromium + playwright-core): WebGPU (SwiftShader,
 * forced), WASM, Node WASM and the trainer-side scoring functions (scorer/score.ts on the cpu
 * backend) score the same images alike; auto falls back from SwiftShader to WASM; dispose()
 * frees every tensor; and the static page renders an overlay whose screenshot has its heat on
 * a Magnetic-tile defect mask.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildBundle, chromiumAvailable, launch, serve } from '../browser/harness';
import { findMtImages, magneticTile, makeModelFolder, tempDir, testImage } from '../browser/fixtures';
import { loadScorerFromDir, folderReader } from '../../scorer/node';
import type { ScoreResult } from '../../scorer/scorer';
import { readModelFolder } from '../../scorer/loader';
import { toInputTensor } from '../../scorer/preprocess';
import { errorMap, scoreBatchTensor } from '../../scorer/score';
import { colormapLut } from '../../scorer/colormap';

const skip = chromiumAvailable() ? false : 'no Chromium at /usr/bin/chromium';

interface Img { name: string; width: number; height: number; channels: number; stride?: number }
const IMAGES: Img[] = [
  { name: 'a', width: 32, height: 32, channels: 3 },
  { name: 'b', width: 32, height: 32, channels: 3 },
  { name: 'c', width: 32, height: 32, channels: 1 }, // grey input into an RGB model
  { name: 'small', width: 20, height: 12, channels: 3 }, // enlarged
  { name: 'tiled', width: 80, height: 48, channels: 4, stride: 16 }, // overlapping tiles, RGBA
];

const VIEWS = { flip: 'horizontal', shift: 'pixel' } as const;
const DEFECT_MAP_FIXTURE = join(__dirname, '../fixtures/defect-map');

interface Out { backend: string; reason: string; images: Array<{ score: number; mean: number; top: number; map: number[]; w: number; h: number; tiles: number }>; leak: number }

// Runs in the page (a string, so nothing from the test transpiler leaks into it).
const PROBE = `async (a) => {
  const m = await import(a.bundle);
  const t0 = m.tensorCount();
  const s = await m.Scorer.load(a.model, { backend: a.backend });
  const images = [];
  for (const im of a.images) {
    const data = new Uint8Array(await (await fetch(im.url)).arrayBuffer());
    const r = await s.score({ data, width: im.width, height: im.height, channels: im.channels }, { ...(im.stride ? { stride: im.stride } : {}), ...(a.views ?? {}) });
    images.push({ score: r.score, mean: r.scores.mean, top: r.scores.topPatch, map: Array.from(r.errorMap), w: r.width, h: r.height, tiles: r.tiles });
  }
  s.dispose();
  return { backend: s.backend, reason: s.backendReason, images, leak: m.tensorCount() - t0 };
}`;

describe('scorer in headless Chromium', { skip, timeout: 240000 }, () => {
  let browser: Browser;
  let srv: Awaited<ReturnType<typeof serve>>;
  let modelDir: string;
  let nodeRef: Out['images'];
  let nodeRefViews: Out['images'];
  const data = tempDir();

  before(async () => {
    const bundle = await buildBundle();
    await tf.setBackend('cpu');
    modelDir = await makeModelFolder(join(tempDir(), 'model'), { height: 32, width: 32, channels: 3, seed: 7, kind: 'topPatch', threshold: 0.5 });
    IMAGES.forEach((im, i) => writeFileSync(join(data, `${im.name}.bin`), testImage(im.width, im.height, im.channels, 11 + i).data));
    // Node WASM reference
    const s = await loadScorerFromDir(modelDir);
    nodeRef = [];
    nodeRefViews = [];
    for (const [ref, views] of [[nodeRef, {}], [nodeRefViews, VIEWS]] as const)
      for (const [i, im] of IMAGES.entries()) {
        const r = await s.score(testImage(im.width, im.height, im.channels, 11 + i), { ...(im.stride ? { stride: im.stride } : {}), ...views });
        ref.push({ score: r.score, mean: r.scores.mean, top: r.scores.topPatch, map: Array.from(r.errorMap), w: r.width, h: r.height, tiles: r.tiles });
      }
    s.dispose();
    srv = await serve({ '/': bundle, '/model/': modelDir, '/data/': data, '/dmap/': DEFECT_MAP_FIXTURE });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  async function probe(backend: string, views?: typeof VIEWS): Promise<Out> {
    const page = await browser.newPage();
    try {
      await page.goto(`${srv.url}/blank`);
      const args = { bundle: `${srv.url}/scorer/index.js`, model: `${srv.url}/model/`, backend, views, images: IMAGES.map((im) => ({ ...im, url: `${srv.url}/data/${im.name}.bin` })) };
      return (await page.evaluate(`(${PROBE})(${JSON.stringify(args)})`)) as Out;
    } finally {
      await page.close();
    }
  }

  function agree(label: string, got: Out['images'], ref: Out['images'], n = ref.length) {
    for (let i = 0; i < n; i++) {
      const g = got[i], r = ref[i];
      assert.equal(g.w, r.w, `${label} image ${IMAGES[i].name}: width`);
      assert.equal(g.h, r.h);
      assert.equal(g.map.length, r.map.length);
      for (const k of ['score', 'mean', 'top'] as const)
        assert.ok(Math.abs(g[k] - r[k]) <= 1e-4 * Math.abs(r[k]), `${label} ${IMAGES[i].name} ${k}: ${g[k]} vs ${r[k]}`);
      let worst = 0;
      for (let j = 0; j < r.map.length; j++) worst = Math.max(worst, Math.abs(g.map[j] - r.map[j]));
      assert.ok(worst <= 1e-3, `${label} ${IMAGES[i].name}: error maps differ by ${worst}`);
    }
  }

  test('Node WASM matches the trainer-side scoring (scorer/score.ts, cpu backend) on model-size images', async () => {
    await tf.setBackend('cpu');
    const { artifacts, info } = await readModelFolder(folderReader(modelDir));
    const gen = await loadLayersModel(tf.io.fromMemory(artifacts));
    for (let i = 0; i < 3; i++) {
      const im = IMAGES[i];
      let px = testImage(im.width, im.height, im.channels, 11 + i).data;
      if (im.channels === 1) px = Uint8Array.from({ length: px.length * 3 }, (_, k) => px[(k / 3) | 0]);
      const x = toInputTensor(px, 1, 32, 32, 3);
      const [score] = await scoreBatchTensor({ predict: (t) => gen.predict(t) as tf.Tensor4D }, x, info.score.kind, info.score.patch);
      const map = tf.tidy(() => errorMap(x, gen.predict(x) as tf.Tensor4D));
      const md = Array.from(await map.data());
      tf.dispose([x, map]);
      agree('trainer-cpu vs node-wasm', [{ ...nodeRef[i], score }], [{ ...nodeRef[i], score: nodeRef[i].score }], 1);
      assert.ok(Math.abs(score - nodeRef[i].score) <= 1e-4 * score, `score ${score} vs ${nodeRef[i].score}`);
      let worst = 0;
      md.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - nodeRef[i].map[j]))));
      assert.ok(worst <= 1e-3, `error map differs by ${worst}`);
    }
    gen.dispose();
  });

  test('Chromium WASM agrees with Node WASM; no tensors leak', async () => {
    const out = await probe('wasm');
    assert.equal(out.backend, 'wasm');
    agree('chromium-wasm', out.images, nodeRef);
    assert.equal(out.images[4].w, 80);
    assert.equal(out.images[4].tiles, 4 * 2); // x: 0, 16, 32 + flush 48; y: 0 + flush 16
    assert.equal(out.leak, 0);
  });

  test('Chromium WebGPU (SwiftShader, forced) agrees with Node WASM; no tensors leak', async () => {
    const out = await probe('webgpu');
    assert.equal(out.backend, 'webgpu', out.reason);
    assert.match(out.reason, /fallback|swiftshader/i);
    agree('chromium-webgpu', out.images, nodeRef);
    assert.equal(out.leak, 0);
  });

  test('the mirrored and shifted score (flip horizontal, shift pixel): Chromium WebGPU and WASM agree with Node WASM; no tensors leak', async () => {
    assert.ok(nodeRefViews.every((r, i) => Math.abs(r.score - nodeRef[i].score) > 1e-4 * nodeRef[i].score), 'the views change the score here');
    for (const backend of ['wasm', 'webgpu']) {
      const out = await probe(backend, VIEWS);
      assert.equal(out.backend, backend, out.reason);
      agree(`chromium-${backend} views`, out.images, nodeRefViews);
      assert.equal(out.leak, 0);
    }
  });

  test('a model with a defect map: Chromium WASM gives Node WASM\'s probability map and score (within 1e-4); no tensors leak', async () => {
    const views = [{}, VIEWS];
    const img = testImage(45, 30, 1, 21);
    for (let y = 10; y < 14; y++) for (let x = 30; x < 34; x++) img.data[y * 45 + x] = 255;
    writeFileSync(join(data, 'dmap.bin'), img.data);
    const s = await loadScorerFromDir(DEFECT_MAP_FIXTURE);
    const ref: ScoreResult[] = [];
    for (const v of views) ref.push(await s.score(img, v));
    s.dispose();
    const page = await browser.newPage();
    try {
      await page.goto(`${srv.url}/blank`);
      const args = { bundle: `${srv.url}/scorer/index.js`, model: `${srv.url}/dmap/`, image: `${srv.url}/data/dmap.bin`, views };
      const out = (await page.evaluate(`(async (a) => {
        const m = await import(a.bundle);
        const t0 = m.tensorCount();
        const s = await m.Scorer.load(a.model, { backend: 'wasm' });
        const data = new Uint8Array(await (await fetch(a.image)).arrayBuffer());
        const res = [];
        for (const v of a.views) {
          const r = await s.score({ data, width: 45, height: 30, channels: 1 }, v);
          res.push({ score: r.score, kind: r.kind, rec: r.reconstructionScore, prob: Array.from(r.probability), w: r.width, h: r.height });
        }
        s.dispose();
        return { backend: s.backend, res, leak: m.tensorCount() - t0 };
      })(${JSON.stringify(args)})`)) as { backend: string; res: Array<{ score: number; kind: string; rec: number; prob: number[]; w: number; h: number }>; leak: number };
      assert.equal(out.backend, 'wasm');
      assert.equal(out.leak, 0);
      out.res.forEach((g, i) => {
        const r = ref[i];
        assert.equal(g.kind, 'max');
        assert.equal(g.w, 45);
        assert.equal(g.prob.length, r.probability!.length);
        assert.ok(Math.abs(g.score - r.score) <= 1e-4, `views ${i}: score ${g.score} vs ${r.score}`);
        assert.ok(Math.abs(g.rec - r.reconstructionScore) <= 1e-4, `views ${i}: reconstruction score ${g.rec} vs ${r.reconstructionScore}`);
        let worst = 0;
        g.prob.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - r.probability![j]))));
        assert.ok(worst <= 1e-4, `views ${i}: probability maps differ by ${worst}`);
      });
    } finally {
      await page.close();
    }
  });

  test('the work limit holds in the browser too: stride 1 on a 1000x1000 photo is refused at once (IMAGE_TOO_LARGE) and the page keeps running', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${srv.url}/blank`);
      const args = { bundle: `${srv.url}/scorer/index.js`, model: `${srv.url}/model/` };
      const out = (await page.evaluate(`(async (a) => {
        const m = await import(a.bundle);
        const s = await m.Scorer.load(a.model, { backend: 'wasm' });
        const data = new Uint8Array(1000 * 1000 * 3);
        // A timer that must keep firing while the refusal happens: a frozen page would not tick.
        let ticks = 0;
        const timer = setInterval(() => ticks++, 10);
        const t0 = performance.now();
        let code = null, message = '';
        try { await s.score({ data, width: 1000, height: 1000, channels: 3 }, { mode: 'tile', stride: 1 }); } catch (e) { code = e.code; message = e.message; }
        const ms = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 50));
        clearInterval(timer);
        s.dispose();
        return { code, message, ms, ticks };
      })(${JSON.stringify(args)})`)) as { code: string | null; message: string; ms: number; ticks: number };
      assert.equal(out.code, 'IMAGE_TOO_LARGE', out.message);
      assert.match(out.message, /over the limit of 150 million \(limits\.maxTilePixels\)/);
      assert.ok(out.ms < 2000, `refused in ${out.ms.toFixed(0)} ms`);
      assert.ok(out.ticks >= 2, 'the page kept running');
    } finally {
      await page.close();
    }
  });

  test('auto treats the SwiftShader adapter as no GPU and picks WASM, saying why', async () => {
    const out = await probe('auto');
    assert.equal(out.backend, 'wasm');
    assert.match(out.reason, /software fallback/);
  });

  test('static page: model files + a Magnetic-tile image → overlay screenshot with its heat on the defect mask', async (t) => {
    // What this proves: the page's whole path (File inputs → Scorer.load → decode → enlarge +
    // tile + stitch → colormap → canvas) puts the error heat where the defect is. It does NOT
    // prove detection quality: the model is the paper's generator with hand-set weights that
    // reconstruct every pixel as the image's median background grey (a "mean tile" model), so the
    // error is |pixel − background|, which is large on this blowhole. The threshold is set from
    // the background (non-defect) pixels' errors, as a real threshold comes from normal data.
    const root = magneticTile();
    if (!root) return t.skip('magnetic-tile data not present');
    const all = findMtImages(root, 'MT_Blowhole');
    const pick = all.find((p) => p.image.endsWith('exp1_num_4727.jpg')) ?? all[0];
    const img = await sharp(pick.image).greyscale().raw().toBuffer({ resolveWithObject: true });
    const mask = await sharp(pick.mask).greyscale().raw().toBuffer({ resolveWithObject: true });
    const bg: number[] = [];
    for (let i = 0; i < img.data.length; i++) if (mask.data[i] < 128) bg.push(img.data[i]);
    bg.sort((a, b) => a - b);
    const median = bg[bg.length >> 1];
    const errs = bg.map((v) => Math.abs(v - median) / 127.5).sort((a, b) => a - b);
    const threshold = errs[Math.floor(errs.length * 0.99)] / 2; // overlay saturates at 2x threshold = background p99
    await tf.setBackend('cpu');
    const mdir = await makeModelFolder(join(tempDir(), 'mt-model'), { height: 128, width: 128, channels: 1, constantOutput: median / 127.5 - 1, threshold, kind: 'topPatch' });
    const page = await browser.newPage();
    try {
      await page.goto(`${srv.url}/web/index.html?backend=wasm`);
      await page.setInputFiles('#model-files', ['model.json', 'weights.bin', 'flawscope.json'].map((f) => join(mdir, f)));
      await page.waitForSelector('body[data-state=ready]', { timeout: 30000 });
      assert.match((await page.textContent('#status')) ?? '', /backend wasm/);
      await page.setInputFiles('#images', pick.image);
      await page.waitForSelector('figure[data-score]', { timeout: 30000 });
      const canvas = await page.$('figure canvas');
      const overlayPng = await canvas!.screenshot();
      await page.evaluate(`(() => { const a = document.getElementById('alpha'); a.value = '0'; a.dispatchEvent(new Event('input')); })()`);
      const basePng = await canvas!.screenshot();
      const shots = join(tempDir('flawscope-shots-'));
      mkdirSync(shots, { recursive: true });
      writeFileSync(join(shots, 'overlay.png'), overlayPng);
      t.diagnostic(`overlay screenshot: ${join(shots, 'overlay.png')}`);
      const ov = await sharp(overlayPng).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const base = await sharp(basePng).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.equal(ov.info.width, img.info.width);
      assert.equal(ov.info.height, img.info.height);
      // Recover the colormap colour (overlay = 0.5·base + 0.5·colour) and invert turbo.
      const lut = colormapLut('turbo');
      const heat = new Float32Array(ov.info.width * ov.info.height);
      for (let i = 0; i < heat.length; i++) {
        const c = [0, 1, 2].map((k) => 2 * ov.data[i * 3 + k] - base.data[i * 3 + k]);
        let best = 0, bd = Infinity;
        for (let j = 0; j < 256; j++) {
          const d = (lut[j * 3] - c[0]) ** 2 + (lut[j * 3 + 1] - c[1]) ** 2 + (lut[j * 3 + 2] - c[2]) ** 2;
          if (d < bd) { bd = d; best = j; }
        }
        heat[i] = best / 255;
      }
      const W = ov.info.width, H = ov.info.height;
      let inS = 0, inN = 0, outS = 0, outN = 0;
      for (let i = 0; i < heat.length; i++) {
        if (mask.data[i] >= 128) { inS += heat[i]; inN++; } else { outS += heat[i]; outN++; }
      }
      // The hottest 12x12 window of the screenshot must sit on the defect.
      const win = 12;
      let bestMean = -1, bx = 0, by = 0;
      for (let y = 0; y + win <= H; y++)
        for (let x = 0; x + win <= W; x++) {
          let s = 0;
          for (let yy = y; yy < y + win; yy++) for (let xx = x; xx < x + win; xx++) s += heat[yy * W + xx];
          if (s > bestMean) { bestMean = s; bx = x; by = y; }
        }
      let covered = 0;
      for (let yy = by; yy < by + win; yy++) for (let xx = bx; xx < bx + win; xx++) if (mask.data[yy * W + xx] >= 128) covered++;
      t.diagnostic(`heat inside mask ${(inS / inN).toFixed(3)}, outside ${(outS / outN).toFixed(3)}; hottest ${win}x${win} window at (${bx},${by}), ${covered}/${win * win} of it on the mask`);
      assert.ok(inS / inN > 0.6, 'the defect is hot');
      assert.ok(inS / inN > 3 * (outS / outN), 'the defect is much hotter than the rest on average');
      assert.ok(covered >= (win * win) / 2, 'the hottest window lies on the defect');
      assert.equal(await page.getAttribute('figure', 'data-anomaly'), 'true');
    } finally {
      await page.close();
    }
  });
});
