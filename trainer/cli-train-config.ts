/** `flawscope train`'s flags and --config file, read into a TrainConfig (kept apart from cli.ts, which runs on import). */
import { readFileSync } from 'node:fs';
import { camel, UsageError } from './args';
import { DEFAULT_CONFIG, type TrainConfig } from './train';
import { DEFECTS_PRESET, type DefectsConfig } from './defect-map/train-map';
import { presetDataOptions } from './data/map-data';
import { InputError } from './data/types';
import { flagsToOptions, isTrainFlag, mergeWeights, parseTrainOptions, type TrainOptions } from './train-options';

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
  const o: TrainOptions = { ...file, ...given };
  if (!o.data) throw new UsageError('--data DIR is required (a folder of class sub-folders)');
  if (!o.out) throw new UsageError('--out DIR is required (where the model folder is written)');
  const dataOptions: Record<string, unknown> = { ...file.dataOptions };
  for (const [k, v] of flags) if (!isTrainFlag(k)) dataOptions[camel(k)] = v;
  const { weights: _w, dataOptions: _d, ...rest } = o;
  if (o.timeBudget !== undefined && o.preset === undefined) throw new InputError('--time-budget needs --preset defects (the paper\'s training runs for --epochs)');
  if (o.synthetic !== undefined && o.preset === undefined) throw new InputError('--synthetic needs --preset defects (synthetic defects train the defect map)');
  if (o.preset === 'defects') {
    const p = DEFECTS_PRESET;
    return {
      ...DEFAULT_CONFIG,
      size: p.size, batch: p.batch, epochs: p.epochs, lr: p.lr, tileStride: p.tileStride, timeBudget: p.timeBudget, synthetic: 'auto',
      ...rest,
      preset: 'defects',
      data: o.data,
      out: o.out,
      weights: mergeWeights(DEFAULT_CONFIG.weights, file.weights, given.weights),
      dataOptions: presetDataOptions(dataOptions),
    } as DefectsConfig;
  }
  return {
    ...DEFAULT_CONFIG,
    ...rest,
    data: o.data,
    out: o.out,
    // A file's partial weights change only the losses it names; flags then override those.
    weights: mergeWeights(DEFAULT_CONFIG.weights, file.weights, given.weights),
    dataOptions,
  };
}

