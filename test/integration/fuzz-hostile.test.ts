/**
 * Hostile values, drawn by a seeded generator, through the built CLI: train flags and --config
 * files, flawscope.json fields (scored with `flawscope score`) and checkpoint files (`train
 * --resume`). Every run is time-limited and must end with exit 0 and a usable result, or exit 2
 * and a message naming the flag, file or field — never a stack, exit 1/134, a hang, or a write
 * outside the folder it was given. FLAWSCOPE_FUZZ_SEED / FLAWSCOPE_FUZZ_RUNS widen a local run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, runCli, tempDir } from '../helpers/cli';
import { tinyData } from '../helpers/tiny-data';
import { Rng } from '../../trainer/rng';

const SEED = Number(process.env.FLAWSCOPE_FUZZ_SEED ?? 20261205);
const RUNS = Number(process.env.FLAWSCOPE_FUZZ_RUNS ?? 12);
const TIME_LIMIT_MS = 60_000;
const STACK = /^\s+at .+:\d+:\d+\)?$/m;
const OK_MODEL = join(ROOT, 'test/fixtures/bad/models/ok');
const GOOD_IMAGE = join(ROOT, 'test/fixtures/bad/datasets/symlink-loop/good/0.png');

const HOSTILE: unknown[] = [
  null, true, false, 0, -0, -1, 0.5, 1.5, 2, 3, 7, 16, 33, 1e9, -1e9, 1e308, -1e308, 1e-320, 2 ** 53 + 1,
  '', '0', '1', '-1', 'NaN', 'Infinity', '1e999', 'abc', '__proto__', 'toString', '../../etc', 'x'.repeat(300),
  [], [1, 2], {}, { a: 1 }, { __proto__: null },
];
const TEXT_HOSTILE = ['', '0', '-1', '0.5', '1e30', '1e-30', 'NaN', 'Infinity', '-Infinity', 'abc', '1,2', 'a=1', 'recon=NaN', 'toString=1', '__proto__=1', '4,2,1', '0,0,0', 'true', 'none', 'x'.repeat(300)];
const TRAIN_FLAGS = ['size', 'channels', 'epochs', 'batch', 'seed', 'lr', 'lr-decay-every', 'beta1', 'beta2', 'weights', 'loss-patch', 'score', 'score-flip', 'score-shift', 'tile-stride', 'skips', 'weight-average', 'backend', 'validation-fraction'];
const CONFIG_KEYS = ['size', 'channels', 'epochs', 'batch', 'seed', 'lr', 'lrDecayEvery', 'beta1', 'beta2', 'weights', 'patch', 'score', 'scoreFlip', 'scoreShift', 'tileStride', 'skips', 'weightAverage', 'backend', 'validationFraction', 'dataOptions', 'nonsense'];

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: TIME_LIMIT_MS, maxBuffer: 64 << 20 });
  // --json error events carry the message JSON-escaped: read them back so quotes compare as typed.
  const messages = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{"type":"error"')).map((l) => JSON.parse(l).message);
  return { code: r.status, signal: r.signal, text: `${r.stdout}\n${r.stderr}\n${messages.join('\n')}` };
}

/** Exit 0, or exit 2 with `names` in the message; never a stack, a signal or another code. */
function judge(what: string, r: ReturnType<typeof run>, names: RegExp): 'ok' | 'refused' {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal} (a hang past ${TIME_LIMIT_MS} ms or a crash)\n${r.text}`);
  assert.ok(r.code === 0 || r.code === 2, `${what}: exit ${r.code}\n${r.text}`);
  assert.doesNotMatch(r.text, STACK, `${what}: no stack trace`);
  if (r.code === 2) assert.match(r.text, names, `${what}: the message names the input`);
  return r.code === 0 ? 'ok' : 'refused';
}

function setPath(o: Record<string, any>, path: string[], v: unknown): void {
  let t = o;
  for (const k of path.slice(0, -1)) t = t[k] = typeof t[k] === 'object' && t[k] !== null ? t[k] : {};
  t[path[path.length - 1]] = v;
}

test(`train: ${RUNS} runs of hostile flags and --config values (seed ${SEED})`, () => {
  const rng = new Rng(SEED);
  const data = tinyData('flawscope-fuzz-data-');
  const outcomes: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const parent = tempDir('flawscope-fuzz-train-');
    const args = ['train', '--data', data, '--out', join(parent, 'model'), '--normal', 'good', '--json'];
    const fromFlag = rng.next() < 0.5;
    let names: RegExp;
    let label: string;
    // One hostile value per run, the rest a fast valid training.
    const base = new Map([['size', '16'], ['batch', '8'], ['epochs', '1']]);
    if (fromFlag) {
      const flag = pick(rng, TRAIN_FLAGS);
      const v = pick(rng, TEXT_HOSTILE);
      base.set(flag, v);
      names = new RegExp(`--${flag}\\b`);
      label = `--${flag} ${show(v)}`;
    } else {
      const key = pick(rng, CONFIG_KEYS);
      const v = pick(rng, HOSTILE);
      const f = join(tempDir('flawscope-fuzz-cfg-'), 'config.json');
      writeFileSync(f, JSON.stringify({ [key]: v }));
      args.push('--config', f);
      if (['size', 'batch', 'epochs'].includes(key)) base.delete(key);
      names = new RegExp(`"${key}"`); // the schema names the file too; checks after the data is read name the key
      label = `config ${key}=${show(v)}`;
    }
    for (const [k, v] of base) args.push(`--${k}`, v);
    const outcome = judge(label, run(args), names);
    if (outcome === 'ok') assert.ok(existsSync(join(parent, 'model', 'flawscope.json')), `${label}: exit 0 leaves a model`);
    const left = readdirSync(parent).filter((f) => f !== 'model');
    assert.deepEqual(left, [], `${label}: nothing but the model in the output's folder`);
    outcomes.push(`${label} → ${outcome}`);
  }
  assert.ok(outcomes.some((o) => o.endsWith('refused')), `some values refused:\n${outcomes.join('\n')}`);
});

