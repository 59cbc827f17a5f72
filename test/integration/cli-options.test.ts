/**
 * Every command's options come from one table (trainer/cli-schema.ts): --help lists each flag, a
 * bad value exits 2 naming the flag, an unknown flag exits 2 listing the known ones. None of these
 * reads data or trains: each command refuses before any work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempDir } from '../helpers/cli';
import { TRAIN_COMMAND, TRAIN_SETTINGS } from '../../trainer/train-options';
import { DATA_OPTIONS, READER_OPTIONS, parseDataOptions } from '../../trainer/data/options';
import { EVAL_OPTIONS, REPRODUCE_OPTIONS, GRID_OPTIONS, ABLATION_OPTIONS } from '../../trainer/eval/commands';
import { CALIBRATE_OPTIONS } from '../../trainer/calibrate';
import { INSPECT_OPTIONS } from '../../trainer/data/cli-datasets';

type Table = { helpFlags(): string[] };

const COMMANDS: [string[], Table[]][] = [
  [['train'], [TRAIN_COMMAND, TRAIN_SETTINGS, READER_OPTIONS]],
  [['eval'], [EVAL_OPTIONS]],
  [['reproduce'], [REPRODUCE_OPTIONS]],
  [['grid'], [GRID_OPTIONS]],
  [['ablation'], [ABLATION_OPTIONS]],
  [['calibrate'], [CALIBRATE_OPTIONS]],
  [['datasets', 'inspect'], [INSPECT_OPTIONS]],
];

test('each command --help lists every flag of its table', () => {
  for (const [cmd, tables] of COMMANDS) {
    const r = runCli([...cmd, '--help']);
    assert.equal(r.code, 0, `${cmd.join(' ')} --help: ${r.stderr}`);
    for (const t of tables) for (const f of t.helpFlags().map((x) => `--${x}`)) assert.ok(r.stdout.includes(`  ${f} `), `${cmd.join(' ')} --help lists ${f}`);
  }
  // Commands that pass flags on name the reader flags too.
  for (const cmd of ['eval', 'reproduce', 'grid', 'ablation']) assert.match(runCli([cmd, '--help']).stdout, /--patch-size/);
});

test('the top-level usage names every command', () => {
  const r = runCli(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['train', 'score', 'datasets inspect', 'eval', 'calibrate', 'reproduce', 'grid', 'ablation']) assert.match(r.stdout, new RegExp(`flawscope ${c} `));
});

test('a bad value for a flag of each command exits 2 naming the flag and what it expects', () => {
  const out = tempDir();
  const cases: [string[], RegExp][] = [
    [['train', '--data', out, '--out', out, '--epochs', '0'], /--epochs 0: expected an integer from 1 to 100000/],
    [['train', '--data', out, '--out', out, '--patch-size', '0'], /--patch-size 0: expected an integer from 4 to 8192/],
    [['eval', '--model', out, '--split', 'train'], /--split train: expected test or validation/],
    [['eval', '--model', out, '--augment-crop', '99'], /--augment-crop 99: expected an integer from 0 to 64/],
    [['reproduce', '--dataset', 'mnist', '--epochs', '1.5'], /--epochs 1\.5: expected an integer from 1 to 100000/],
    [['reproduce', '--dataset', 'mnist', '--weights', 'nope=1'], /--weights nope=1: expected loss weights/],
    [['grid', '--dry-run', '--ratio', '-1'], /--ratio -1: expected a number from 0 up/],
    [['grid', '--dry-run', '--protocol', 'all'], /--protocol all: expected default, one-vs-rest or defect/],
    [['ablation', '--parallel', '17'], /--parallel 17: expected an integer from 1 to 16/],
    [['ablation', '--budget', 'huge'], /--budget huge: expected quick, standard or paper/],
    [['calibrate', '--model', out, '--data', out, '--backend', 'gpu'], /--backend gpu: expected auto, webgpu, fast, wasm or cpu/],
    [['datasets', 'inspect', out, '--format', 'zip'], /--format zip: expected auto, image-folder, masks, mvtec, idx or cifar/],
  ];
  for (const [argv, msg] of cases) {
    const r = runCli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg, argv.join(' '));
  }
});

test('an unknown flag exits 2 listing the known ones (train forwards only declared reader flags)', () => {
  for (const cmd of [['train'], ['eval'], ['reproduce'], ['grid'], ['ablation'], ['calibrate'], ['datasets', 'inspect', '.']]) {
    const r = runCli([...cmd, '--colour', 'red']);
    assert.equal(r.code, 2, cmd.join(' '));
    assert.match(r.stderr, /--colour: not a .* option; known: .*--json/, cmd.join(' '));
  }
});

test('the data options schema: typed values, each bad one refused naming its flag', () => {
  const o = parseDataOptions({ root: 'd', size: '32', patchSize: '64', balance: 'no', augmentFlip: 'true', normalClass: 7, memoryLimitMb: ' 5 ', cacheDir: '' });
  assert.deepEqual(o, { root: 'd', size: 32, patchSize: 64, balance: false, augmentFlip: 'both', normalClass: '7', memoryLimitMb: 5 });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ patchSize: 0 }, /--patch-size 0: expected an integer from 4 to 8192$/],
    [{ patchStride: '1.5' }, /--patch-stride 1\.5: expected an integer from 1 to 8192$/],
    [{ sampling: 'fps' }, /--sampling fps: expected kmeans or random$/],
    [{ balance: 'maybe' }, /--balance maybe: expected true or false/],
    [{ maskFraction: 2 }, /--mask-fraction 2: expected a number from 0 to 1$/],
    [{ maskSuffix: '_mask' }, /--mask-suffix _mask: expected a file-name ending with an image extension/],
    [{ channels: 2 }, /--channels 2: expected 1 or 3$/],
    [{ maxPixels: 'lots' }, /--max-pixels lots: expected a number from 1 up$/],
  ];
  for (const [opts, msg] of bad) assert.throws(() => parseDataOptions(opts), msg, JSON.stringify(opts));
  assert.throws(() => parseDataOptions({ patchSise: 64 }), /Unknown option --patch-sise\. Data options: --format/);
  // Every key of the table is one the pipeline reads.
  assert.ok(Object.keys(READER_OPTIONS.specs).every((k) => k in DATA_OPTIONS.specs));
});
