/** One list of image extensions (scorer/image-extensions.ts) and every place that decides "is this an image?". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DATASET_IMAGE_EXTENSIONS, IMAGE_EXTENSIONS } from '../../scorer/image-extensions';
import { isImageFile } from '../../trainer/data/decode';
import { isImagePath } from '../../extension/models';

test('the dataset readers and the extension take the same subset of the one list, in any case', () => {
  assert.ok(DATASET_IMAGE_EXTENSIONS.every((e) => IMAGE_EXTENSIONS.includes(e)));
  for (const e of [...IMAGE_EXTENSIONS, '.txt', '.json', '.svg']) {
    const want = (DATASET_IMAGE_EXTENSIONS as readonly string[]).includes(e);
    for (const name of [`a${e}`, `dir/A${e.toUpperCase()}`]) {
      assert.equal(isImageFile(name), want, `trainer ${name}`);
      assert.equal(isImagePath(name), want, `extension ${name}`);
    }
  }
});

test("package.json's explorer menus (written by extension/manifest.mjs) match DATASET_IMAGE_EXTENSIONS", () => {
  const pkg = fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const res = [...pkg.matchAll(/resourceExtname =~ \/((?:[^/\\]|\\\\.)+)\/([a-z]*)/g)].map((m) => new RegExp(JSON.parse(`"${m[1]}"`), m[2]));
  assert.ok(res.length > 0, 'no resourceExtname clause in package.json');
  for (const re of res) for (const e of [...IMAGE_EXTENSIONS, '.txt']) assert.equal(re.test(e), (DATASET_IMAGE_EXTENSIONS as readonly string[]).includes(e), `${re} on ${e}`);
  const mjs = fs.readFileSync(new URL('../../extension/manifest.mjs', import.meta.url), 'utf8');
  assert.ok(mjs.includes(res[0].source.replace(/\\/g, '\\\\')), 'manifest.mjs and package.json disagree: run node extension/manifest.mjs');
});
