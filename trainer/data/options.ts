/**
 * Reader options arrive from CLI flags camelCased and as strings (`--patch-size 64` →
 * `opts.patchSize = '64'`); the extension may pass numbers. These helpers parse and validate
 * them and name the flag in the error.
 */
import { InputError } from './types';

/** `patchSize` → `--patch-size`. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export function numberOpt(
  opts: Record<string, unknown>,
  key: string,
  def: number,
  range: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const raw = opts[key];
  if (raw === undefined || raw === null || raw === '') return def;
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
  const what = range.integer ? 'an integer' : 'a number';
  const bounds =
    range.min !== undefined && range.max !== undefined
      ? ` between ${range.min} and ${range.max}`
      : range.min !== undefined
        ? ` >= ${range.min}`
        : range.max !== undefined
          ? ` <= ${range.max}`
          : '';
  if (!Number.isFinite(v) || (range.integer && !Number.isInteger(v)) || (range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
    throw new InputError(`${flagName(key)} must be ${what}${bounds}; got ${JSON.stringify(raw)}.`);
  }
  return v;
}

export function stringOpt<T extends string>(opts: Record<string, unknown>, key: string, allowed: readonly T[], def: T): T;
export function stringOpt(opts: Record<string, unknown>, key: string): string | undefined;
export function stringOpt(opts: Record<string, unknown>, key: string, allowed?: readonly string[], def?: string): string | undefined {
  const raw = opts[key];
  if (raw === undefined || raw === null || raw === '') return def;
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    throw new InputError(`${flagName(key)} must be a string; got ${JSON.stringify(raw)}.`);
  }
  const v = String(raw);
  if (allowed && !allowed.includes(v)) {
    throw new InputError(`${flagName(key)} must be one of ${allowed.join(', ')}; got ${JSON.stringify(v)}.`);
  }
  return v;
}

/** The spellings of a switch: true/1/yes/on and false/0/no/off; anything else is undefined. */
export function switchValue(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  return undefined;
}

/** Flags given without a value arrive as `true`; 'false'/'0'/'no' turn a default-on switch off. */
export function boolOpt(opts: Record<string, unknown>, key: string, def: boolean): boolean {
  const raw = opts[key];
  if (raw === undefined || raw === null || raw === '') return def;
  const v = switchValue(raw);
  if (v === undefined) throw new InputError(`${flagName(key)} must be true or false; got ${JSON.stringify(raw)}.`);
  return v;
}
