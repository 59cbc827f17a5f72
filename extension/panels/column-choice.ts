/**
 * Where a new Flawscope panel opens. Every panel shares one results column beside the editor:
 * opening each "beside the active one" gave four columns after a training, a score and a folder
 * score, and file names wrapped one character per line in the last. No `vscode` import: the rule
 * is unit-tested in plain Node (test/unit/ext-panel-layout.test.ts).
 */

/** What the workbench looks like when a panel is about to open. */
export interface LayoutFacts {
  /** View columns of the open Flawscope panels, the most recently shown first (undefined: not placed yet). */
  panelColumns: readonly (number | undefined)[];
  /** Whether any editor group holds a tab that is not a Flawscope panel (a file, an image, a diff…). */
  otherTabsOpen: boolean;
}

export type ColumnChoice =
  /** Join the results column that already exists. */
  | { kind: 'column'; column: number }
  /** Nothing else is open: take the active (and only) column, so the panel gets the full width. */
  | { kind: 'active' }
  /** Open the results column, beside the editor. */
  | { kind: 'beside' };

export function chooseColumn(f: LayoutFacts): ColumnChoice {
  const existing = f.panelColumns.find((c): c is number => c !== undefined && c >= 1);
  if (existing !== undefined) return { kind: 'column', column: existing };
  return f.otherTabsOpen ? { kind: 'beside' } : { kind: 'active' };
}
