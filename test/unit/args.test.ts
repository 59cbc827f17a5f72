/** The CLI's argv parser: boolean flags alone, as `--flag=true|false`, or followed by true|false (how reproduce passes them on to train). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../trainer/args';

const B = ['force', 'keep-checkpoint'];

test('a boolean flag alone, with =value, or followed by true/false; anything else after it stays a positional', () => {
  const p = parseArgs(['--force', '--keep-checkpoint', 'false', '--epochs', '3', 'img.png', '--force=false'], B);
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
