/** The normal-class name rule (trainer/data/normal-class.ts) as the trainer and the extension apply it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksNormal, normalClassCandidates } from '../../trainer/data/normal-class';
import { resolveNormalClass } from '../../trainer/data/plan';
import type { Catalog } from '../../trainer/data/catalog';
import { labelFor } from '../../shared/folder-math';

const catalog = (classNames: string[]): Catalog => ({
  layout: 'folder', root: '/data', items: [], classNames, skipped: [], warnings: [], ignoredFiles: 0,
  decode: async () => { throw new Error('not decoded in this test'); },
});

/** What the trainer takes as normal among `names` (null where it refuses to guess). */
function trainerNormal(names: string[]): string | null {
  try {
    return resolveNormalClass(catalog(names));
  } catch {
    return null;
  }
}

/** What the extension's Score Folder labels normal among `names` (null where it gives no labels). */
function extensionNormal(names: string[]): string | null {
  const normals = names.filter((n) => labelFor(`${n}/a.png`, null, names) === 0);
  assert.ok(normals.length <= 1);
  if (normals.length === 1) for (const n of names) if (n !== normals[0]) assert.equal(labelFor(`${n}/a.png`, null, names), 1);
  if (normals.length === 0) for (const n of names) assert.equal(labelFor(`${n}/a.png`, null, names), null);
  return normals[0] ?? null;
}

test('good, OK, normal, MT_Free and train_good are normal to the trainer and the extension alike', () => {
  for (const name of ['MT_Free', 'good', 'OK', 'normal', 'train_good', 'Good-Parts']) {
    assert.ok(looksNormal(name), name);
    const names = ['crack', name, 'MT_Blowhole'];
    assert.equal(trainerNormal(names), name, `trainer: ${name}`);
    assert.equal(extensionNormal(names), name, `extension: ${name}`);
  }
});

test('names that only contain a normal word inside another word are not normal, to either', () => {
  for (const name of ['goodness', 'okay', 'freeze', 'abnormal', 'crack']) {
    assert.equal(looksNormal(name), false, name);
    assert.equal(trainerNormal(['scratch', name]), null, `trainer: ${name}`);
    assert.equal(extensionNormal(['scratch', name]), null, `extension: ${name}`);
  }
});

test('several normal-looking folders: neither picks one', () => {
  const names = ['good', 'MT_Free', 'crack'];
  assert.deepEqual(normalClassCandidates(names), ['good', 'MT_Free']);
  assert.equal(trainerNormal(names), null);
  assert.equal(extensionNormal(names), null);
  // The model's own normal class still decides for the extension, as --normal does for the trainer.
  assert.equal(labelFor('MT_Free/a.png', 'MT_Free', names), 0);
  assert.equal(labelFor('good/a.png', 'MT_Free', names), 1);
  assert.equal(resolveNormalClass(catalog(names), 'MT_Free'), 'MT_Free');
});
