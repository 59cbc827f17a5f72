// Message fuzzing for the host's webview-message validator: unknown types, wrong field
// types, huge payloads, path traversal and URIs outside the allowed roots are rejected with a
// reason; valid messages pass; the validator never throws.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateWebviewMessage, checkPath, describeForLog } from '../../extension/validate';
import { LIMITS, WEBVIEW_MESSAGE_TYPES } from '../../shared/protocol';
import { webviewMessageSchemas } from '../../shared/webview-messages';

let tmp: string, root: string, img: string, outside: string;
before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-ext-validate-')));
  root = path.join(tmp, 'images');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  img = path.join(root, 'sub', 'a.png');
  fs.writeFileSync(img, 'x');
  outside = path.join(tmp, 'secret.txt');
  fs.writeFileSync(outside, 'secret');
  fs.symlinkSync(outside, path.join(root, 'link-out.png'));
  fs.symlinkSync(tmp, path.join(root, 'dirlink'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ctx = () => ({ allowedRoots: [root], realpath: fs.realpathSync.native });
const result = { score: 0.1, normalized: 0.3, isAnomaly: false, verdict: 'normal', reasons: [], percentile: 12.5, threshold: 0.2, backend: 'wasm', ms: 12, topPatches: [{ x: 0, y: 0, w: 4, h: 4, score: 0.2 }] };
const valid = () => [
  { type: 'ready', panel: 'score', generation: 3 },
  { type: 'log', level: 'info', message: 'hello' },
  { type: 'scored', requestId: 1, path: img, result },
  { type: 'scoreFailed', requestId: 2, path: img, message: 'nope' },
  { type: 'folderScored', requestId: 3, folder: root, rows: [{ path: img, score: 0.1, isAnomaly: false, verdict: 'normal', label: null }], auroc: null, backend: 'wasm' },
  { type: 'exportCsv', requestId: 4, suggestedName: 'images-scores.csv', csv: 'image,score\n' },
  { type: 'openFile', path: img },
  { type: 'openFile', path: pathToFileURL(img).toString() },
  { type: 'setSetting', key: 'colormap', value: 'viridis' },
  { type: 'setSetting', key: 'overlayOpacity', value: 0.25 },
  { type: 'ready', panel: 'evalReport', generation: 1 },
  { type: 'reportRendered', panel: 'datasetReport', counts: { classes: 2, thumbnails: 6 } },
  { type: 'trainWithWeights', weights: 'recon=1,patch=0.5,latent=1,normalAdv=1,abc=0.5,anomalyAdv=0.5' },
  { type: 'folderScored', requestId: 5, folder: root, rows: [], auroc: null, backend: 'wasm', stopped: true },
  { type: 'showHeatmap', path: img },
  { type: 'showHeatmap', path: pathToFileURL(img).toString() },
  { type: 'setViewMode', mode: 'swipe' },
  { type: 'setViewMode', mode: 'blend' },
  { type: 'pickImage' },
  { type: 'calibrate' },
  { type: 'scoreDropped', uris: [pathToFileURL(img).toString(), '/anywhere/else.png'] },
  { type: 'folderViewState', requestId: 6, order: [img], sort: { key: 'className', dir: 'asc' }, filter: ['normal', 'unfamiliar'] },
];

test('report messages: heatmaps only of files inside the panel roots; weights only in the --weights shape', () => {
  rejects({ type: 'showHeatmap', path: outside }, /outside the allowed folders/);
  rejects({ type: 'showHeatmap', path: path.join(root, '..', 'secret.txt') }, /outside the allowed folders/);
  rejects({ type: 'showHeatmap', path: img, extra: 1 }, /unexpected field/);
  rejects({ type: 'trainWithWeights', weights: 'recon=1; rm -rf /' }, /"weights" must look like/);
  rejects({ type: 'trainWithWeights', weights: '--config=/etc/passwd' }, /"weights" must look like/);
  rejects({ type: 'trainWithWeights', weights: 5 }, /"weights" must be a string/);
  rejects({ type: 'reportRendered', panel: 'score', counts: {} }, /"panel" must be one of/);
  rejects({ type: 'reportRendered', panel: 'evalReport', counts: { rows: -1 } }, /≥ 0/);
  rejects({ type: 'reportRendered', panel: 'evalReport', counts: { 'a\nb': 1 } }, /short words/);
});

test('one message shows a heatmap in the score panel: the report pages and the folder table both send showHeatmap', () => {
  // The report pages' old name for it is gone from the protocol, so a page still sending it is refused.
  assert.ok(!(WEBVIEW_MESSAGE_TYPES as readonly string[]).includes('openHeatmap'));
  rejects({ type: 'openHeatmap', path: img }, /unknown message type "openHeatmap"/);
});

test('every valid message of every type passes', () => {
  const seen = new Set<string>();
  for (const m of valid()) {
    const r = validateWebviewMessage(m, ctx());
    assert.ok(r.ok, `${JSON.stringify(m)} rejected: ${r.ok ? '' : r.reason}`);
    seen.add(m.type);
  }
  assert.deepEqual([...seen].sort(), [...WEBVIEW_MESSAGE_TYPES].sort());
});

test('every message type has a schema, every schema is a listed type, and each schema takes only its own type', () => {
  // A type added to WEBVIEW_MESSAGE_TYPES without a schema (or a schema without a listed type, which the host would refuse as unknown).
  assert.deepEqual(Object.keys(webviewMessageSchemas).sort(), [...WEBVIEW_MESSAGE_TYPES].sort());
  for (const t of WEBVIEW_MESSAGE_TYPES) assert.equal(typeof webviewMessageSchemas[t]?.safeParse, 'function', `no schema for "${t}"`);
  for (const m of valid())
    for (const t of WEBVIEW_MESSAGE_TYPES) assert.equal(webviewMessageSchemas[t].safeParse(m).success, t === m.type, `the "${t}" schema on ${JSON.stringify(m).slice(0, 120)}`);
});

test('every path a message carries is checked against the roots (a path field the host forgot would pass unchecked)', () => {
  const paths = new Set([img, root, pathToFileURL(img).toString()]);
  // Each copy of `v` with one of its paths swapped for a file outside the roots.
  const swapped = (v: unknown): unknown[] => {
    if (typeof v === 'string') return paths.has(v) ? [outside] : [];
    if (Array.isArray(v)) return v.flatMap((x, i) => swapped(x).map((y) => v.map((old, j) => (j === i ? y : old))));
    if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => swapped(x).map((y) => ({ ...v, [k]: y })));
    return [];
  };
  const checked = new Set<string>();
  for (const m of valid()) {
    if (m.type === 'scoreDropped') continue; // its URIs are checked by the score panel against the workspace folders (panels/dropped.ts)
    for (const bad of swapped(m)) {
      const r = validateWebviewMessage(bad, ctx());
      assert.ok(!r.ok && /outside the allowed folders/.test(r.reason), `accepted a path outside the roots: ${JSON.stringify(bad)}`);
      checked.add(m.type);
    }
  }
  assert.deepEqual([...checked].sort(), ['folderScored', 'folderViewState', 'openFile', 'scoreFailed', 'scored', 'showHeatmap']);
});

const rejects = (m: unknown, why: RegExp) => {
  const r = validateWebviewMessage(m, ctx());
  assert.equal(r.ok, false, `accepted: ${JSON.stringify(m)?.slice(0, 200)}`);
  if (!r.ok) assert.match(r.reason, why);
};

test('non-objects and unknown types are rejected', () => {
  for (const m of [null, undefined, 42, 'ready', [], [{ type: 'ready' }], true, () => 1]) rejects(m, /not an object/);
  rejects({}, /"type" must be a string/);
  rejects({ type: 7 }, /"type" must be a string/);
  for (const t of ['READY', 'runCommand', 'eval', '__proto__', 'constructor', 'toString', '', 'x'.repeat(10000)]) rejects({ type: t }, /unknown message type/);
});

test('wrong field types are rejected', () => {
  rejects({ type: 'ready', panel: 5 }, /"panel" must be one of/);
  rejects({ type: 'ready', panel: 'terminal', generation: 1 }, /"panel" must be/);
  rejects({ type: 'ready', panel: 'score' }, /generation/);
  rejects({ type: 'ready', panel: 'score', generation: 1.5 }, /generation/);
  rejects({ type: 'ready', panel: 'score', generation: -1 }, /generation/);
  rejects({ type: 'log', level: 'debug', message: 'x' }, /"level"/);
  rejects({ type: 'log', level: 'info', message: { toString: 'x' } }, /"message" must be a string/);
  rejects({ type: 'scored', requestId: '1', path: img, result }, /"requestId" must be a finite number/);
  rejects({ type: 'scored', requestId: 1.5, path: img, result }, /integer/);
  rejects({ type: 'scored', requestId: -1, path: img, result }, /≥ 0/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, score: 'high' } }, /"result.score" must be a finite number/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, score: NaN } }, /"result.score" must be a finite number/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, score: Infinity } }, /"result.score" must be a finite number/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, isAnomaly: 'yes' } }, /"result.isAnomaly" must be a boolean/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, verdict: 'maybe' } }, /"result.verdict" must be one of normal, anomaly, unfamiliar/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, reasons: [1] } }, /"result.reasons\[0\]" must be a string/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, topPatches: 'none' } }, /topPatches/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, extra: 1 } }, /unexpected field "extra"/);
  rejects({ type: 'scored', requestId: 1, path: img, result: null }, /"result" must be an object/);
  rejects({ type: 'scored', requestId: 1, path: 17, result }, /"path" must be a string/);
  rejects({ type: 'folderScored', requestId: 3, folder: root, rows: {}, auroc: null, backend: 'wasm' }, /"rows" must be an array/);
  rejects({ type: 'folderScored', requestId: 3, folder: root, rows: [{ path: img, score: 1, isAnomaly: false, verdict: 'normal', label: 2 }], auroc: null, backend: 'wasm' }, /"rows\[0\].label" must be 0, 1 or null/);
  rejects({ type: 'folderScored', requestId: 3, folder: root, rows: [], auroc: 1.5, backend: 'wasm' }, /"auroc" must be ≤ 1/);
  rejects({ type: 'setSetting', key: 'colormap', value: 'jet' }, /"value" must be one of/);
  rejects({ type: 'setSetting', key: 'overlayOpacity', value: 2 }, /≤ 1/);
  rejects({ type: 'setSetting', key: 'nodePath', value: '/bin/sh' }, /unknown setting/);
  rejects({ type: 'openFile', path: img, command: 'rm -rf /' }, /unexpected field "command"/);
  rejects({ type: 'exportCsv', requestId: 4, suggestedName: '../../.bashrc', csv: 'x' }, /plain file name/);
  rejects({ type: 'exportCsv', requestId: 4, suggestedName: '.bashrc', csv: 'x' }, /plain file name/);
});

