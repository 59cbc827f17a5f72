import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import type { FlawscopeApi } from '../../../extension/test-api';

export async function api(): Promise<FlawscopeApi> {
  const ext = vscode.extensions.getExtension<FlawscopeApi>('flawscope.flawscope');
  if (!ext) throw new Error('extension flawscope.flawscope is not installed');
  const a = ext.isActive ? ext.exports : await ext.activate();
  if (!a) throw new Error('the extension returned no test API: the test runner must set FLAWSCOPE_TEST_API=1 (test/vscode/run.mjs)');
  return a;
}

export function cliJson(node: string, cli: string, args: string[], timeoutMs = 120000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(node, [cli, ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{') || l.startsWith('['));
      try {
        resolve(lines.length === 1 ? JSON.parse(lines[0]) : lines.map((l) => JSON.parse(l)));
      } catch (e) {
        reject(new Error(`bad CLI output: ${stdout.slice(0, 500)}`));
      }
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
