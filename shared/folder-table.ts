/**
 * The Score Folder table's pure parts, shared by the folder webview and the unit tests: sorting by a
 * column, the header-click rule, filtering by verdict, keyboard movement between rows and the class
 * name of a row. No DOM, Node or vscode imports.
 */
import type { FolderSort, FolderSortKey, Verdict } from './protocol';

export interface TableRow {
  path: string;
  name: string;
  className: string | null;
  score: number;
  verdict: Verdict;
  label: 0 | 1 | null;
}

/** Highest score first: the images most worth a look lead, as before sorting existed. */
export const DEFAULT_SORT: FolderSort = { key: 'score', dir: 'desc' };

/** Verdicts in order of concern, so "verdict ascending" lists the normal images first. */
const VERDICT_RANK: Record<Verdict, number> = { normal: 0, unfamiliar: 1, anomaly: 2 };

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function compareBy(key: FolderSortKey, a: TableRow, b: TableRow): number {
  switch (key) {
    case 'score':
      return a.score - b.score;
    case 'verdict':
      return VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict];
    case 'label':
      // Unlabelled rows sort after the labelled ones in either direction (see sortRows).
      return (a.label ?? 0) - (b.label ?? 0);
    case 'className':
      return collator.compare(a.className ?? '', b.className ?? '');
    case 'name':
      return collator.compare(a.name, b.name);
  }
}

/** Missing values (no class, no label, a score that is not a number) go last whatever the direction. */
function missing(key: FolderSortKey, r: TableRow): boolean {
  return key === 'label' ? r.label === null : key === 'className' ? r.className === null : key === 'score' ? !Number.isFinite(r.score) : false;
}

/** A sorted copy; ties keep a fixed order (by name, then path) so a re-sort never shuffles rows. */
export function sortRows<T extends TableRow>(rows: readonly T[], sort: FolderSort): T[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const ma = missing(sort.key, a);
    const mb = missing(sort.key, b);
    if (ma !== mb) return ma ? 1 : -1;
    const c = ma ? 0 : sign * compareBy(sort.key, a, b);
    return c || collator.compare(a.name, b.name) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  });
}

/** A header click: the same column flips its direction; a new column starts where people look first. */
export function nextSort(current: FolderSort, key: FolderSortKey): FolderSort {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: key === 'score' ? 'desc' : 'asc' };
}

/** The rows whose verdict is among `shown` (all verdicts shown: every row). */
export function filterRows<T extends TableRow>(rows: readonly T[], shown: readonly Verdict[]): T[] {
  return rows.filter((r) => shown.includes(r.verdict));
}

/** The row index a key moves the selection to in a table of `count` rows; null for keys that do not move it. */
export function moveSelection(index: number | null, key: string, count: number, page = 10): number | null {
  if (count === 0) return null;
  const at = index === null ? -1 : Math.min(index, count - 1);
  switch (key) {
    case 'ArrowDown':
      return Math.min(count - 1, at + 1);
    case 'ArrowUp':
      return at < 0 ? 0 : Math.max(0, at - 1);
    case 'PageDown':
      return Math.min(count - 1, Math.max(0, at) + page);
    case 'PageUp':
      return Math.max(0, at - page);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

/** The class folder of an image from its path relative to the scored folder; null for one lying directly in it. */
export function classNameOf(relPath: string): string | null {
  const parts = relPath.split(/[\\/]/).filter(Boolean);
  return parts.length >= 2 ? parts[0] : null;
}

/** How a sorted column reads to a screen reader (aria-sort). */
export function ariaSort(sort: FolderSort, key: FolderSortKey): 'ascending' | 'descending' | 'none' {
  return sort.key !== key ? 'none' : sort.dir === 'asc' ? 'ascending' : 'descending';
}
