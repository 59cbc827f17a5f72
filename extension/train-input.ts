/**
 * The Train wizard's input boxes check what is typed with the trainer CLI's own settings table
 * (trainer/train-options.ts TRAIN_SETTINGS): the same schema, the same message, word for word, as
 * `flawscope train --size 30` would print — so a value is refused in the box, before any process
 * starts, and never by a second rule set that could drift from the CLI's. No `vscode` import.
 */
import { InputError } from '../trainer/errors';
import { TRAIN_SETTINGS } from '../trainer/train-options';

/** The settings the wizard asks for. */
export type WizardSetting = 'size' | 'epochs' | 'batch' | 'lr' | 'weights';

/** The CLI's message for `--<flag> <text>`, or null when the CLI would accept it. Empty weights mean the paper's. */
export function settingProblem(key: WizardSetting, text: string): string | null {
  if (key === 'weights' && text.trim() === '') return null;
  try {
    TRAIN_SETTINGS.value(key, text.trim(), { kind: 'flag' });
    return null;
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
}

/** The value the CLI reads from `text` (call after settingProblem said null). */
export function settingValue<K extends 'size' | 'epochs' | 'batch' | 'lr'>(key: K, text: string): number {
  return TRAIN_SETTINGS.value(key, text.trim(), { kind: 'flag' }) as number;
}

/** What a dataset's inspection report says about training on it: null when it can be chosen, else why not. */
export function untrainableReason(report: { error: string } | { total: number; classes: readonly { name: string; count: number }[] } | undefined): string | null {
  if (!report) return null;
  if ('error' in report) return `inspecting it failed: ${report.error}`;
  if (report.total === 0) return 'inspecting it found no images';
  if (report.classes.filter((c) => c.count > 0).length < 1) return 'inspecting it found no class with images';
  return null;
}
