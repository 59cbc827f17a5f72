import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SuiteConfig {
  /** Suites to run (file stems in this folder). */
  suites: string[];
  resultFile: string;
  /** Repository root (the extension under test, with dist/cli.js). */
  repo: string;
  workspace: string;
  dataset: string;
  normalClass: string;
  nodePath: string;
  /** Output folder for test artefacts. */
  out: string;
}

/** run.mjs writes config.json beside the built suite. */
export function config(): SuiteConfig {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'config.json'), 'utf8')) as SuiteConfig;
}
