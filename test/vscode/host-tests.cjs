// Runs mocha INSIDE code-server's (Node) remote extension host, the way @vscode/test-web does:
// the workbench is opened with a `payload` naming extensionDevelopmentPath and extensionTestsPath,
// and calls codeAutomationExit(code) when the suite ends. Env: PORT, WS, EXT, TESTS, TIMEOUT_MS.
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');
const PORT = process.env.PORT || 18080;
const { WS, EXT, TESTS } = process.env;
const TIMEOUT = Number(process.env.TIMEOUT_MS || 300000);
(async () => {
  const t0 = Date.now();
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'chrome-'));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const done = new Promise((resolve) => {
    page.exposeFunction('codeAutomationLog', (type, args) => console.log('[ext-host]', ...(Array.isArray(args) ? args : [args])));
    page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  page.on('console', (m) => {
    const t = m.text();
    if (!/Failed to load resource|vsda|Extension Host|ExtensionService/.test(t) && m.type() === 'error') console.log('[page]', t.slice(0, 300));
  });
  const auth = `127.0.0.1:${PORT}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', `vscode-remote://${auth}${EXT}`],
    ['extensionTestsPath', `vscode-remote://${auth}${TESTS}`],
    ['skipWelcome', 'true'],
  ]);
  await page.goto(`http://${auth}/?folder=${encodeURIComponent(WS)}&payload=${encodeURIComponent(payload)}`);
  const code = await Promise.race([done, new Promise((r) => setTimeout(() => r('TIMEOUT'), TIMEOUT))]);
  console.log('extension-host test exit code:', code, 'in', Date.now() - t0, 'ms');
  await ctx.close();
  fs.rmSync(udd, { recursive: true, force: true });
  process.exit(code === 0 ? 0 : 1);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
