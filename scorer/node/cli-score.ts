/** `flawscope score`: the CLI front of the scorer (Node; Flawscope's WASM kernels by default, tfjs WASM or cpu on request). Wired into trainer/cli.ts. */
import { promises as fsp } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { HEAT_LAYERS, type HeatLayer, type Scorer, type ScoreResult } from '../scorer';
import { ScorerError, errorText } from '../errors';
import type { ColormapName } from '../colormap';
import { rmSync } from 'node:fs';
import { parseArgs as parseCommandLine } from 'node:util';
import { z } from 'zod';
import { BACKENDS_OF, backendExpectation, backendSchema } from '../../shared/backends';
import { describePercentile } from '../percentile';
import { collectImages, decodeImageFile, loadScorerFromDir, pngTempPath, writePng } from './index';

/**
 * The score command's options, once: each with its schema and the words every message uses; the
 * usage text is generated from this table. `--stride` is the old name of `--tile-stride` (kept
 * for one release, with a note), so every command names the tile spacing the same way.
 */
const OPTIONS = {
  model: { type: 'string', schema: z.string().min(1), expect: 'a model folder', help: 'DIR  the model folder (flawscope.json + model.json)' },
  json: { type: 'boolean', schema: z.boolean(), expect: '', help: '  one JSON object per line' },
  heatmap: { type: 'string', schema: z.string().min(1), expect: 'a folder path', help: 'OUT_DIR  write IMAGE.heatmap.png overlays there' },
  backend: { type: 'string', schema: backendSchema('score'), expect: `${backendExpectation('score')} (auto = fast here)`, help: `${BACKENDS_OF.score.join('|')}  (README "Backends"; auto: fast)` },
  mode: { type: 'string', schema: z.enum(['tile', 'resize']), expect: 'tile or resize', help: "tile|resize  override the model's own" },
  'tile-stride': { type: 'string', schema: z.coerce.number().int().min(1).max(1024), expect: 'an integer from 1 to the model size (model pixels between photo tiles)', help: "N  photo tiles N model pixels apart (default: the model's)" },
  stride: { type: 'string', schema: z.coerce.number().int().min(1).max(1024), expect: 'an integer from 1 to the model size', help: '' },
  colormap: { type: 'string', schema: z.enum(['turbo', 'viridis', 'grey']), expect: 'turbo, viridis or grey', help: 'turbo|viridis|grey' },
  alpha: { type: 'string', schema: z.coerce.number().min(0).max(1), expect: 'a number from 0 to 1', help: 'A  heatmap opacity (default 0.5)' },
  layer: { type: 'string', schema: z.enum(HEAT_LAYERS as unknown as [HeatLayer, ...HeatLayer[]]), expect: "probability (the defect map's, the default when the model has one) or error (the reconstruction error)", help: 'probability|error  which map the heatmap draws' },
  help: { type: 'boolean', schema: z.boolean(), expect: '', help: '' },
} as const;
type OptionName = keyof typeof OPTIONS;

const USAGE = `usage: flawscope score --model DIR IMAGE_OR_FOLDER... [options]
${(Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][]).filter(([, o]) => o.help).map(([k, o]) => `  --${k} ${o.help}`).join('\n')}
  (--stride N is the old name of --tile-stride)`;

interface ScoreArgs { model: string; inputs: string[]; json: boolean; heatmap?: string; backend: 'webgpu' | 'fast' | 'wasm' | 'cpu'; mode?: 'tile' | 'resize'; stride?: number; colormap: ColormapName; alpha: number; layer?: HeatLayer; notes: string[] }

class ScoreUsageError extends Error {}

function parseArgs(argv: string[]): ScoreArgs {
  const a = argv[0] === 'score' ? argv.slice(1) : argv.slice();
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[]; tokens?: { kind: string; name?: string }[] };
  try {
    parsed = parseCommandLine({ args: a, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    // node:util's messages, in the words every Flawscope command uses.
    const err = e as NodeJS.ErrnoException;
    const flag = /Option '(-{1,2}[\w-]+)/.exec(err.message)?.[1] ?? /'(-{1,2}[\w-]+)'/.exec(err.message)?.[1] ?? '';
    const what = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${flag}` : /does not take an argument/.test(err.message) ? `${flag} takes no value` : err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? `${flag} needs a value` : err.message.split('\n')[0];
    throw new ScoreUsageError(`${what}\n${USAGE}`);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option' || !t.name) continue;
    if (seen.has(t.name)) throw new ScoreUsageError(`--${t.name} is given twice; give it once`);
    seen.add(t.name);
  }
  const v = parsed.values as Partial<Record<OptionName, string | boolean>>;
  const read = <K extends OptionName>(k: K) => {
    if (v[k] === undefined) return undefined;
    const r = OPTIONS[k].schema.safeParse(v[k]);
    if (!r.success) throw new ScoreUsageError(`--${k} ${String(v[k])}: expected ${OPTIONS[k].expect}`);
    return r.data as z.infer<(typeof OPTIONS)[K]['schema']>;
  };
  const notes: string[] = [];
  if (v.stride !== undefined && v['tile-stride'] !== undefined) throw new ScoreUsageError('--stride and --tile-stride name the same setting; give --tile-stride only');
  if (v.stride !== undefined) notes.push('--stride is the old name of --tile-stride; it will be removed in the next release');
  const model = read('model');
  if (!model) throw new ScoreUsageError(`--model DIR is required\n${USAGE}`);
  if (!parsed.positionals.length) throw new ScoreUsageError(`give at least one image or folder to score\n${USAGE}`);
  const backend = read('backend') ?? 'auto';
  return {
    model, inputs: parsed.positionals, json: read('json') ?? false, heatmap: read('heatmap'),
    backend: backend === 'auto' ? 'fast' : backend, mode: read('mode'), stride: read('tile-stride') ?? read('stride'),
    colormap: read('colormap') ?? 'turbo', alpha: read('alpha') ?? 0.5, layer: read('layer'), notes,
  };
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
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(USAGE + '\n');
    return 0;
  }
  try {
    args = parseArgs(argv);
  } catch (e) {
    err(`flawscope score: ${errorText(e)}`);
    return 2;
  }
  for (const n of args.notes) err(`flawscope score: ${n}`);
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
