// Runs inside the real VS Code extension host (code-server 4.100.3 = VS Code 1.100.3), trusted workspace.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { auditWebviewHtml } from '../../../extension/csp-audit';
import { RunStore } from '../../../extension/run-store';
import { validateModelInfo } from '../../../scorer/model-format';
import { config } from './config';
import { api, cliJson, until } from './util';

const cfg = config();
const log = (...a: unknown[]) => fs.appendFileSync(path.join(cfg.out, 'host-tests.log'), a.map(String).join(' ') + '\n');

suite('Flawscope in a real VS Code (trusted workspace)', () => {
  let trainedModel = '';

  suiteSetup(async () => {
    fs.mkdirSync(cfg.out, { recursive: true });
    await vscode.workspace.getConfiguration('flawscope').update('nodePath', cfg.nodePath, vscode.ConfigurationTarget.Global);
  });

  test('the workspace is trusted and the extension activates', async () => {
    assert.equal(vscode.workspace.isTrusted, true);
    const a = await api();
    assert.ok(fs.existsSync(a.cliPath), `CLI at ${a.cliPath}`);
  });

  test('every contributed command is registered', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(cfg.repo, 'package.json'), 'utf8'));
    const contributed: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);
    const all = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !all.has(c));
    assert.deepEqual(missing, []);
    for (const c of ['flawscope.addDataset', 'flawscope.trainModel', 'flawscope.cancelTraining', 'flawscope.scoreImage', 'flawscope.scoreFolder', 'flawscope.openHeatmapPanel', 'flawscope.selectActiveModel', 'flawscope.evaluateModel'])
      assert.ok(contributed.includes(c), c);
    log('commands:', contributed.length);
  });

  test('Add Dataset + inspect through the CLI', async () => {
    const a = await api();
    await vscode.commands.executeCommand('flawscope.addDataset', vscode.Uri.file(cfg.dataset));
    assert.ok(a.datasets().includes(cfg.dataset));
    const rep = (await vscode.commands.executeCommand('flawscope.inspectDataset', cfg.dataset)) as { classes?: { name: string; count: number }[] } | null;
    log('inspect:', JSON.stringify(rep)?.slice(0, 400));
    assert.ok(rep && Array.isArray(rep.classes) && rep.classes.some((c) => c.name === cfg.normalClass && c.count > 0), 'inspect report lists the classes');
    const tree = await a.treeLabels('datasets');
    log('datasets view:', JSON.stringify(tree));
    assert.ok(tree.some((l) => l.startsWith(path.basename(cfg.dataset)) && /image-folder/.test(l)), 'dataset row with its layout');
    assert.ok(tree.some((l) => /Imbalance ratio/.test(l)), 'imbalance ratio shown');
    assert.ok(tree.some((l) => /Skipped files: \d+/.test(l)), 'skipped files shown');
    assert.ok(tree.some((l) => l.trim().startsWith(`${cfg.normalClass}: `)), 'class counts shown');
    // Inspect Dataset opens its rendered report: the counts the page drew match the CLI's report.
    const panel = a.report('datasetReport');
    assert.ok(panel, 'dataset report panel open');
    assert.equal(panel!.title, `Dataset: ${path.basename(cfg.dataset)}`);
    assert.deepEqual(auditWebviewHtml(panel!.html, { cspSource: panel!.cspSource, expectWasm: false }).problems, []);
    assert.ok(panel!.roots.includes(cfg.dataset), 'thumbnails readable from the dataset folder');
    const drawn = await panel!.waitRendered(60000);
    log('dataset report drew:', JSON.stringify(drawn));
    assert.equal(drawn.classRows, rep!.classes!.length);
    assert.equal(drawn.sampleClasses, rep!.classes!.length);
    assert.ok(drawn.thumbnails >= rep!.classes!.length, `${drawn.thumbnails} thumbnails for ${rep!.classes!.length} classes`);
    assert.ok(drawn.sizeBars >= 1, 'image-size bars drawn');
  });

  test('adding a folder that is not a dataset says why and which layouts work', async () => {
    const a = await api();
    const flat = path.join(cfg.workspace, 'flat-images');
    fs.mkdirSync(flat, { recursive: true });
    fs.copyFileSync(path.join(cfg.workspace, 'sample.png'), path.join(flat, 'a.png'));
    await vscode.commands.executeCommand('flawscope.addDataset', vscode.Uri.file(flat));
    const said = await until(() => a.notADatasetMessages().find((m) => m.includes('"flat-images"')), 60000, 'a notification for the flat folder');
    log('not a dataset:', said);
    assert.match(said, /has no class sub-folders/);
    assert.match(said, /Supported layouts: one sub-folder of images per class .*MVTec AD.*IDX.*CIFAR-10/);
    assert.ok((await a.treeLabels('datasets')).some((l) => /no class sub-folders/.test(l)), 'the reason in the Datasets view');
    await vscode.commands.executeCommand('flawscope.removeDataset', flat);
  });

  test('Train Model on the fixture runs to completion and the model appears in Models', async () => {
    const a = await api();
    const out = path.join(cfg.workspace, '.flawscope', 'models', 'ext-test-model');
    fs.rmSync(out, { recursive: true, force: true });
    const t0 = Date.now();
    const r = (await vscode.commands.executeCommand('flawscope.trainModel', { data: cfg.dataset, normal: cfg.normalClass, size: 16, epochs: 1, batch: 32, seed: 1, out })) as { status: string; runId: string; record?: { error: string | null } };
    log('train:', JSON.stringify(r).slice(0, 500), Date.now() - t0, 'ms');
    assert.equal(r.status, 'done', `training ended ${r.status}: ${r.record?.error}`);
    const info = validateModelInfo(JSON.parse(fs.readFileSync(path.join(out, 'flawscope.json'), 'utf8')));
    assert.equal(info.input.width, 16);
    assert.ok(fs.existsSync(path.join(out, 'model.json')));
    assert.ok(a.models().some((m) => m.path === out && m.info !== null), 'listed in Models');
    const models = await a.treeLabels('models');
    log('models view:', JSON.stringify(models));
    assert.ok(models.some((l) => l.startsWith('ext-test-model') && /AUROC/.test(l)), 'Models view row with metrics');
    assert.ok((await a.treeLabels('runs')).some((l) => /done/.test(l)), 'Runs view shows the finished run');
    const run = a.runs().find((x) => x.id === r.runId)!;
    assert.equal(run.state, 'done');
    const d = a.dashboard(r.runId);
    assert.ok(d, 'dashboard panel open');
    assert.deepEqual(auditWebviewHtml(d!.html, { cspSource: d!.cspSource, expectWasm: false }).problems, []);
    trainedModel = out;
  });

  test('Cancel stops a run and leaves a resumable checkpoint; Resume continues from it', async () => {
    const a = await api();
    const out = path.join(cfg.workspace, '.flawscope', 'models', 'ext-test-cancel');
    fs.rmSync(out, { recursive: true, force: true });
    const started = (await vscode.commands.executeCommand('flawscope.trainModel', { data: cfg.dataset, normal: cfg.normalClass, size: 16, epochs: 40, batch: 8, seed: 2, out, wait: false })) as { status: string; runId: string };
    assert.equal(started.status, 'started');
    await until(() => a.runs().find((r) => r.id === started.runId && r.state === 'running' && r.lastEpoch >= 1), 120000, 'first epoch');
    assert.equal(await vscode.commands.executeCommand('flawscope.cancelTraining', started.runId), true);
    const rec = await a.waitForRun(started.runId);
    log('cancelled:', JSON.stringify(rec));
    assert.equal(rec.state, 'cancelled');
    assert.ok(rec.checkpoint && fs.existsSync(rec.checkpoint), `checkpoint ${rec.checkpoint} exists`);
    // Cancel leaves the best epoch so far as a usable model beside the resumable checkpoint.
    assert.ok(fs.existsSync(path.join(out, 'flawscope.json')) && fs.existsSync(path.join(out, 'model.json')), 'the cancelled run left its best epoch as a model');
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'flawscope.json'), 'utf8')).config.stoppedBy, 'signal');
    // Resume: the trainer starts from the checkpoint (resumedFromEpoch) — cancel again right away.
    const resumed = (await vscode.commands.executeCommand('flawscope.trainModel', { data: cfg.dataset, normal: cfg.normalClass, size: 16, epochs: 40, batch: 8, seed: 2, out, resume: rec.checkpoint!, wait: false })) as { status: string; runId: string };
    assert.equal(resumed.status, 'started');
    const startEv = await until(() => a.runEvents(resumed.runId).find((e) => e.type === 'start'), 120000, 'resumed start event');
    assert.equal(startEv.type === 'start' && startEv.resumedFromEpoch, rec.lastEpoch, 'the trainer resumed after the checkpointed epoch');
    await vscode.commands.executeCommand('flawscope.cancelTraining', resumed.runId);
    const rec2 = await a.waitForRun(resumed.runId);
    log('resumed+cancelled:', JSON.stringify(rec2));
    assert.equal(rec2.state, 'cancelled');
    assert.ok(rec2.lastEpoch >= rec.lastEpoch, `resumed run continued from epoch ${rec.lastEpoch}, now ${rec2.lastEpoch}`);
  });

  test('Score Image opens the panel and the webview score equals the CLI score', async function () {
    assert.ok(trainedModel, 'needs the trained model');
    const a = await api();
    await vscode.commands.executeCommand('flawscope.selectActiveModel', trainedModel);
    assert.equal(a.activeModel(), trainedModel);
    const images = fs.readdirSync(path.join(cfg.workspace, 'images', 'anomaly')).slice(0, 2).map((f) => path.join(cfg.workspace, 'images', 'anomaly', f));
    images.push(path.join(cfg.workspace, 'sample.tif'), path.join(cfg.workspace, 'sample.png'));
    for (const img of images) {
      const r = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(img))) as { score: number; backend: string; isAnomaly: boolean; threshold: number } | null;
      assert.ok(r, `webview scored ${img}`);
      const cli = (await cliJson(cfg.nodePath, a.cliPath, ['score', '--model', trainedModel, img, '--json'])) as { event: string; score?: number }[];
      const res = cli.find((e) => e.event === 'result')!;
      log('score', path.basename(img), 'webview', r.score, r.backend, 'cli', res.score);
      assert.ok(Math.abs(r.score - res.score!) <= 1e-4 * Math.max(1e-6, Math.abs(res.score!)) + 1e-6, `webview ${r.score} vs CLI ${res.score}`);
      assert.equal(r.isAnomaly, r.score > r.threshold);
    }
    const p = a.scorePanel()!;
    assert.ok(p, 'score panel open');
    assert.equal(p.lastResult?.path, images[images.length - 1]);
    const audit = auditWebviewHtml(p.html, { cspSource: p.cspSource, expectWasm: true });
    assert.deepEqual(audit.problems, []);
    const ext = path.dirname(path.dirname(a.cliPath));
    assert.deepEqual(p.roots.slice(0, 3), [path.join(ext, 'media'), path.join(ext, 'dist', 'webview'), path.join(ext, 'dist', 'scorer')]);
    assert.deepEqual(p.roots.slice(3), [trainedModel], 'beyond the extension folders only the model is readable');
  });

  test('the host rejects and logs bad webview messages; the panel keeps working', async () => {
    const a = await api();
    const p = a.scorePanel()!;
    const before = a.rejectedMessages().length;
    const bad: unknown[] = [
      { type: 'runCommand', command: 'workbench.action.terminal.new' },
      { type: 'openFile', path: '../../etc/passwd' },
      { type: 'openFile', path: '/etc/passwd' },
      { type: 'openFile', path: 'file:///etc/passwd' },
      { type: 'openFile', path: path.join(cfg.workspace, 'images', '..', '..', '..', 'etc', 'passwd') },
      { type: 'scored', requestId: 'x', path: trainedModel, result: {} },
      { type: 'log', level: 'info', message: 'x'.repeat(1 << 20) },
      { type: 'setSetting', key: 'nodePath', value: '/bin/sh' },
      null,
      'ready',
    ];
    for (const m of bad) assert.equal(p.receive(m), false, JSON.stringify(m)?.slice(0, 100));
    assert.equal(a.rejectedMessages().length - before, bad.length);
    assert.equal(vscode.workspace.getConfiguration('flawscope').get('nodePath'), cfg.nodePath, 'setting untouched');
    const r = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(path.join(cfg.workspace, 'sample.png')))) as { score: number } | null;
    assert.ok(r && Number.isFinite(r.score), 'still scores after the bad messages');
  });

  test('a page that never says ready is loaded again; a stale ready is ignored; new folders need no reload', async () => {
    const a = await api();
    const p = a.scorePanel()!;
    assert.equal(p.receive({ type: 'ready', panel: 'score', generation: 0 }), false, 'ready from a replaced page is ignored');
    // Images travel as bytes: scoring in folders not seen before leaves the page and its roots alone.
    const html = p.html;
    const extra = fs.mkdtempSync(path.join(cfg.workspace, 'reload-'));
    fs.copyFileSync(path.join(cfg.workspace, 'sample.png'), path.join(extra, 'copy.png'));
    try {
      for (const img of [path.join(extra, 'copy.png'), ...['normal', 'anomaly'].map((d) => path.join(cfg.workspace, 'images', d, fs.readdirSync(path.join(cfg.workspace, 'images', d))[0]!))]) {
        const s = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(img))) as { score: number } | null;
        assert.ok(s && Number.isFinite(s.score), `scored ${img}`);
      }
      assert.equal(a.scorePanel()!.html, html, 'no reload for new image folders');
      assert.ok(!a.scorePanel()!.roots.includes(extra), 'image folders are not resource roots');
      // A page that stays silent (as code-server once left one) is loaded again.
      const before = p.reloads;
      // Only the first wait is short: the page loaded again gets long enough that a slow machine
      // cannot turn one silent page into two reloads.
      Object.assign(p.faults, { attemptMs: 1500, retryAttemptMs: 30000, totalMs: 40000, dropReadies: 1 });
      p.reloadPage();
      const r = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(path.join(extra, 'copy.png')))) as { score: number } | null;
      assert.ok(r && Number.isFinite(r.score), 'scored after a silent page');
      assert.equal(a.scorePanel()!.reloads - before, 1, 'exactly one extra load for one silent page');
      assert.equal(p.faults.dropReadies, 0);
      // A page that never starts at all: the panel is replaced by a new one, which scores.
      const replacedBefore = a.panelsReplaced();
      Object.assign(p.faults, { attemptMs: 400, retryAttemptMs: undefined, totalMs: 1500, dropReadies: 1000 });
      p.reloadPage();
      const r2 = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(path.join(extra, 'copy.png')))) as { score: number } | null;
      assert.ok(r2 && Math.abs(r2.score - r!.score) < 1e-6, 'the new panel scores the same');
      assert.equal(a.panelsReplaced() - replacedBefore, 1);
      assert.notEqual(a.scorePanel()!.faults, p.faults, 'a new panel object');
    } finally {
      Object.assign(p.faults, { attemptMs: 10000, retryAttemptMs: undefined, totalMs: undefined, dropReadies: 0 });
      fs.rmSync(extra, { recursive: true, force: true });
    }
  });

  test('Score Folder: every image scored, AUROC from folder names, CSV export', async () => {
    const a = await api();
    const folder = path.join(cfg.workspace, 'images');
    const outcome = (await vscode.commands.executeCommand('flawscope.scoreFolder', vscode.Uri.file(folder))) as { rows: { path: string; score: number; label: 0 | 1 | null }[]; auroc: number | null; backend: string } | null;
    assert.ok(outcome, 'folder scored');
    const n = fs.readdirSync(path.join(folder, 'normal')).length + fs.readdirSync(path.join(folder, 'anomaly')).length;
    assert.equal(outcome!.rows.length, n);
    assert.ok(outcome!.auroc !== null && outcome!.auroc >= 0 && outcome!.auroc <= 1, `AUROC ${outcome!.auroc}`);
    log('folder AUROC', outcome!.auroc, outcome!.backend, n);
    const fp = a.folderPanel()!;
    assert.deepEqual(auditWebviewHtml(fp.html, { cspSource: fp.cspSource, expectWasm: true }).problems, []);
    const csvPath = path.join(cfg.out, 'scores.csv');
    fp.setCsvTarget(csvPath);
    assert.equal(fp.receive({ type: 'exportCsv', requestId: 1, suggestedName: 'images-scores.csv', csv: 'image,score\na.png,0.1\n' }), true);
    await until(() => fs.existsSync(csvPath), 5000, 'CSV written');
  });

  test('one results column: the score panel, the folder table and the dashboard share one editor group', async () => {
    const a = await api();
    // As a user works: a file open in the editor, then a folder score, an image, the heatmap panel
    // and a dashboard. Scoring an image after the folder table took the focus used to open a third column.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const notes = path.join(cfg.workspace, 'notes.txt');
    fs.writeFileSync(notes, 'a file the user is editing\n');
    await vscode.window.showTextDocument(vscode.Uri.file(notes), { viewColumn: vscode.ViewColumn.One });
    await vscode.commands.executeCommand('flawscope.scoreFolder', vscode.Uri.file(path.join(cfg.workspace, 'images')));
    const r = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(path.join(cfg.workspace, 'sample.png')))) as { score: number } | null;
    assert.ok(r, 'scored after the folder');
    await vscode.commands.executeCommand('flawscope.openHeatmapPanel');
    await vscode.commands.executeCommand('flawscope.showDashboard', a.runs()[0]?.id);
    // Tabs reach the extension host's tab model a moment after the panel is created.
    await until(() => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label.startsWith('Training:'))), 10000, 'the dashboard tab');
    const groups = vscode.window.tabGroups.all.map((g) => g.tabs.map((t) => t.label));
    log('editor groups:', JSON.stringify(groups));
    assert.equal(a.resultColumns(), 1, `Flawscope panels in one group: ${JSON.stringify(groups)}`);
    assert.equal(vscode.window.tabGroups.all.length, 2, `the editor and the results column: ${JSON.stringify(groups)}`);
    assert.deepEqual(groups[0], ['notes.txt'], 'the editor keeps its column');
    assert.ok(groups[1]!.length >= 3, `score panel, folder table and dashboard beside it: ${JSON.stringify(groups[1])}`);
  });

  test('the folder table sorts and filters as asked, and a chosen row shows its heatmap in the score panel', async () => {
    const a = await api();
    const fp = a.folderPanel()!;
    const rows = fp.lastOutcome!.rows;
    const byScore = [...rows].sort((x, y) => x.score - y.score).map((x) => x.path);
    const asc = await fp.view({ key: 'score', dir: 'asc' }, ['normal', 'anomaly', 'unfamiliar']);
    assert.deepEqual(asc.order, byScore, 'ascending by score');
    assert.deepEqual(asc.sort, { key: 'score', dir: 'asc' });
    const byClass = await fp.view({ key: 'className', dir: 'desc' });
    const classes = byClass.order.map((p) => path.basename(path.dirname(p)));
    assert.deepEqual(classes, [...classes].sort().reverse(), `descending by class: ${classes.join(',')}`);
    assert.equal(classes[0], 'normal');
    const verdicts = new Map(rows.map((x) => [x.path, x.verdict]));
    for (const v of ['normal', 'anomaly'] as const) {
      const only = await fp.view(undefined, [v]);
      assert.deepEqual(only.order.map((p) => verdicts.get(p)), Array(rows.filter((x) => x.verdict === v).length).fill(v), `only ${v} rows`);
    }
    await fp.view({ key: 'score', dir: 'desc' }, ['normal', 'anomaly', 'unfamiliar']);
    // The message a click (or Enter) on a row sends: its heatmap in the score panel, in the same column.
    const target = byScore[0];
    assert.equal(fp.receive({ type: 'showHeatmap', path: target }), true);
    await until(() => a.scorePanel()?.lastResult?.path === target, 60000, 'the row scored in the score panel');
    assert.equal(a.resultColumns(), 1);
    assert.equal(fp.receive({ type: 'showHeatmap', path: '/etc/passwd' }), false, 'only rows of the scored folder');
  });

  test('Stop ends a folder score early and answers with the rows scored until then', async () => {
    const a = await api();
    const folder = cfg.dataset;
    const total = (fs.readdirSync(folder, { recursive: true }) as string[]).filter((f) => f.endsWith('.png')).length;
    const running = vscode.commands.executeCommand('flawscope.scoreFolder', vscode.Uri.file(folder)) as Thenable<{ rows: unknown[]; stopped: boolean } | null>;
    await until(() => a.folderPanel()?.busy, 60000, 'the folder being scored');
    a.folderPanel()!.stop();
    const out = await running;
    log('stopped folder:', out?.rows.length, 'of', total);
    assert.ok(out, 'answered');
    assert.equal(out!.stopped, true);
    assert.ok(out!.rows.length < total, `${out!.rows.length} of ${total} scored`);
  });

  test('flawscope.thresholdOverride changes the verdict and the reported threshold; a colour photo is unfamiliar', async () => {
    const c = vscode.workspace.getConfiguration('flawscope');
    const img = vscode.Uri.file(path.join(cfg.workspace, 'sample.png'));
    try {
      await c.update('thresholdOverride', 1e9, vscode.ConfigurationTarget.Global);
      const hi = (await vscode.commands.executeCommand('flawscope.scoreImage', img)) as { threshold: number; isAnomaly: boolean; verdict: string; reasons: string[] };
      assert.equal(hi.threshold, 1e9);
      assert.equal(hi.isAnomaly, false);
      assert.equal(hi.verdict, 'normal', `a digit is familiar: ${hi.reasons.join('; ')}`);
      await c.update('thresholdOverride', 0, vscode.ConfigurationTarget.Global);
      const lo = (await vscode.commands.executeCommand('flawscope.scoreImage', img)) as { threshold: number; isAnomaly: boolean; verdict: string };
      assert.equal(lo.threshold, 0);
      assert.equal(lo.isAnomaly, true);
      assert.equal(lo.verdict, 'anomaly');
      // Unfamiliar whatever the threshold: the score panel says so, with the reason.
      const u = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(path.join(cfg.workspace, 'colour-photo.png')))) as { verdict: string; reasons: string[]; score: number };
      assert.equal(u.verdict, 'unfamiliar');
      assert.match(u.reasons[0], /^this model was trained on 28x28 grey images; this is a 300x300 colour image/);
      assert.ok(Number.isFinite(u.score), 'the score is still given');
    } finally {
      await c.update('thresholdOverride', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('Evaluate Model runs the CLI eval on a dataset and returns its AUROC', async () => {
    assert.ok(trainedModel, 'needs the trained model');
    const r = (await vscode.commands.executeCommand('flawscope.evaluateModel', trainedModel, cfg.dataset)) as { auroc: number; count: number } | null;
    log('evaluate:', JSON.stringify(r)?.slice(0, 300));
    assert.ok(r, 'evaluation returned a result');
    assert.ok(r!.count > 0 && r!.auroc >= 0 && r!.auroc <= 1, `AUROC ${r!.auroc} over ${r!.count} images`);
    // The result as a rendered report, not JSON in the log.
    const a = await api();
    const panel = a.report('evalReport');
    assert.ok(panel, 'evaluation report panel open');
    assert.match(panel!.title, /^Evaluation: ext-test-model on train \((test|validation)\)$/);
    assert.deepEqual(auditWebviewHtml(panel!.html, { cspSource: panel!.cspSource, expectWasm: false }).problems, []);
    const drawn = await panel!.waitRendered(60000);
    log('eval report drew:', JSON.stringify(drawn));
    assert.equal(drawn.histogramImages, r!.count, 'every scored image is in the histogram');
    assert.equal(drawn.classRows, (r as unknown as { perClass: unknown[] }).perClass.length);
    assert.ok(drawn.rocPoints >= 2);
    const view = panel!.view as { falsePositives: unknown[]; missed: unknown[] };
    assert.equal(drawn.falsePositives, view.falsePositives.length);
    assert.equal(drawn.missed, view.missed.length);
    assert.equal(drawn.thumbnails, view.falsePositives.length + view.missed.length, 'every worst case has its thumbnail');
    // A click on a thumbnail opens its heatmap in the score panel: the folder table's message, the Score Image path.
    const worst = [...(view.falsePositives as { path: string }[]), ...(view.missed as { path: string }[])][0];
    if (worst) {
      assert.equal(panel!.receive({ type: 'showHeatmap', path: worst.path }), true);
      await until(() => a.scorePanel()?.lastResult?.path === worst.path, 120000, 'the clicked image scored in the score panel');
    }
    assert.equal(panel!.receive({ type: 'showHeatmap', path: '/etc/passwd' }), false, 'only files of the evaluated data');
    assert.equal(panel!.receive({ type: 'openHeatmap', path: worst?.path ?? cfg.dataset }), false, 'the old message name is refused');
  });

  test('Grid Search runs the CLI grid on a sample of weight combinations and opens the results table', async () => {
    const r = (await vscode.commands.executeCommand('flawscope.gridSearch', {
      data: cfg.dataset, normal: cfg.normalClass, sample: 2, extraArgs: ['--epochs', '1', '--size', '16', '--batch', '32', '--parallel', '1'],
    })) as { type: string; runs: number; best: { valAuroc: number } | null; out: string } | null;
    log('grid:', JSON.stringify(r));
    assert.ok(r, 'grid search returned a result');
    assert.equal(r!.type, 'grid-done');
    assert.equal(r!.runs, 2);
    assert.ok(r!.best && Number.isFinite(r!.best.valAuroc), 'a best combination ranked on validation');
    assert.ok(fs.existsSync(path.join(r!.out, 'grid.md')) && fs.existsSync(path.join(r!.out, 'best-config.json')));
    // The ranked table as a rendered report, with one Train button per finished combination.
    const a = await api();
    const panel = a.report('gridReport');
    assert.ok(panel, 'grid report panel open');
    assert.match(panel!.title, /^Grid search: train \(normal: 1\)$/);
    const view = panel!.view as { state: string; finished: number; total: number; rows: { rank: number | null; weights: string }[] };
    assert.deepEqual([view.state, view.finished, view.total, view.rows.length], ['done', 2, 2, 2]);
    assert.deepEqual(view.rows.map((x) => x.rank), [1, 2]);
    await until(() => panel!.rendered?.rows === 2 && panel!.rendered?.trainButtons === 2, 60000, 'the final table drawn');
  });

  test("the grid report's Train button starts a run with that row's weights on the grid's data and normal class", async () => {
    const a = await api();
    const panel = a.report('gridReport');
    assert.ok(panel, 'the grid report from the test above is open');
    const rows = (panel!.view as { rows: { rank: number | null; weights: string }[] }).rows;
    // The second-ranked row: the run must get the clicked row's weights, not the best row's or the defaults.
    const row = rows.find((x) => x.rank === 2);
    assert.ok(row, JSON.stringify(rows));
    const before = new Set(a.runs().map((r) => r.id));
    const settings = vscode.workspace.getConfiguration('flawscope');
    await settings.update('defaultPreset', 'quick', vscode.ConfigurationTarget.Global);
    let runId: string | null = null;
    try {
      // What the page posts on a click, through the panel's validated message path.
      assert.equal(panel!.receive({ type: 'trainWithWeights', weights: row!.weights }), true);
      // Data and normal class come from the grid; the wizard still asks for the preset. Its first item is the
      // default (quick); accepting before the pick is shown does nothing, so keep accepting until a run appears.
      const run = await until(async () => {
        const r = a.runs().find((x) => !before.has(x.id));
        if (!r) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        return r;
      }, 60000, 'a run started from the grid report');
      runId = run.id;
      log('train from grid:', JSON.stringify(run.spec), run.preset);
      assert.equal(run.preset, 'quick');
      assert.deepEqual([run.spec.data, run.spec.normal, run.spec.weights], [cfg.dataset, cfg.normalClass, row!.weights]);
      const args = await until(() => a.runArgs(run.id), 30000, 'the trainer process launched');
      log('trainer args:', JSON.stringify(args));
      const flag = (f: string) => (args.indexOf(f) >= 0 ? args[args.indexOf(f) + 1] : undefined);
      assert.deepEqual([flag('--data'), flag('--normal'), flag('--weights')], [cfg.dataset, cfg.normalClass, row!.weights]);
      assert.equal(args.filter((x) => x === '--weights').length, 1, 'one --weights flag');
      await until(() => a.runs().find((x) => x.id === run.id && x.state !== 'starting'), 120000, 'the trainer started');
    } finally {
      // Stopped even when an assertion failed: a run left going would finish later and change what the next tests see.
      if (runId) {
        await vscode.commands.executeCommand('flawscope.cancelTraining', runId);
        const rec = await a.waitForRun(runId);
        log('train from grid ended:', rec.state, rec.error);
      }
      await settings.update('defaultPreset', undefined, vscode.ConfigurationTarget.Global);
    }
    const rec = await a.waitForRun(runId);
    assert.ok(rec.state === 'cancelled' || rec.state === 'done', `the run ended ${rec.state}: ${rec.error}`);
  });

  test('the report panels come back after a reload with the report they showed; a state that does not fit is refused', async () => {
    const a = await api();
    // The evaluation and grid reports are open from the two tests above; the dataset report was closed since.
    await vscode.commands.executeCommand('flawscope.inspectDataset', cfg.dataset);
    for (const kind of ['datasetReport', 'evalReport', 'gridReport'] as const) {
      const before = a.report(kind);
      assert.ok(before, `the ${kind} panel is open`);
      const saved = before!.restoreData();
      assert.ok(saved, `the ${kind} panel saved its state`);
      // What VS Code does after a reload: a fresh panel of the view type, with the state the page saved.
      const viewType = `flawscope.${kind}`;
      assert.equal(await a.restorePanel(viewType, { flawscopeRestore: 1, viewType, data: saved }), null);
      const after = a.report(kind)!;
      assert.notEqual(after.html, before!.html, 'a new page (new nonce) in the restored panel');
      assert.equal(after.title, before!.title);
      assert.deepEqual(after.view, before!.view, 'the same report, not run again');
      const drawn = await after.waitRendered(60000);
      log(`restored ${kind} drew:`, JSON.stringify(drawn));
      assert.ok(Object.values(drawn).some((n) => n > 0), 'the restored page drew the report');
    }
    const evalSaved = a.report('evalReport')!.restoreData() as { init: { report: Record<string, unknown> }; dataRoots: string[] };
    const bad = { ...evalSaved, init: { ...evalSaved.init, report: { ...evalSaved.init.report, roc: 'x' } } };
    assert.match(String(await a.restorePanel('flawscope.evalReport', { flawscopeRestore: 1, viewType: 'flawscope.evalReport', data: bad })), /does not fit \(init\.report\.roc/);
    const gridSaved = a.report('gridReport')!.restoreData();
    assert.match(String(await a.restorePanel('flawscope.evalReport', { flawscopeRestore: 1, viewType: 'flawscope.evalReport', data: gridSaved })), /its report is for the gridReport panel, not the evalReport panel/);
  });

  test('Open Heatmap Panel reuses the one score panel', async () => {
    const a = await api();
    const html = a.scorePanel()!.html;
    await vscode.commands.executeCommand('flawscope.openHeatmapPanel');
    assert.equal(a.scorePanel()!.html, html);
  });

  test('a dropped image from the workspace is scored; a file elsewhere is refused with the reason', async () => {
    const a = await api();
    const p = a.scorePanel()!;
    const img = path.join(cfg.workspace, 'images', 'normal', fs.readdirSync(path.join(cfg.workspace, 'images', 'normal'))[1]!);
    assert.equal(p.receive({ type: 'scoreDropped', uris: [vscode.Uri.file(img).toString()] }), true);
    await until(() => a.scorePanel()?.lastResult?.path === img, 60000, 'the dropped image scored');
    assert.equal(p.receive({ type: 'scoreDropped', uris: [vscode.Uri.file(path.join(cfg.repo, 'package.json')).toString()] }), false);
    assert.match(a.scorePanel()!.lastDropRefusal ?? '', /not an image/);
  });

  test('Use this folder to set the threshold: calibrate writes the threshold the table promised, and the panels take it', async () => {
    assert.ok(trainedModel, 'needs the trained model');
    const a = await api();
    // A copy: the other tests keep the trained model's own threshold.
    const copy = path.join(cfg.workspace, '.flawscope', 'models', 'ext-test-calibrate');
    fs.rmSync(copy, { recursive: true, force: true });
    fs.cpSync(trainedModel, copy, { recursive: true });
    try {
      await vscode.commands.executeCommand('flawscope.selectActiveModel', copy);
      const folder = path.join(cfg.workspace, 'images');
      const outcome = (await vscode.commands.executeCommand('flawscope.scoreFolder', vscode.Uri.file(folder))) as { rows: { score: number; label: 0 | 1 | null }[] };
      const normals = outcome.rows.filter((r) => r.label === 0).map((r) => r.score).sort((x, y) => y - x);
      const before = JSON.parse(fs.readFileSync(path.join(copy, 'flawscope.json'), 'utf8')) as { threshold: number };
      const t = await a.calibrateFolder();
      log('calibrated threshold', t, 'old', before.threshold, 'highest normal', normals[0]);
      assert.ok(t !== null, 'calibrate ran');
      // 12 normal images at 1 %: the highest normal score (the CLI scores as the panel does).
      assert.ok(Math.abs(t! - normals[0]!) <= 1e-4 * Math.abs(normals[0]!) + 1e-6, `threshold ${t} vs highest normal ${normals[0]}`);
      const after = JSON.parse(fs.readFileSync(path.join(copy, 'flawscope.json'), 'utf8')) as { threshold: number; thresholdHistory: { threshold: number }[] };
      assert.equal(after.threshold, t);
      assert.equal(after.thresholdHistory.at(-1)!.threshold, before.threshold, 'the old threshold kept');
      const s = (await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(path.join(cfg.workspace, 'sample.png')))) as { threshold: number };
      assert.equal(s.threshold, t, 'the score panel uses the new threshold');
    } finally {
      await vscode.commands.executeCommand('flawscope.selectActiveModel', trainedModel);
    }
  });

  // ---------------------------------------------------------------- issue 28: state, life cycle, active model (extension/run-store.ts, run-lifecycle.ts, restore.ts)
  test('runs and their event logs are kept in workspace storage; a dashboard comes back through its serializer', async () => {
    const a = await api();
    const stored = new RunStore(a.storeDir, (m) => log('store warning:', m));
    const done = stored.loadRuns().find((r) => r.state === 'done' && r.spec.out === trainedModel);
    assert.ok(done, `the trained run is in ${a.storeDir}/runs.json`);
    const events = stored.loadEvents(done!.id);
    assert.ok(events.some((e) => e.type === 'start') && events.some((e) => e.type === 'done'), `its event log is stored (${events.length} events)`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until(() => a.dashboard(done!.id) === null, 10000, 'dashboard closed');
    // What VS Code does after a reload: a fresh panel of the view type, with the state the page saved.
    const problem = await a.restorePanel('flawscope.dashboard', { flawscopeRestore: 1, viewType: 'flawscope.dashboard', data: { runId: done!.id } });
    assert.equal(problem, null);
    assert.equal(a.dashboardRun(done!.id)?.state, 'done', 'restored dashboard shows the finished run');
    assert.match(a.dashboardRun(done!.id)!.title, /\(done\)$/);
    assert.match(String(await a.restorePanel('flawscope.dashboard', undefined)), /saved no state/);
    assert.match(String(await a.restorePanel('flawscope.dashboard', { flawscopeRestore: 1, viewType: 'flawscope.dashboard', data: { runId: 'run-gone' } })), /no longer listed/);
    assert.match(String(await a.restorePanel('flawscope.score', { flawscopeRestore: 1, viewType: 'flawscope.score', data: { model: 3 } })), /does not fit/);
    const labels = await a.treeLabels('runs');
    log('runs view:', JSON.stringify(labels));
    assert.ok(labels.some((l) => /· 1 epoch · \w{3} \d+ \d\d:\d\d — done/.test(l)), 'run labels carry epochs and start time');
  });

  test('the score panel keeps its view mode across a reload; a state saved before it was kept restores side by side', async () => {
    assert.ok(trainedModel, 'needs the trained model');
    const a = await api();
    await vscode.commands.executeCommand('flawscope.selectActiveModel', trainedModel);
    const img = path.join(cfg.workspace, 'sample.png');
    await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(img));
    const p = a.scorePanel()!;
    assert.equal(p.viewMode, 'side', 'a new score panel opens side by side');
    // What the page's View select sends when the user picks swipe.
    assert.equal(p.receive({ type: 'setViewMode', mode: 'swipe' }), true);
    assert.equal(p.receive({ type: 'setViewMode', mode: 'zoom' }), false, 'a view the panel does not have is refused');
    const saved = p.restoreData();
    assert.deepEqual(saved, { model: trainedModel, image: img, viewMode: 'swipe' });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until(() => a.scorePanel() === null, 10000, 'score panel closed');
    const state = (data: unknown) => ({ flawscopeRestore: 1, viewType: 'flawscope.score', data });
    assert.equal(await a.restorePanel('flawscope.score', state(saved)), null);
    assert.equal(a.scorePanel()?.viewMode, 'swipe', 'the restored panel opens in the view it was saved in');
    await until(() => a.scorePanel()?.lastResult?.path === img, 60000, 'the restored panel scored its image again');
    assert.equal(await a.restorePanel('flawscope.score', state({ model: trainedModel, image: img })), null, 'an old state without a view mode still restores');
    assert.equal(a.scorePanel()?.viewMode, 'side');
    await until(() => a.scorePanel()?.lastResult?.path === img, 60000, 'the panel restored from the old state scored its image again');
    assert.match(String(await a.restorePanel('flawscope.score', state({ model: trainedModel, image: img, viewMode: 'zoom' }))), /does not fit \(viewMode/);
  });

  test('a resumed run no longer offers Resume; Delete Run removes a run and, when asked, its leftover checkpoint; Clear Finished', async () => {
    const a = await api();
    const origin = a.runs().find((r) => r.state === 'resumed');
    assert.ok(origin?.resumedBy, 'the cancelled run that was resumed is marked resumed');
    const again = (await vscode.commands.executeCommand('flawscope.resumeTraining', origin!.id)) as { status: string; reason: string };
    assert.equal(again.status, 'aborted');
    assert.match(again.reason, /already resumed/);
    const last = a.runs().find((r) => r.id === origin!.resumedBy)!;
    assert.equal(last.state, 'cancelled');
    assert.ok(last.checkpoint && fs.existsSync(last.checkpoint));
    const del = (await vscode.commands.executeCommand('flawscope.deleteRun', last.id, true)) as { deleted: boolean; checkpointRemoved: string | null };
    assert.deepEqual(del, { deleted: true, checkpointRemoved: last.checkpoint });
    assert.equal(fs.existsSync(last.checkpoint!), false, 'checkpoint removed');
    assert.ok(!a.runs().some((r) => r.id === last.id), 'row gone');
    assert.ok(!new RunStore(a.storeDir, () => undefined).loadRuns().some((r) => r.id === last.id), 'gone from the store too');
    const cleared = (await vscode.commands.executeCommand('flawscope.clearFinishedRuns')) as number;
    assert.ok(cleared >= 2, `cleared ${cleared}`);
    assert.deepEqual(a.runs().filter((r) => r.state === 'done' || r.state === 'resumed' || r.state === 'failed'), []);
  });

  test('a dataset whose inspection failed cannot be trained on; a start that fails adds no run and no dashboard', async () => {
    const a = await api();
    const empty = path.join(cfg.workspace, 'not-a-dataset');
    fs.mkdirSync(empty, { recursive: true });
    await vscode.commands.executeCommand('flawscope.addDataset', vscode.Uri.file(empty));
    await vscode.commands.executeCommand('flawscope.inspectDataset', empty);
    const before = a.runs().length;
    const refused = (await vscode.commands.executeCommand('flawscope.trainModel', { data: empty, normal: 'x', size: 16, epochs: 1, batch: 8 })) as { status: string; reason: string };
    assert.equal(refused.status, 'aborted');
    assert.match(refused.reason, /cannot train on not-a-dataset: inspecting it failed/);
    const out = path.join(cfg.workspace, '.flawscope', 'models', 'ext-test-bad-start');
    const failed = (await vscode.commands.executeCommand('flawscope.trainModel', { data: cfg.dataset, normal: 'no-such-class', size: 16, epochs: 1, batch: 8, out })) as { status: string; runId: string };
    assert.equal(failed.status, 'failed');
    assert.equal(a.dashboard(failed.runId), null, 'no empty dashboard');
    assert.equal(a.runs().length, before, 'no run row for a run that never started');
    await vscode.commands.executeCommand('flawscope.removeDataset', empty);
  });

  test('the active model is shown in the status bar and the Models view; switching it retitles the score panel', async () => {
    const a = await api();
    await vscode.commands.executeCommand('flawscope.selectActiveModel', trainedModel);
    assert.match(a.statusBarText(), new RegExp(`Flawscope: ${path.basename(trainedModel)}$`));
    const rows = await a.treeLabels('models');
    assert.ok(rows.some((l) => new RegExp(`^${path.basename(trainedModel)} — active · (test|validation) AUROC \\d\\.\\d{3} · `).test(l)), JSON.stringify(rows));
    await vscode.commands.executeCommand('flawscope.scoreImage', vscode.Uri.file(path.join(cfg.workspace, 'sample.png')));
    assert.equal(a.scorePanel()?.title, 'Flawscope: sample.png');
    const copy = `${trainedModel}-copy`;
    fs.cpSync(trainedModel, copy, { recursive: true });
    await vscode.commands.executeCommand('flawscope.selectActiveModel', copy);
    assert.equal(a.scorePanel()?.title, `Flawscope Heatmap: ${path.basename(copy)}`, 'the title no longer names the old image');
    assert.match(a.statusBarText(), new RegExp(`${path.basename(copy)}$`));
    await vscode.commands.executeCommand('flawscope.selectActiveModel', trainedModel);
  });
});
