// Verdict shares of a model on a class-folder test split: how many normal test images are
// flagged (anomaly) or called unfamiliar, and how many anomalies are detected. Runs the built CLI
// (`flawscope score --json`), so it counts exactly what a user would see.
// Usage: node scripts/verdict-rates.mjs MODEL_DIR TEST_DIR NORMAL_CLASS [MAX_PER_ANOMALY_CLASS=0 (all)] [--scores OUT.json]
// (the normal class is always scored whole: its flagged share is the figure that matters most)
// It also prints the normal scores' quantiles and the detection of the best threshold for 1 % and
// 2 % false alarms chosen on these very test normals (an oracle no rule can beat: it tells a weak
// model from a badly placed threshold). --scores writes every image's class, score and verdict.
//        node scripts/verdict-rates.mjs MODEL_DIR --foreign FOLDER   (every image should be unfamiliar)
//        node scripts/verdict-rates.mjs MODEL_DIR --eval-json EVAL.json [--scores OUT.json]
// (the test images of a split that is not a folder of its own, e.g. the defect protocol's seeded
// split of Magnetic tile: `flawscope eval --model M --split test --json > EVAL.json` lists them
// in `images`; they are linked into class folders in a temporary folder, removed at the end)
import { spawnSync } from 'node:child_process';
import { readdirSync, mkdtempSync, mkdirSync, symlinkSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const argv = process.argv.slice(2);
const scoresAt = argv.indexOf('--scores');
const scoresOut = scoresAt >= 0 ? argv.splice(scoresAt, 2)[1] : null;
let [model, test, normal, maxText = '0'] = argv;
let evalTree = null;
const testLabel = test === '--eval-json' ? normal : test;
if (test === '--eval-json' && normal) {
  const evaluation = JSON.parse(readFileSync(normal, 'utf8'));
  if (!Array.isArray(evaluation.images) || !evaluation.normalClass) { console.error(`${normal}: not the JSON of flawscope eval --json (no images or normalClass)`); process.exit(2); }
  evalTree = mkdtempSync(join(tmpdir(), 'verdicts-eval-'));
  evaluation.images.forEach((im, i) => {
    if (im.path.includes('#')) { console.error(`${im.path}: a record inside a container file cannot be scored as a file; write the set as class folders (scripts/make-class-folders.mjs)`); process.exit(2); }
    const dir = join(evalTree, im.className ?? (im.anomaly ? 'anomaly' : evaluation.normalClass));
    mkdirSync(dir, { recursive: true });
    symlinkSync(im.path, join(dir, `${String(i).padStart(5, '0')}-${basename(im.path)}`));
  });
  [test, normal] = [evalTree, evaluation.normalClass];
  process.on('exit', () => rmSync(evalTree, { recursive: true, force: true }));
}
if (!model || !test || !normal) {
  console.error('usage: node scripts/verdict-rates.mjs MODEL_DIR TEST_DIR NORMAL_CLASS [MAX_PER_CLASS] [--scores OUT.json]\n       node scripts/verdict-rates.mjs MODEL_DIR --foreign FOLDER\n       node scripts/verdict-rates.mjs MODEL_DIR --eval-json EVAL.json [--scores OUT.json]');
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
  return { images: results.length, normal: n('normal'), anomaly: n('anomaly'), unfamiliar: n('unfamiliar'), reasons, scored: results.map((e) => ({ file: e.file, score: e.score, verdict: e.verdict })) };
}

const pct = (a, b) => `${a} / ${b} = ${(100 * a / Math.max(1, b)).toFixed(2)} %`;
if (test === '--foreign') {
  const r = score(normal, 0);
  const { scored, ...counts } = r;
  console.log(JSON.stringify({ model, folder: normal, ...counts }));
  console.log(`unfamiliar: ${pct(r.unfamiliar, r.images)}`);
} else {
  const own = score(join(test, normal), 0);
  const others = readdirSync(test).filter((c) => c !== normal).map((c) => score(join(test, c), max));
  const sum = (k) => others.reduce((a, r) => a + r[k], 0);
  const images = sum('images');
  const { scored: ownScored, ...ownCounts } = own;
  console.log(JSON.stringify({ model, test: testLabel, normal, own: ownCounts, anomalies: { images, anomaly: sum('anomaly'), unfamiliar: sum('unfamiliar'), normal: sum('normal') } }));
  console.log(`normal test images flagged anomaly: ${pct(own.anomaly, own.images)}; unfamiliar: ${pct(own.unfamiliar, own.images)}`);
  console.log(`anomalies detected (anomaly or unfamiliar): ${pct(sum('anomaly') + sum('unfamiliar'), images)}; as anomaly: ${pct(sum('anomaly'), images)}`);

  // Oracle: the threshold that flags at most R of these normals (the floor(R·n)+1-th highest
  // score; "above" is strict, as in the scorer), and the share of anomaly scores above it.
  const ns = ownScored.map((e) => e.score).sort((a, b) => b - a);
  const as = others.flatMap((r) => r.scored.map((e) => e.score));
  const q = (p) => ns[Math.min(ns.length - 1, Math.floor((1 - p) * ns.length))];
  const oracle = (rate) => { const t = ns[Math.min(ns.length - 1, Math.floor(rate * ns.length))]; return `${(100 * as.filter((a) => a > t).length / Math.max(1, as.length)).toFixed(1)} % (threshold ${t.toPrecision(4)})`; };
  console.log(`normal test scores: median ${q(0.5).toPrecision(4)}, 90 % ${q(0.9).toPrecision(4)}, 98 % ${q(0.98).toPrecision(4)}, 99 % ${q(0.99).toPrecision(4)}, highest ${ns[0].toPrecision(4)}`);
  console.log(`oracle (threshold chosen on these test normals): detection at 1 % false alarms ${oracle(0.01)}, at 2 % ${oracle(0.02)}`);
  if (scoresOut) writeFileSync(scoresOut, JSON.stringify({ model, test: testLabel, normal, normals: ownScored, anomalies: others.flatMap((r) => r.scored) }));
}