test('huge payloads are rejected', () => {
  rejects({ type: 'log', level: 'info', message: 'x'.repeat(LIMITS.string + 1) }, /too long/);
  rejects({ type: 'openFile', path: root + '/' + 'a'.repeat(LIMITS.string) }, /too long/);
  rejects({ type: 'exportCsv', requestId: 1, suggestedName: 'a.csv', csv: 'x'.repeat(LIMITS.csv + 1) }, /too long/);
  const rows = Array.from({ length: LIMITS.rows + 1 }, () => ({ path: img, score: 0, isAnomaly: false, verdict: 'normal', label: null }));
  rejects({ type: 'folderScored', requestId: 1, folder: root, rows, auroc: null, backend: 'wasm' }, /too many/);
  rejects({ type: 'scored', requestId: 1, path: img, result: { ...result, topPatches: Array(LIMITS.patches + 1).fill(result.topPatches[0]) } }, /too many/);
  // a 50 MB message is answered quickly (no quadratic work)
  const t0 = Date.now();
  rejects({ type: 'log', level: 'info', message: 'y'.repeat(50 * 1024 * 1024) }, /too long/);
  assert.ok(Date.now() - t0 < 2000);
});

test('path traversal, NUL bytes, relative paths, symlinks and URIs outside the roots are rejected', () => {
  const bad = [
    '../../etc/passwd',
    `${root}/../../../../etc/passwd`,
    `${root}/sub/../../secret.txt`,
    '/etc/passwd',
    outside,
    path.join(root, 'link-out.png'), // symlink pointing outside
    path.join(root, 'dirlink', 'secret.txt'), // directory symlink pointing outside
    'file:///etc/passwd',
    pathToFileURL(outside).toString(),
    'https://evil.example/x.png',
    'vscode-resource://file///etc/passwd',
    'command:workbench.action.terminal.new',
    `${img}\0.png`,
    'sub/a.png',
    '',
    `${root}-sibling/a.png`,
  ];
  for (const p of bad) {
    const r = validateWebviewMessage({ type: 'openFile', path: p }, ctx());
    assert.equal(r.ok, false, `accepted path ${p}`);
  }
  for (const p of bad) {
    const r = validateWebviewMessage({ type: 'folderScored', requestId: 1, folder: root, rows: [{ path: p, score: 0, isAnomaly: false, verdict: 'normal', label: null }], auroc: null, backend: 'w' }, ctx());
    assert.equal(r.ok, false, `accepted row path ${p}`);
  }
  rejects({ type: 'scored', requestId: 1, path: '../../etc/passwd', result }, /absolute path/);
  rejects({ type: 'openFile', path: 'file:///etc/passwd' }, /outside the allowed folders|does not exist/);
  rejects({ type: 'openFile', path: 'https://evil.example/x.png' }, /https: URI/);
});

