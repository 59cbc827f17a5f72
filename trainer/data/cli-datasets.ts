/**
 * `flawscope datasets inspect DIR [--json] [--format F] [--normal CLASS] [--max-probe N] …`.
 * Exit 0 with the report; 2 with a one-paragraph message on bad input or usage. The reader
 * flags are the data options' own (trainer/data/options.ts): same ranges and messages as train's.
 */
import { z } from 'zod';
import { parseArgs } from '../args';
import { HELP, jsonSwitch, OptionTable } from '../cli-schema';
import { formatReport, inspectDataset } from './inspect';
import { READER_OPTIONS } from './options';
import { InputError } from './types';

const R = READER_OPTIONS.specs;
export const INSPECT_OPTIONS = new OptionTable('datasets inspect option', {
  format: R.format,
  normal: { expect: 'a class name', schema: z.string().min(1), help: 'CLASS  the normal class (default: the one named good/normal/ok/free)' },
  maxProbe: R.maxProbe,
  maxPixels: R.maxPixels,
  maskSuffix: R.maskSuffix,
  category: R.category,
  json: jsonSwitch('print the report as one JSON object'),
  help: HELP,
});

const USAGE = `usage: flawscope datasets inspect DIR [--json] [--format auto|image-folder|masks|mvtec|idx|cifar] [--normal CLASS] [--max-probe N]
                         [--max-pixels N] [--mask-suffix .png] [--category NAME]
  Shows the detected layout, classes or defect types with counts, image sizes, colour, masks,
  imbalance and skipped files. --json prints the same as one JSON object.
Options:
${INSPECT_OPTIONS.help()}
`;

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
  let json = false;
  try {
    const { flags, positionals } = parseArgs(rest, INSPECT_OPTIONS.flags, 'datasets inspect');
    const { json: asJson, help, normal, ...reader } = INSPECT_OPTIONS.fromFlags(flags);
    json = asJson === true;
    if (help) { io.out(USAGE); return 0; }
    if (positionals.length !== 1) {
      io.err(`datasets inspect needs exactly one folder; got ${positionals.length}.\n${USAGE}`);
      return 2;
    }
    const report = await inspectDataset(positionals[0], { ...reader, normalClass: normal });
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
