// extension/cli-client.ts: one-shot `--json` commands of the trainer CLI (fake CLIs here), without vscode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliClient, RESTRICTED_MSG, runCliJson } from '../../extension/cli-client';

function fakeCli(dir: string, name: string, body: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, body);
  return f;
}

test('runCliJson: one JSON document, JSON lines (result last), error events, failures', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-cli-'));
  const run = (f: string, stderr: string[] = []) => runCliJson<unknown>(process.execPath, [f], { cwd: dir, timeoutMs: 20000, onStderr: (t) => stderr.push(t) });
  try {
    assert.deepEqual(await run(fakeCli(dir, 'doc.js', `process.stdout.write(JSON.stringify({ a: 1, b: [2] }, null, 2));`)), { a: 1, b: [2] });
    const lines = fakeCli(dir, 'lines.js', `console.log(JSON.stringify({ type: 'epoch', epoch: 1 })); console.log('plain text'); console.log(JSON.stringify({ auroc: 0.9 }));`);
    assert.deepEqual(await run(lines), { auroc: 0.9 });
    const evErr = fakeCli(dir, 'everr.js', `console.log(JSON.stringify({ type: 'start' })); console.log(JSON.stringify({ type: 'error', message: 'no test split' })); process.exit(2);`);
    await assert.rejects(run(evErr), /^Error: no test split$/);
    const docErr = fakeCli(dir, 'docerr.js', `process.stdout.write(JSON.stringify({ type: 'error', message: 'bad data' }));`);
    await assert.rejects(run(docErr), /^Error: bad data$/);
    const stderr: string[] = [];
    const crash = fakeCli(dir, 'crash.js', `console.error('line 1'); console.error('boom'); process.exit(3);`);
    await assert.rejects(run(crash, stderr), /line 1 boom/);
    assert.deepEqual(stderr, ['line 1\nboom']);
    await assert.rejects(run(fakeCli(dir, 'junk.js', `console.log('{not json');`)), /unexpected output from the CLI/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('CliClient: refuses in Restricted Mode, reports a missing CLI, counts launches', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-cli-'));
  const problems: string[] = [];
  const logs: string[] = [];
  let trusted = false;
  const mk = (cliPath: string) =>
    new CliClient({
      cliPath,
      cwd: dir,
      nodePath: () => process.execPath,
      trusted: () => trusted,
      log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
      unavailable: (m, what) => problems.push(`${what}: ${m}`),
    });
  try {
    const ok = mk(fakeCli(dir, 'ok.js', `console.log(JSON.stringify({ args: process.argv.slice(2) }));`));
    await assert.rejects(ok.json(['datasets', 'inspect', 'x', '--json']), (e: Error) => e.message === RESTRICTED_MSG);
    assert.equal(ok.launches, 0);
    trusted = true;
    assert.deepEqual(await ok.json(['datasets', 'inspect', 'x', '--json']), { args: ['datasets', 'inspect', 'x', '--json'] });
    assert.equal(ok.launches, 1);
    assert.ok(logs.some((l) => l.endsWith('ok.js datasets inspect x --json')));
    const missing = mk(path.join(dir, 'absent.js'));
    await assert.rejects(missing.json(['eval', '--json']), /Node.js is not available/);
    assert.equal(missing.launches, 0);
    assert.match(problems.join('\n'), /^cli: the trainer CLI is missing/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed command that printed {"error": …} rejects with that error; its stderr is logged by level, tfjs noise dropped', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-cli-'));
  const logs: string[] = [];
  const client = (body: string) =>
    new CliClient({
      cliPath: fakeCli(dir, 'cli.js', body),
      cwd: dir,
      nodePath: () => process.execPath,
      trusted: () => true,
      log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
      unavailable: () => undefined,
    });
  try {
    const flat = client(`process.stdout.write(JSON.stringify({ error: '/d has no class sub-folders.', code: 2 })); console.error('error: /d has no class sub-folders.'); process.exit(2);`);
    await assert.rejects(flat.json(['datasets', 'inspect', '/d', '--json']), /^Error: \/d has no class sub-folders\.$/);
    assert.ok(logs.includes('error error: /d has no class sub-folders.'), logs.join('\n'));
    logs.length = 0;
    const noisy = client(`console.error('\\n============================\\nHi, looks like you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node backend, visit https://github.com/tensorflow/tfjs-node for more details. \\n============================'); console.error('scoring 3 images'); console.log(JSON.stringify({ ok: true }));`);
    assert.deepEqual(await noisy.json(['eval', '--json']), { ok: true });
    assert.deepEqual(logs.filter((l) => !l.includes('cli.js eval')), ['info scoring 3 images']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('CliClient.lines: stdout lines as they come, stderr by level, the exit code; a stop ends it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-cli-'));
  const logs: string[] = [];
  const client = (body: string) =>
    new CliClient({
      cliPath: fakeCli(dir, 'cli.js', body),
      cwd: dir,
      nodePath: () => process.execPath,
      trusted: () => true,
      log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
      unavailable: () => undefined,
    });
  try {
    const got: string[] = [];
    const r = await client(`process.stdout.write('{"run":"[grid 1/2 a]"'); setTimeout(() => { console.log(',"type":"epoch"}'); console.log('{"type":"grid-done"}'); console.error('error: run 2 failed'); process.exit(1); }, 50);`).lines(['grid', '--json'], (l) => got.push(l));
    assert.deepEqual(got, ['{"run":"[grid 1/2 a]","type":"epoch"}', '{"type":"grid-done"}']);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stderrTail, ['error: run 2 failed']);
    assert.ok(logs.includes('error [trainer] error: run 2 failed'));
    const abort = new AbortController();
    const long = client(`console.log('{"started":true}'); setInterval(() => {}, 1000);`).lines(['grid'], () => abort.abort(), abort.signal);
    const stopped = await long;
    assert.notEqual(stopped.code, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
