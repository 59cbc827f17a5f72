/**
 * `npm run bench:score` — scorer throughput and latency, printed side by side.
 * 1. Node WASM generator images/s at 32x32x3, batch 64 (raw forward pass, and full scoreBatch with
 *    error maps and scores), run alternately with ../shared/bench/torch_ref.py (infer_img_s,
 *    PyTorch CPU, batch 256) in the same run; the ratio is printed per round and as a median.
 * 2. Headless Chromium, WASM and WebGPU (SwiftShader here, forced): time to first score (load +
 *    warm-up + one 128x128 score), latency of one 128x128 image scored with its overlay, and of a
 *    tiled 2192x1000 image (128x128x1 model: 18x8 = 144 tiles).
 * 3. Node, fast backend: one 1000x1000 photo (1 MP) with a 32x32x3 model, with and without a defect
 *    map (docs/defect-map.md; small random 3x3-conv maps of 8 and 16 filters), tiles side by side and 8 px apart.
 * 4. `flawscope eval`'s work (--only-eval, alone): a crop-trained 32x32x1 model (random weights) on a
 *    painted defect folder (100 photos of 256x256 with masks, 64 px crops), the test split scored
 *    on the wasm and the fast backend in alternating rounds: seconds, the ratio, and the figures
 *    of both (they must agree).
 * 5. One 1000x1000 photo end to end with the model `--preset defects` writes (--only-photo, alone;
 *    score-photo.ts): Node fast and wasm, Chromium WASM; medians and the generator / map / rest split.
 * Options: --rounds N (default 3), --skip-browser, --skip-torch, --skip-defect-map, --only-defect-map (part 3 alone), --only-eval (part 4 alone), --only-photo (part 5 alone; --photo-backends, --photo-webgpu, --photo-strides model,32,64, --photo-no-colour; FLAWSCOPE_PHOTO_MODEL=DIR[,DIR…]), --webgpu-tiled (SwiftShader takes ~1 min for it; off by default).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_BENCH } from '../helpers/shared';
import { addDefectMap, makeModelFolder, tempDir, testImage } from '../browser/fixtures';
import { buildBundle, chromiumAvailable, launch, serve } from '../browser/harness';
import { decodeImageFile, loadScorerFromDir } from '../../scorer/node';
import { loadEvalSet } from '../../trainer/eval/evaldata';
import { evaluateSet } from '../../trainer/eval/evaluate';
import { evalLevels } from '../../trainer/eval/levels';
import { paintedDefects } from '../helpers/painted-defects';
import { photoEndToEnd } from './score-photo';

const argv = process.argv.slice(2);
const rounds = Number(argv[argv.indexOf('--rounds') + 1]) || 3;
const TORCH = process.env.TORCH_REF ?? join(SHARED_BENCH, 'torch_ref.py');
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

async function nodeWasm(dir: string, backend: 'wasm' | 'fast' = 'wasm'): Promise<{ raw: number; full: number }> {
  const s = await loadScorerFromDir(dir, { batchSize: 64, backend });
  const imgs = Array.from({ length: 64 }, (_, i) => testImage(32, 32, 3, i + 1));
  const x = tf.tidy(() => tf.randomUniform([64, 32, 32, 3], -1, 1) as tf.Tensor4D);
  for (let i = 0; i < 3; i++) { const y = s.predict(x); await y.data(); y.dispose(); }
  let n = 0, t = performance.now();
  while (performance.now() - t < 3000) { const y = s.predict(x); await y.data(); y.dispose(); n += 64; }
  const raw = n / ((performance.now() - t) / 1000);
  await s.scoreBatch(imgs, { reconstruction: false });
  n = 0; t = performance.now();
  while (performance.now() - t < 3000) { await s.scoreBatch(imgs, { reconstruction: false }); n += 64; }
  const full = n / ((performance.now() - t) / 1000);
  x.dispose();
  s.dispose();
  return { raw, full };
}

function torch(): number | null {
  if (!existsSync(TORCH) || !existsSync('/usr/bin/python3')) return null;
  try {
    const out = execFileSync('/usr/bin/python3', [TORCH, '--steps', '3', '--size', '32', '--batch', '64', '--threads', '2'], { encoding: 'utf8', timeout: 300000 });
    const m = /infer_img_s=([\d.]+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch (e) {
    console.log(`torch_ref.py failed: ${(e as Error).message.split('\n')[0]}`);
    return null;
  }
}

const PAGE = `async (a) => {
  const m = await import(a.bundle);
  const t0 = performance.now();
  const s = await m.Scorer.load(a.model, { backend: a.backend });
  const loadMs = performance.now() - t0;
  const mk = (w, h) => { const d = new Uint8Array(w * h); for (let i = 0; i < d.length; i++) d[i] = (i * 2654435761 >>> 24) & 255; return { data: d, width: w, height: h, channels: 1 }; };
  const small = mk(128, 128);
  let r = await s.score(small); s.overlay(r);
  const firstMs = performance.now() - t0;
  const lat = [];
  for (let i = 0; i < a.reps; i++) { const t = performance.now(); r = await s.score(small); s.overlay(r); lat.push(performance.now() - t); }
  lat.sort((x, y) => x - y);
  let tiledMs = null;
  if (a.tiled) { const big = mk(2192, 1000); const t = performance.now(); const rb = await s.score(big, { reconstruction: false }); s.overlay(rb); tiledMs = performance.now() - t; if (rb.errorMap.length !== 2192 * 1000) throw new Error('bad map'); }
  const out = { backend: s.backend, reason: s.backendReason, loadMs, firstMs, p50: lat[lat.length >> 1], min: lat[0], tiledMs };
  s.dispose();
  return out;
}`;

/**
 * Seconds to score one 1000x1000x3 photo (best of `reps`, after one warm-up score): the generator
 * alone, then with defect maps of 8 and 16 filters (about 1.2x and 3.7x the generator's
 * multiply-adds per tile: the generator works at stride 2, the map at full resolution).
 */
