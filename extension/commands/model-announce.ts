/**
 * What happens when a training finishes with a model: the toast names its figures (test and
 * validation AUROC, the kept epoch and why), and the model becomes the active one — asked once
 * ("make new models active automatically?"), the answer remembered for every later training.
 */
import * as vscode from 'vscode';
import { trainedSummary } from '../../shared/format';
import type { Host } from '../host';
import { readModel } from '../models';
import type { RunRecord } from '../runs';
import type { Models } from './models';

/** globalState key: 'always' (new models become active) or 'ask' (the toast offers Make Active); unset until answered. */
export const AUTO_ACTIVATE_KEY = 'flawscope.autoActivateNewModels';
export type AutoActivate = 'always' | 'ask';

export function autoActivateChoice(host: Host): AutoActivate | undefined {
  const v = host.context.globalState.get<unknown>(AUTO_ACTIVATE_KEY);
  return v === 'always' || v === 'ask' ? v : undefined;
}

export async function announceTrainedModel(host: Host, models: Models, out: string, rec: RunRecord, epochs: number): Promise<void> {
  const m = readModel(out);
  const summary = `Flawscope: model trained — ${m.name}: ${trainedSummary(rec.metrics ?? {}, epochs)}.`;
  const choice = autoActivateChoice(host);
  if (choice === 'always') {
    await models.setActive(out);
    const c = await vscode.window.showInformationMessage(`${summary} It is now the active model.`, 'Score Image…');
    if (c) void vscode.commands.executeCommand('flawscope.scoreImage');
    return;
  }
  const buttons = choice === undefined ? ['Make Active', 'Always Make New Models Active', 'Score Image…'] : ['Make Active', 'Score Image…'];
  const question = choice === undefined ? ' Make new models active automatically?' : '';
  const c = await vscode.window.showInformationMessage(summary + question, ...buttons);
  if (c === 'Always Make New Models Active') await host.context.globalState.update(AUTO_ACTIVATE_KEY, 'always');
  else if (c && choice === undefined) await host.context.globalState.update(AUTO_ACTIVATE_KEY, 'ask');
  if (c) await models.setActive(out);
  if (c === 'Score Image…') void vscode.commands.executeCommand('flawscope.scoreImage');
}
