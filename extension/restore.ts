/**
 * Panels that come back after a window reload. Each panel kind registers one restorer: its view
 * type (package.json `onWebviewPanel:<viewType>` activates the extension for it), the zod schema
 * of the state it needs, and how to rebuild the panel from that state. The panel hands its state
 * to its page with `restoreStateMessage` (shared/protocol.ts `restoreState`; media/webview/lib/host.ts
 * keeps it with `setState`), and VS Code gives it back to `deserializeWebviewPanel` after a reload.
 *
 * A state that does not parse (an older extension's, or none) closes the panel with a log line,
 * so a reload never leaves an empty editor column.
 */
import * as vscode from 'vscode';
import { z } from 'zod';
import type { HostToWebview } from '../shared/protocol';

export interface Restorer<S> {
  /** The panel's view type (createWebviewPanel's first argument). */
  viewType: string;
  /** The state the panel saved: checked before `restore` sees it. */
  schema: z.ZodType<S, z.ZodTypeDef, unknown>;
  /** Rebuilds the panel in `panel` (VS Code's restored, still empty, webview panel). */
  restore(panel: vscode.WebviewPanel, state: S): void | Promise<void>;
}

/** The envelope every panel's saved state travels in: which view type it is for, and its data. */
const envelopeSchema = z.object({ flawscopeRestore: z.literal(1), viewType: z.string(), data: z.unknown() });

/** The message that gives a page its restore state (posted by the panel whenever that state changes). */
export function restoreStateMessage(viewType: string, data: unknown): Extract<HostToWebview, { type: 'restoreState' }> {
  return { type: 'restoreState', state: { flawscopeRestore: 1, viewType, data } };
}

/** A restorer with its state type checked inside: what registerRestorer and the tests take, whatever the panel's state. */
export interface PanelRestorer {
  viewType: string;
  /** Checks `saved` and rebuilds the panel; returns why it could not, or null. */
  restore(panel: vscode.WebviewPanel, saved: unknown): Promise<string | null>;
}

export function panelRestorer<S>(r: Restorer<S>): PanelRestorer {
  return { viewType: r.viewType, restore: (panel, saved) => restorePanel(r, panel, saved) };
}

/**
 * Registers `r` with VS Code. `log` hears why a panel was not restored. Call during activation:
 * VS Code restores panels only through serializers registered before it asks.
 */
export function registerRestorer(r: PanelRestorer, log: { warn(m: string): void; info(m: string): void }): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(r.viewType, {
    deserializeWebviewPanel: async (panel, saved) => {
      const problem = await r.restore(panel, saved);
      if (problem) {
        log.warn(`[restore] ${r.viewType} panel "${panel.title}" not restored: ${problem}`);
        panel.dispose();
      } else log.info(`[restore] ${r.viewType} panel "${panel.title}" restored`);
    },
  });
}

async function restorePanel<S>(r: Restorer<S>, panel: vscode.WebviewPanel, saved: unknown): Promise<string | null> {
  const env = envelopeSchema.safeParse(saved);
  if (!env.success) return 'it saved no state (it was opened by an older Flawscope, or its page never started)';
  if (env.data.viewType !== r.viewType) return `its state is for ${env.data.viewType}`;
  const data = r.schema.safeParse(env.data.data);
  if (!data.success) return `its saved state does not fit (${data.error.issues[0].path.join('.') || 'top level'}: ${data.error.issues[0].message})`;
  try {
    await r.restore(panel, data.data);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
