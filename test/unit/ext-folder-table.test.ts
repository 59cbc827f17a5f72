/** The Score Folder table's sorting, header clicks, verdict filter and keyboard moves (shared/folder-table.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SORT, ariaSort, classNameOf, filterRows, moveSelection, nextSort, sortRows, type TableRow } from '../../shared/folder-table';

const row = (name: string, score: number, verdict: TableRow['verdict'], label: 0 | 1 | null, className: string | null = name.includes('/') ? name.split('/')[0] : null): TableRow => ({ path: `/f/${name}`, name, className, score, verdict, label });
const rows = [
  row('good/img10.png', 0.2, 'normal', 0),
  row('crack/img2.png', 0.9, 'anomaly', 1),
  row('good/img2.png', 0.2, 'normal', 0),
  row('loose.png', 0.5, 'unfamiliar', null),
  row('crack/img1.png', Number.NaN, 'anomaly', 1),
];
const names = (r: TableRow[]) => r.map((x) => x.name);

test('by default the highest score leads; a score that is not a number goes last', () => {
  assert.deepEqual(DEFAULT_SORT, { key: 'score', dir: 'desc' });
  assert.deepEqual(names(sortRows(rows, DEFAULT_SORT)), ['crack/img2.png', 'loose.png', 'good/img2.png', 'good/img10.png', 'crack/img1.png']);
  assert.deepEqual(names(sortRows(rows, { key: 'score', dir: 'asc' })), ['good/img2.png', 'good/img10.png', 'loose.png', 'crack/img2.png', 'crack/img1.png']);
});

test('ties keep a fixed order by name, numbers in names compared as numbers', () => {
  assert.deepEqual(names(sortRows(rows, { key: 'className', dir: 'asc' })), ['crack/img1.png', 'crack/img2.png', 'good/img2.png', 'good/img10.png', 'loose.png']);
  // Descending flips the classes but not the tie order inside a class; no class stays last.
  assert.deepEqual(names(sortRows(rows, { key: 'className', dir: 'desc' })), ['good/img2.png', 'good/img10.png', 'crack/img1.png', 'crack/img2.png', 'loose.png']);
});

test('verdicts sort by concern, labels with the unlabelled last in both directions', () => {
  assert.deepEqual(sortRows(rows, { key: 'verdict', dir: 'asc' }).map((r) => r.verdict), ['normal', 'normal', 'unfamiliar', 'anomaly', 'anomaly']);
  assert.deepEqual(sortRows(rows, { key: 'label', dir: 'desc' }).map((r) => r.label), [1, 1, 0, 0, null]);
  assert.deepEqual(sortRows(rows, { key: 'label', dir: 'asc' }).map((r) => r.label), [0, 0, 1, 1, null]);
  assert.deepEqual(names(sortRows(rows, { key: 'name', dir: 'desc' })), ['loose.png', 'good/img10.png', 'good/img2.png', 'crack/img2.png', 'crack/img1.png']);
});

test('sorting copies: the rows given are left as they were', () => {
  const before = names(rows);
  sortRows(rows, { key: 'name', dir: 'asc' });
  assert.deepEqual(names(rows), before);
});

test('a header click flips the same column and starts a new one where people look first', () => {
  assert.deepEqual(nextSort(DEFAULT_SORT, 'score'), { key: 'score', dir: 'asc' });
  assert.deepEqual(nextSort({ key: 'score', dir: 'asc' }, 'score'), { key: 'score', dir: 'desc' });
  assert.deepEqual(nextSort(DEFAULT_SORT, 'name'), { key: 'name', dir: 'asc' });
  assert.deepEqual(nextSort({ key: 'name', dir: 'asc' }, 'score'), { key: 'score', dir: 'desc' });
  assert.equal(ariaSort({ key: 'name', dir: 'asc' }, 'name'), 'ascending');
  assert.equal(ariaSort({ key: 'name', dir: 'desc' }, 'name'), 'descending');
  assert.equal(ariaSort({ key: 'name', dir: 'desc' }, 'score'), 'none');
});

test('the verdict filter keeps only the verdicts shown', () => {
  assert.deepEqual(names(filterRows(rows, ['unfamiliar'])), ['loose.png']);
  assert.equal(filterRows(rows, ['normal', 'anomaly']).length, 4);
  assert.equal(filterRows(rows, ['normal', 'anomaly', 'unfamiliar']).length, 5);
  assert.equal(filterRows(rows, []).length, 0);
});

test('arrow keys, Page keys, Home and End move within the table; other keys do not move', () => {
  assert.equal(moveSelection(null, 'ArrowDown', 5), 0);
  assert.equal(moveSelection(0, 'ArrowDown', 5), 1);
  assert.equal(moveSelection(4, 'ArrowDown', 5), 4);
  assert.equal(moveSelection(0, 'ArrowUp', 5), 0);
  assert.equal(moveSelection(3, 'ArrowUp', 5), 2);
  assert.equal(moveSelection(null, 'ArrowUp', 5), 0);
  assert.equal(moveSelection(1, 'PageDown', 30), 11);
  assert.equal(moveSelection(25, 'PageDown', 30), 29);
  assert.equal(moveSelection(5, 'PageUp', 30), 0);
  assert.equal(moveSelection(2, 'Home', 5), 0);
  assert.equal(moveSelection(2, 'End', 5), 4);
  assert.equal(moveSelection(9, 'ArrowUp', 5), 3, 'an index past a shrunk table starts from its last row');
  assert.equal(moveSelection(2, 'a', 5), null);
  assert.equal(moveSelection(null, 'ArrowDown', 0), null);
});

test('the class is the first folder under the scored folder', () => {
  assert.equal(classNameOf('crack/img1.png'), 'crack');
  assert.equal(classNameOf('MT_Blowhole\\sub\\a.png'), 'MT_Blowhole');
  assert.equal(classNameOf('a.png'), null);
});
