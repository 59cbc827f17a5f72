// The one backend vocabulary (shared/backends.ts): every place accepts only names of the shared
// list, old names of the last release still parse (to their new name, with a note), and each
// command's schema uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, BACKENDS_OF, OLD_BACKEND_NAMES, backendSchema, oldBackendUse } from '../../shared/backends';
import { parseTrainOptions } from '../../trainer/train-options';
import { runScoreCommand } from '../../scorer/node/cli-score';

test('every place accepts a subset of the one list, auto first where it has auto', () => {
  for (const [place, names] of Object.entries(BACKENDS_OF)) {
    for (const n of names) assert.ok((BACKENDS as readonly string[]).includes(n), `${place}: ${n}`);
    if ((names as readonly string[]).includes('auto')) assert.equal(names[0], 'auto');
  }
  assert.deepEqual([...BACKENDS_OF.train], ['auto', 'tensorflow', 'webgpu', 'fast']);
  assert.deepEqual([...BACKENDS_OF.webview], ['auto', 'webgpu', 'wasm', 'cpu']);
});

test('train: webgpu and fast are settings; the old cpu and wasm parse as fast, with a note', () => {
  const flag = { kind: 'flag' } as const;
  assert.equal(parseTrainOptions({ backend: 'webgpu' }, flag).backend, 'webgpu');
  assert.equal(parseTrainOptions({ backend: 'fast' }, flag).backend, 'fast');
  assert.equal(parseTrainOptions({ backend: 'cpu' }, flag).backend, 'fast');
  assert.equal(parseTrainOptions({ backend: 'wasm' }, { kind: 'file', label: '--config c.json' }).backend, 'fast');
  assert.match(oldBackendUse('train', 'cpu')!, /--backend cpu is the old name of --backend fast in train; it will be removed/);
  assert.equal(oldBackendUse('train', 'fast'), null);
  assert.equal(oldBackendUse('score', 'cpu'), null, 'cpu is a current name in score');
  assert.throws(() => parseTrainOptions({ backend: 'quantum' }, flag), /--backend quantum.*auto, tensorflow, webgpu or fast/);
  assert.deepEqual(OLD_BACKEND_NAMES.train, { cpu: 'fast', wasm: 'fast' });
});

test('a place refuses names it cannot run, naming what it can', () => {
  assert.equal(backendSchema('webview').safeParse('fast').success, false);
  assert.equal(backendSchema('eval').safeParse('webgpu').success, false);
  assert.equal(backendSchema('score').parse('wasm'), 'wasm');
});

test('flawscope score --backend: its names from the vocabulary, in the message and in --help', async () => {
  let err = '', out = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
  assert.equal(await runScoreCommand(['score', '--model', 'm', 'x.png', '--backend', 'tensorflow'], io), 2);
  assert.match(err, /--backend tensorflow: expected auto, webgpu, fast, wasm or cpu/);
  assert.equal(await runScoreCommand(['score', '--help'], io), 0);
  assert.match(out, /--backend auto\|webgpu\|fast\|wasm\|cpu/);
});

test("the Train wizard's tfjs-free setting values take train's backends from the shared list, not a copy", async () => {
  const { BACKEND_REQUESTS } = await import('../../trainer/setting-values');
  assert.deepEqual([...BACKEND_REQUESTS], [...BACKENDS_OF.train]);
});