const INFO_FIELDS = [
  ['formatVersion'], ['input', 'height'], ['input', 'width'], ['input', 'channels'], ['normalization', 'scale'], ['normalization', 'offset'],
  ['score', 'kind'], ['score', 'patch'], ['score', 'patch', 'size'], ['score', 'patch', 'stride'], ['score', 'patch', 'topN'], ['score', 'flip'], ['score', 'shift'],
  ['preprocess'], ['preprocess', 'mode'], ['preprocess', 'scale'], ['preprocess', 'tileStride'], ['threshold'], ['normalStats'], ['normalStats', 'mean'], ['normalStats', 'std'],
  ['normalStats', 'quantiles'], ['trainingImages'], ['trainingImages', 'width'], ['thresholdRule'], ['thresholdHistory'], ['defectMap'], ['defectMap', 'imageScore'], ['defectMap', 'file'],
];

test(`score: ${RUNS * 2} models with a hostile flawscope.json field (seed ${SEED})`, () => {
  const rng = new Rng(SEED ^ 0x1f0);
  for (let i = 0; i < RUNS * 2; i++) {
    const dir = join(tempDir('flawscope-fuzz-model-'), 'model');
    cpSync(OK_MODEL, dir, { recursive: true });
    const info = JSON.parse(readFileSync(join(dir, 'flawscope.json'), 'utf8'));
    const path = pick(rng, INFO_FIELDS);
    const v = pick(rng, HOSTILE);
    setPath(info, path, v);
    writeFileSync(join(dir, 'flawscope.json'), JSON.stringify(info));
    const heat = tempDir('flawscope-fuzz-heat-');
    const r = run(['score', '--model', dir, GOOD_IMAGE, '--json', '--heatmap', heat]);
    const label = `flawscope.json ${path.join('.')}=${show(v)}`;
    if (judge(label, r, /flawscope\.json/) === 'ok') {
      const line = r.text.split('\n').find((l) => l.startsWith('{') && l.includes('"score"'));
      assert.ok(line, `${label}: a score line`);
      const s = JSON.parse(line!);
      assert.ok(Number.isFinite(s.score), `${label}: exit 0 only with a finite score (got ${s.score})`);
    }
    assert.ok(readdirSync(heat).every((f) => f.endsWith('.png') && !f.includes('.tmp')), `${label}: only finished heatmaps in --heatmap`);
  }
});

const CKPT_FIELDS: [string, string[]][] = [
  ['state.json', ['version']], ['state.json', ['epoch']], ['state.json', ['step']], ['state.json', ['rngState']], ['state.json', ['bestEpoch']],
  ['state.json', ['bestValAuroc']], ['state.json', ['history']], ['state.json', ['config']], ['state.json', ['cursors']], ['state.json', ['elapsedSeconds']],
  ['tensors.json', ['0', 'shape']], ['tensors.json', ['0', 'dtype']], ['tensors.json', ['0', 'offset']], ['tensors.json', ['0', 'length']], ['tensors.json', ['0', 'name']], ['tensors.json', []],
];

test(`train --resume: ${RUNS} checkpoints with a hostile field (seed ${SEED})`, () => {
  const rng = new Rng(SEED ^ 0xc4e);
  const data = tinyData('flawscope-fuzz-ckpt-data-');
  const src = join(tempDir('flawscope-fuzz-ckpt-src-'), 'model');
  const made = runCli(['train', '--data', data, '--out', src, '--normal', 'good', '--size', '16', '--batch', '8', '--epochs', '1', '--keep-checkpoint', '--json']);
  assert.equal(made.code, 0, made.stderr);
  for (let i = 0; i < RUNS; i++) {
    const parent = tempDir('flawscope-fuzz-resume-');
    const ck = join(parent, 'model.checkpoint');
    cpSync(`${src}.checkpoint`, ck, { recursive: true });
    const [file, path] = pick(rng, CKPT_FIELDS);
    const v = pick(rng, HOSTILE);
    const doc = JSON.parse(readFileSync(join(ck, file), 'utf8'));
    const changed = path.length ? (setPath(doc, path, v), doc) : v;
    writeFileSync(join(ck, file), JSON.stringify(changed) ?? 'null');
    const label = `${file} ${path.join('.') || '(whole file)'}=${show(v)}`;
    const r = run(['train', '--resume', ck, '--epochs', '2', '--json']);
    if (judge(label, r, new RegExp(`--resume ${ck.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)) === 'ok') assert.ok(existsSync(join(parent, 'model', 'flawscope.json')), `${label}: exit 0 leaves a model`);
    assert.deepEqual(readdirSync(parent).filter((f) => f !== 'model' && f !== 'model.checkpoint'), [], `${label}: nothing else written`);
  }
});

// Keep the generator honest: the hostile list reaches every kind a JSON file can hold.
test('the hostile value list covers every JSON type and the numeric edge cases', () => {
  const kinds = new Set(HOSTILE.map((v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)));
  assert.deepEqual([...kinds].sort(), ['array', 'boolean', 'null', 'number', 'object', 'string']);
  for (const edge of [0, -1, 0.5, 1e308, -1e308]) assert.ok(HOSTILE.includes(edge));
});
