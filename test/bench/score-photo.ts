/**
 * `npm run bench:score -- --only-photo`: what scoring one 1000x1000 photo costs end to end with the
 * model `flawscope train --preset defects` writes (issue 24's "≤ 0.5 s in Node, ≤ 1 s in Chromium
 * WASM"): decode the PNG → working image → tiles of 64x64 → generator → defect map → stitched maps,
 * image score → heatmap overlay. Each model at several tile strides side by side in one run: its
 * own (`preprocess.tileStride`, what `--preset defects` chose on validation), 32 and 64 (961 and
 * 256 tiles a megapixel), each backend's rows one after another so they see the same load.
 *
 * Models: grey, the trained Magnetic-tile model at FLAWSCOPE_PHOTO_MODEL (default /tmp/dfx-mt30,
 * copied first; random weights of the same shape when it is missing; DIR,DIR… measures each, one
 * after another, in the same run), and colour, random weights
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
 * Options: --rounds N; --photo-backends fast,wasm,chromium (default all three); --photo-webgpu;
 * --photo-no-colour (the grey models only);
 * --photo-strides LIST (default model,32,64: "model" is the model's own stride; repeats are
 * measured once; --photo-stride N is --photo-strides N).
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { presetModelFolder, tempDir, testImage, withoutDefectMap } from '../browser/fixtures';
import * as esbuild from 'esbuild';
import { buildBundle, chromiumAvailable, launch, ROOT, serve } from '../browser/harness';
import { decodeImageFile, loadScorerFromDir } from '../../scorer/node';

const SIZE = 1000;
/** The scorer's default batch for 64x64 tiles (scorer.ts: 16 tiles of 128x128 in pixels). */
const BATCH = 64;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

interface Model { name: string; dir: string; genOnly: string; photo: string; channels: 1 | 3; ownStride: number }
/** Wall and CPU milliseconds of one step (CPU: every thread of the process, or of the browser's processes). */
interface Cost { ms: number; cpu: number }
interface Times { total: Cost; generator: Cost; genOnlyTotal: Cost; tiles: number }

const nodeCpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };

