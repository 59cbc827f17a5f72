/** `flawscope eval`: scores a data split with a model and reports image, per-class and pixel AUROC. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { camel, UsageError } from '../../args';
import { HELP, jsonSwitch, OptionTable } from '../../cli-schema';
import { DATA_OPTIONS } from '../../data/options';
import { TRAIN_SETTINGS } from '../../train-options';
import { BACKENDS_OF, backendExpectation, backendSchema } from '../../../shared/backends';
import { decodeImageFile, loadScorerFromDir } from '../../../scorer/node/index';
import { scoreLabel } from '../../../scorer/model-format';
import { evaluateSet } from '../evaluate';
import { perImageScores } from '../per-image';
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
  backend: { expect: `${backendExpectation('eval')} (eval runs on these)`, schema: backendSchema('eval'), help: `${BACKENDS_OF.eval.join('|')}  (default wasm)` },
  report: PATH('OUT_DIR  write report.md, report.html, roc.svg, eval.json and scores.csv there'),
  json: jsonSwitch('print the result as one JSON object'),
  help: HELP,
});

const EVAL_USAGE = `usage: flawscope eval --model DIR [--data DIR] [--normal CLASS] [--split test|validation] [--json] [--report OUT_DIR] [reader flags]
  Scores the data with the model (the scorer module) and prints image AUROC (both score
  definitions), per-class AUROC, precision/recall at the model's threshold, the F1-optimal
  threshold, and pixel AUROC where masks exist. Without --data it measures on the data, protocol
  and seed the model was trained with. --score-flip, --score-shift and --tile-stride override the
  model's own mirrored-score, shifted-score and photo-tile settings (to measure a model both ways;
  choose on --split validation; --tile-stride only changes the whole-photo AUROC of crop-trained
  models).
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
    const scorer = await loadScorerFromDir(modelDir, { backend: o.backend ?? 'wasm' });
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
        split, dataOptions, standardize: scorer.info.preprocess?.standardize,
      });
      if (!json) process.stderr.write(`scoring ${set.isAnomaly.length} ${split} images of ${data} (normal class "${set.normalClass}") with ${modelDir} on ${scorer.backend}…\n`);
      const { result, scores } = await evaluateSet(scorer, set, { decodePhoto: decodeImageFile, flip: o.scoreFlip, shift: o.scoreShift, tileStride });
      // `images` last: the summary fields stay at the front of the (possibly long) JSON line.
      const full = { model: resolve(modelDir), data: resolve(data), normalClass: set.normalClass, split, ...result, images: perImageScores(set.sources, scores.own, set.isAnomaly, set.className) };
      if (json) process.stdout.write(JSON.stringify(full) + '\n');
      else {
        const p = (x: number | null) => (x === null ? '–' : x.toFixed(4));
        process.stdout.write(`image AUROC ${p(result.auroc)} (${scoreLabel(result)}; mean-L1 ${p(result.aurocMean)}, top-patch ${p(result.aurocTopPatch)})  pixel AUROC ${result.pixelAuroc === null ? 'no masks' : p(result.pixelAuroc)}\n`);
        process.stdout.write(`${result.count} images (${result.normals} normal, ${result.anomalies} anomalous); at the model threshold ${result.atModelThreshold.threshold.toPrecision(5)}: precision ${p(result.atModelThreshold.precision)} recall ${p(result.atModelThreshold.recall)} F1 ${p(result.atModelThreshold.f1)}\n`);
        if (result.sourceAuroc) process.stdout.write(`source-image AUROC ${p(result.sourceAuroc.auroc)} (max over crops; ${result.sourceAuroc.normals} normal, ${result.sourceAuroc.anomalies} defect images)\n`);
        if (result.photoAuroc) process.stdout.write(`whole-photo AUROC ${p(result.photoAuroc.auroc)} (each photo tiled and scored as \`flawscope score\` does, tiles ${result.photoAuroc.tileStride} px apart; ${result.photoAuroc.normals} normal, ${result.photoAuroc.anomalies} defect photos)\n`);
        for (const t of result.photoAuroc?.byType ?? []) process.stdout.write(`  ${t.className}: whole-photo AUROC ${p(t.auroc)} (${t.photos} photos against the normal ones)\n`);
        for (const c of result.perClass) if (c.anomaly) process.stdout.write(`  class ${c.className}: AUROC ${p(c.auroc)} (${c.count} images)\n`);
      }
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
