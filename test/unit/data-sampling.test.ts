import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Catalog, CatalogItem } from '../../trainer/data/catalog';
import { MemoryImageSet } from '../../trainer/data/image-set';
import { clusterQuotas, sampleItems } from '../../trainer/data/sampling';
import { oneVsRestQuotas } from '../../trainer/data/protocol';
import { createRng } from '../../trainer/rng';

/** A catalog of 8x8 grey images held in memory; `mode` of item i decides how it looks. Modes
 * are distinct images (different bright quadrant + noise), i.e. separate clusters. */
function fakeCatalog(modes: number[], seed = 1): { cat: Catalog; mode: Map<CatalogItem, number> } {
  const rng = createRng(seed);
  const imgs = modes.map((m) => {
    const px = new Uint8Array(64);
    for (let p = 0; p < 64; p++) {
      const x = p % 8, y = Math.floor(p / 8);
      const q = (x >= 4 ? 1 : 0) + (y >= 4 ? 2 : 0);
      px[p] = Math.round((q === m % 4 ? 200 : 40) + (m >= 4 ? 30 : 0) + rng() * 20);
    }
    return px;
  });
  const items: CatalogItem[] = modes.map((_, i) => ({ className: 'c', source: `mem#${i}`, record: i }));
  const mode = new Map(items.map((it, i) => [it, modes[i]]));
  const cat: Catalog = {
    layout: 'memory', root: 'mem', items, classNames: ['c'], skipped: [], warnings: [], ignoredFiles: 0,
    decode: async (its, req) => {
      assert.equal(req.size, 8);
      const data = new Uint8Array(its.length * 64);
      its.forEach((it, k) => data.set(imgs[it.record!], k * 64));
      return { images: new MemoryImageSet(data, its.length, 8, 8, 1), kept: its.map((_, k) => k), skipped: [] };
    },
  };
  return { cat, mode };
}

function histogram(items: CatalogItem[], mode: Map<CatalogItem, number>, k: number): number[] {
  const h = new Array(k).fill(0);
  for (const it of items) h[mode.get(it)!]++;
  return h;
}

test('k-means sample keeps the class\'s cluster proportions (within 1 percentage point)', async () => {
  const sizes = [500, 300, 120, 60, 20];
  const modes = sizes.flatMap((n, m) => new Array(n).fill(m));
  const { cat, mode } = fakeCatalog(modes);
  const m = 200;
  const sample = await sampleItems(cat, cat.items, m, { method: 'kmeans', seed: 42, clusters: 5 });
  assert.equal(sample.length, m);
  assert.equal(new Set(sample).size, m, 'no duplicates');
  const h = histogram(sample, mode, 5);
  const total = sizes.reduce((a, b) => a + b, 0);
  sizes.forEach((n, c) => {
    const full = n / total;
    const got = h[c] / m;
    assert.ok(Math.abs(full - got) <= 0.01, `cluster ${c}: class ${(full * 100).toFixed(1)}% vs sample ${(got * 100).toFixed(1)}%`);
  });
  // Deterministic: same seed, same sample; another seed, another sample.
  const again = await sampleItems(cat, cat.items, m, { method: 'kmeans', seed: 42, clusters: 5 });
  assert.deepEqual(again.map((i) => i.source), sample.map((i) => i.source));
  const other = await sampleItems(cat, cat.items, m, { method: 'kmeans', seed: 43, clusters: 5 });
  assert.notDeepEqual(other.map((i) => i.source), sample.map((i) => i.source));
});

test('on a skewed class, random sampling can miss the small cluster; k-means sampling keeps it', async () => {
  // 990 images of one look, 10 of a rare look; draw 20 (expected 0.2 rare ones by chance).
  const modes = [...new Array(990).fill(0), ...new Array(10).fill(5)];
  const { cat, mode } = fakeCatalog(modes, 7);
  let randomMisses = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const r = await sampleItems(cat, cat.items, 20, { method: 'random', seed });
    if (histogram(r, mode, 6)[5] === 0) randomMisses++;
    const k = await sampleItems(cat, cat.items, 20, { method: 'kmeans', seed, clusters: 4 });
    assert.equal(k.length, 20);
    assert.ok(histogram(k, mode, 6)[5] >= 1, `k-means sample (seed ${seed}) contains the rare look`);
  }
  assert.ok(randomMisses >= 5, `random sampling missed the rare look in ${randomMisses}/10 seeds`);
});

test('cluster quotas: proportional, exact total, at least one per cluster when there is room', () => {
  assert.deepEqual(clusterQuotas([50, 30, 20], 10), [5, 3, 2]);
  assert.deepEqual(clusterQuotas([98, 1, 1], 10), [8, 1, 1]);
  assert.deepEqual(clusterQuotas([98, 1, 1], 2).reduce((a, b) => a + b, 0), 2);
  assert.deepEqual(clusterQuotas([3, 2], 10), [3, 2]);
  for (const m of [1, 7, 33, 99]) assert.equal(clusterQuotas([40, 33, 17, 9, 1], m).reduce((a, b) => a + b, 0), m);
});

test('one-vs-rest quotas give the paper\'s totals', () => {
  const mnist = new Map(Object.entries({ 0: 5923, 1: 6742, 2: 5958, 3: 6131, 4: 5842, 5: 5421, 6: 5918, 7: 6265, 8: 5851, 9: 5949 }));
  const q = oneVsRestQuotas(mnist, '1', undefined, 1);
  assert.equal(q.total, 6000);
  const v = [...q.quotas.values()];
  assert.equal(v.reduce((a, b) => a + b, 0), 6000);
  assert.ok(Math.max(...v) - Math.min(...v) <= 1);
  assert.equal(q.quotas.has('1'), false);
  const cifar = new Map(Array.from({ length: 10 }, (_, i) => [`c${i}`, 5000] as [string, number]));
  assert.equal(oneVsRestQuotas(cifar, 'c0', undefined, 1).total, 5000);
  const c100 = new Map(Array.from({ length: 20 }, (_, i) => [`s${i}`, 2500] as [string, number]));
  const q100 = oneVsRestQuotas(c100, 's3', undefined, 1);
  assert.equal([...q100.quotas.values()].reduce((a, b) => a + b, 0), 2500);
  assert.equal(q100.quotas.size, 19);
  const small = oneVsRestQuotas(new Map([['a', 100], ['b', 10]]), 'a', undefined, 1);
  assert.equal(small.quotas.get('b'), 10);
  assert.match(small.warnings[0], /only 10 training images/);
});
