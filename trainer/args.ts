/**
 * The CLI's argv reader: node:util parseArgs (its tokens) over the flags a command declares, plus
 * what it does not do itself: a boolean flag followed by `true|false` (how reproduce passes flags
 * on to train), a flag given twice refused, and an unknown flag refused with the known ones listed.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { InputError } from './errors';

export interface ParsedArgs {
  flags: Map<string, string>;
  positionals: string[];
}

/** The flags a command reads: switches (`--json`, `--json true|false`) and flags with a value. */
export interface FlagDeclaration {
  booleans: readonly string[];
  strings: readonly string[];
}

/** A command line that cannot be read (a bad flag or argument): an InputError. */
export class UsageError extends InputError {}

/**
 * Reads `--key value`, `--key=value`, switches and positionals (`--` ends the options). Values
 * stay texts, keys as typed; `-h` is `--help` where the command has it. `command` names the
 * command in the message for an unknown flag.
 */
export function parseArgs(argv: string[], decl: FlagDeclaration, command = 'this command'): ParsedArgs {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string }> = {};
  for (const b of decl.booleans) options[b] = { type: 'boolean' };
  for (const s of decl.strings) options[s] = { type: 'string' };
  if (options.help?.type === 'boolean') options.help.short = 'h';
  // strict: false: unknown flags and bad switch values come back as tokens, refused below in our words.
  const { tokens } = nodeParseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t];
    if (tok.kind === 'option-terminator') continue; // what follows comes as positionals
    if (tok.kind === 'positional') { positionals.push(tok.value); continue; }
    const key = tok.name;
    const type = Object.hasOwn(options, key) ? options[key].type : undefined;
    if (!type) {
      const known = [...decl.booleans, ...decl.strings].sort().map((k) => `--${k}`).join(', ');
      throw new UsageError(`${tok.rawName}: not a ${command} option; known: ${known}`);
    }
    if (type === 'boolean') {
      // `--flag true|false` is accepted too, so a command that passes flags on as pairs (reproduce → train) can pass a boolean.
      const next = tokens[t + 1];
      const value = tok.inlineValue ? tok.value! : next?.kind === 'positional' && next.index === tok.index + 1 && (next.value === 'true' || next.value === 'false') ? (t++, next.value) : 'true';
      if (value !== 'true' && value !== 'false') throw new UsageError(`--${key}=${value}: use --${key} alone, or true or false`);
      setOnce(flags, key, value);
      continue;
    }
    const value = tok.value;
    if (value === undefined || (!tok.inlineValue && value.startsWith('--'))) throw new UsageError(`option --${key} needs a value`);
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
