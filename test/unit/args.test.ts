/** The CLI's argv parser: boolean flags alone, as `--flag=true|false`, or followed by true|false (how reproduce passes them on to train). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeFlagPairs, parseArgs, UsageError } from '../../trainer/args';

/** The flags these tests declare (node:util parseArgs needs them declared; unknown ones are refused). */
const B = { booleans: ['force', 'keep-checkpoint'], strings: ['epochs', 'data', 'augment'] };

test('a boolean flag alone, with =value, or followed by true/false; anything else after it stays a positional', () => {
  const p = parseArgs(['--force=false', '--keep-checkpoint', 'false', '--epochs', '3', 'img.png'], B);
  assert.deepEqual([...p.flags], [['force', 'false'], ['keep-checkpoint', 'false'], ['epochs', '3']]);
  assert.deepEqual(p.positionals, ['img.png']);
  const q = parseArgs(['--keep-checkpoint', 'true', 'a.png', '--force', 'b.png'], B);
  assert.deepEqual([...q.flags], [['keep-checkpoint', 'true'], ['force', 'true']]);
  assert.deepEqual(q.positionals, ['a.png', 'b.png']);
});

test('a boolean flag given another value, or a valued flag given none, is refused naming the flag', () => {
  assert.throws(() => parseArgs(['--force=maybe'], B), (e: Error) => e instanceof UsageError && /--force=maybe: use --force alone, or true or false/.test(e.message));
  assert.throws(() => parseArgs(['--epochs', '--force'], B), /option --epochs needs a value/);
});

test('a flag given twice is refused naming it and both values, not silently "last wins"', () => {
  assert.throws(() => parseArgs(['--epochs', '3', '--epochs', '5'], B), (e: Error) => e instanceof UsageError && /--epochs is given twice \(3 and 5\)/.test(e.message));
  assert.throws(() => parseArgs(['--force', '--force=false'], B), /--force is given twice/);
});

test('mergeFlagPairs: a later list replaces an earlier value, so the merged argv names each flag once', () => {
  const m = mergeFlagPairs(['--data', 'd', '--epochs', '15'], ['--augment', 'none'], ['--epochs=3', '--force', 'true']);
  assert.deepEqual(m, ['--data', 'd', '--augment', 'none', '--epochs', '3', '--force', 'true']);
  assert.doesNotThrow(() => parseArgs(m, B));
  assert.throws(() => mergeFlagPairs(['--epochs']), /--epochs needs a value/);
});

test('an undeclared flag is refused with the known ones listed; -h is --help where declared', () => {
  assert.throws(() => parseArgs(['--epochs', '3', '--epoch', '4'], B, 'train'), (e: Error) => e instanceof UsageError && /^--epoch: not a train option; known: --augment, --data, --epochs, --force, --keep-checkpoint$/.test(e.message));
  assert.throws(() => parseArgs(['-x'], B), /-x: not a this command option/);
  assert.deepEqual([...parseArgs(['-h'], { booleans: ['help'], strings: [] }).flags], [['help', 'true']]);
});

test('values that look like options: a negative number is a value, another flag is not; -- ends the options', () => {
  assert.deepEqual([...parseArgs(['--epochs', '-1'], B).flags], [['epochs', '-1']]);
  assert.deepEqual([...parseArgs(['--data=--x'], B).flags], [['data', '--x']]);
  assert.deepEqual(parseArgs(['--epochs', '2', '--', '--force', 'a'], B).positionals, ['--force', 'a']);
  assert.throws(() => parseArgs(['--epochs'], B), /option --epochs needs a value/);
});