test('with no roots, every path is rejected', () => {
  const r = validateWebviewMessage({ type: 'openFile', path: img }, { allowedRoots: [] });
  assert.equal(r.ok, false);
});

test('checkPath accepts the root itself and normalises', () => {
  assert.equal(checkPath(root + '/sub/./a.png', ctx()), img);
  assert.equal(checkPath(root, ctx()), root);
});

test('random garbage never throws and is never accepted as a path-bearing message outside roots', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const values: unknown[] = [null, 0, -1, 1e308, NaN, '', 'x', '../..', '/etc/passwd', [], {}, true, [1, 2], { a: 1 }, 'file:///etc/shadow', Symbol.iterator.toString()];
  const keys = ['type', 'panel', 'level', 'message', 'requestId', 'path', 'result', 'folder', 'rows', 'auroc', 'backend', 'csv', 'suggestedName', 'key', 'value', '__proto__'];
  for (let i = 0; i < 5000; i++) {
    const m: Record<string, unknown> = { type: rnd() < 0.8 ? pick([...WEBVIEW_MESSAGE_TYPES]) : pick(values) };
    const n = Math.floor(rnd() * 6);
    for (let k = 0; k < n; k++) m[pick(keys)] = pick(values);
    const r = validateWebviewMessage(m, ctx());
    if (r.ok && 'path' in r.value) assert.ok(r.value.path.startsWith(root), `accepted ${JSON.stringify(m)}`);
  }
});