async function photoWithDefectMap(reps = 3): Promise<void> {
  const plain = await makeModelFolder(join(tempDir(), 'photo32'), { height: 32, width: 32, channels: 3, seed: 3 });
  const maps = await Promise.all([8, 16].map(async (f) => [`defect map ${f} filters`, await addDefectMap(await makeModelFolder(join(tempDir(), `photo32-dmap${f}`), { height: 32, width: 32, channels: 3, seed: 3 }), f)] as const));
  const photo = testImage(1000, 1000, 3, 5);
  console.log(`# Node fast backend: one 1000x1000x3 photo, 32x32x3 model, generator alone and with a defect map (two 3x3 convs + 1x1); best of ${reps}`);
  for (const stride of [32, 8]) {
    const row: string[] = [];
    let base = 0, tiles = 0;
    for (const [name, dir] of [['generator only', plain] as const, ...maps]) {
      const s = await loadScorerFromDir(dir, { backend: 'fast', batchSize: 64 });
      tiles = (await s.score(photo, { stride, reconstruction: false })).tiles;
      let best = Infinity;
      for (let i = 0; i < reps; i++) {
        const t = performance.now();
        await s.score(photo, { stride, reconstruction: false });
        best = Math.min(best, (performance.now() - t) / 1000);
      }
      s.dispose();
      row.push(`${name} ${best.toFixed(2)} s${base ? ` (${(best / base).toFixed(2)}x)` : ''}`);
      base ||= best;
    }
    console.log(`stride ${stride} (${tiles} tiles): ${row.join(' | ')}`);
  }
}

/** Part 4: eval on the wasm and the fast backend (see the header). */
async function evalBackends(): Promise<void> {
  const data = await paintedDefects({ normal: 60, defect: 40, size: 256 });
  const model = await makeModelFolder(join(tempDir(), 'eval32'), { height: 32, width: 32, channels: 1, seed: 3, preprocess: { mode: 'tile', scale: 0.5 } });
  const set = await loadEvalSet({ data, size: 32, channels: 1, seed: 0, validationFraction: 0.1, split: 'test', dataOptions: { protocol: 'defect', patchSize: 64, patchStride: 32 } });
  console.log(`# flawscope eval's scoring: ${set.isAnomaly.length} test crops of ${new Set(set.groups).size} photos (256x256), 32x32x1 model at scale 0.5, ${rounds} alternating rounds`);
  const once = async (backend: 'wasm' | 'fast') => {
    const t = performance.now();
    const scorer = await loadScorerFromDir(model, { backend });
    try {
      const { result } = await evaluateSet(scorer, set, { decodePhoto: decodeImageFile });
      return { seconds: (performance.now() - t) / 1000, patchSeconds: result.seconds, levels: evalLevels(result) };
    } finally {
      scorer.dispose();
    }
  };
  const ratios: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const wasm = await once('wasm');
    const fast = await once('fast');
    ratios.push(wasm.seconds / fast.seconds);
    const figs = (l: typeof wasm.levels) => `photo ${l.wholePhoto?.imageAuroc?.toFixed(6)} / pixel ${l.wholePhoto?.pixelAuroc?.toFixed(6)} / patch ${l.patchLevel?.imageAuroc?.toFixed(6)}`;
    console.log(`round ${r}: wasm ${wasm.seconds.toFixed(2)} s (crops ${wasm.patchSeconds.toFixed(2)} s), fast ${fast.seconds.toFixed(2)} s (crops ${fast.patchSeconds.toFixed(2)} s), wasm/fast ${(wasm.seconds / fast.seconds).toFixed(2)}x | AUROC wasm ${figs(wasm.levels)} | fast ${figs(fast.levels)}`);
  }
  console.log(`median eval speed-up fast over wasm: ${median(ratios).toFixed(2)}x`);
}

