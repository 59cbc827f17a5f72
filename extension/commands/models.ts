/**
 * Models: the trained model folders (under the models folder, plus ones picked elsewhere), the
 * active model, and the commands Select Active Model, Reveal Model Folder and Delete Model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Host } from '../host';
import { pathOf } from '../host';
import { listModels, modelDescription, readModel, type ModelEntry } from '../models';
import type { ModelSpec } from '../panels';
import { modelsFolder, readSettings } from '../settings';

export class Models {
  private readonly changed = new vscode.EventEmitter<void>();
  /** The list or the active model changed (the Models view and the status bar follow). */
  readonly onDidChange = this.changed.event;

  /** `onActivated`: awaited after a model became active (the open score panel switches to it). */
  constructor(
    private readonly host: Host,
    private readonly onActivated: (m: ModelSpec) => Promise<void>,
  ) {}

  folder(): string {
    return modelsFolder(this.host.context);
  }

  refresh(): void {
    this.changed.fire();
  }

  private extra(): string[] {
    return this.host.context.workspaceState.get<string[]>('flawscope.extraModels', []);
  }

  list(): ModelEntry[] {
    return listModels(this.folder(), this.extra());
  }

  activePath(): string | null {
    const p = this.host.context.workspaceState.get<string>('flawscope.activeModel');
    return p && fs.existsSync(path.join(p, 'flawscope.json')) ? p : null;
  }

  async setActive(p: string): Promise<void> {
    const state = this.host.context.workspaceState;
    await state.update('flawscope.activeModel', p);
    const extra = this.extra();
    if (!path.resolve(p).startsWith(path.resolve(this.folder()) + path.sep) && !extra.includes(p)) await state.update('flawscope.extraModels', [...extra, p]);
    this.changed.fire();
    const m = this.spec(p);
    if (m) await this.onActivated(m);
  }

  /** What a panel needs to score with the model in `p`; null (after saying why) when it is unreadable. */
  spec(p: string): ModelSpec | null {
    const e = readModel(p);
    if (!e.info) {
      void vscode.window.showErrorMessage(`Flawscope: cannot use the model in ${p}: ${e.error}`);
      return null;
    }
    return { path: e.path, name: e.name, info: e.info, thresholdOverride: readSettings().thresholdOverride };
  }

  /** The active model, asking the user to pick one when none is set. */
  async require(): Promise<ModelSpec | null> {
    let p = this.activePath();
    if (!p) {
      const models = this.list().filter((m) => m.info);
      if (models.length === 1) p = models[0].path;
      else if (models.length > 1) p = (await this.pick('No active model: pick the model to score with'))?.path ?? null;
      if (!p) {
        const choice = await vscode.window.showWarningMessage('Flawscope: no trained model yet. Train one first, or pick a model folder.', 'Train Model', 'Pick Model Folder…');
        if (choice === 'Train Model') void vscode.commands.executeCommand('flawscope.trainModel');
        if (choice === 'Pick Model Folder…') {
          const u = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Folder with model.json and flawscope.json' });
          if (u?.[0]) p = u[0].fsPath;
        }
        if (!p) return null;
      }
      await this.setActive(p);
    }
    return this.spec(p);
  }

  async pick(title: string): Promise<ModelEntry | undefined> {
    const active = this.activePath();
    const items = this.list().map((m) => ({ label: `${m.path === active ? '$(check) ' : ''}${m.name}`, description: modelDescription(m), detail: m.path, m }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage('Flawscope: no models yet in ' + this.folder());
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { title, matchOnDetail: true }))?.m;
  }

  async delete(p: string, confirmed = false): Promise<boolean> {
    if (!confirmed) {
      const c = await vscode.window.showWarningMessage(`Delete the model ${path.basename(p)}? Its folder (${p}) is moved to the trash.`, { modal: true }, 'Delete');
      if (c !== 'Delete') return false;
    }
    await vscode.workspace.fs.delete(vscode.Uri.file(p), { recursive: true, useTrash: true }).then(undefined, () => vscode.workspace.fs.delete(vscode.Uri.file(p), { recursive: true, useTrash: false }));
    const state = this.host.context.workspaceState;
    if (this.activePath() === p) await state.update('flawscope.activeModel', undefined);
    await state.update('flawscope.extraModels', this.extra().filter((e) => e !== p));
    this.changed.fire();
    return true;
  }
}

export function registerModelCommands(host: Host, models: Models): void {
  host.command('flawscope.selectActiveModel', async (a?: unknown) => {
    const p = pathOf(a) ?? (await models.pick('Select the active model'))?.path;
    if (p) await models.setActive(p);
    return p ?? null;
  });
  host.command('flawscope.revealModel', (a?: unknown) => {
    const p = pathOf(a) ?? models.activePath();
    if (p) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(p)).then(undefined, () => vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(p)));
  });
  host.command('flawscope.deleteModel', (a?: unknown, confirmed?: unknown) => {
    const p = pathOf(a);
    return p ? models.delete(p, confirmed === true) : false;
  });
}
