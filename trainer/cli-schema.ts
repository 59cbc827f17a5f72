/**
 * A command's options, defined once as a table: each option has a zod schema, an `expect` text
 * (what a valid value is, in words, used in every message about it) and a `help` line. The same
 * table reads flags (texts: numbers and booleans are read from them) and config files (values
 * already typed), declares the flags to the argv parser (trainer/args.ts) and writes `--help`.
 * Messages name the flag (`--epochs 0: expected an integer from 1 to 100000`) or the file and key.
 */
import { z } from 'zod';
import { InputError } from './errors';

/** Where a value came from: names it in every message. */
export type OptionSource = { kind: 'flag' } | { kind: 'file'; label: string };

export interface OptionSpec<S extends z.ZodTypeAny = z.ZodTypeAny> {
  /** The flag, when not the key's kebab-case form. */
  flag?: string;
  /** What a valid value is, in words (used in every message about this option). */
  expect: string;
  /** The value's schema (after a flag's text is read as a number/boolean where the schema wants one). */
  schema: S;
  /** How a flag's text becomes a value (default: a number for number schemas, true/false for booleans, else as typed). */
  fromFlag?: (text: string) => unknown;
  /** Shown in --help (`VALUE  what it does`); options without one are still accepted. */
  help?: string;
  /** Accepted only in a config file (no flag). */
  fileOnly?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;
/** The typed values a table parses to: each option optional (absent when not given). */
export type OptionValues<T extends OptionSpecs> = { [K in keyof T]?: z.output<T[K]['schema']> };

/** `lrDecayEvery` → `lr-decay-every`. */
export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A flag's text as a number when it is one (and only then: `Number('')` is 0, `Number(' 1')` is 1). */
export function numberText(text: string): unknown {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) && text.trim() === text ? Number(text) : text;
}

export function booleanText(text: string): unknown {
  return text === 'true' ? true : text === 'false' ? false : text;
}

/** A value as shown in a message (long ones cut). */
export function show(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** A switch on the command line: `--json` alone (or followed by true|false); read by booleanText. */
const isSwitch = (s: z.ZodTypeAny): boolean => s instanceof z.ZodBoolean;
/** A schema that wants a number: a flag's numeric text is read as one. Schemas that take any text (a union with strings) are left alone. */
const wantsNumber = (s: z.ZodTypeAny): boolean => !s.safeParse('x').success && [16, 1, 0.5].some((n) => s.safeParse(n).success);

export class OptionTable<T extends OptionSpecs> {
  private readonly byFlag = new Map<string, string>();

  /** `name` names the table in messages ("not a train setting"). */
  constructor(readonly name: string, readonly specs: T) {
    for (const key of Object.keys(specs)) if (!specs[key].fileOnly) this.byFlag.set(this.flagOf(key), key);
  }

  flagOf(key: keyof T & string): string {
    return this.specs[key]?.flag ?? kebab(key);
  }

  /** The key a flag sets, if it is one of this table's. */
  keyOf(flag: string): (keyof T & string) | undefined {
    return this.byFlag.get(flag);
  }

  /** Flags of the table (no file-only options), split by how the argv parser reads them. */
  get flags(): { booleans: string[]; strings: string[] } {
    const booleans: string[] = [], strings: string[] = [];
    for (const [flag, key] of this.byFlag) (isSwitch(this.specs[key].schema) ? booleans : strings).push(flag);
    return { booleans, strings };
  }

  /** Refuses a value, naming the flag or the file and key. */
  refuse(source: OptionSource, key: keyof T & string, raw: unknown): never {
    const expect = this.specs[key].expect;
    if (source.kind === 'flag') throw new InputError(`--${this.flagOf(key)} ${show(raw)}: expected ${expect}`);
    throw new InputError(`${source.label}: "${key}" ${show(raw)}: expected ${expect}`);
  }

  /** One option's value from one source: a flag's text read by the option's rule, then the schema. */
  value<K extends keyof T & string>(key: K, raw: unknown, source: OptionSource): z.output<T[K]['schema']> {
    const spec = this.specs[key];
    let v = raw;
    if (source.kind === 'flag' && typeof raw === 'string')
      v = spec.fromFlag ? spec.fromFlag(raw) : isSwitch(spec.schema) ? booleanText(raw) : wantsNumber(spec.schema) ? numberText(raw) : raw;
    const r = spec.schema.safeParse(v);
    if (!r.success) this.refuse(source, key, raw);
    return r.data;
  }

  /**
   * Validates options from one source: flags (keyed by flag, values texts) or a file (keyed by
   * key, values typed). Unknown names are refused, naming them; file keys with the known ones.
   */
  parse(raw: Record<string, unknown>, source: OptionSource): OptionValues<T> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(raw)) {
      const key = source.kind === 'flag' ? this.byFlag.get(name) : Object.hasOwn(this.specs, name) ? name : undefined;
      if (key === undefined) {
        if (source.kind === 'flag') throw new InputError(`--${name}: not a ${this.name}`);
        throw new InputError(`${source.label}: unknown setting "${name}"; known: ${Object.keys(this.specs).join(', ')}`);
      }
      out[key] = this.value(key, value, source);
    }
    return out as OptionValues<T>;
  }

  /** This table's flags out of a command line's (the others are left for other tables). */
  pick(flags: Map<string, string>): Record<string, string> {
    const o: Record<string, string> = {};
    for (const [k, v] of flags) if (this.byFlag.has(k)) o[k] = v;
    return o;
  }

  /** `parse(pick(flags))`: the command line's values for this table. */
  fromFlags(flags: Map<string, string>): OptionValues<T> {
    return this.parse(this.pick(flags), { kind: 'flag' });
  }

  /** `--help` lines, in table order. */
  help(): string {
    return this.helpKeys().map((key) => `  --${this.flagOf(key)} ${this.specs[key].help}`).join('\n');
  }

  /** The flags --help lists (options with a help line). */
  helpFlags(): string[] {
    return this.helpKeys().map((key) => this.flagOf(key));
  }

  private helpKeys(): (keyof T & string)[] {
    return Object.keys(this.specs).filter((k) => this.specs[k].help && !this.specs[k].fileOnly);
  }
}

/** The flags a command line may hold: the union of the tables' (later tables do not redeclare earlier flags). */
export function declaredFlags(...tables: { readonly flags: { booleans: string[]; strings: string[] } }[]): { booleans: string[]; strings: string[] } {
  const booleans = new Set<string>(), strings = new Set<string>();
  for (const t of tables) {
    const f = t.flags;
    for (const b of f.booleans) if (!strings.has(b)) booleans.add(b);
    for (const s of f.strings) if (!booleans.has(s)) strings.add(s);
  }
  return { booleans: [...booleans], strings: [...strings] };
}

// Small builders for the usual option kinds (expect texts in one wording everywhere).
export const int = (min: number, max: number) => z.number().int().min(min).max(max);
export const enumOf = <V extends string>(xs: readonly V[]) => z.enum(xs as unknown as [V, ...V[]]);
/** `a, b or c`. */
export const either = (xs: readonly string[]): string => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);
export const SWITCH: OptionSpec<z.ZodBoolean> = { expect: 'true or false', schema: z.boolean() };
export const jsonSwitch = (what = 'print JSON instead of text'): OptionSpec<z.ZodBoolean> => ({ ...SWITCH, help: `  ${what}` });
export const HELP: OptionSpec<z.ZodBoolean> = { ...SWITCH, help: '  this text' };
