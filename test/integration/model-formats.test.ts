// Every flawscope.json format version still loads and scores (scorer/model-info.ts FORMAT_HISTORY,
// docs/model-folder.md). The files: v1-first is the corpus model written by
// scripts/make-bad-corpus.mjs (no "preprocess", as the first trainer wrote); v1..v5 are what the
// trainer wrote at each version (its info object at the commit that added the version's field),
// on the same 16x16 generator; v6 is the defect-map fixture (test/fixtures/defect-map).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORMAT_HISTORY, FORMAT_VERSION, formatVersionFor, parseModelInfo } from '../../scorer/model-format';
import { ScorerError } from '../../scorer/errors';
import { loadScorerFromDir } from '../../scorer/node';
import { tempDir } from '../browser/fixtures';

const FIXTURES = join(__dirname, '..', 'fixtures');
const GENERATOR = join(FIXTURES, 'bad', 'models', 'ok');
const VERSIONS: Array<[name: string, version: number, dir: string]> = [
  ['v1-first', 1, GENERATOR],
  ...[1, 2, 3, 4, 5].map((v): [string, number, string] => [`v${v}`, v, join(FIXTURES, 'model-formats', `v${v}`)]),
  ['v6', 6, join(FIXTURES, 'defect-map')],
];

/** A model folder: the fixture's flawscope.json beside the 16x16 generator (v6 has its own files). */
function folderOf(dir: string, edit?: (info: Record<string, any>) => void): string {
  const out = join(tempDir('flawscope-format-'), 'model');
  cpSync(dir === join(FIXTURES, 'defect-map') ? dir : GENERATOR, out, { recursive: true });
  const info = JSON.parse(readFileSync(join(dir, 'flawscope.json'), 'utf8'));
  edit?.(info);
  writeFileSync(join(out, 'flawscope.json'), JSON.stringify(info));
  return out;
}

const image = { data: Uint8Array.from({ length: 40 * 40 }, (_, i) => (i * 37) % 251), width: 40, height: 40, channels: 1 as const };

describe('flawscope.json: every format version loads', () => {
  test('the history covers versions 1 to the current one, once each', () => {
    assert.deepEqual(FORMAT_HISTORY.map((h) => h.version), Array.from({ length: FORMAT_VERSION }, (_, i) => i + 1));
  });

  for (const [name, version, dir] of VERSIONS)
    test(`${name}: parsed into the current format, written at the lowest version it needs, scores an image`, async () => {
      const raw = JSON.parse(readFileSync(join(dir, 'flawscope.json'), 'utf8'));
      const info = parseModelInfo(raw);
      assert.equal(info.formatVersion, version, 'the version read is the file\'s');
      assert.equal(formatVersionFor(info), version, 'the file uses its version\'s field (else it would say a lower one)');
      // Fields added after this version are absent, and read as FORMAT_HISTORY says.
      for (const h of FORMAT_HISTORY) if (h.version > version) assert.equal(h.uses(info), false, `${h.field} absent in ${name}`);
      const scorer = await loadScorerFromDir(folderOf(dir), { backend: 'cpu' });
      try {
        assert.equal(scorer.info.formatVersion, version);
        const r = await scorer.score(image, { reconstruction: false });
        assert.ok(Number.isFinite(r.score), `${name}: score ${r.score}`);
      } finally {
        scorer.dispose();
      }
    });

  for (const h of FORMAT_HISTORY.filter((x) => x.version > 1)) {
    const [, , dir] = VERSIONS.find(([, v]) => v === h.version)!;
    test(`a file that uses "${h.field}" but says version ${h.version - 1} is refused naming the field (a version-${h.version - 1} reader would ignore it)`, async () => {
      const folder = folderOf(dir, (i) => (i.formatVersion = h.version - 1));
      await assert.rejects(loadScorerFromDir(folder, { backend: 'cpu' }), (e: unknown) => {
        assert.ok(e instanceof ScorerError && e.code === 'INFO_INVALID', String(e));
        assert.match(e.message, /^flawscope\.json in .*: /);
        assert.ok(e.message.includes(`"${h.field}" needs format version ${h.version}, the file says ${h.version - 1}`), e.message);
        return true;
      });
    });
  }

  test('docs/model-folder.md names every version and its field', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'model-folder.md'), 'utf8');
    for (const h of FORMAT_HISTORY) {
      assert.match(doc, new RegExp(`^\\| ${h.version} \\|`, 'm'), `version ${h.version} row`);
      if (h.version > 1) assert.ok(doc.includes(`\`${h.field}\``), h.field);
    }
  });
});
