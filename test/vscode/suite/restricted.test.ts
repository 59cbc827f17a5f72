// Runs inside the real extension host with the workspace in Restricted Mode (not trusted).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { config } from './config';
import { api } from './util';

const cfg = config();

suite('Flawscope in Restricted Mode', () => {
  test('the workspace is not trusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  test('Train Model is blocked with an explanation and starts no process', async () => {
    const a = await api();
    const before = a.processLaunches();
    const r = (await vscode.commands.executeCommand('flawscope.trainModel', { data: cfg.dataset, normal: cfg.normalClass, size: 16, epochs: 1, out: path.join(cfg.out, 'never') })) as { status: string; reason?: string };
    assert.equal(r.status, 'blocked');
    assert.match(r.reason!, /Restricted Mode/);
    assert.equal(a.processLaunches(), before);
    assert.equal(a.runs().filter((x) => x.state === 'running' || x.state === 'starting').length, 0);
    assert.ok(!fs.existsSync(path.join(cfg.out, 'never')));
  });

  test('inspecting a dataset (a CLI launch) is blocked too', async () => {
    const a = await api();
    const before = a.processLaunches();
    const r = await vscode.commands.executeCommand('flawscope.inspectDataset', cfg.dataset);
    assert.equal(r, null);
    assert.equal(a.processLaunches(), before);
  });

  test('scoring still works (in the webview, no process)', async () => {
    const a = await api();
    const model = a.models().find((m) => m.info);
    assert.ok(model, 'a model from the trusted run is in the models folder');
    await vscode.commands.executeCommand('flawscope.selectActiveModel', model!.path);
    const before = a.processLaunches();
    const r = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(path.join(cfg.workspace, 'sample.png')))) as { score: number } | null;
    assert.ok(r && Number.isFinite(r.score));
    assert.equal(a.processLaunches(), before);
  });
});
