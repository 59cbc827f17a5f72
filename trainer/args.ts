/** A small argv parser: `--key value`, `--key=value`, boolean flags, positionals. Keys stay as typed. */
export interface ParsedArgs {
  flags: Map<string, string>;
  positionals: string[];
}

export class UsageError extends Error {}

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
      flags.set(key, value);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`option --${key} needs a value`);
    flags.set(key, value);
  }
  return { flags, positionals };
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
