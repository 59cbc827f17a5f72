/**
 * What the trainer CLI prints, sorted for the Flawscope output channel: failures at error level,
 * warnings at warn, progress text at info, and TensorFlow.js's console noise (the "install our
 * node backend" banner, re-registration notices) dropped, since the user can do nothing about it
 * and it buries the lines that matter. No `vscode` import (unit-tested in plain Node).
 */
export type CliLineLevel = 'noise' | 'info' | 'warn' | 'error';

const TFJS_NOISE: readonly RegExp[] = [
  // tfjs-backend-cpu under Node, framed by lines of '='.
  /^=+$/,
  /Hi,? (there.*)?looks like you are running TensorFlow\.js in Node\.js/i,
  /install our node backend/i,
  /^Platform \w+ has already been set\. Overwriting the platform with \w+\.?$/,
  /backend was already registered\. Reusing existing backend factory\.?$/,
  /^The kernel '[^']*' for backend '[^']*' is already registered$/,
  /^TensorFlow\.js deprecation warnings have been disabled\.?$/,
];

const ERROR_LINE: readonly RegExp[] = [
  /^(error|fatal)\b\s*[:-]?/i,
  // How the CLI reports a command that failed (trainer/eval/commands/shared.ts guarded()).
  /^flawscope [a-z-]+: /,
  /^\[[^\]]*\]\s*error\b/i,
  /^(Uncaught )?[A-Z]\w*Error\b(: |$)/,
  // A stack frame belongs with the error it follows.
  /^\s+at .+(\(.+:\d+:\d+\)|:\d+:\d+)$/,
];

const WARN_LINE: readonly RegExp[] = [/^warn(ing)?\b\s*[:-]?/i, /^\[[^\]]*\]\s*warn(ing)?\b/i, /^\(node:\d+\) \w*Warning\b/, /\bDeprecationWarning\b/];

/** One line of CLI output → the level it is logged at, or 'noise' (dropped). */
export function classifyCliLine(line: string, fallback: 'info' | 'warn' = 'info'): CliLineLevel {
  const t = line.trim();
  if (!t) return 'noise';
  if (TFJS_NOISE.some((r) => r.test(t))) return 'noise';
  if (ERROR_LINE.some((r) => r.test(line))) return 'error';
  if (WARN_LINE.some((r) => r.test(t))) return 'warn';
  return fallback;
}

export interface LevelledLog {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

/** Logs each line of `text` at its level (noise dropped); `prefix` tags the lines' source. */
export function logCliText(log: LevelledLog, text: string, prefix = '', fallback: 'info' | 'warn' = 'info'): void {
  for (const line of text.split(/\r?\n/)) {
    const level = classifyCliLine(line, fallback);
    if (level !== 'noise') log[level](prefix + line);
  }
}
