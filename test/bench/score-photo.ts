/**
 * `npm run bench:score -- --only-photo`: what scoring one 1000x1000 photo costs end to end with the
 * model `flawscope train --preset defects` writes (issue 24's "≤ 0.5 s in Node, ≤ 1 s in Chromium
 * WASM"): decode the PNG → working image → 961 tiles of 64x64 (stride 32) → generator → defect map
 * → stitched maps, image score → heatmap overlay.
 *
 * Models: grey, the trained Magnetic-tile model at FLAWSCOPE_PHOTO_MODEL (default /tmp/dfx-mt30,
 * copied first; random weights of the same shape when it is missing), and colour, random weights
 * through the trainer's own builders (presetModelFolder). Per backend the median over --rounds of:
 * - end to end: decode + score + overlay with the defect-map model;
 * - generator: its raw forward pass over as many tiles, batched as the scorer batches them;
 * - map: end to end with the map minus end to end without it (the same folder, defectMap removed):
 *   the map's input, its network and its stitching;
 * - rest: end to end minus both (decode, tiling, error map, scores, overlay).
 * Node: the fast backend (what `flawscope score` runs; reconstruction off, as the CLI) and
 * tfjs-backend-wasm for reference; Chromium (headless, the web bundle): WASM, the static page's
 * call (createImageBitmap, score with its defaults, overlay). WebGPU here is SwiftShader, so it runs
 * only with --photo-webgpu and its times say nothing of a GPU.
 * Options: --rounds N; --photo-backends fast,wasm,chromium (default all three); --photo-webgpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { presetModelFolder, tempDir, testImage, withoutDefectMap } from '../browser/fixtures';
import * as esbuild from 'esbuild';
import { buildBundle, chromiumAvailable, launch, ROOT, serve } from '../browser/harness';
import { decodeImageFile, loadScorerFromDir } from '../../scorer/node';

const SIZE = 1000;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

interface Model { name: string; dir: string; genOnly: string; photo: string; channels: 1 | 3 }
interface Times { total: number; generator: number; genOnlyTotal: number; tiles: number }

async function models(): Promise<Model[]> {
  const root = tempDir('flawscope-photo-');
  const trained = process.env.FLAWSCOPE_PHOTO_MODEL ?? '/tmp/dfx-mt30';
  const grey = join(root, 'grey');
  let greyName = `grey 64x64x1, trained (${trained}, copied)`;
  if (existsSync(join(trained, 'defect-map.json'))) cpSync(trained, grey, { recursive: true });
  else {
    await presetModelFolder(grey, 1, 1);
    greyName = `grey 64x64x1, random weights (${trained} not found)`;
  }
  const colour = await presetModelFolder(join(root, 'colour'), 3, 2);
  const out: Model[] = [];
  for (const [name, dir, channels] of [[greyName, grey, 1], ['colour 64x64x3, random weights', colour, 3]] as const) {
    const photo = join(root, `photo-${channels}.png`);
    const img = testImage(SIZE, SIZE, channels, 5);
    await sharp(Buffer.from(img.data), { raw: { width: SIZE, height: SIZE, channels } }).png().toFile(photo);
    out.push({ name, dir, genOnly: withoutDefectMap(dir, `${dir}-generator-only`), photo, channels });
  }
  return out;
}

/** One round in Node: end to end with and without the map, and the generator's raw pass. */
async function nodeRound(m: Model, backend: 'fast' | 'wasm'): Promise<Times> {
  const e2e = async (dir: string) => {
    const s = await loadScorerFromDir(dir, { backend });
    try {
      const t = performance.now();
      const px = await decodeImageFile(m.photo);
      const r = await s.score(px, { reconstruction: false });
      s.overlay(r);
      return { ms: performance.now() - t, tiles: r.tiles, batch: Math.round((16 * 128 * 128) / (64 * 64)) };
    } finally {
      s.dispose();
    }
  };
  const withMap = await e2e(m.dir);
  const genOnly = await e2e(m.genOnly);
  const s = await loadScorerFromDir(m.genOnly, { backend });
  let generator = 0;
  try {
    for (let left = withMap.tiles; left > 0; left -= withMap.batch) {
      const x = tf.randomUniform([Math.min(left, withMap.batch), 64, 64, m.channels], -1, 1) as tf.Tensor4D;
      const t = performance.now();
      const y = s.predict(x);
      await y.data();
      generator += performance.now() - t;
      tf.dispose([x, y]);
    }
  } finally {
    s.dispose();
  }
  return { total: withMap.ms, generator, genOnlyTotal: genOnly.ms, tiles: withMap.tiles };
}


