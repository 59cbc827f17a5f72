/** Budgets, class parsing, the reduced training copies and the ablation rows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budget, benchSpec, parseClasses, classId } from '../../trainer/eval/bench';
import { chooseInOrder, subsampledCopy } from '../../trainer/eval/subsample';
import { ablationRows } from '../../trainer/eval/commands';
import { PAPER_WEIGHTS } from '../../trainer/losses';
import { readIdx } from '../../trainer/data/idx';

test('budgets say what they are in epochs, batch, lr and images', () => {
  assert.deepEqual([budget('quick').epochs, budget('quick').batch, budget('quick').trainPerClass], [3, 32, 1000]);
  assert.deepEqual([budget('standard').epochs, budget('standard').batch, budget('standard').lr, budget('standard').trainPerClass], [15, 64, 1e-3, 0]);
  assert.deepEqual([budget('paper').epochs, budget('paper').batch, budget('paper').lr, budget('paper').lrDecayEvery], [300, 1, 1e-4, 50]);
  for (const b of ['quick', 'standard', 'paper'] as const) assert.match(budget(b).describe, /epochs/);
  // The budgets that mirror the PyTorch reference train like it; the paper's keeps §4.2 augmentation.
  assert.deepEqual([budget('quick').augment, budget('standard').augment, budget('paper').augment], ['none', 'none', 'auto']);
});

test('classes by id or name; CIFAR-100 and unknown classes are refused with the flag named', () => {
  const spec = { dataset: 'cifar10' as const, data: '/x', classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'], flags: [], size: 32 };
  assert.deepEqual(parseClasses('2,cat, Truck', spec), ['bird', 'cat', 'truck']);
  assert.equal(parseClasses(undefined, spec).length, 10);
  assert.equal(classId(spec, 'bird'), '2');
  assert.throws(() => parseClasses('zebra', spec), /--classes: unknown class "zebra"/);
  assert.throws(() => benchSpec('cifar100', undefined, tmpdir()), /no copy of the data exists on this machine/);
});

test('seeded choice in original order', () => {
  const a = chooseInOrder(100, 10, 3);
  assert.equal(a.length, 10);
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.deepEqual(a, chooseInOrder(100, 10, 3));
  assert.notDeepEqual(a, chooseInOrder(100, 10, 4));
  assert.deepEqual(chooseInOrder(5, 10, 1), [0, 1, 2, 3, 4]);
});

function idx(dims: number[], data: number[]): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 8;
  h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(data)]);
}

test('a reduced IDX copy keeps N training images per class and the whole test split', async () => {
  const src = mkdtempSync(join(tmpdir(), 'ss-src-'));
  // 12 training images 2x2: labels 0,1,2 four each; pixel value = index
  const labels = Array.from({ length: 12 }, (_, i) => i % 3);
  writeFileSync(join(src, 'train-labels-idx1-ubyte'), idx([12], labels));
  writeFileSync(join(src, 'train-images-idx3-ubyte'), idx([12, 2, 2], Array.from({ length: 48 }, (_, i) => Math.floor(i / 4))));
  writeFileSync(join(src, 't10k-labels-idx1-ubyte'), idx([3], [0, 1, 2]));
  writeFileSync(join(src, 't10k-images-idx3-ubyte'), idx([3, 2, 2], Array(12).fill(7)));
  const dest = join(mkdtempSync(join(tmpdir(), 'ss-dst-')), 'copy');
  subsampledCopy(src, dest, 2, 0);
  const cat = await readIdx(dest);
  const train = cat.items.filter((i) => i.split === 'train');
  assert.equal(train.length, 6);
  for (const c of ['0', '1', '2']) assert.equal(train.filter((i) => i.className === c).length, 2);
  assert.equal(cat.items.filter((i) => i.split === 'test').length, 3);
  assert.ok(lstatSync(join(dest, 't10k-images-idx3-ubyte')).isSymbolicLink());
  // images travel with their labels: image r has pixel value r, and r % 3 is its label
  const raw = readFileSync(join(dest, 'train-images-idx3-ubyte')).subarray(16);
  const lab = readFileSync(join(dest, 'train-labels-idx1-ubyte')).subarray(8);
  for (let k = 0; k < 6; k++) assert.equal(raw[k * 4] % 3, lab[k]);
  // reused while the marker matches
  assert.equal(subsampledCopy(src, dest, 2, 0), dest);
  // the grid's copy has no test files at all
  const noTest = join(mkdtempSync(join(tmpdir(), 'ss-nt-')), 'copy');
  subsampledCopy(src, noTest, 2, 0, false);
  const nt = await readIdx(noTest);
  assert.equal(nt.items.filter((i) => i.split === 'test').length, 0);
  assert.equal(nt.items.length, 6);
});

test('a reduced folder tree links N files per training class and the test folder', () => {
  const src = mkdtempSync(join(tmpdir(), 'ss-tree-'));
  for (const c of ['a', 'b']) {
    mkdirSync(join(src, 'train', c), { recursive: true });
    mkdirSync(join(src, 'test', c), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(src, 'train', c, `${i}.png`), 'x');
  }
  const dest = join(mkdtempSync(join(tmpdir(), 'ss-tree-dst-')), 'copy');
  subsampledCopy(src, dest, 3, 1);
  assert.equal(readdirSync(join(dest, 'train', 'a')).length, 3);
  assert.equal(readdirSync(join(dest, 'train', 'b')).length, 3);
  assert.ok(lstatSync(join(dest, 'test')).isSymbolicLink());
  // without the test split (the grid): a plain <class>/ tree of the training side
  const noTest = join(mkdtempSync(join(tmpdir(), 'ss-tree-nt-')), 'copy');
  subsampledCopy(src, noTest, 0, 1, false);
  assert.deepEqual(readdirSync(noTest).filter((n) => !n.startsWith('.')).sort(), ['a', 'b']);
  assert.equal(readdirSync(join(noTest, 'a')).length, 5);
});

test('ablation rows: autoencoder alone, + each loss alone, all losses (Table 2 weights when on)', () => {
  const rows = ablationRows();
  assert.deepEqual(rows.map((r) => r.id), ['recon', 'recon+patch', 'recon+latent', 'recon+normalAdv', 'recon+abc', 'recon+anomalyAdv', 'all']);
  assert.deepEqual(rows[0].weights, { recon: 1.5, abc: 0, normalAdv: 0, patch: 0, latent: 0, anomalyAdv: 0 });
  assert.equal(rows[4].weights.abc, PAPER_WEIGHTS.abc);
  assert.equal(rows[4].weights.patch, 0);
  assert.deepEqual(rows[6].weights, PAPER_WEIGHTS);
});
