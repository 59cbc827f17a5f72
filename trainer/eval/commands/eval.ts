/** `flawscope eval`: scores a data split with a model and reports image, per-class and pixel AUROC (whole photo first for crop-trained models: levels.ts). */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { camel, UsageError } from '../../args';
import { HELP, jsonSwitch, OptionTable } from '../../cli-schema';
import { DATA_OPTIONS } from '../../data/options';
import { TRAIN_SETTINGS } from '../../train-options';
import { BACKENDS_OF, backendExpectation, backendSchema } from '../../../shared/backends';
import { decodeImageFile, loadScorerFromDir } from '../../../scorer/node/index';
import { evaluateSet } from '../evaluate';
import { perImageScores } from '../per-image';
import { evalLevels, evalText } from '../levels';
import { loadEvalSet } from '../evaldata';
import { shellLine, writeJsonAtomic } from '../run-one';
import { rocSvg } from '../svg';
import { evalMarkdown, htmlPage, pct, toCsv } from '../report';
import { guarded, PATH, passOnHelp, readCommandLine } from './shared';

/** eval's options; seed and validation fraction are the data options' (same ranges as the reader's). */
export const EVAL_OPTIONS = new OptionTable('eval option', {
  model: PATH('DIR  the model folder (written by flawscope train)'),
  data: PATH("DIR  the data (default: the model's training data, protocol and seed)"),
  normal: { expect: 'a class name', schema: z.string().min(1), help: "CLASS  the normal class (default: the model's)" },
  split: { expect: 'test or validation', schema: z.enum(['test', 'validation']), help: 'test|validation  which split is scored (default test)' },
  seed: { ...DATA_OPTIONS.specs.seed, help: "N  the split's seed (default: the model's)" },
  validationFraction: { ...DATA_OPTIONS.specs.validationFraction, help: "X  the validation share (default: the model's)" },
  scoreFlip: { ...TRAIN_SETTINGS.specs.scoreFlip, help: "none|horizontal  override the model's mirrored score" },
  scoreShift: { ...TRAIN_SETTINGS.specs.scoreShift, help: "none|pixel  override the model's shifted score" },
  // The upper bound is the model's input side, checked once the model is read.
  tileStride: { expect: 'an integer from 1 up to the model input side', schema: z.number().int().min(1), help: "N  override the photo-tile stride (crop-trained models)" },
  backend: { expect: `${backendExpectation('eval')} (eval runs on these)`, schema: backendSchema('eval'), help: `${BACKENDS_OF.eval.join('|')}  (default fast: the WASM SIMD kernels on all cores)` },
  report: PATH('OUT_DIR  write report.md, report.html, roc.svg, eval.json and scores.csv there'),
  json: jsonSwitch('print the result as one JSON object'),
  help: HELP,
});

const EVAL_USAGE = `usage: flawscope eval --model DIR [--data DIR] [--normal CLASS] [--split test|validation] [--json] [--report OUT_DIR] [reader flags]
  Scores the data with the model (the scorer module). A model trained on crops of photos
  (--patch-size) leads with the whole-photo figures — each test photo scored whole, as
  \`flawscope score\` does: image AUROC, per defect type, and pixel AUROC over every pixel of the
  photos where masks exist — then the patch-level figures over the test crops, labelled as such.
  A whole-image model prints image AUROC (both score definitions), per-class AUROC,
  precision/recall at the model's threshold and pixel AUROC where masks exist. --json: the fields
  wholePhoto and patchLevel (README, "eval"). Without --data it measures on the data, protocol
  and seed the model was trained with. --score-flip, --score-shift and --tile-stride override the
  model's own mirrored-score, shifted-score and photo-tile settings (to measure a model both ways;
  choose on --split validation; --tile-stride only changes the whole-photo figures of
  crop-trained models).
Options:
${EVAL_OPTIONS.help()}
${passOnHelp('reader')}
`;

