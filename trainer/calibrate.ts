/**
 * `flawscope calibrate`: re-picks a model's threshold on the user's own labelled images. Every
 * image is scored exactly as `flawscope score` scores it (same decoder, same Scorer, same backend by
 * default), so the rates it promises are the rates `score` verdicts show on those images. The new
 * threshold replaces the old in flawscope.json by temp file + rename inside the model folder; the
 * old one is kept in `thresholdHistory`. Exit codes: 0 written, 1 unexpected failure (nothing
 * written), 2 bad input (nothing written; the message names the flag or path).
 */
import { isInputError } from './errors';
import { existsSync, promises as fsp, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseArgs, UsageError } from './args';
import { HELP, jsonSwitch, OptionTable, type OptionValues } from './cli-schema';
import { InputError } from './data/types';
import { acquireLock, LockedError } from './fs-safe';
import { thresholdRuleOf, TRAIN_SETTINGS } from './train-options';
import { chooseThresholdForFlag, describeChoice, ratesAt, ruleRecord, smallSampleWarning, type ThresholdChoice, type ThresholdRequest } from './threshold';
import { collectImages, decodeImageFile, loadScorerFromDir } from '../scorer/node/index';
import { errorText } from '../scorer/errors';
import { BACKENDS_OF, backendExpectation, backendSchema } from '../shared/backends';
import { INFO_FILE, parseModelInfo, type ModelInfo, type ThresholdHistoryEntry, type ThresholdRule } from '../scorer/model-format';

/** calibrate's options; the two rates are train's settings (same ranges and messages as \`train\`). */
export const CALIBRATE_OPTIONS = new OptionTable('calibrate option', {
  model: { expect: 'a model folder (a path)', schema: z.string().min(1), help: 'DIR  the model folder whose threshold is re-picked' },
  data: {
    expect: 'a folder of class folders (a path)', schema: z.string().min(1),
    help: `DIR  class folders: DIR/<normal class>/… are normal images, every other folder holds
        anomalies (none is fine with --false-alarm-rate). Use images the model was not
        trained on: training images score lower than new ones.`,
  },
  normal: { expect: 'a class name', schema: z.string().min(1), help: "CLASS  the normal folder's name (default: the model's normal class)" },
  falseAlarmRate: {
    ...TRAIN_SETTINGS.specs.falseAlarmRate,
    help: `R  (default 0.01) the smallest threshold with at most R of the normal images
        scoring above it: with n normal images, floor(R·n) may be flagged, so the
        threshold is the (floor(R·n)+1)-th highest normal score (with 30 normals and
        R = 0.01: the highest, so only scores above every normal are flagged)`,
  },
  defectRate: {
    ...TRAIN_SETTINGS.specs.defectRate,
    help: `P  the threshold with the best F1 once the anomalies are weighted to make up P of
        the images (needs anomalies)`,
  },
  backend: { expect: `${backendExpectation('calibrate')} (as flawscope score)`, schema: backendSchema('calibrate'), help: `${BACKENDS_OF.calibrate.join('|')}  as \`flawscope score\` (auto: fast)` },
  json: jsonSwitch('print the result as one JSON object'),
  help: HELP,
});
type CalibrateOptions = OptionValues<typeof CALIBRATE_OPTIONS.specs>;

export const CALIBRATE_USAGE = `usage: flawscope calibrate --model DIR --data DIR [--false-alarm-rate R | --defect-rate P] [--normal CLASS] [--backend ${BACKENDS_OF.calibrate.join('|')}] [--json]
  Re-picks the model's threshold on your own labelled images and writes it into DIR/flawscope.json
  (the old threshold and its rule are kept in "thresholdHistory").
${CALIBRATE_OPTIONS.help()}
  R and P are in (0, 0.5]. Images are scored as \`flawscope score\` scores them (--backend: as there).
`;

/** File operations of the write, replaceable so a test can make one fail as even root would see it. */
export interface WriteIo {
  writeFile(path: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string): Promise<void>;
}
const REAL_IO: WriteIo = {
  writeFile: (p, d) => fsp.writeFile(p, d, { flag: 'wx' }),
  rename: (a, b) => fsp.rename(a, b),
  rm: (p) => fsp.rm(p, { force: true }),
};

/** A failed write of flawscope.json; the file is as it was. */
export class CalibrateWriteError extends Error {
  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super(`cannot write ${path}: ${errorText(cause)}${code ? ` (${code})` : ''}; it is unchanged — check the model folder's permissions and free space`);
    this.name = 'CalibrateWriteError';
  }
}