async function main() {
  await tf.setBackend('cpu');
  if (argv.includes('--only-eval')) return evalBackends();
  if (argv.includes('--only-defect-map')) return photoWithDefectMap();
  if (argv.includes('--only-photo')) return photoEndToEnd(argv, rounds);
  const dir32 = await makeModelFolder(join(tempDir(), 'g32'), { height: 32, width: 32, channels: 3, seed: 1 });
  console.log(`# Node WASM generator, 32x32x3, batch 64, vs PyTorch CPU (torch_ref.py --steps 3, infer batch 256), ${rounds} alternating rounds`);
  // Two Node paths: 'fast' (Flawscope's multi-threaded WASM SIMD kernels; what `flawscope score`
  // runs by default) and 'wasm' (tfjs-backend-wasm, single thread; what the browser runs).
  const ratios: number[] = [], ratiosTfjs: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const fast = await nodeWasm(dir32, 'fast');
    const ref = argv.includes('--skip-torch') ? null : torch();
    const ours = await nodeWasm(dir32, 'wasm');
    const ratio = ref ? fast.raw / ref : null;
    const ratioTfjs = ref ? ours.raw / ref : null;
    if (ratio && ratioTfjs) { ratios.push(ratio); ratiosTfjs.push(ratioTfjs); }
    console.log(`round ${r}: node fast raw ${fast.raw.toFixed(0)} img/s (scoreBatch ${fast.full.toFixed(0)}) | tfjs-wasm raw ${ours.raw.toFixed(0)} img/s (scoreBatch ${ours.full.toFixed(0)}) | torch infer ${ref?.toFixed(0) ?? 'n/a'} img/s | fast/torch ${ratio?.toFixed(2) ?? 'n/a'}x, tfjs-wasm/torch ${ratioTfjs?.toFixed(2) ?? 'n/a'}x`);
  }
  if (ratios.length) {
    console.log(`median ratio node fast (flawscope score default) / torch: ${median(ratios).toFixed(2)}x (target >= 1.5x)`);
    console.log(`median ratio tfjs-wasm (single thread) / torch: ${median(ratiosTfjs).toFixed(2)}x`);
  }
  if (!argv.includes('--skip-defect-map')) await photoWithDefectMap();

  if (argv.includes('--skip-browser') || !chromiumAvailable()) {
    console.log(chromiumAvailable() ? '# browser part skipped (--skip-browser)' : '# browser part skipped: no /usr/bin/chromium');
    return;
  }
  const dir128 = await makeModelFolder(join(tempDir(), 'g128'), { height: 128, width: 128, channels: 1, seed: 2 });
  const bundle = await buildBundle();
  const srv = await serve({ '/': bundle, '/model/': dir128 });
  const browser = await launch();
  console.log('# Chromium (headless, fresh page per backend), 128x128x1 model');
  try {
    for (const backend of ['wasm', 'webgpu']) {
      const page = await browser.newPage();
      await page.goto(`${srv.url}/blank`);
      const tiled = backend === 'wasm' || argv.includes('--webgpu-tiled');
      const args = { bundle: `${srv.url}/scorer/index.js`, model: `${srv.url}/model/`, backend, reps: backend === 'wasm' ? 30 : 10, tiled };
      const o = (await page.evaluate(`(${PAGE})(${JSON.stringify(args)})`)) as Record<string, number | string | null>;
      const f = (x: unknown) => (typeof x === 'number' ? `${x.toFixed(1)} ms` : 'not run');
      console.log(`${backend}: ${o.reason}`);
      console.log(`  load ${f(o.loadMs)}; time to first score (load + warm-up + first 128x128 score + overlay) ${f(o.firstMs)} (target < 1000 ms after load: ${f((o.firstMs as number) - (o.loadMs as number))} after load)`);
      console.log(`  128x128 score + overlay: median ${f(o.p50)}, best ${f(o.min)} (target < 50 ms on WASM)`);
      console.log(`  2192x1000 tiled (144 tiles) score + overlay: ${f(o.tiledMs)}${tiled ? '' : ' (pass --webgpu-tiled)'}`);
      await page.close();
    }
  } finally {
    await browser.close();
    await srv.close();
  }
  writeFileSync(join(tempDir(), 'done'), '');
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
