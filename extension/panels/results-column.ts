/**
 * Tracks the open Flawscope panels so that a new one joins the column the others are in
 * (column-choice.ts holds the rule). Panels register themselves in PanelHost's constructor, so
 * every panel kind, present and future, follows it without a column of its own.
 */
import * as vscode from 'vscode';
import { chooseColumn } from './column-choice';

const open: vscode.WebviewPanel[] = [];

/** Flawscope webviews show up in tabs as `mainThreadWebview-flawscope.<kind>`. */
export function isFlawscopeTab(t: vscode.Tab): boolean {
  return t.input instanceof vscode.TabInputWebview && /(^|-)flawscope\./.test(t.input.viewType);
}

/** The column a new panel opens in. */
export function resultsColumn(): vscode.ViewColumn {
  const panelColumns = [...open].reverse().map((p) => p.viewColumn);
  const otherTabsOpen = vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => !isFlawscopeTab(t)));
  const c = chooseColumn({ panelColumns, otherTabsOpen });
  return c.kind === 'column' ? c.column : c.kind === 'active' ? vscode.ViewColumn.Active : vscode.ViewColumn.Beside;
}

export function trackPanel(p: vscode.WebviewPanel): vscode.Disposable {
  open.push(p);
  const moved = p.onDidChangeViewState(() => {
    // The panel shown last leads: a panel the user dragged elsewhere takes the results column with it.
    const i = open.indexOf(p);
    if (i >= 0 && p.active) open.push(...open.splice(i, 1));
  });
  return new vscode.Disposable(() => {
    moved.dispose();
    const i = open.indexOf(p);
    if (i >= 0) open.splice(i, 1);
  });
}

/** How many editor groups hold Flawscope panels (for tests: one results column). */
export function resultColumnsInUse(): number {
  return vscode.window.tabGroups.all.filter((g) => g.tabs.some(isFlawscopeTab)).length;
}