export async function runEvalCommand(argv: string[]): Promise<number> {
  return guarded('eval', async () => {
    const { o, pass, help } = readCommandLine(argv, 'eval', EVAL_OPTIONS, EVAL_USAGE, 'reader');
    if (help) { process.stdout.write(EVAL_USAGE); return 0; }
    const modelDir = o.model;
    if (!modelDir) throw new UsageError(`--model DIR is required\n${EVAL_USAGE}`);
    if (!existsSync(join(modelDir, 'flawscope.json'))) throw new UsageError(`--model ${modelDir}: no flawscope.json there; pass a model folder written by flawscope train`);
    const split = o.split ?? 'test';
    const json = o.json === true;
    const scorer = await loadScorerFromDir(modelDir, { backend: o.backend ?? 'fast' });
    try {
      const side = Math.min(scorer.info.input.height, scorer.info.input.width);
      const tileStride = o.tileStride;
      if (tileStride !== undefined && tileStride > side) throw new UsageError(`--tile-stride ${tileStride}: expected an integer from 1 to ${side} (the model input side)`);
      if (tileStride !== undefined && scorer.info.preprocess?.mode !== 'tile')
        throw new UsageError(`--tile-stride ${tileStride}: ${modelDir} scores whole images, not tiles of photos; leave it out`);
      const cfg = (scorer.info.config ?? {}) as Record<string, any>;
      const data = o.data ?? cfg.data;
      if (!data) throw new UsageError('--data DIR is required (the model does not record its training data)');
      if (!existsSync(data)) throw new UsageError(`--data ${data}: not found`);
      const dataOptions: Record<string, unknown> = { ...(o.data !== undefined ? {} : cfg.dataOptions ?? {}) };
      for (let i = 0; i < pass.length; i += 2) dataOptions[camel(pass[i].slice(2))] = pass[i + 1];
      const set = await loadEvalSet({
        data, normal: o.normal ?? (o.data !== undefined ? undefined : cfg.normal) ?? scorer.info.dataset?.normalClass as string | undefined,
        size: scorer.info.input.height, channels: scorer.info.input.channels,
        seed: o.seed ?? cfg.seed ?? 0,
        validationFraction: o.validationFraction ?? cfg.validationFraction ?? 0.1,
        split, dataOptions, standardize: scorer.info.preprocess?.standardize, unmaskedDefectCrops: !!cfg.defectMap?.bags,
      });
      if (!json) process.stderr.write(`scoring ${set.isAnomaly.length} ${split} images of ${data} (normal class "${set.normalClass}") with ${modelDir} on ${scorer.backend}…\n`);
      const { result, scores } = await evaluateSet(scorer, set, { decodePhoto: decodeImageFile, flip: o.scoreFlip, shift: o.scoreShift, tileStride });
      // `images` last: the summary fields stay at the front of the (possibly long) JSON line.
      const full = { model: resolve(modelDir), data: resolve(data), normalClass: set.normalClass, split, backend: scorer.backend, ...evalLevels(result), ...result, images: perImageScores(set.sources, scores.own, set.isAnomaly, set.className) };
      if (json) process.stdout.write(JSON.stringify(full) + '\n');
      else process.stdout.write(evalText(result).join('\n') + '\n');
      const out = o.report;
      if (out) {
        mkdirSync(out, { recursive: true });
        const title = `Flawscope evaluation — ${set.normalClass} normal`;
        const roc = rocSvg([{ name: `AUROC ${pct(result.auroc, 2)}`, points: result.roc.map((q) => [q.fpr, q.tpr]) }], `ROC — ${set.normalClass} normal (${split}, AUROC ${pct(result.auroc, 2)}%)`);
        writeFileSync(join(out, 'roc.svg'), roc);
        const md = evalMarkdown(title, { ...result, split }, { model: resolve(modelDir), data: resolve(data), command: shellLine(['flawscope', 'eval', ...argv]), rocFile: 'roc.svg' });
        writeFileSync(join(out, 'report.md'), md);
        writeFileSync(join(out, 'report.html'), htmlPage(title, md, [roc]));
        writeJsonAtomic(join(out, 'eval.json'), full);
        writeFileSync(join(out, 'scores.csv'), toCsv(['index', 'class', 'is_anomaly', 'score', 'mean', 'top_patch'], Array.from(set.isAnomaly, (a, i) => [i, set.className?.[i], a, scores.own[i], scores.mean[i], scores.topPatch[i]])));
        if (!json) process.stderr.write(`report: ${join(out, 'report.md')} (+ report.html, roc.svg, eval.json, scores.csv)\n`);
      }
      return 0;
    } finally {
      scorer.dispose();
    }
  });
}
