/**
 * Training plumbing without `vscode`: presets, CLI arguments, the system-Node check, parsing the
 * trainer's `--json` lines and turning events into progress text. extension.ts wires these to the UI.
 */
import { spawn } from 'node:child_process';
import { stopPoint, type ProgressEvent } from '../trainer/progress';
import { PRESETS, PRESET_NAMES, type PresetName as TrainingPresetName } from '../trainer/presets';

export const MIN_NODE_MAJOR = 20;

export interface TrainSpec {
  data: string;
  normal: string;
  out: string;
  size?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  lrDecayEvery?: number;
  /** 'none' → --augment none; 'auto' (the trainer's default) adds nothing. */
  augment?: 'auto' | 'none';
  seed?: number;
  backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  resume?: string;
  /** Loss weights (custom preset), e.g. "recon=1.5,patch=1.5" → --weights. */
  weights?: string;
  /** A saved training config file (--config). */
  config?: string;
  extraArgs?: string[];
}

/** The wizard's presets are the CLI's budgets (one table, trainer/presets.ts); 'custom' asks. */
export type PresetName = TrainingPresetName | 'custom';
export { PRESETS, PRESET_NAMES };

/** What picking a preset sets on a run: every training setting the preset has, for this dataset. */
export function presetSpec(name: TrainingPresetName): Required<Pick<TrainSpec, 'size' | 'epochs' | 'batch' | 'lr' | 'lrDecayEvery' | 'augment'>> {
  const p = PRESETS[name];
  return { size: p.size, epochs: p.epochs, batch: p.batch, lr: p.lr, lrDecayEvery: p.lrDecayEvery, augment: p.augment };
}

/** The wizard's line for a preset. trainPerClass is left out: only `reproduce` subsets a set. */
export function presetDescription(name: TrainingPresetName): string {
  const p = PRESETS[name];
  const lr = `lr ${p.lr}${p.epochs > p.lrDecayEvery ? ` halved every ${p.lrDecayEvery} epochs` : ''}`;
  return `${p.size} px, ${p.epochs} epochs, batch ${p.batch}, ${lr}, ${p.augment === 'none' ? 'no augmentation' : 'the data family\'s augmentation'}`;
}

export function trainArgs(cli: string, s: TrainSpec): string[] {
  // A resumed run takes everything (data, output, config) from its checkpoint; only --epochs may change.
  if (s.resume) return [cli, 'train', '--resume', s.resume, '--json', ...(s.epochs !== undefined ? ['--epochs', String(s.epochs)] : [])];
  const a = [cli, 'train', '--data', s.data, '--normal', s.normal, '--out', s.out, '--json'];
  if (s.config) a.push('--config', s.config);
  if (s.size !== undefined) a.push('--size', String(s.size));
  if (s.epochs !== undefined) a.push('--epochs', String(s.epochs));
  if (s.batch !== undefined) a.push('--batch', String(s.batch));
  if (s.lr !== undefined) a.push('--lr', String(s.lr));
  if (s.lrDecayEvery !== undefined) a.push('--lr-decay-every', String(s.lrDecayEvery));
  if (s.augment === 'none') a.push('--augment', 'none');
  if (s.seed !== undefined) a.push('--seed', String(s.seed));
  if (s.backend && s.backend !== 'auto') a.push('--backend', s.backend);
  if (s.weights) a.push('--weights', s.weights);
  if (s.extraArgs) a.push(...s.extraArgs);
  return a;
}

/** "v20.11.1" → 20; null when unparseable. */
export function parseNodeMajor(version: string): number | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return m ? Number(m[1]) : null;
}

export type NodeCheck = { ok: true; version: string } | { ok: false; message: string };