test('describeForLog never dumps the payload', () => {
  const s = describeForLog({ type: 'log', message: 'z'.repeat(100000) });
  assert.ok(s.length < 100);
  const cyc: Record<string, unknown> = { type: 'x' };
  cyc.self = cyc;
  assert.equal(describeForLog(cyc), 'unserialisable message');
});

test('webview text cannot forge or hide log lines (CR, LF, ESC, C1, line separators, bidi overrides)', () => {
  const forged = 'done\r\n2024-01-01 00:00:00.000 [error] forged line\u001b[31m red\u0085next\u2028sep\u202eevil\u0007';
  const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
  const msgs = [
    { type: 'log', level: 'info', message: forged },
    { type: 'scoreFailed', requestId: 2, path: img, message: forged },
    { type: 'scored', requestId: 1, path: img, result: { ...result, backend: 'wasm\nfake' } },
    { type: 'folderScored', requestId: 3, folder: root, rows: [], auroc: null, backend: 'wasm\r\n[error] x' },
  ];
  for (const m of msgs) {
    const v = validateWebviewMessage(m, ctx());
    assert.ok(v.ok, JSON.stringify(v));
    const texts = JSON.stringify(v.value);
    for (const s of Object.values(v.value).concat(Object.values((v.value as { result?: object }).result ?? {})))
      if (typeof s === 'string') assert.doesNotMatch(s, unsafe, `${m.type}: ${texts}`);
  }
  const log = validateWebviewMessage(msgs[0], ctx());
  assert.ok(log.ok && log.value.type === 'log');
  assert.equal((log.value as { message: string }).message, 'done 2024-01-01 00:00:00.000 [error] forged line [31m red next sep evil ');
  // Rejection reasons quote the message's own text, and the host logs them too.
  for (const bad of [{ type: 'no\r\n[error] such' }, { type: 'setSetting', key: 'x\ny', value: 1 }, { type: 'openFile', path: '/outside\n[error] x' }]) {
    const v = validateWebviewMessage(bad, ctx());
    assert.ok(!v.ok);
    assert.doesNotMatch(v.reason, unsafe, v.reason);
  }
});

test('the folder-table and score-panel messages: bad sorts, filters, orders, drops and extra fields are rejected', () => {
  const view = { type: 'folderViewState', requestId: 1, order: [img], sort: { key: 'score', dir: 'desc' }, filter: ['anomaly'] };
  rejects({ ...view, sort: { key: 'secret', dir: 'asc' } }, /sort\.key/);
  rejects({ ...view, sort: { key: 'score', dir: 'up' } }, /sort\.dir/);
  rejects({ ...view, filter: ['normal', 'maybe'] }, /filter/);
  rejects({ ...view, order: [outside] }, /order\[0\].*outside/);
  rejects({ ...view, order: Array(LIMITS.rows + 1).fill(img) }, /order/);
  rejects({ type: 'showHeatmap', path: outside }, /outside/);
  rejects({ type: 'setViewMode', mode: 'zoom' }, /"mode" must be one of side, swipe, toggle, blend/);
  rejects({ type: 'setViewMode', mode: 1 }, /"mode" must be one of/);
  rejects({ type: 'setViewMode' }, /"mode" must be one of/);
  rejects({ type: 'setViewMode', mode: 'side', swipe: 0.5 }, /unexpected field "swipe"/);
  rejects({ type: 'pickImage', path: img }, /unexpected field "path"/);
  rejects({ type: 'calibrate', threshold: 0 }, /unexpected field "threshold"/);
  rejects({ type: 'scoreDropped', uris: [] }, /uris/);
  rejects({ type: 'scoreDropped', uris: Array(LIMITS.dropped + 1).fill('file:///a.png') }, /uris/);
  rejects({ type: 'scoreDropped', uris: [42] }, /uris\[0\]/);
  rejects({ type: 'folderScored', requestId: 3, folder: root, rows: [], auroc: null, backend: 'wasm', stopped: 'yes' }, /stopped/);
});
