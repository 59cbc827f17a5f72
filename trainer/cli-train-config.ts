/** `flawscope train`'s flags and --config file, read into a TrainConfig (kept apart from cli.ts, which runs on import). */
import { readFileSync } from 'node:fs';
import { camel, UsageError } from './args';
import { declaredFlags } from './cli-schema';
import { parseDataOptions, READER_OPTIONS } from './data/options';
import { DEFAULT_CONFIG, thresholdSettings, type TrainConfig } from './train';
import { DEFECTS_PRESET, type DefectsConfig } from './defect-map/train-map';
import { presetDataOptions } from './data/map-data';
import { InputError } from './errors';
import { PRESETS, presetTrainSettings } from './presets';
import { flagsToOptions, isTrainFlag, mergeWeights, parseTrainOptions, TRAIN_COMMAND, TRAIN_SETTINGS, type TrainOptions } from './train-options';

/** The flags `flawscope train` reads: its own, the settings, and the data reader's (passed on to it). */
export const TRAIN_FLAGS = declaredFlags(TRAIN_COMMAND, TRAIN_SETTINGS, READER_OPTIONS);

/** `flawscope train --help`: the reader flags, from the data options' table. */
export function readerFlagsHelp(): string {
  return READER_OPTIONS.help();
}

/** Reads a --config file into settings (validated by the same schema as the flags). */
export function configFileOptions(file: string): TrainOptions {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'a folder, not a file' : `cannot read it as JSON (${err.message})`;
    throw new UsageError(`--config ${file}: ${why}`);
  }
  return parseTrainOptions(raw, { kind: 'file', label: `--config ${file}` });
}

/**
 * Builds the train config: defaults, under the preset's settings, under the --config file, under
 * the flags; every value validated by one schema. With `--preset defects` it is a DefectsConfig.
 */
export function trainConfigFromFlags(flags: Map<string, string>): TrainConfig | DefectsConfig {
  const cfgFile = flags.get('config');
  const file = cfgFile ? configFileOptions(cfgFile) : {};
  const given = parseTrainOptions(flagsToOptions(flags), { kind: 'flag' });
  // A rule named by flags replaces the file's (flags win) rather than meeting it as "both rates given".
  const rule = thresholdSettings([given, { kind: 'flag' }], [file, { kind: 'file', label: `--config ${cfgFile}` }]);
  const o: TrainOptions = { ...file, ...given };
  if (!o.data) throw new UsageError('--data DIR is required (a folder of class sub-folders)');
  if (!o.out) throw new UsageError('--out DIR is required (where the model folder is written)');
  const dataOptions: Record<string, unknown> = { ...file.dataOptions };
  for (const [k, v] of flags) if (!isTrainFlag(k)) dataOptions[camel(k)] = v;
  parseDataOptions(dataOptions); // refused here, naming the flag, rather than after the model is set up; kept as given (the model records them)
  const { weights: _w, dataOptions: _d, ...rest } = o;
  if (o.synthetic !== undefined && o.preset !== 'defects') throw new InputError('--synthetic needs --preset defects (synthetic defects train the defect map)');
  if (o.preset === 'defects') {
    const p = DEFECTS_PRESET;
    return {
      ...DEFAULT_CONFIG,
      // No tileStride here: trainDefects chooses one on the validation photos for crops of photos (photo-scoring.ts); a user --tile-stride skips the choice.
      size: p.size, batch: p.batch, epochs: p.epochs, lr: p.lr, timeBudget: p.timeBudget, synthetic: 'auto',
      ...rest,
      ...rule,
      preset: 'defects',
      data: o.data,
      out: o.out,
      weights: mergeWeights(DEFAULT_CONFIG.weights, file.weights, given.weights),
      dataOptions: presetDataOptions(dataOptions),
    } as DefectsConfig;
  }
  // No budget flag at all is the quick preset; --epochs alone trains exactly that many epochs (no time budget, no early stop unless asked).
  const presetName = o.preset ?? (o.epochs === undefined ? 'quick' : undefined);
  const preset = presetName ? PRESETS[presetName] : undefined;
  if (preset?.augment === 'none' && dataOptions.augment === undefined) dataOptions.augment = 'none';
  return {
    ...DEFAULT_CONFIG,
    // A budget preset keeps its checkpoint, so a finished training can be extended without having asked up front.
    ...(preset ? { ...presetTrainSettings(preset), keepCheckpoint: true } : {}),
    ...rest,
    ...rule,
    data: o.data,
    out: o.out,
    // A file's partial weights change only the losses it names; flags then override those.
    weights: mergeWeights(DEFAULT_CONFIG.weights, file.weights, given.weights),
    dataOptions,
  };
}

