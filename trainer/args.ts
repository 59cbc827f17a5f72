/** A small argv parser: `--key value`, `--key=value`, boolean flags, positionals. Keys stay as typed. */
import { InputError } from './errors';
export interface ParsedArgs {
  flags: Map<string, string>;
  positionals: string[];
}

/** A command line that cannot be read (a bad flag or argument): an InputError. */
export class UsageError extends InputError {}

export function parseArgs(argv: string[], booleans: readonly string[]): ParsedArgs {
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('--')) { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!key) throw new UsageError(`malformed option "${a}"`);
    if (booleans.includes(key)) {
      // `--flag true|false` is accepted too, so a command that passes flags on as pairs (reproduce → train) can pass a boolean.
      const next = argv[i + 1];
      const value = eq > 0 ? a.slice(eq + 1) : next === 'true' || next === 'false' ? argv[++i] : 'true';
      if (value !== 'true' && value !== 'false') throw new UsageError(`--${key}=${value}: use --${key} alone, or true or false`);
      setOnce(flags, key, value);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`option --${key} needs a value`);
    setOnce(flags, key, value);
  }
  return { flags, positionals };
}

/** A flag given twice is a mistake to point out, not a silent "last one wins". */
function setOnce(flags: Map<string, string>, key: string, value: string): void {
  if (flags.has(key)) throw new UsageError(`--${key} is given twice (${flags.get(key)} and ${value}); give it once`);
  flags.set(key, value);
}

export function camel(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Reads a numeric flag; the error names the flag. */
export function numFlag(flags: Map<string, string>, key: string, dflt: number, o: { min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = flags.get(key);
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || (o.integer && !Number.isInteger(v)) || (o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max))
    throw new UsageError(`--${key} ${raw}: expected ${o.integer ? 'an integer' : 'a number'}${o.min !== undefined ? ` ≥ ${o.min}` : ''}${o.max !== undefined ? ` ≤ ${o.max}` : ''}`);
  return v;
}

/** Reads a flag that takes one of a few names; the error names the flag and the choices. */
export function choiceFlag<T extends string, D extends T | undefined>(flags: Map<string, string>, key: string, choices: readonly T[], dflt: D): T | D {
  const raw = flags.get(key);
  if (raw === undefined) return dflt;
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${key} ${raw}: use ${choices.join(' or ')}`);
  return raw as T;
}

/**
 * Joins `--flag value` lists, a later list's value replacing an earlier one's (a budget's flags,
 * then the user's): the result names each flag once, as parseArgs requires.
 */
export function mergeFlagPairs(...lists: string[][]): string[] {
  const merged = new Map<string, string>();
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}" (options start with --)`);
      const eq = a.indexOf('=');
      const key = eq > 0 ? a.slice(0, eq) : a;
      const value = eq > 0 ? a.slice(eq + 1) : list[++i];
      if (value === undefined) throw new UsageError(`option ${a} needs a value`);
      merged.delete(key); // re-inserted last, so the order shows which list won
      merged.set(key, value);
    }
  }
  return [...merged].flatMap(([k, v]) => [k, v]);
}
