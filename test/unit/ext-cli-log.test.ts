import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyCliLine, logCliText } from '../../extension/cli-log';

// What tfjs-backend-cpu prints under Node (backend_cpu.js), as it reaches stderr.
const BANNER = '\n============================\nHi, looks like you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node backend, visit https://github.com/tensorflow/tfjs-node for more details. \n============================';

test('the tfjs node-backend banner and re-registration notices are noise', () => {
  for (const l of BANNER.split('\n')) assert.equal(classifyCliLine(l), 'noise', JSON.stringify(l));
  assert.equal(classifyCliLine('Platform node has already been set. Overwriting the platform with node.'), 'noise');
  assert.equal(classifyCliLine('cpu backend was already registered. Reusing existing backend factory.'), 'noise');
  assert.equal(classifyCliLine("The kernel 'Conv2D' for backend 'wasm' is already registered"), 'noise');
});

test('failures are errors, warnings warnings, progress text info', () => {
  assert.equal(classifyCliLine('error: --data /x: not found'), 'error');
  assert.equal(classifyCliLine('Error: ENOENT: no such file or directory'), 'error');
  assert.equal(classifyCliLine('TypeError: x is not a function'), 'error');
  assert.equal(classifyCliLine('    at readCatalog (/ext/dist/cli.js:12:34)'), 'error');
  assert.equal(classifyCliLine('[grid 1/2 r1-p1] error: out of memory'), 'error');
  assert.equal(classifyCliLine('flawscope eval: --model /m: no flawscope.json there'), 'error');
  assert.equal(classifyCliLine('warning: 3 images skipped'), 'warn');
  assert.equal(classifyCliLine('(node:123) ExperimentalWarning: the fetch API is experimental'), 'warn');
  assert.equal(classifyCliLine('scoring 300 test images of /d (normal class "1") with /m on wasm…'), 'info');
  assert.equal(classifyCliLine('errors: 0 of 300 images unreadable'.replace('errors', 'images')), 'info');
  assert.equal(classifyCliLine('training step 3', 'warn'), 'warn');
});

test('logCliText sends each line to its level and drops the noise', () => {
  const got: string[] = [];
  const log = { info: (m: string) => got.push(`info ${m}`), warn: (m: string) => got.push(`warn ${m}`), error: (m: string) => got.push(`error ${m}`) };
  logCliText(log, `${BANNER}\nloading 300 images\nerror: the model folder has no flawscope.json`, '[trainer] ');
  assert.deepEqual(got, ['info [trainer] loading 300 images', 'error [trainer] error: the model folder has no flawscope.json']);
});