/** Runs `<nodePath> --version` (no shell). */
export function checkNode(nodePath: string, timeoutMs = 10000): Promise<NodeCheck> {
  const fix = 'Install Node.js 20 or newer (https://nodejs.org) or set "flawscope.nodePath" to its executable.';
  return new Promise((resolve) => {
    let out = '';
    let settled = false;
    const done = (r: NodeCheck) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    let child;
    try {
      child = spawn(nodePath, ['--version'], { shell: false, windowsHide: true });
    } catch (e) {
      return done({ ok: false, message: `Cannot run Node.js at "${nodePath}": ${(e as Error).message}. ${fix}` });
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, message: `"${nodePath} --version" did not answer within ${timeoutMs / 1000} s. ${fix}` });
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({
        ok: false,
        message: e.code === 'ENOENT' ? `Node.js was not found ("${nodePath}"). ${fix}` : `Cannot run Node.js at "${nodePath}": ${e.message}. ${fix}`,
      });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const major = parseNodeMajor(out);
      if (code !== 0 || major === null) done({ ok: false, message: `"${nodePath}" does not look like Node.js (printed "${out.trim().slice(0, 80)}"). ${fix}` });
      else if (major < MIN_NODE_MAJOR) done({ ok: false, message: `Node.js ${out.trim()} at "${nodePath}" is too old; Flawscope's trainer needs ${MIN_NODE_MAJOR} or newer. ${fix}` });
      else done({ ok: true, version: out.trim() });
    });
  });
}

const EVENT_TYPES = new Set(['start', 'step', 'epoch', 'warning', 'checkpoint', 'done', 'cancelled', 'error']);

/** One stdout line → a progress event, or null for plain log text. */
export function parseProgressLine(line: string): ProgressEvent | null {
  const t = line.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return null;
  try {
    const o = JSON.parse(t);
    if (o && typeof o === 'object' && typeof o.type === 'string' && EVENT_TYPES.has(o.type)) return o as ProgressEvent;
  } catch {
    /* not JSON: log text */
  }
  return null;
}

/** Splits a byte stream into lines (handles chunks that end mid-line). */
export class LineSplitter {
  private buf = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).replace(/\r$/, '');
      this.buf = this.buf.slice(i + 1);
      this.onLine(line);
    }
  }
  end(): void {
    if (this.buf) this.onLine(this.buf);
    this.buf = '';
  }
}

export function formatEta(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '';
  if (sec < 60) return `${Math.round(sec)} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
  return `${Math.floor(sec / 3600)} h ${Math.round((sec % 3600) / 60)} min`;
}

/** Overall fraction done (0–1) after an event, given the run's epoch count; null if unchanged. */
export function fractionDone(e: ProgressEvent, epochs: number, startEpoch = 0): number | null {
  const total = Math.max(1, epochs - startEpoch);
  if (e.type === 'step') return Math.min(1, (e.epoch - 1 - startEpoch + e.step / Math.max(1, e.stepsPerEpoch)) / total);
  if (e.type === 'epoch') return Math.min(1, (e.epoch - startEpoch) / total);
  if (e.type === 'done') return 1;
  return null;
}

export function describeEvent(e: ProgressEvent): string {
  switch (e.type) {
    case 'start':
      return `started on ${e.backend} (${e.backendReason}), ${e.epochs} epochs × ${e.stepsPerEpoch} steps${e.resumedFromEpoch !== undefined ? `, resumed ${stopPoint(e.resumedFromEpoch, e.resumedAtStep)}` : ''}`;
    case 'step':
      return `epoch ${e.epoch} step ${e.step}/${e.stepsPerEpoch}, ${e.imgPerSec.toFixed(1)} img/s${e.etaSec >= 0 ? `, ETA ${formatEta(e.etaSec)}` : ''}`;
    case 'epoch':
      return `epoch ${e.epoch}/${e.epochs}: val AUROC ${e.valAuroc === null ? 'n/a' : e.valAuroc.toFixed(4)}, ${e.imgPerSec.toFixed(1)} img/s, ETA ${formatEta(e.etaSec)}`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'stage':
      return e.message;
    case 'checkpoint':
      return `checkpoint (${e.reason}) ${stopPoint(e.epoch, e.step)}: ${e.path}`;
    case 'done':
      return `done in ${formatEta(e.seconds)}: ${e.out}`;
    case 'cancelled':
      return `cancelled ${stopPoint(e.epoch, e.step)}; resumable checkpoint: ${e.checkpoint}`;
    case 'error':
      return `error: ${e.message}`;
  }
}
