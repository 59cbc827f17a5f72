/**
 * Per class, keeps whichever of several reproduce runs (same data set, different configurations)
 * has the higher VALIDATION AUROC, and reports the test AUROC of the kept run. The test split
 * plays no part in the choice. Prints a Markdown table. Every class needs a finished run in the
 * first folder; a later folder may hold only some classes (a configuration rerun on the classes
 * weakest on validation): where it has none, the choice is among the runs that exist.
 * A DIR may also be a folder of `flawscope eval --json` outputs named ID-validation.json and
 * ID-test.json (one run's models scored another way, e.g. with --score-flip horizontal).
 * Run: node --import tsx docs/results/select-by-validation.ts NAME=DIR NAME=DIR [...]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanSd, mdTable, pct, testAurocOf } from '../../trainer/eval/report';
import type { RunResult } from '../../trainer/eval/run-one';

interface Pick { name: string; val: number; test: number }

const specs = process.argv.slice(2).map((a) => {
  const eq = a.indexOf('=');
  if (eq < 1) throw new Error(`argument "${a}": write NAME=DIR (a reproduce --out folder)`);
  return { name: a.slice(0, eq), dir: a.slice(eq + 1) };
});
if (specs.length < 2) throw new Error('give at least two NAME=DIR reproduce folders');

const evalAuroc = (f: string): number | null => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { auroc: number | null }).auroc : null);

const finished = (name: string, dir: string, id: string): Pick | null => {
  if (!existsSync(join(dir, 'runs'))) {
    const [val, test] = ['validation', 'test'].map((split) => evalAuroc(join(dir, `${id}-${split}.json`)));
    return val !== null && test !== null ? { name, val, test } : null;
  }
  const f = join(dir, 'runs', id, 'result.json');
  if (!existsSync(f)) return null;
  const r = JSON.parse(readFileSync(f, 'utf8')) as RunResult;
  const test = testAurocOf(r);
  return r.status === 'done' && r.valAuroc !== null && test !== null ? { name, val: r.valAuroc, test } : null;
};

const ids = readdirSync(join(specs[0]!.dir, 'runs')).sort((a, b) => Number(a) - Number(b));
const rows = ids.flatMap((id) => {
  const picks = specs.map(({ name, dir }) => finished(name, dir, id));
  const base = picks[0];
  if (!base) return [];
  return [{ id, picks, kept: picks.reduce<Pick>((a, b) => (b && b.val > a.val ? b : a), base) }];
});
if (!rows.length) throw new Error(`no class has a finished run in ${specs[0]!.dir}`);

// A folder's average is only shown when it ran every class of the table.
const colStats = specs.map((_, i) => (rows.every((r) => r.picks[i]) ? meanSd(rows.map((r) => r.picks[i]!.test)) : null));
const kept = meanSd(rows.map((r) => r.kept.test));
const body = rows.map((r) => [r.id, ...r.picks.map((p) => (p ? `${pct(p.test, 2)} (${pct(p.val, 2)})` : 'not run')), r.kept.name, pct(r.kept.test, 2)]);
body.push([`**avg** (${rows.length} classes)`, ...colStats.map((c) => (c ? pct(c.mean, 2) : '–')), '', `**${pct(kept.mean, 2)}**`]);
body.push(['SD', ...colStats.map((c) => (c ? pct(c.sd, 2) : '–')), '', pct(kept.sd, 2)]);
const header = ['class', ...specs.map((s) => `${s.name}: test (val)`), 'kept on validation', 'test AUROC of the kept run'];
process.stdout.write(mdTable(header, body, header.map((_, i) => (i === 0 || i === specs.length + 1 ? 'l' : 'r'))));
