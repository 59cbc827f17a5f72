/** Where Flawscope panels open: one results column (extension/panels/column-choice.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseColumn } from '../../extension/panels/column-choice';

test('the first panel beside an open editor opens the results column beside it', () => {
  assert.deepEqual(chooseColumn({ panelColumns: [], otherTabsOpen: true }), { kind: 'beside' });
});

test('with nothing else open the panel takes the active column: the full width, no empty column left', () => {
  assert.deepEqual(chooseColumn({ panelColumns: [], otherTabsOpen: false }), { kind: 'active' });
});

test('every later panel joins the results column, however many are open and wherever the focus is', () => {
  assert.deepEqual(chooseColumn({ panelColumns: [2], otherTabsOpen: true }), { kind: 'column', column: 2 });
  assert.deepEqual(chooseColumn({ panelColumns: [2, 2, 2], otherTabsOpen: true }), { kind: 'column', column: 2 });
  assert.deepEqual(chooseColumn({ panelColumns: [1], otherTabsOpen: false }), { kind: 'column', column: 1 });
});

test('the panel shown most recently leads (one the user dragged elsewhere takes the results column with it)', () => {
  assert.deepEqual(chooseColumn({ panelColumns: [3, 2], otherTabsOpen: true }), { kind: 'column', column: 3 });
});

test('panels not placed yet are skipped', () => {
  assert.deepEqual(chooseColumn({ panelColumns: [undefined, 2], otherTabsOpen: true }), { kind: 'column', column: 2 });
  assert.deepEqual(chooseColumn({ panelColumns: [undefined], otherTabsOpen: true }), { kind: 'beside' });
});
