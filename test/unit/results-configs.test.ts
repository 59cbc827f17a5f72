/**
 * docs/results/configs/: a documented figure's settings in one file. The recon + ABC Magnetic-tile
 * figure's file gives each training exactly the settings of the flags it replaces (plus the
 * set-size step rule those runs trained with), and reproduce passes --config on to the trainings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/cli';
import { mergeFlagPairs } from '../../trainer/args';
import { trainConfigFromFlags } from '../../trainer/cli-train-config';
import { readCommandLine } from '../../trainer/eval/commands/shared';
import { REPRODUCE_OPTIONS } from '../../trainer/eval/commands/reproduce';

const RECON_ABC = join(ROOT, 'docs/results/configs/magnetic-tile-recon-abc.json');
/** What reproduce --dataset magnetic-tile --budget standard gives every training before the caller's flags. */
const BENCH = ['--data', '/data/mt', '--normal', 'MT_Free', '--size', '32', '--protocol', 'defect', '--format', 'masks', '--patch-size', '64', '--patch-stride', '32', '--mask-fraction', '0.02',
  '--epochs', '45', '--batch', '64', '--lr', '0.001', '--lr-decay-every', '50', '--augment', 'none', '--out', '/tmp/m'];

const asMap = (args: string[]) => {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) m.set(args[i].slice(2), args[i + 1]);
  return m;
};

test('the recon + ABC config file is the documented flags (and the set-size step rule those runs had)', () => {
  const flags = trainConfigFromFlags(asMap(mergeFlagPairs(BENCH, ['--balance', 'false', '--weights', 'recon=1.5,patch=0,latent=0,normalAdv=0,abc=0.5,anomalyAdv=0', '--anomaly-share', 'size'])));
  const file = trainConfigFromFlags(asMap(mergeFlagPairs(BENCH, ['--config', RECON_ABC])));
  assert.deepEqual({ ...file, dataOptions: { ...file.dataOptions, balance: String(file.dataOptions.balance) } }, flags);
  assert.equal(file.anomalyShare, 'size');
});

test('reproduce passes --config on to each training, as an absolute path; a bad file stops it first, naming the file', () => {
  const cwd = process.cwd();
  try {
    process.chdir(ROOT);
    const { pass } = readCommandLine(['--dataset', 'magnetic-tile', '--config', 'docs/results/configs/magnetic-tile-recon-abc.json'], 'reproduce', REPRODUCE_OPTIONS, 'usage', 'train');
    assert.deepEqual(pass, ['--config', RECON_ABC]);
  } finally {
    process.chdir(cwd);
  }
  const bad = join(tempDir('flawscope-bad-config-'), 'c.json');
  writeFileSync(bad, '{"anomalyShare": 2}');
  assert.throws(() => readCommandLine(['--dataset', 'magnetic-tile', '--config', bad], 'reproduce', REPRODUCE_OPTIONS, 'usage', 'train'), (e: Error) => e.message.includes(bad) && /anomalyShare/.test(e.message));
});
