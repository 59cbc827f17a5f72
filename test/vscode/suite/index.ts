// Mocha entry run INSIDE the real VS Code extension host (code-server or @vscode/test-electron).
// Writes a JSON result file as well, because code-server forwards console output unformatted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { config } from './config';

export function run(): Promise<void> {
  const cfg = config();
  const mocha = new Mocha({ ui: 'tdd', timeout: 120000, color: false, reporter: 'spec' });
  for (const f of cfg.suites) mocha.addFile(path.join(__dirname, `${f}.test.js`));
  const results: { title: string; state: string; ms?: number; error?: string }[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      fs.writeFileSync(cfg.resultFile, JSON.stringify({ failures, results }, null, 2));
      if (failures) reject(new Error(`${failures} tests failed`));
      else resolve();
    });
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
    runner.on('fail', (t, err: Error) => results.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err) }));
    runner.on('pending', (t) => results.push({ title: t.fullTitle(), state: 'skipped' }));
  });
}
