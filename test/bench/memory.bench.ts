/**
 * `npm run bench:memory [-- --epochs N --size N --batch N --data DIR --normal CLASS]`: runs the
 * built trainer (dist/cli.js) and samples its resident memory (/proc/PID/status VmRSS) every
 * 50 ms; prints the peak RSS of each epoch and the growth from the end of epoch 1 to the last
 * epoch. Memory should stay flat after the first epoch (no per-epoch leak). Exit 1 when it grows by more
 * than --bound-mb (default 64 MB). Linux only (reads /proc).
 */
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
const epochs = Number(arg('epochs', '8'));
const boundMb = Number(arg('bound-mb', '64'));
const data = arg('data', join(ROOT, 'test/fixtures/mnist-small'));
const tmp = mkdtempSync(join(tmpdir(), 'flawscope-bench-mem-'));
const args = ['train', '--data', data, '--normal', arg('normal', '1'), '--out', join(tmp, 'model'), '--epochs', String(epochs), '--size', arg('size', '16'), '--batch', arg('batch', '32'), '--json'];

const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};

const p = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
let peak = 0, startPeak = 0;
const rows: { epoch: number; peak: number; end: number; seconds: number }[] = [];
const timer = setInterval(() => { peak = Math.max(peak, rssMb(p.pid!)); }, 50);
let buf = '';
process.stdout.write(`flawscope train ${args.slice(1).join(' ')}\n`);
p.stdout.on('data', (d) => {
  buf += d;
  for (let nl; (nl = buf.indexOf('\n')) >= 0; ) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line);
    if (e.type === 'start') { startPeak = peak; peak = rssMb(p.pid!); process.stdout.write(`backend ${e.backend}; RSS before epoch 1: peak ${startPeak.toFixed(0)} MB (loading data and tfjs)\n`); }
    if (e.type === 'epoch') {
      const end = rssMb(p.pid!);
      peak = Math.max(peak, end);
      rows.push({ epoch: e.epoch, peak, end, seconds: e.seconds });
      process.stdout.write(`epoch ${String(e.epoch).padStart(3)}  peak RSS ${peak.toFixed(1).padStart(7)} MB  RSS at end ${end.toFixed(1).padStart(7)} MB  ${e.seconds.toFixed(1)} s\n`);
      peak = end;
    }
    if (e.type === 'error') process.stdout.write(`error: ${e.message}\n`);
  }
});
p.on('close', (code) => {
  clearInterval(timer);
  rmSync(tmp, { recursive: true, force: true });
  if (code !== 0 || rows.length < 2) {
    process.stdout.write(`trainer exited ${code} after ${rows.length} epoch(s); need 2 or more to compare\n`);
    process.exit(1);
  }
  const first = rows[0], last = rows[rows.length - 1];
  const maxAfter = Math.max(...rows.slice(1).map((r) => r.peak));
  const growth = maxAfter - first.peak;
  process.stdout.write(`\npeak RSS: epoch 1 ${first.peak.toFixed(1)} MB; epochs 2-${last.epoch} max ${maxAfter.toFixed(1)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB); ` +
    `end of epoch 2 → ${last.epoch}: ${(last.end - rows[1].end >= 0 ? '+' : '')}${(last.end - rows[1].end).toFixed(1)} MB\n`);
  const ok = growth <= boundMb;
  process.stdout.write(`${ok ? 'FLAT' : 'GROWING'}: bound ${boundMb} MB after epoch 1\n`);
  process.exit(ok ? 0 : 1);
});
