/** The score panel's status line (media/webview/lib/score-status.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoredStatus } from '../../media/webview/lib/score-status';

const input = { height: 32, width: 32, channels: 1 as const };

test('a whole-image model: name, time, backend and model, no tiling', () => {
  assert.equal(scoredStatus('a.png', 12.6, 'wasm', 'digits-8', { input, preprocess: { mode: 'resize', scale: 1 } }, 1), 'a.png: scored in 13 ms on wasm with digits-8');
  assert.equal(scoredStatus('a.png', 3, 'webgpu', 'm', { input }, 1), 'a.png: scored in 3 ms on webgpu with m');
});

test('a photo model: the tiles run and the stride it records, else side by side at the model size', () => {
  assert.equal(scoredStatus('tile.png', 40, 'wasm', 'mt', { input, preprocess: { mode: 'tile', scale: 0.5, tileStride: 8 } }, 144), 'tile.png: scored in 40 ms on wasm with mt (144 tiles, 8 px apart)');
  assert.equal(scoredStatus('tile.png', 40, 'wasm', 'mt', { input, preprocess: { mode: 'tile', scale: 0.5 } }, 1), 'tile.png: scored in 40 ms on wasm with mt (1 tile, 32 px apart)');
});