/** The rule the options ask for (both rates given: refused, as by `train`). */
export function requestOf(o: Pick<CalibrateOptions, 'falseAlarmRate' | 'defectRate'>): ThresholdRequest {
  const rule = thresholdRuleOf({ falseAlarmRate: o.falseAlarmRate, defectRate: o.defectRate }, { kind: 'flag' });
  if (rule?.defectRate != null) return { method: 'defect-rate', target: rule.defectRate };
  return { method: 'false-alarm-rate', target: rule?.falseAlarmRate ?? 0.01 };
}

/**
 * flawscope.json with a new threshold: the old one (and its rule; null for models from before
 * rules were recorded) appended to thresholdHistory; every other field kept as it was, in order.
 */
export function withNewThreshold(raw: Record<string, unknown>, threshold: number, rule: ThresholdRule, now: Date): Record<string, unknown> {
  const history: ThresholdHistoryEntry[] = [
    ...((raw.thresholdHistory as ThresholdHistoryEntry[] | undefined) ?? []),
    { threshold: raw.threshold as number, rule: (raw.thresholdRule as ThresholdRule | undefined) ?? null, replacedAt: now.toISOString() },
  ];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'thresholdRule' || k === 'thresholdHistory') continue;
    if (k === 'threshold') Object.assign(out, { threshold, thresholdRule: rule, thresholdHistory: history });
    else out[k] = v;
  }
  return out;
}

/**
 * Replaces DIR/flawscope.json atomically: a temp file in the same folder (so the rename cannot
 * cross file systems), then rename over the old. Any failure removes the temp file and leaves
 * the old file byte for byte.
 */
export async function writeInfoAtomically(modelDir: string, info: Record<string, unknown>, io: WriteIo = REAL_IO): Promise<void> {
  const dest = join(modelDir, INFO_FILE);
  const tmp = join(modelDir, `.${INFO_FILE}.tmp-${process.pid}-${Date.now()}`);
  try {
    await io.writeFile(tmp, JSON.stringify(info, null, 2));
    await io.rename(tmp, dest);
  } catch (e) {
    await io.rm(tmp).catch(() => {});
    throw new CalibrateWriteError(dest, e);
  }
}

/** Class folders of DIR and their image files (hidden folders skipped). */
async function classFolders(dataDir: string): Promise<Map<string, string[]>> {
  const classes = new Map<string, string[]>();
  for (const e of readdirSync(dataDir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dataDir, e.name);
    if (!(e.isDirectory() || (e.isSymbolicLink() && statSync(p, { throwIfNoEntry: false })?.isDirectory()))) continue;
    const { files } = await collectImages([p]);
    classes.set(e.name, files);
  }
  return classes;
}

export interface CalibrateResult {
  model: string;
  data: string;
  normalClass: string;
  old: { threshold: number; rule: ThresholdRule | null };
  new: { threshold: number; rule: ThresholdRule };
  /** What the old threshold does on the same images, for comparison. */
  oldOnTheseImages: Omit<ThresholdChoice, 'threshold'>;
  warnings: string[];
}

