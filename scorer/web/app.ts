/**
 * The static scorer page: pick or drop a model folder and images; see overlays, scores and the
 * backend in use. No server code: any static file server works. `?model=URL` loads a model
 * folder by URL; `?backend=wasm|webgpu|cpu|auto` picks the backend.
 */
import { Scorer, describePercentile, imageScoreLabel, type BackendChoice, type ColormapName, type HeatLayer, type ScoreResult } from '../index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLDivElement>('status');
const results = $<HTMLDivElement>('results');
const backendSel = $<HTMLSelectElement>('backend');
const colormapSel = $<HTMLSelectElement>('colormap');
const alphaIn = $<HTMLInputElement>('alpha');
const layerSel = $<HTMLSelectElement>('layer');
const layerLabel = $<HTMLLabelElement>('layer-label');

let scorer: Scorer | null = null;
const shown: Array<{ result: ScoreResult; canvas: HTMLCanvasElement }> = [];

const params = new URLSearchParams(location.search);
if (params.get('backend')) backendSel.value = params.get('backend')!;

function say(text: string, error = false): void {
  status.textContent = text;
  status.className = error ? 'error' : '';
  document.body.dataset.state = error ? 'error' : text.startsWith('Ready') ? 'ready' : 'busy';
}

async function loadModel(source: Parameters<typeof Scorer.load>[0]): Promise<void> {
  say('Loading model…');
  try {
    scorer?.dispose();
    scorer = null;
    scorer = await Scorer.load(source, { backend: backendSel.value as BackendChoice });
    const i = scorer.info;
    // Only a model with a defect map has a second layer to choose.
    layerLabel.hidden = !scorer.hasDefectMap;
    say(`Ready: ${i.input.width}x${i.input.height}x${i.input.channels} model, score "${imageScoreLabel(i)}", threshold ${i.threshold.toPrecision(4)}\nbackend ${scorer.backend}: ${scorer.backendReason}\nloaded in ${scorer.loadMs.toFixed(0)} ms`);
    document.body.dataset.backend = scorer.backend;
  } catch (e) {
    say(`Could not load the model: ${e instanceof Error ? e.message : String(e)}`, true);
  }
}

function draw(entry: { result: ScoreResult; canvas: HTMLCanvasElement }): void {
  if (!scorer) return;
  const { result, canvas } = entry;
  canvas.width = result.width;
  canvas.height = result.height;
  const layer: HeatLayer = result.probability ? (layerSel.value as HeatLayer) : 'error';
  const rgba = scorer.overlay(result, { colormap: colormapSel.value as ColormapName, alpha: Number(alphaIn.value), layer });
  canvas.dataset.layer = layer;
  canvas.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, result.width, result.height), 0, 0);
}

async function scoreFiles(files: File[]): Promise<void> {
  if (!scorer) {
    say('Load a model first.', true);
    return;
  }
  for (const f of files) {
    const fig = document.createElement('figure');
    const canvas = document.createElement('canvas');
    const cap = document.createElement('figcaption');
    fig.append(canvas, cap);
    results.append(fig);
    try {
      const bmp = await createImageBitmap(f);
      const t0 = performance.now();
      const result = await scorer.score(bmp);
      const ms = performance.now() - t0;
      bmp.close();
      const entry = { result, canvas };
      shown.push(entry);
      draw(entry);
      cap.innerHTML = '';
      const verdict = document.createElement('span');
      verdict.className = result.verdict === 'normal' ? '' : result.verdict;
      verdict.textContent = result.verdict === 'normal' ? 'normal' : result.verdict.toUpperCase();
      const details = document.createElement('small');
      details.textContent = ` (score ${result.score.toPrecision(4)}, ${result.width}x${result.height}, ${result.tiles} tile(s), ${ms.toFixed(0)} ms)`;
      cap.append(verdict, ` ${f.name}: ${describePercentile(result.percentile)}`, details);
      if (result.reasons.length) {
        const ul = document.createElement('ul');
        ul.className = 'reasons';
        for (const r of result.reasons) ul.append(Object.assign(document.createElement('li'), { textContent: r }));
        cap.append(ul);
      }
      fig.dataset.score = String(result.score);
      fig.dataset.anomaly = String(result.isAnomaly);
      fig.dataset.verdict = result.verdict;
      fig.dataset.name = f.name;
    } catch (e) {
      cap.className = 'error';
      cap.textContent = `${f.name}: ${e instanceof Error ? e.message : String(e)}`;
      fig.dataset.error = cap.textContent;
    }
  }
  document.body.dataset.scored = String(results.children.length);
}

const isModelFile = (f: File) => /\.(json|bin)$/i.test(f.name);

$<HTMLInputElement>('model-dir').addEventListener('change', (e) => {
  const files = Array.from((e.target as HTMLInputElement).files ?? []).filter(isModelFile);
  if (files.length) void loadModel(files);
});
$<HTMLInputElement>('model-files').addEventListener('change', (e) => {
  const files = Array.from((e.target as HTMLInputElement).files ?? []);
  if (files.length) void loadModel(files);
});
$<HTMLInputElement>('images').addEventListener('change', (e) => {
  void scoreFiles(Array.from((e.target as HTMLInputElement).files ?? []));
});
const redraw = () => shown.forEach(draw);
colormapSel.addEventListener('change', redraw);
layerSel.addEventListener('change', redraw);
alphaIn.addEventListener('input', redraw);

async function filesFromEntry(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) return [await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej))];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: File[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (!batch.length) break;
    for (const e of batch) out.push(...(await filesFromEntry(e)));
  }
  return out;
}

const drop = $<HTMLDivElement>('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const items = Array.from(e.dataTransfer?.items ?? []);
  const entries = items.map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
  const files = entries.length ? (await Promise.all(entries.map(filesFromEntry))).flat() : Array.from(e.dataTransfer?.files ?? []);
  const model = files.filter(isModelFile);
  const images = files.filter((f) => !isModelFile(f));
  if (model.some((f) => f.name === 'model.json')) await loadModel(model);
  if (images.length) await scoreFiles(images);
});

const modelUrl = params.get('model');
if (modelUrl) void loadModel(modelUrl);
