/** `--protocol defect --patch-size` needs masks on the defect images: refused without any, warned when some are missing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { planDataset, InputError } from '../../trainer/data/index';
import { paintedDefects } from '../helpers/painted-defects';
import { tinyData } from '../helpers/tiny-data';

test('--patch-size on defect images without masks is refused, saying what would happen and what to do', async () => {
  const root = tinyData('flawscope-crops-no-masks-');
  await assert.rejects(planDataset({ root, size: 8, seed: 0, protocol: 'defect', patchSize: '14' }), (e: Error) =>
    e instanceof InputError && e.message.startsWith('--patch-size 14:') && e.message.includes(root) && /no masks for its 8 defect images \(defect\)/.test(e.message)
    && /used whole, shrunk to the model size/.test(e.message) && /add masks beside the defect images/.test(e.message) && /leave --patch-size out/.test(e.message));
  // Without --patch-size the same folder is read as whole images.
  const whole = await planDataset({ root, size: 8, seed: 0, protocol: 'defect' });
  assert.ok(whole.plan.trainAnomaly.length > 0);
});

test('--patch-size with some defect masks missing warns once, with the count', async () => {
  const root = await paintedDefects({ normal: 6, defect: 4 });
  rmSync(join(root, 'defect', 'defect1.png'));
  rmSync(join(root, 'defect', 'defect3.png'));
  const p = await planDataset({ root, size: 16, seed: 0, protocol: 'defect', patchSize: '32', format: 'masks' });
  const w = p.plan.warnings.filter((m) => m.startsWith('--patch-size 32:'));
  assert.equal(w.length, 1, p.plan.warnings.join('\n'));
  assert.match(w[0], /2 of 4 defect images \(defect\) have no mask/);
});
