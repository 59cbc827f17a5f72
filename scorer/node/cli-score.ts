/** `flawscope score`: the CLI front of the scorer (Node; Flawscope's WASM kernels by default, tfjs WASM or cpu on request). Wired into trainer/cli.ts. */
import { promises as fsp } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { HEAT_LAYERS, type HeatLayer, type Scorer, type ScoreResult } from '../scorer';
import { ScorerError, errorText } from '../errors';
import type { ColormapName } from '../colormap';
import { rmSync } from 'node:fs';
import { describePercentile } from '../percentile';
import { collectImages, decodeImageFile, loadScorerFromDir, pngTempPath, writePng } from './index';

const USAGE = 'usage: flawscope score --model DIR IMAGE_OR_FOLDER... [--json] [--heatmap OUT_DIR] [--backend fast|wasm|cpu] [--mode tile|resize] [--stride N] [--colormap turbo|viridis|grey] [--alpha A] [--layer probability|error]';

interface ScoreArgs { model: string; inputs: string[]; json: boolean; heatmap?: string; backend: 'fast' | 'wasm' | 'cpu'; mode?: 'tile' | 'resize'; stride?: number; colormap: ColormapName; alpha: number; layer?: HeatLayer }

function parseArgs(argv: string[]): ScoreArgs {
  const a = argv[0] === 'score' ? argv.slice(1) : argv.slice();
  const out: Partial<ScoreArgs> & { inputs: string[] } = { inputs: [], json: false, backend: 'fast', colormap: 'turbo', alpha: 0.5 };
  const need = (i: number, flag: string) => {
    const v = a[i + 1];
    if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new ScorerError('IMAGE_INVALID', `${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < a.length; i++) {
    const t = a[i];
    if (t === '--model') out.model = need(i++, t);
    else if (t === '--json') out.json = true;
    else if (t === '--heatmap') out.heatmap = need(i++, t);
    else if (t === '--backend') {
      const v = need(i++, t);
      if (v !== 'fast' && v !== 'wasm' && v !== 'cpu') throw new ScorerError('BACKEND', `--backend ${v}: the score command runs on fast (Flawscope's WASM kernels, default), wasm or cpu`);
      out.backend = v;
    } else if (t === '--mode') {
      const v = need(i++, t);
      if (v !== 'tile' && v !== 'resize') throw new ScorerError('IMAGE_INVALID', `--mode ${v}: use tile or resize`);
      out.mode = v;
    } else if (t === '--stride') {
      const v = Number(need(i++, t));
      if (!Number.isInteger(v) || v < 1) throw new ScorerError('IMAGE_INVALID', `--stride must be a positive integer`);
      out.stride = v;
    } else if (t === '--colormap') {
      const v = need(i++, t);
      if (!['turbo', 'viridis', 'grey'].includes(v)) throw new ScorerError('IMAGE_INVALID', `--colormap ${v}: use turbo, viridis or grey`);
      out.colormap = v as ColormapName;
    } else if (t === '--alpha') {
      const v = Number(need(i++, t));
      if (!(v >= 0 && v <= 1)) throw new ScorerError('IMAGE_INVALID', `--alpha must be between 0 and 1`);
      out.alpha = v;
    } else if (t === '--layer') {
      const v = need(i++, t);
      if (!HEAT_LAYERS.includes(v as HeatLayer)) throw new ScorerError('IMAGE_INVALID', `--layer ${v}: use probability (the defect map's, the default when the model has one) or error (the reconstruction error)`);
      out.layer = v as HeatLayer;
    } else if (t === '--help' || t === '-h') throw new ScorerError('IMAGE_INVALID', USAGE);
    else if (t.startsWith('--')) throw new ScorerError('IMAGE_INVALID', `unknown option ${t}\n${USAGE}`);
    else out.inputs.push(t);
  }
  if (!out.model) throw new ScorerError('MODEL_MISSING', `--model DIR is required\n${USAGE}`);
  if (!out.inputs.length) throw new ScorerError('IMAGE_INVALID', `give at least one image or folder to score\n${USAGE}`);
  return out as ScoreArgs;
}

const round = (x: number) => Number(x.toPrecision(6));
/** The verdict as the CLI line starts, padded to one width. */
const VERDICT_WORD = { normal: 'normal    ', anomaly: 'ANOMALY   ', unfamiliar: 'UNFAMILIAR' } as const;

/**
 * `flawscope score --model DIR IMAGE_OR_FOLDER... [--json] [--heatmap OUT_DIR]`.
 * Exit codes: 0 every image scored; 1 some images could not be read (the others are scored and
 * reported); 2 bad usage or an unusable model (nothing scored, nothing written).
 * With --json every line on stdout is one JSON object: {event:'model'|'result'|'error'|'done', ...}.
 */
export async function runScoreCommand(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) },
): Promise<number> {
  let args: ScoreArgs;
  const err = (m: string) => io.err(m.endsWith('\n') ? m : m + '\n');
  try {
    args = parseArgs(argv);
  } catch (e) {
    err(`flawscope score: ${errorText(e)}`);
    return 2;
  }
  const emit = (o: Record<string, unknown>) => io.out(JSON.stringify(o) + '\n');
  // Ctrl-C or a kill during a heatmap write must not leave its temp file behind: remove it, then
  // exit as the signal would have (128 + signal number).
  let writing: string | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (writing) rmSync(pngTempPath(writing), { force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  let scorer: Scorer;
  try {
    scorer = await loadScorerFromDir(args.model, { backend: args.backend });
  } catch (e) {
    const msg = `flawscope score: cannot load the model: ${errorText(e)}`;
    if (args.json) emit({ event: 'error', stage: 'model', code: (e as ScorerError).code ?? 'ERROR', message: errorText(e) });
    err(msg);
    return 2;
  }
  const dm = scorer.info.defectMap;
  // Refused before any image is read: without a defect map there is no probability to draw.
  if (args.layer === 'probability' && !dm) {
    const msg = `--layer probability: the model ${args.model} has no defect map ("defectMap" in flawscope.json); use --layer error`;
    if (args.json) emit({ event: 'error', stage: 'usage', code: 'IMAGE_INVALID', message: msg });
    err(`flawscope score: ${msg}`);
    scorer.dispose();
    return 2;
  }
  const layer: HeatLayer = args.layer ?? (dm ? 'probability' : 'error');
  if (args.heatmap) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
  try {
    const { files, problems } = await collectImages(args.inputs);
    const kind = dm ? dm.imageScore.kind : scorer.info.score.kind;
    if (args.json)
      emit({ event: 'model', model: resolve(args.model), backend: scorer.backend, reason: scorer.backendReason, input: scorer.info.input, kind, reconstructionKind: scorer.info.score.kind, defectMap: dm ? { file: dm.file, imageScore: dm.imageScore } : null, threshold: scorer.info.threshold, ...(scorer.info.thresholdRule ? { thresholdRule: scorer.info.thresholdRule } : {}), images: files.length, ...(args.heatmap ? { layer } : {}) });
    else err(`model ${args.model} (${scorer.info.input.width}x${scorer.info.input.height}x${scorer.info.input.channels}, score ${dm ? `${kind} of the defect map's probability` : kind}, threshold ${round(scorer.info.threshold)}) on ${scorer.backend}: ${scorer.backendReason}`);
    let failed = problems.length;
    for (const p of problems) {
      if (args.json) emit({ event: 'error', file: p.split(':')[0], message: p });
      else err(`skipped: ${p}`);
    }
    if (args.heatmap) {
      try {
        await fsp.mkdir(args.heatmap, { recursive: true });
      } catch (e) {
        err(`flawscope score: cannot create --heatmap folder ${args.heatmap}: ${errorText(e)}`);
        return 2;
      }
    }
    const used = new Set<string>();
    let anomalies = 0, scored = 0, unfamiliar = 0;
    for (const f of files) {
      let res: ScoreResult;
      try {
        const px = await decodeImageFile(f);
        res = await scorer.score(px, { mode: args.mode, stride: args.stride, reconstruction: false });
      } catch (e) {
        failed++;
        if (args.json) emit({ event: 'error', file: f, code: (e as ScorerError).code ?? 'ERROR', message: errorText(e) });
        else {
          const m = errorText(e);
          err(`error: ${m.startsWith(f) ? m : `${f}: ${m}`}`);
        }
        continue;
      }
      scored++;
      if (res.verdict === 'anomaly') anomalies++;
      if (res.verdict === 'unfamiliar') unfamiliar++;
      let heatmap: string | undefined;
      if (args.heatmap) {
        let name = basename(f).replace(/\.[^.]+$/, '') + '.heatmap.png';
        for (let k = 2; used.has(name); k++) name = basename(f).replace(/\.[^.]+$/, '') + `.${k}.heatmap.png`;
        used.add(name);
        heatmap = join(args.heatmap, name);
        try {
          writing = heatmap;
          await writePng(heatmap, scorer.overlay(res, { colormap: args.colormap, alpha: args.alpha, layer }), res.width, res.height);
        } catch (e) {
          err(`flawscope score: cannot write ${heatmap}: ${errorText(e)}`);
          return 2;
        } finally {
          writing = null;
        }
      }
      if (args.json)
        emit({ event: 'result', file: f, verdict: res.verdict, reasons: res.reasons, score: round(res.score), percentile: res.percentile ? { value: round(res.percentile.value), estimated: res.percentile.estimated } : null, summary: describePercentile(res.percentile), normalized: round(res.normalized), isAnomaly: res.isAnomaly, kind: res.kind, reconstructionScore: round(res.reconstructionScore), scores: { mean: round(res.scores.mean), topPatch: round(res.scores.topPatch) }, width: res.width, height: res.height, tiles: res.tiles, topPatches: res.topPatches.map((p) => ({ ...p, score: round(p.score) })), ...(heatmap ? { heatmap } : {}) });
      else
        io.out(`${VERDICT_WORD[res.verdict]}  ${describePercentile(res.percentile)} (score ${res.score.toPrecision(5)})  ${f}${heatmap ? `  → ${heatmap}` : ''}\n` +
          res.reasons.map((r) => `            ${r}\n`).join(''));
    }
    if (args.json) emit({ event: 'done', scored, anomalies, unfamiliar, failed });
    else err(`${scored} scored, ${anomalies} anomalous${unfamiliar ? `, ${unfamiliar} unfamiliar (not the kind of image the model was trained on: no verdict)` : ''}${failed ? `, ${failed} failed` : ''}`);
    if (scored === 0 && failed > 0) return 2;
    return failed ? 1 : 0;
  } finally {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
    scorer.dispose();
  }
}
