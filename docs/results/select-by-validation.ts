/**
 * Per class, keeps whichever of several reproduce runs (same data set, different configurations)
 * has the higher VALIDATION AUROC, and reports the test AUROC of the kept run. The test split
 * plays no part in the choice. Prints a Markdown table.
 * Run: node --import tsx docs/results/select-by-validation.ts NAME=DIR NAME=DIR [...]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Pick { name: string; val: number; test: number }

const specs = process.argv.slice(2).map((a) => {
  const eq = a.indexOf('=');
  if (eq < 1) throw new Error(`argument "${a}": write NAME=DIR (a reproduce --out folder)`);
  return { name: a.slice(0, eq), dir: a.slice(eq + 1) };
});
if (specs.length < 2) throw new Error('give at least two NAME=DIR reproduce folders');

const ids = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const rows: { id: string; runs: (Pick | null)[]; kept: Pick }[] = [];
for (const id of ids) {
  const runs = specs.map(({ name, dir }): Pick | null => {
    const f = join(dir, 'runs', id, 'result.json');
    if (!existsSync(f)) return null;
    const r = JSON.parse(readFileSync(f, 'utf8'));
    if (r.status !== 'done') return null;
    return { name, val: r.valAuroc, test: r.eval.auroc };
  });
  if (runs.some((r) => r === null)) continue;
  const kept = (runs as Pick[]).reduce((a, b) => (b.val > a.val ? b : a));
  rows.push({ id, runs, kept });
}
if (!rows.length) throw new Error('no class has a finished run in every folder');

const pct = (x: number) => (100 * x).toFixed(2);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const out: string[] = [];
out.push(`| class | ${specs.map((s) => `${s.name}: test (val)`).join(' | ')} | kept on validation | test AUROC of the kept run |`);
out.push(`|---|${specs.map(() => '---:').join('|')}|---|---:|`);
for (const r of rows) out.push(`| ${r.id} | ${r.runs.map((p) => `${pct(p!.test)} (${pct(p!.val)})`).join(' | ')} | ${r.kept.name} | ${pct(r.kept.test)} |`);
const avg = (f: (r: (typeof rows)[number]) => number) => pct(mean(rows.map(f)));
out.push(`| **avg** (${rows.length} classes) | ${specs.map((_, i) => avg((r) => r.runs[i]!.test)).join(' | ')} | | **${avg((r) => r.kept.test)}** |`);
out.push(`| SD | ${specs.map((_, i) => pct(sd(rows.map((r) => r.runs[i]!.test)))).join(' | ')} | | ${pct(sd(rows.map((r) => r.kept.test)))} |`);
console.log(out.join('\n'));