export async function runCalibrateCommand(argv: string[], io: WriteIo = REAL_IO): Promise<number> {
  const out = (s: string) => void process.stdout.write(s);
  const err = (s: string) => void process.stderr.write(s);
  try {
    const { flags, positionals } = parseArgs(argv, CALIBRATE_OPTIONS.flags, 'calibrate');
    const o = CALIBRATE_OPTIONS.fromFlags(flags);
    if (o.help) { out(CALIBRATE_USAGE); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (options start with --)\n${CALIBRATE_USAGE}`);
    const json = o.json === true;
    const request = requestOf(o);
    const modelDir = o.model;
    if (!modelDir) throw new UsageError(`--model DIR is required (the model folder whose threshold is re-picked)\n${CALIBRATE_USAGE}`);
    if (!statSync(modelDir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--model ${modelDir}: no such folder; pass a model folder written by flawscope train`);
    const infoPath = join(modelDir, INFO_FILE);
    if (!existsSync(infoPath)) throw new UsageError(`--model ${modelDir}: no ${INFO_FILE} there; pass a model folder written by flawscope train`);
    const dataDir = o.data;
    if (!dataDir) throw new UsageError(`--data DIR is required (class folders of labelled images: the normal class's folder and, optionally, anomaly folders)\n${CALIBRATE_USAGE}`);
    if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--data ${dataDir}: no such folder`);
    const backend = o.backend === undefined || o.backend === 'auto' ? 'fast' : o.backend;

    // Held from before scoring until the write: a training replacing the folder meanwhile would
    // make the scores describe another model.
    let release: () => Promise<void>;
    try {
      release = await acquireLock(resolve(modelDir));
    } catch (e) {
      if (e instanceof LockedError) throw new InputError(`--model ${modelDir}: ${e.message.replace(/; wait for it.*$/, '')}; wait for it to finish, then calibrate`);
      throw new CalibrateWriteError(`${resolve(modelDir)}.lock`, e);
    }
    try {
      const before = await fsp.readFile(infoPath, 'utf8');
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(before);
      } catch (e) {
        throw new InputError(`--model ${modelDir}: ${INFO_FILE} is not valid JSON (${errorText(e)})`);
      }
      let info: ModelInfo;
      try {
        info = parseModelInfo(raw, infoPath);
      } catch (e) {
        throw new InputError(`--model ${modelDir}: ${errorText(e)}`);
      }
      const normalClass = o.normal ?? (info.dataset?.normalClass as string | undefined);
      if (!normalClass) throw new UsageError(`--model ${modelDir} does not record its normal class; name the normal folder with --normal CLASS`);
      const classes = await classFolders(dataDir);
      const normalFiles = classes.get(normalClass) ?? [];
      if (!normalFiles.length) {
        const found = [...classes].map(([c, f]) => `${c} (${f.length})`).join(', ') || 'none';
        throw new UsageError(`--data ${dataDir}: no normal images: the folder ${join(dataDir, normalClass)} ${classes.has(normalClass) ? 'holds no image files' : 'does not exist'} (normal class "${normalClass}"${o.normal !== undefined ? '' : ', the model\'s'}); class folders found: ${found}. Put the normal images there, or name their folder with --normal CLASS`);
      }
      const anomalyFiles = [...classes].filter(([c]) => c !== normalClass).flatMap(([, f]) => f);
      if (request.method === 'defect-rate' && !anomalyFiles.length)
        throw new UsageError(`--defect-rate ${request.target}: ${dataDir} holds no anomaly images besides "${normalClass}"; add anomaly class folders, or use --false-alarm-rate R`);
      const trainedOn = (info.config as { data?: unknown } | undefined)?.data;
      if (typeof trainedOn === 'string' && resolve(trainedOn) === resolve(dataDir))
        err(`warning: ${dataDir} is the folder ${basename(modelDir)} was trained on: its training images score lower than new ones, so the rates below will be optimistic\n`);

      const scorer = await loadScorerFromDir(modelDir, { backend });
      const scoreAll = async (files: string[]): Promise<number[]> => {
        const s: number[] = [];
        for (const f of files) {
          try {
            s.push((await scorer.score(await decodeImageFile(f), { reconstruction: false })).score);
          } catch (e) {
            // A skipped image would change the counts the rates are promised on.
            throw new InputError(`--data ${dataDir}: cannot score ${f}: ${errorText(e)}; fix or remove it (nothing was written)`);
          }
        }
        return s;
      };
      let normals: number[], anomalies: number[];
      try {
        if (!json) err(`scoring ${normalFiles.length} normal ("${normalClass}") and ${anomalyFiles.length} anomaly images of ${dataDir} with ${modelDir} on ${scorer.backend}…\n`);
        normals = await scoreAll(normalFiles);
        anomalies = await scoreAll(anomalyFiles);
      } finally {
        scorer.dispose();
      }
      const choice = chooseThresholdForFlag(normals, anomalies, request);
      const few = request.method === 'false-alarm-rate' ? smallSampleWarning(choice.normals, request.target, `in ${dataDir}`) : null;
      if (few && !json) err(`warning: ${few}\n`);
      const now = new Date();
      const rule = ruleRecord(request, choice, resolve(dataDir), now);
      const next = withNewThreshold(raw, choice.threshold, rule, now);
      parseModelInfo(next, infoPath); // what is written must load everywhere
      const oldOn = ratesAt(normals, anomalies, info.threshold);
      await writeInfoAtomically(modelDir, next, io);
      const result: CalibrateResult = {
        model: resolve(modelDir), data: resolve(dataDir), normalClass,
        old: { threshold: info.threshold, rule: info.thresholdRule ?? null },
        new: { threshold: choice.threshold, rule },
        oldOnTheseImages: oldOn,
        warnings: few ? [few] : [],
      };
      if (json) out(JSON.stringify(result) + '\n');
      else {
        const oldRule = info.thresholdRule ? `--${info.thresholdRule.method} ${info.thresholdRule.target} on ${info.thresholdRule.source}` : 'F1-optimal on validation (rule not recorded)';
        out(`old ${describeChoice({ threshold: info.threshold, ...oldOn })}  (${oldRule})\n`);
        out(`new ${describeChoice(choice)}  (--${request.method} ${request.target})\n`);
        out(`written to ${infoPath}; the old threshold is kept in "thresholdHistory"\n`);
      }
      return 0;
    } finally {
      await release();
    }
  } catch (e) {
    const input = isInputError(e);
    err(`flawscope calibrate: ${errorText(e)}\n`);
    if (!input && !(e instanceof CalibrateWriteError)) err(`${(e as Error)?.stack ?? ''}\n`);
    return input ? 2 : 1;
  }
}
