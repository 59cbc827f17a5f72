// The states the score and folder panels save for a window reload (extension/panels/score-states.ts):
// the score panel's view mode is kept, and a state saved before it was kept still restores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { folderPanelState, scorePanelState } from '../../extension/panels/score-states';
import { DEFAULT_VIEW_MODE, VIEW_MODE_NAMES } from '../../shared/protocol';

test('the score panel state keeps each view mode it was saved with', () => {
  for (const viewMode of VIEW_MODE_NAMES) {
    const saved = { model: '/models/m', image: '/images/a.png', viewMode };
    assert.deepEqual(scorePanelState.parse(saved), saved);
  }
});

test('a score panel state saved before the view mode was kept restores in the default view', () => {
  assert.equal(DEFAULT_VIEW_MODE, 'side');
  assert.deepEqual(scorePanelState.parse({ model: '/models/m', image: null }), { model: '/models/m', image: null, viewMode: 'side' });
});

test('a view mode the panel does not have is refused, naming the field', () => {
  const r = scorePanelState.safeParse({ model: null, image: null, viewMode: 'zoom' });
  assert.equal(r.success, false);
  assert.deepEqual(r.error?.issues[0]?.path, ['viewMode']);
  assert.equal(scorePanelState.safeParse({ model: null, image: null, viewMode: 3 }).success, false);
});

test('the folder panel state is unchanged: its model and folder', () => {
  assert.deepEqual(folderPanelState.parse({ model: '/models/m', folder: '/images' }), { model: '/models/m', folder: '/images' });
  assert.equal(folderPanelState.safeParse({ model: '/models/m' }).success, false);
});
