/**
 * `flawscope datasets inspect DIR [--json] [--format F] [--normal CLASS] [--max-probe N]`.
 * Exit 0 with the report; 2 with a one-paragraph message on bad input or usage.
 */
import { formatReport, inspectDataset } from './inspect';
import { InputError } from './types';

const USAGE = `usage: flawscope datasets inspect DIR [--json] [--format auto|image-folder|masks|mvtec|idx|cifar] [--normal CLASS] [--max-probe N]
                         [--max-pixels N] [--mask-suffix .png] [--category NAME]
  Shows the detected layout, classes or defect types with counts, image sizes, colour, masks,
  imbalance and skipped files. --json prints the same as one JSON object.
`;

/** Parses `--flag value`, `--flag=value` and bare `--flag` (true) into camelCased keys. */
export function parseFlags(args: string[]): { positional: string[]; flags: Record<string, string | true> } {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = (eq >= 0 ? a.slice(2, eq) : a.slice(2)).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (eq >= 0) flags[name] = a.slice(eq + 1);
      else if (i + 1 < args.length && !args[i + 1].startsWith('--') && name !== 'json') flags[name] = args[++i];
      else flags[name] = true;
    } else positional.push(a);
  }
  return { positional, flags };
}

export { inspectDataset };

/** Where output goes; tests pass their own to capture it. */
export interface CommandIO {
  out: (s: string) => void;
  err: (s: string) => void;
}

const STDIO: CommandIO = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export async function runDatasetsCommand(argv: string[], io: CommandIO = STDIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (sub !== 'inspect') {
    io.err(sub ? `unknown datasets command "${sub}"\n${USAGE}` : USAGE);
    return 2;
  }
  const { positional, flags } = parseFlags(rest);
  if (positional.length !== 1) {
    io.err(`datasets inspect needs exactly one folder; got ${positional.length}.\n${USAGE}`);
    return 2;
  }
  const known = new Set(['json', 'format', 'normal', 'maxProbe', 'maxPixels', 'maskSuffix', 'category']);
  const unknown = Object.keys(flags).filter((k) => !known.has(k));
  if (unknown.length) {
    io.err(`unknown flag(s) ${unknown.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')}\n${USAGE}`);
    return 2;
  }
  const { normal, json, ...opts } = flags;
  try {
    const report = await inspectDataset(positional[0], { ...opts, ...(typeof normal === 'string' ? { normalClass: normal } : {}) });
    io.out(json ? JSON.stringify(report) + '\n' : formatReport(report));
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      if (json) io.out(JSON.stringify({ error: err.message, code: 2 }) + '\n');
      io.err(`error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
