// Verdict shares of a model on a class-folder test split: how many normal test images are
// flagged (anomaly) or called unfamiliar, and how many anomalies are detected. Runs the built CLI
// (`flawscope score --json`), so it counts exactly what a user would see.
// Usage: node scripts/verdict-rates.mjs MODEL_DIR TEST_DIR NORMAL_CLASS [MAX_PER_ANOMALY_CLASS=0 (all)]
// (the normal class is always scored whole: its flagged share is the figure that matters most)
//        node scripts/verdict-rates.mjs MODEL_DIR --foreign FOLDER   (every image should be unfamiliar)
import { spawnSync } from 'node:child_process';
import { readdirSync, mkdtempSync, symlinkSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const [model, test, normal, maxText = '0'] = process.argv.slice(2);
if (!model || !test || !normal) {
  console.error('usage: node scripts/verdict-rates.mjs MODEL_DIR TEST_DIR NORMAL_CLASS [MAX_PER_CLASS]\n       node scripts/verdict-rates.mjs MODEL_DIR --foreign FOLDER');
  process.exit(2);
}
const max = Number(maxText);

function score(dir, max) {
  // At most `max` images of a folder: a folder of links to them (score reads links' targets).
  let target = dir, tmp = null;
  if (max > 0) {
    tmp = mkdtempSync(join(tmpdir(), 'verdicts-'));
    for (const f of readdirSync(dir).sort().slice(0, max)) symlinkSync(join(dir, f), join(tmp, f));
    target = tmp;
  }
  const r = spawnSync(process.execPath, [cli, 'score', '--model', model, target, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`score ${dir}: exit ${r.status}\n${r.stderr}`);
  const results = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.event === 'result');
  const n = (v) => results.filter((e) => e.verdict === v).length;
  const reasons = {};
  for (const e of results) for (const why of e.reasons ?? []) { const k = why.replace(/[\d.]+/g, '#').slice(0, 60); reasons[k] = (reasons[k] ?? 0) + 1; }
  return { images: results.length, normal: n('normal'), anomaly: n('anomaly'), unfamiliar: n('unfamiliar'), reasons };
}

const pct = (a, b) => `${a} / ${b} = ${(100 * a / Math.max(1, b)).toFixed(2)} %`;
if (test === '--foreign') {
  const r = score(normal, 0);
  console.log(JSON.stringify({ model, folder: normal, ...r }));
  console.log(`unfamiliar: ${pct(r.unfamiliar, r.images)}`);
} else {
  const own = score(join(test, normal), 0);
  const others = readdirSync(test).filter((c) => c !== normal).map((c) => score(join(test, c), max));
  const sum = (k) => others.reduce((a, r) => a + r[k], 0);
  const images = sum('images');
  console.log(JSON.stringify({ model, test, normal, own, anomalies: { images, anomaly: sum('anomaly'), unfamiliar: sum('unfamiliar'), normal: sum('normal') } }));
  console.log(`normal test images flagged anomaly: ${pct(own.anomaly, own.images)}; unfamiliar: ${pct(own.unfamiliar, own.images)}`);
  console.log(`anomalies detected (anomaly or unfamiliar): ${pct(sum('anomaly') + sum('unfamiliar'), images)}; as anomaly: ${pct(sum('anomaly'), images)}`);
}
