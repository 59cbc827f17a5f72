/** The score panel's numbered areas in words and its image views (media/webview/lib/patches.ts), and which dropped files it takes (extension/panels/dropped.ts). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describePatch, labelPositions, patchAt, regionWords, viewLayout } from '../../media/webview/lib/patches';
import { droppedImage } from '../../extension/panels/dropped';
import { droppedUris } from '../../media/webview/lib/drop';

const patches = [
  { x: 24, y: 0, w: 8, h: 8, score: 2 },
  { x: 12, y: 12, w: 8, h: 8, score: 1 },
  { x: 0, y: 26, w: 4, h: 4, score: 0.5 },
];

test('areas are described where they are, how large, and against the strongest', () => {
  assert.equal(regionWords(patches[0], 32, 32), 'top right');
  assert.equal(regionWords(patches[1], 32, 32), 'centre');
  assert.equal(regionWords(patches[2], 32, 32), 'bottom left');
  assert.equal(regionWords({ x: 12, y: 0, w: 8, h: 4 }, 32, 32), 'top');
  assert.equal(describePatch(patches[0], 0, patches, 32, 32), '1. top right, 8×8 px at x 24, y 0: the most unusual area (error 2.00)');
  assert.equal(describePatch(patches[2], 2, patches, 32, 32), "3. bottom left, 4×4 px at x 0, y 26: 25 % of the strongest area's error (error 0.500)");
});

test('the box under the pointer is found; the most unusual wins where boxes overlap', () => {
  assert.equal(patchAt(patches, 25, 3), 0);
  assert.equal(patchAt(patches, 31.5, 7.9), 0);
  assert.equal(patchAt(patches, 32, 3), null);
  assert.equal(patchAt(patches, 13, 13), 1);
  assert.equal(patchAt([patches[1], { x: 10, y: 10, w: 20, h: 20, score: 3 }], 13, 13), 0);
  assert.equal(patchAt(patches, 5, 5), null);
});

test('side by side shows the image and the heatmap next to each other; swipe clips; toggle shows one; blend one pane', () => {
  const side = viewLayout('side', 32, 16, 4, { swipe: 0.5, showHeat: true });
  assert.deepEqual(side.panes.map((p) => p.content), ['image', 'heat']);
  assert.equal(side.panes[1].x, 128 + 4);
  assert.equal(side.width, 2 * 128 + 4);
  assert.equal(side.height, 64);
  const swipe = viewLayout('swipe', 32, 16, 4, { swipe: 1.7, showHeat: true });
  assert.deepEqual(swipe.panes, [{ x: 0, content: 'image' }, { x: 0, content: 'heat', clip: 1 }]);
  assert.equal(swipe.width, 128);
  assert.deepEqual(viewLayout('toggle', 32, 16, 4, { swipe: 0.5, showHeat: false }).panes, [{ x: 0, content: 'image' }]);
  assert.deepEqual(viewLayout('toggle', 32, 16, 4, { swipe: 0.5, showHeat: true }).panes, [{ x: 0, content: 'heat' }]);
  assert.deepEqual(viewLayout('blend', 32, 16, 4, { swipe: 0.5, showHeat: true }).panes, [{ x: 0, content: 'blend' }]);
});

let tmp: string, ws: string, img: string, txt: string, outside: string;
before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'flawscope-drop-')));
  ws = path.join(tmp, 'ws');
  fs.mkdirSync(ws);
  img = path.join(ws, 'a b.png');
  txt = path.join(ws, 'notes.txt');
  outside = path.join(tmp, 'secret.png');
  for (const f of [img, txt, outside]) fs.writeFileSync(f, 'x');
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const isImage = (p: string) => /\.(png|jpe?g|tiff?)$/i.test(p);

test('a dropped image inside the workspace is taken; other files and places are refused with the reason', () => {
  const ctx = { allowedRoots: [ws], realpath: fs.realpathSync.native };
  assert.deepEqual(droppedImage([pathToFileURL(img).toString()], ctx, isImage), { ok: true, path: img });
  assert.deepEqual(droppedImage([pathToFileURL(txt).toString(), img], ctx, isImage), { ok: true, path: img });
  const out = droppedImage([pathToFileURL(outside).toString()], ctx, isImage);
  assert.equal(out.ok, false);
  assert.match(!out.ok ? out.reason : '', /secret\.png: not in a workspace folder/);
  const t = droppedImage([pathToFileURL(txt).toString()], ctx, isImage);
  assert.match(!t.ok ? t.reason : '', /notes\.txt is not an image/);
  assert.equal(droppedImage(['https://example.com/x.png'], ctx, isImage).ok, false);
  // A remote window's Explorer (code-server) drags vscode-remote: URIs naming the host's own paths.
  assert.deepEqual(droppedImage([`vscode-remote://localhost:8080${pathToFileURL(img).pathname}`], ctx, isImage), { ok: true, path: img });
  assert.equal(droppedImage([`vscode-remote://localhost:8080${pathToFileURL(outside).pathname}`], ctx, isImage).ok, false);
  assert.equal(droppedImage([pathToFileURL(img).toString()], { allowedRoots: [], realpath: fs.realpathSync.native }, isImage).ok, false);
});

test('a drop from the Explorer is read from its full list; the truncated standard list and plain text come last', () => {
  const dt = (d: Record<string, string>) => ({ getData: (t: string) => d[t] ?? '' });
  assert.deepEqual(droppedUris(dt({ 'application/vnd.code.uri-list': 'file:///a.png\r\nfile:///b.png', 'text/uri-list': 'file:///a.png' })), ['file:///a.png', 'file:///b.png']);
  assert.deepEqual(droppedUris(dt({ ResourceURLs: '["file:///a.png","file:///b.png",3]', 'text/uri-list': 'file:///a.png' })), ['file:///a.png', 'file:///b.png']);
  assert.deepEqual(droppedUris(dt({ ResourceURLs: 'not json', CodeFiles: '["/ws/a.png"]' })), ['/ws/a.png']);
  assert.deepEqual(droppedUris(dt({ 'text/uri-list': '# comment\nfile:///c.png\n' })), ['file:///c.png']);
  assert.deepEqual(droppedUris(dt({})), []);
  assert.equal(droppedUris(dt({ 'text/uri-list': Array.from({ length: 100 }, (_, i) => `file:///${i}.png`).join('\n') })).length, 64);
});

test('box numbers go to a free corner so overlapping boxes keep readable numbers', () => {
  // Boxes 1 and 2 share their top-left corner area: 2's number moves to its bottom-right corner.
  const spots = labelPositions([{ x: 1, y: 24, w: 5, h: 4 }, { x: 0, y: 24, w: 4, h: 4 }, { x: 12, y: 0, w: 4, h: 4 }], 16, 14, 18);
  assert.deepEqual(spots[0], { x: 16, y: 384, w: 14, h: 18 });
  assert.deepEqual(spots[1], { x: 64 - 14, y: 448 - 18, w: 14, h: 18 });
  assert.deepEqual(spots[2], { x: 192, y: 0, w: 14, h: 18 }, 'a box apart keeps its top-left corner');
});