function line(label: string, all: Times[], target: number | null): string {
  const total = median(all.map((t) => t.total)), gen = median(all.map((t) => t.generator));
  const map = median(all.map((t) => t.total - t.genOnlyTotal)), rest = median(all.map((t) => t.genOnlyTotal - t.generator));
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const verdict = target === null ? '' : ` (target ≤ ${target} s: ${total / 1000 <= target ? 'met' : `missed, ${(total / 1000 / target).toFixed(1)}x over`})`;
  return `  ${label}: end to end ${s(total)}${verdict} | generator ${s(gen)} | map ${s(map)} | rest ${s(rest)} | rounds ${all.map((t) => (t.total / 1000).toFixed(2)).join(', ')} s`;
}

export async function photoEndToEnd(argv: string[], rounds: number): Promise<void> {
  const i = argv.indexOf('--photo-backends');
  const want = new Set((i >= 0 ? argv[i + 1] : 'fast,wasm,chromium').split(','));
  const ms = await models();
  console.log(`# one ${SIZE}x${SIZE} photo end to end (decode, tiles 64x64 stride 32, generator, defect map, scores, overlay), the --preset defects model; medians of ${rounds} rounds`);
  for (const m of ms) {
    console.log(`${m.name}: ${m.dir}`);
    for (const backend of ['fast', 'wasm'] as const) {
      if (!want.has(backend)) continue;
      const all: Times[] = [];
      await nodeRound(m, backend); // warm-up: kernel compilation and first-touch memory
      for (let r = 0; r < rounds; r++) all.push(await nodeRound(m, backend));
      console.log(line(`Node ${backend} (${all[0].tiles} tiles)`, all, backend === 'fast' ? 0.5 : null));
    }
  }
  if (!want.has('chromium')) return;
  if (!chromiumAvailable()) return console.log('# Chromium part skipped: no /usr/bin/chromium');
  const bundle = await buildBundle();
  await esbuild.build({ entryPoints: ['test/bench/photo-page.ts'], outfile: join(bundle, 'scorer/photo-page.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, logLevel: 'error', absWorkingDir: ROOT });
  const mounts: Record<string, string> = { '/': bundle };
  ms.forEach((m, k) => Object.assign(mounts, { [`/m${k}/`]: m.dir, [`/g${k}/`]: m.genOnly, [`/p${k}/`]: join(m.photo, '..') }));
  const srv = await serve(mounts);
  const browser = await launch();
  try {
    for (const backend of ['wasm', ...(argv.includes('--photo-webgpu') ? ['webgpu'] : [])]) {
      for (const [k, m] of ms.entries()) {
        const all: Times[] = [];
        let reason = '';
        for (let r = 0; r <= rounds; r++) {
          const page = await browser.newPage();
          await page.goto(`${srv.url}/blank`);
          const args = { model: `${srv.url}/m${k}/`, genOnly: `${srv.url}/g${k}/`, photo: `${srv.url}/p${k}/${m.photo.split('/').pop()}`, backend, batch: 64 };
          const o = (await page.evaluate(`import(${JSON.stringify(`${srv.url}/scorer/photo-page.js`)}).then((m) => m.run(${JSON.stringify(args)}))`)) as Times & { reason: string };
          await page.close();
          reason = o.reason;
          if (r > 0) all.push(o); // round 0 warms the browser's caches
        }
        console.log(line(`Chromium ${backend}, ${m.name.split(',')[0]} (${reason})`, all, backend === 'wasm' ? 1 : null));
      }
    }
  } finally {
    await browser.close();
    await srv.close();
  }
  writeFileSync(join(tempDir(), 'done'), '');
}