/** CPU milliseconds of every process below this one (the browser and its renderers), from /proc. */
function childrenCpu(): number {
  const stats = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      // Fields after the ")" that ends the command name: state ppid ... utime(14) stime(15).
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return [{ pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }];
    } catch {
      return [];
    }
  });
  const below = new Set([process.pid]);
  let ticks = 0, grew = true;
  while (grew) {
    grew = false;
    for (const p of stats) if (below.has(p.ppid) && !below.has(p.pid)) { below.add(p.pid); ticks += p.ticks; grew = true; }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

async function cost<T>(cpuNow: () => number, f: () => Promise<T>): Promise<{ value: T; cost: Cost }> {
  const c = cpuNow(), t = performance.now();
  const value = await f();
  return { value, cost: { ms: performance.now() - t, cpu: cpuNow() - c } };
}

async function models(withColour: boolean): Promise<Model[]> {
  const root = tempDir('flawscope-photo-');
  // Several grey models (comma-separated) are measured one after another in the same run: a map against another under one load.
  const trainedList = (process.env.FLAWSCOPE_PHOTO_MODEL ?? '/tmp/dfx-mt30').split(',');
  const list: [string, string, 1 | 3][] = [];
  for (const [k, trained] of trainedList.entries()) {
    const grey = join(root, `grey${k}`);
    const tag = trainedList.length > 1 ? ` (${basename(trained)})` : '';
    let greyName = `grey 64x64x1${tag}, trained (${trained}, copied)`;
    if (existsSync(join(trained, 'defect-map.json'))) cpSync(trained, grey, { recursive: true });
    else {
      await presetModelFolder(grey, 1, 1);
      greyName = `grey 64x64x1${tag}, random weights (${trained} not found)`;
    }
    list.push([greyName, grey, 1]);
  }
  if (withColour) list.push(['colour 64x64x3, random weights', await presetModelFolder(join(root, 'colour'), 3, 2), 3]);
  const out: Model[] = [];
  for (const [k, [name, dir, channels]] of list.entries()) {
    const photo = join(root, `photo-${k}.png`);
    const img = testImage(SIZE, SIZE, channels, 5);
    await sharp(Buffer.from(img.data), { raw: { width: SIZE, height: SIZE, channels } }).png().toFile(photo);
    const ownStride = JSON.parse(readFileSync(join(dir, 'flawscope.json'), 'utf8')).preprocess.tileStride as number;
    out.push({ name, dir, genOnly: withoutDefectMap(dir, `${dir}-generator-only`), photo, channels, ownStride });
  }
  return out;
}

/** One round in Node: end to end with and without the map, and the generator's raw pass. */
async function nodeRound(m: Model, backend: 'fast' | 'wasm', stride: number): Promise<Times> {
  const e2e = async (dir: string) => {
    const s = await loadScorerFromDir(dir, { backend });
    try {
      return await cost(nodeCpu, async () => {
        const px = await decodeImageFile(m.photo);
        const r = await s.score(px, { reconstruction: false, stride });
        s.overlay(r);
        return r.tiles;
      });
    } finally {
      s.dispose();
    }
  };
  const withMap = await e2e(m.dir);
  const genOnly = await e2e(m.genOnly);
  const s = await loadScorerFromDir(m.genOnly, { backend });
  const generator: Cost = { ms: 0, cpu: 0 };
  try {
    for (let left = withMap.value; left > 0; left -= BATCH) {
      const x = tf.randomUniform([Math.min(left, BATCH), 64, 64, m.channels], -1, 1) as tf.Tensor4D;
      const { cost: c } = await cost(nodeCpu, async () => {
        const y = s.predict(x);
        await y.data();
        y.dispose();
      });
      generator.ms += c.ms;
      generator.cpu += c.cpu;
      x.dispose();
    }
  } finally {
    s.dispose();
  }
  return { total: withMap.cost, generator, genOnlyTotal: genOnly.cost, tiles: withMap.value };
}

/** The strides to measure for a model, its own first. */
function stridesFor(m: Model, list: string[]): number[] {
  return [...new Set(list.map((v) => (v === 'model' ? m.ownStride : Number(v))))].filter((v) => Number.isInteger(v) && v > 0);
}

const strideLabel = (m: Model, stride: number) => `stride ${stride}${stride === m.ownStride ? " (the model's)" : ''}`;

/** End to end at each stride against the first (the model's own): the bench's speed claim is this ratio, under one load. */
function ratios(m: Model, label: string, byStride: Map<number, Times[]>): string {
  const [first, ...rest] = [...byStride.keys()];
  const end = (s: number) => median(byStride.get(s)!.map((t) => t.total.ms));
  const cpu = (s: number) => median(byStride.get(s)!.map((t) => t.total.cpu));
  return rest.map((s) => `  ${label}: stride ${s} / ${strideLabel(m, first)}: end to end ${(end(s) / end(first)).toFixed(2)}x wall, ${(cpu(s) / cpu(first)).toFixed(2)}x CPU`).join('\n');
}

function line(label: string, all: Times[], target: number | null): string {
  const med = (f: (t: Times) => Cost) => ({ ms: median(all.map((t) => f(t).ms)), cpu: median(all.map((t) => f(t).cpu)) });
  const diff = (a: Cost, b: Cost): Cost => ({ ms: a.ms - b.ms, cpu: a.cpu - b.cpu });
  const total = med((t) => t.total), gen = med((t) => t.generator);
  const map = med((t) => diff(t.total, t.genOnlyTotal)), rest = med((t) => diff(t.genOnlyTotal, t.generator));
  const s = (c: Cost) => `${(c.ms / 1000).toFixed(2)} s (CPU ${(c.cpu / 1000).toFixed(2)} s)`;
  const verdict = target === null ? '' : ` [target ≤ ${target} s: ${total.ms / 1000 <= target ? 'met' : `missed, ${(total.ms / 1000 / target).toFixed(1)}x over`}]`;
  return `  ${label}: end to end ${s(total)}${verdict} | generator ${s(gen)} | map ${s(map)} | rest ${s(rest)} | rounds ${all.map((t) => (t.total.ms / 1000).toFixed(2)).join(', ')} s`;
}

export async function photoEndToEnd(argv: string[], rounds: number): Promise<void> {
  const i = argv.indexOf('--photo-backends');
  const si = argv.indexOf('--photo-stride'), sl = argv.indexOf('--photo-strides');
  const strideList = sl >= 0 ? argv[sl + 1].split(',') : si >= 0 ? [argv[si + 1]] : ['model', '32', '64'];
  const want = new Set((i >= 0 ? argv[i + 1] : 'fast,wasm,chromium').split(','));
  const ms = await models(!argv.includes('--photo-no-colour'));
  console.log(`# one ${SIZE}x${SIZE} photo end to end (decode, tiles 64x64, generator, defect map, scores, overlay), the --preset defects model at strides ${strideList.join(', ')}; medians of ${rounds} rounds`);
  for (const m of ms) {
    console.log(`${m.name}: ${m.dir} (its tile stride: ${m.ownStride})`);
    for (const backend of ['fast', 'wasm'] as const) {
      if (!want.has(backend)) continue;
      const byStride = new Map<number, Times[]>();
      for (const stride of stridesFor(m, strideList)) {
        const all: Times[] = [];
        await nodeRound(m, backend, stride); // warm-up: kernel compilation and first-touch memory
        for (let r = 0; r < rounds; r++) all.push(await nodeRound(m, backend, stride));
        byStride.set(stride, all);
        console.log(line(`Node ${backend}, ${strideLabel(m, stride)} (${all[0].tiles} tiles)`, all, backend === 'fast' ? 0.5 : null));
      }
      if (byStride.size > 1) console.log(ratios(m, `Node ${backend}`, byStride));
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
        const byStride = new Map<number, Times[]>();
        const label = `Chromium ${backend}, ${m.name.split(',')[0]}`;
        for (const stride of stridesFor(m, strideList)) {
          const all: Times[] = [];
          let reason = '';
          for (let r = 0; r <= rounds; r++) {
            const page = await browser.newPage();
            await page.goto(`${srv.url}/blank`);
            const mod = `${srv.url}/scorer/photo-page.js`;
            const call = <T>(fn: string, ...args: unknown[]) => cost(childrenCpu, () => page.evaluate(`import(${JSON.stringify(mod)}).then((m) => m.${fn}(...${JSON.stringify(args)}))`) as Promise<T>);
            const photo = `${srv.url}/p${k}/${m.photo.split('/').pop()}`;
            reason = (await call<string>('load', 'map', `${srv.url}/m${k}/`, backend, photo)).value;
            await call<string>('load', 'gen', `${srv.url}/g${k}/`, backend, photo);
            const withMap = await call<{ ms: number; tiles: number }>('endToEnd', 'map', stride);
            const genOnly = await call<{ ms: number; tiles: number }>('endToEnd', 'gen', stride);
            const generator = await call<number>('generatorPass', 'gen', withMap.value.tiles, BATCH);
            await page.close();
            // In-page wall times (no messaging); CPU over the call.
            const t: Times = { total: { ms: withMap.value.ms, cpu: withMap.cost.cpu }, genOnlyTotal: { ms: genOnly.value.ms, cpu: genOnly.cost.cpu }, generator: { ms: generator.value, cpu: generator.cost.cpu }, tiles: withMap.value.tiles };
            if (r > 0) all.push(t); // round 0 warms the browser's caches
          }
          byStride.set(stride, all);
          console.log(line(`${label}, ${strideLabel(m, stride)} (${all[0].tiles} tiles; ${reason})`, all, backend === 'wasm' ? 1 : null));
        }
        if (byStride.size > 1) console.log(ratios(m, label, byStride));
      }
    }
  } finally {
    await browser.close();
    await srv.close();
  }
  writeFileSync(join(tempDir(), 'done'), '');
}
