// UI test through the browser: code-server with the packaged .vsix installed, driven by Debian
// chromium via playwright-core. Palette Train (QuickPicks), explorer right-click → Add Dataset and
// → Score Image, palette Score Image on the open image, screenshots of the heatmap panel and a
// pixel check that the overlay is visible and follows the opacity slider. Env: PORT, WS, SHOTS, NORMAL.
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');
const PORT = process.env.PORT || 18080;
const WS = process.env.WS;
const SHOTS = process.env.SHOTS || path.join(os.tmpdir(), 'flawscope-shots');
const NORMAL = process.env.NORMAL || '1';
fs.mkdirSync(SHOTS, { recursive: true });
const t0 = Date.now();
const say = (...a) => console.log(`[ui ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
let failures = 0;
const check = (cond, what) => {
  console.log(`  ${cond ? '✔' : '✘'} ${what}`);
  if (!cond) failures++;
};

(async () => {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'chrome-'));
  const browser = await chromium.launchPersistentContext(udd, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1500, height: 950 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] || (await browser.newPage());
  global.__page = page;
  page.on('console', (m) => { if (m.type() === 'error' && !/vsda|Failed to load resource/.test(m.text())) console.log('[console.error]', m.text().slice(0, 200)); });
  await page.goto(`http://127.0.0.1:${PORT}/?folder=${encodeURIComponent(WS)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const explorerRow = (name) => page.locator('.explorer-folders-view .monaco-list-row', { hasText: new RegExp(`^\\s*${esc(name)}\\s*$`) }).first();
  await explorerRow('sample.png').waitFor({ timeout: 60000 });
  say('workbench ready');

  const input = page.locator('.quick-input-widget input');
  async function runCommand(title) {
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('F1');
      await input.waitFor();
      await input.fill('>' + title);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      try { await row.waitFor({ timeout: 3000 }); await page.keyboard.press('Enter'); return; } catch { await page.keyboard.press('Escape'); }
    }
    throw new Error('command not found in palette: ' + title);
  }
  async function pick(label, title) {
    await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 30000 });
    const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${esc(label)}\\s*$`) }) }).first();
    await row.waitFor({ timeout: 30000 });
    await row.click();
  }
  async function answer(title, value) {
    await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 30000 });
    await input.fill(value);
    await page.keyboard.press('Enter');
  }
  async function contextMenu(rowName, item) {
    // Contributed menu items appear once the extension host has registered the extension: retry.
    for (let i = 0; i < 15; i++) {
      await explorerRow(rowName).click({ button: 'right' });
      const mi = page.getByRole('menuitem', { name: item, exact: true });
      try {
        await mi.waitFor({ timeout: 2000 });
        await page.waitForTimeout(200); // let the menu settle (a click during its fade-in can be lost)
        await mi.click();
        await page.waitForTimeout(300);
        if (await mi.isVisible().catch(() => false)) {
          await mi.focus().catch(() => undefined);
          await page.keyboard.press('Enter');
        }
        return;
      } catch {
        if (i === 0) await page.screenshot({ path: `${SHOTS}/00-context-menu-${rowName}.png` });
        await page.keyboard.press('Escape');
        await page.waitForTimeout(1000);
      }
    }
    throw new Error(`no "${item}" in the explorer context menu of ${rowName}`);
  }
  /**
   * The extension recovers a page code-server leaves blank: 15 s, then the page loaded again for
   * 30 s, then a new panel with the same two waits (extension/panels.ts READY_ATTEMPT_MS). A wait
   * for a panel must outlast all of that, or a recovered flake reads as a failure.
   */
  const PANEL_RECOVERY_MS = 2 * (15000 + 30000) + 30000;
  /** The score shown by a score panel titled `name`, or NaN once PANEL_RECOVERY_MS has passed. */
  async function scoreShownFor(name) {
    const end = Date.now() + PANEL_RECOVERY_MS;
    while (Date.now() < end) {
      for (const f of page.frames()) {
        const s = await f.evaluate((n) => (document.body && document.body.dataset.panel === 'score' && document.getElementById('title').textContent === n ? Number(document.getElementById('score').dataset.score) : NaN), name).catch(() => NaN);
        if (Number.isFinite(s)) return s;
      }
      await page.waitForTimeout(500);
    }
    const seen = await Promise.all(page.frames().map((f) => f.evaluate(() => document.body && `${document.body.dataset.panel ?? '-'}:${document.getElementById('title')?.textContent ?? ''}`).catch(() => 'unreadable')));
    say(`no score panel showed ${name} in ${PANEL_RECOVERY_MS / 1000} s; frames (panel:title): ${JSON.stringify(seen)}`);
    return NaN;
  }
  /** The frame of our webview with body[data-panel=kind]. */
  async function panelFrame(kind, timeoutMs = PANEL_RECOVERY_MS) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      for (const f of page.frames()) {
        const k = await f.evaluate(() => document.body && document.body.dataset.panel).catch(() => null);
        if (k === kind) return f;
      }
      await page.waitForTimeout(250);
    }
    throw new Error(`no ${kind} webview`);
  }

  // 1) explorer right-click on a folder → Add Dataset
  await contextMenu('digits', 'Add Dataset');
  say('dataset added from the explorer');

  // 2) palette → Train Model, answering the QuickPicks
  await runCommand('Flawscope: Train Model');
  await pick('digits', 'Train Model (1/3)');
  await pick(NORMAL, 'Train Model (2/3)');
  await pick('custom', 'Train Model (3/3)');
  // The box refuses what the CLI would refuse, in the CLI's words, before anything starts.
  await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Image size' }).waitFor({ timeout: 30000 });
  await input.fill('30');
  const refusal = page.locator('.quick-input-widget .quick-input-message', { hasText: '--size 30: expected an integer from 16 to 1024, a multiple of 16' });
  check(await refusal.waitFor({ timeout: 5000 }).then(() => true, () => false), 'Image size 30 refused in the input box with the CLI message');
  await page.screenshot({ path: `${SHOTS}/00-wizard-refuses-size.png` });
  await answer('Image size', '16');
  await answer('Epochs', '1');
  await answer('Batch size', '32');
  await answer('Learning rate', '0.001');
  await answer('Loss weights', '');
  say('training started from the palette');
  const toast = page.locator('.notification-toast', { hasText: 'model trained' });
  await toast.waitFor({ timeout: 180000 });
  say('notification:', (await toast.textContent()).slice(0, 160));
  const dash = await panelFrame('dashboard', 10000).catch(() => null);
  if (dash) {
    await dash.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 20000 }).catch(() => undefined);
    const pts = await dash.evaluate(() => [document.getElementById('loss').dataset.points, document.getElementById('auroc').dataset.points, document.body.dataset.state]);
    check(Number(pts[0]) > 0 && Number(pts[1]) > 0 && pts[2] === 'done', `dashboard plotted ${pts[0]} steps and ${pts[1]} AUROC points, state ${pts[2]}`);
  } else check(false, 'training dashboard webview found');
  await page.screenshot({ path: `${SHOTS}/01-trained-dashboard.png` });
  await toast.getByRole('button', { name: 'Make Active' }).click();
  check(true, 'Train Model from the palette finished; Make Active clicked');
  await page.waitForTimeout(500);
  await runCommand('View: Close All Editors');

  // 3) explorer right-click on an image → Score Image
  await contextMenu('sample.png', 'Score Image');
  const f = await panelFrame('score');
  await f.waitForFunction(() => document.body.dataset.scored !== undefined, null, { timeout: PANEL_RECOVERY_MS });
  const info = await f.evaluate(() => ({
    title: document.getElementById('title').textContent,
    verdict: document.getElementById('verdict').textContent,
    score: Number(document.getElementById('score').dataset.score),
    scoreText: document.getElementById('score').textContent,
    backend: document.getElementById('backend').dataset.backend,
    w: document.getElementById('heat').width,
    h: document.getElementById('heat').height,
  }));
  say('panel:', JSON.stringify(info));
  check(info.title === 'sample.png' && /^(NORMAL|ANOMALY)$/.test(info.verdict) && Number.isFinite(info.score) && !!info.backend, 'right-click → Score Image shows verdict, score and backend');
  // The overlay: coloured (turbo) pixels present; opacity 0 gives back the grey digit; the slider changes the canvas.
  const stats = (frame) => frame.evaluate(() => {
    const c = document.getElementById('heat');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.max(Math.abs(d[i] - d[i + 1]), Math.abs(d[i + 1] - d[i + 2])) > 40) coloured++;
    return { coloured, total: d.length / 4 };
  });
  const setOpacity = (frame, v) => frame.evaluate((v) => { const s = document.getElementById('opacity'); s.value = String(v); s.dispatchEvent(new Event('input')); }, v);
  // Side by side is the default view; the opacity slider belongs to the blend view.
  const side = await f.evaluate(() => document.getElementById('heat').dataset.panes);
  check(side === 'image,heat', `the score panel opens side by side (panes ${side})`);
  await page.screenshot({ path: `${SHOTS}/02a-side-by-side.png` });
  await f.selectOption('#view', 'blend');
  await setOpacity(f, 0.8);
  const hot = await stats(f);
  await f.evaluate(() => { const b = document.getElementById('boxes'); b.checked = false; b.dispatchEvent(new Event('change')); });
  await setOpacity(f, 0);
  const cold = await stats(f);
  await f.evaluate(() => { const b = document.getElementById('boxes'); b.checked = true; b.dispatchEvent(new Event('change')); });
  await setOpacity(f, 0.6);
  say('overlay pixels at opacity 0.8:', JSON.stringify(hot), 'at 0:', JSON.stringify(cold));
  check(hot.coloured > hot.total * 0.5 && cold.coloured === 0, 'heatmap overlay visible (coloured pixels at opacity 0.8, none at 0)');
  await page.screenshot({ path: `${SHOTS}/02-heatmap-panel.png` });
  const iframe = page.locator('iframe.webview.ready').last();
  await iframe.screenshot({ path: `${SHOTS}/03-heatmap-panel-only.png` }).catch(() => undefined);

  // 4) palette → Score Image on the image open in the editor
  await explorerRow('images').click();
  await explorerRow('anomaly').click();
  const firstAnomaly = page.locator('.explorer-folders-view .monaco-list-row .label-name', { hasText: /^\d-.*\.png$/ }).first();
  await firstAnomaly.waitFor({ timeout: 10000 });
  const name = (await firstAnomaly.textContent()).trim();
  await firstAnomaly.dblclick();
  await page.waitForTimeout(1000);
  // The user had scrolled down to the details: the next result brings the verdict back into view.
  const scrolledTo = await f.evaluate(() => { window.scrollTo(0, document.body.scrollHeight); return window.scrollY; }).catch(() => -1);
  await runCommand('Flawscope: Score Image');
  const s2 = await scoreShownFor(name);
  check(Number.isFinite(s2), `palette Score Image on the open editor (${name}) → score ${s2}`);
  const scrollAfter = await f.evaluate(() => window.scrollY).catch(() => -1);
  check(scrolledTo > 0 && scrollAfter === 0, `re-scoring scrolls to the verdict (scrolled to ${scrolledTo}, then ${scrollAfter})`);
  await page.screenshot({ path: `${SHOTS}/04-palette-score.png` });

  // 4b) the editor-title button (telescope) on another opened image
  const secondAnomaly = page.locator('.explorer-folders-view .monaco-list-row .label-name', { hasText: /^\d-.*\.png$/ }).nth(1);
  const name3 = (await secondAnomaly.textContent()).trim();
  await secondAnomaly.dblclick();
  await page.waitForTimeout(1000);
  const titleButton = page.locator('.editor-group-container.active .editor-actions a.action-label[aria-label^="Score Image"]').first();
  await titleButton.waitFor({ timeout: 10000 });
  await titleButton.click();
  const s3 = await scoreShownFor(name3);
  check(Number.isFinite(s3) && name3 !== name, `editor-title Score Image button on ${name3} → score ${s3}`);

  // 5) explorer right-click on a folder → Score Folder: table, ROC/AUROC from the folder names
  await contextMenu('images', 'Score Folder');
  const ff = await panelFrame('folder');
  await ff.waitForFunction(() => document.body.dataset.done !== undefined, null, { timeout: 90000 });
  await ff.waitForFunction(() => [...document.querySelectorAll('#results img')].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 15000 }).catch(() => undefined);
  const fi = await ff.evaluate(() => ({ rows: document.querySelectorAll('#results tbody tr').length, auroc: document.getElementById('auroc-text').dataset.auroc, thumbs: [...document.querySelectorAll('#results img')].filter((i) => i.naturalWidth > 0).length, srcs: [...document.querySelectorAll('#results img')].filter((i) => /vscode-(cdn|resource)/.test(i.src)).length, text: document.getElementById('auroc-text').textContent }));
  say('folder panel:', JSON.stringify(fi));
  check(fi.rows === 24 && fi.srcs === 24 && fi.thumbs >= 1 && Number(fi.auroc) >= 0 && Number(fi.auroc) <= 1, 'Score Folder: 24 rows with (lazy-loaded) thumbnails, AUROC from folder names');
  await page.screenshot({ path: `${SHOTS}/05-score-folder.png` });

  // 6) one results column; a header click sorts; a click on a row shows its heatmap in the score panel
  const groups = await page.locator('.editor-group-container').count();
  check(groups <= 2, `one results column: ${groups} editor groups after training, scoring and a folder score`);
  await ff.click('th button.sort[data-key="score"]');
  const shownScores = await ff.evaluate(() => [...document.querySelectorAll('#results tbody tr td:nth-child(5)')].map((td) => Number(td.title.replace('score ', ''))));
  check(shownScores.length === 24 && shownScores.every((v, i) => i === 0 || shownScores[i - 1] <= v), `a click on "how unusual" sorts ascending (${shownScores.slice(0, 4).join(', ')} …)`);
  const firstRow = await ff.evaluate(() => document.querySelector('#results tbody tr td.name').textContent);
  await ff.click('#results tbody tr');
  const s6 = await scoreShownFor(firstRow.split(/[\\/]/).pop());
  check(Number.isFinite(s6), `a click on the row ${firstRow} shows its heatmap in the score panel (score ${s6})`);
  await page.screenshot({ path: `${SHOTS}/06-folder-sorted-row-heatmap.png` });

  // 7) reload the window: the score and folder panels come back with their content (extension/restore.ts).
  // Both share the one results column; VS Code restores a background tab's webview when the tab is
  // shown, so each is checked after a click on its tab (the score panel, showing the row clicked in 6, is in front).
  await runCommand('Developer: Reload Window');
  await page.waitForTimeout(3000);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  const showTab = (title) => page.locator('.tabs-container .tab', { hasText: title }).first().click().catch((e) => say(`tab ${title} not found:`, String(e).slice(0, 200)));
  const lastScored = firstRow.split(/[\\/]/).pop();
  await showTab(`Flawscope: ${lastScored}`);
  const rs = await panelFrame('score', 60000).catch(() => null);
  const restoredTitle = rs
    ? await rs.waitForFunction(() => document.body.dataset.scored !== undefined, null, { timeout: 60000 }).then(() => rs.evaluate(() => document.getElementById('title').textContent), () => null)
    : null;
  check(restoredTitle === lastScored, `after a window reload the score panel shows ${lastScored} again (got ${restoredTitle})`);
  // The view picked in 3) (blend) is kept in the panel's restore state: the reloaded page opens in it, not side by side.
  const restoredView = rs ? await rs.evaluate(() => `${document.getElementById('view').value}/${document.getElementById('heat').dataset.view}`).catch(() => null) : null;
  check(restoredView === 'blend/blend', `after a window reload the score panel keeps the blend view chosen before it (select/canvas: ${restoredView})`);
  await showTab('Flawscope: images');
  const rf = await panelFrame('folder', 90000).catch(() => null);
  const restoredRows = rf
    ? await rf.waitForFunction(() => document.body.dataset.done !== undefined, null, { timeout: 90000 }).then(() => rf.evaluate(() => document.querySelectorAll('#results tbody tr').length), () => 0)
    : 0;
  check(restoredRows === 24, `after a window reload the folder panel is back with its ${restoredRows} rows`);
  const statusText = (await page.locator('.statusbar-item', { hasText: 'Flawscope:' }).first().textContent().catch(() => '')).trim();
  check(/Flawscope: digits-/.test(statusText), `after a window reload the status bar still names the active model ("${statusText}")`);
  await page.screenshot({ path: `${SHOTS}/07-after-reload.png` });

  // 8) palette → Evaluate Model: a rendered report (figures, ROC curve, histogram), not JSON in the Output panel
  await runCommand('Flawscope: Evaluate Model');
  for (const title of ['Evaluate which model?', 'Evaluate on which dataset?']) {
    await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 30000 });
    await page.keyboard.press('Enter');
  }
  const ef = await panelFrame('evalReport', 120000);
  await ef.waitForFunction(() => document.querySelectorAll('.figure-value').length > 0, null, { timeout: 120000 });
  const ev = await ef.evaluate(() => ({ figures: [...document.querySelectorAll('.figure')].map((e) => e.querySelector('.figure-label').textContent + ' ' + e.querySelector('.figure-value').textContent), plots: document.querySelectorAll('canvas').length, thumbs: document.querySelectorAll('.thumb-cell').length }));
  say('evaluation report:', JSON.stringify(ev));
  check(ev.figures.length >= 1 && ev.plots >= 2, `Evaluate Model opens a rendered report (${ev.figures.join('; ')}; ${ev.plots} plots, ${ev.thumbs} thumbnails)`);
  await page.screenshot({ path: `${SHOTS}/08-evaluate-report.png` });

  // 9) a click on a worst-case thumbnail shows that image's heatmap in the score panel (the page's
  // showHeatmap, the message a folder-table row sends). The 1-epoch model misses defects, so there is one.
  const thumb = ef.locator('.thumb-cell.clickable').first();
  const thumbPath = await thumb.getAttribute('title', { timeout: 5000 }).catch(() => null);
  if (thumbPath) {
    const scoredNow = async () => {
      for (const fr of page.frames()) {
        const id = await fr.evaluate(() => (document.body && document.body.dataset.panel === 'score' ? document.body.dataset.scored ?? '' : null)).catch(() => null);
        if (id !== null) return id;
      }
      return null;
    };
    const before = await scoredNow();
    await thumb.click();
    const thumbName = thumbPath.split(/[\\/]/).pop();
    // A new result first (the panel may show an image of the same name already), then its title and score.
    let after = before;
    for (const end = Date.now() + PANEL_RECOVERY_MS; after === before && Date.now() < end; ) {
      await page.waitForTimeout(500);
      after = await scoredNow();
    }
    const s9 = await scoreShownFor(thumbName);
    check(Number.isFinite(s9) && after !== before, `a click on the report's thumbnail ${thumbName} shows its heatmap in the score panel (score ${s9}; scored request ${before} → ${after})`);
    await page.screenshot({ path: `${SHOTS}/09-report-thumbnail-heatmap.png` });
  } else check(false, 'the evaluation report shows a clickable worst-case thumbnail');

  say(failures === 0 ? 'UI PASS' : `UI FAIL (${failures})`);
  await browser.close();
  fs.rmSync(udd, { recursive: true, force: true });
  process.exit(failures === 0 ? 0 : 1);
})().catch(async (e) => {
  console.error('UI FAIL', e);
  try { await global.__page?.screenshot({ path: `${SHOTS}/99-failure.png` }); } catch { /* ignore */ }
  process.exit(1);
});
