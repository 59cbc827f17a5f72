/** Synthetic defects: exact masks (nothing changes outside), area bounds, determinism, visibility. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noiseRegion, synthesizeDefect, SYNTHETIC_KINDS, type PixelBuf, type SyntheticKind } from '../../trainer/defects/synthetic';
import { Rng } from '../../trainer/rng';

/** A surface with a gradient, stripes and grain, like a ground tile: its std is well above zero. */
function surface(width: number, height: number, channels: 1 | 3, seed: number): PixelBuf {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = 90 + 40 * (x / width) + 15 * Math.sin(x * 0.9) + (rng.next() - 0.5) * 30;
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(base + c * 10)));
    }
  }
  return { data, width, height, channels };
}

function std(img: PixelBuf): number {
  let s = 0;
  let s2 = 0;
  for (const v of img.data) {
    s += v;
    s2 += v * v;
  }
  const m = s / img.data.length;
  return Math.sqrt(s2 / img.data.length - m * m);
}

interface Check {
  area: number;
  meanDelta: number;
}

/** Asserts the contract and returns what the visibility checks need. */
function check(img: PixelBuf, res: ReturnType<typeof synthesizeDefect>, minArea = 0.002, maxArea = 0.08): Check {
  const { width: W, height: H, channels: C } = img;
  const n = W * H;
  assert.equal(res.mask.length, n);
  assert.deepEqual([res.image.width, res.image.height, res.image.channels], [W, H, C]);
  let area = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const m = res.mask[i];
    assert.ok(m === 0 || m === 255, `mask value ${m}`);
    for (let c = 0; c < C; c++) {
      const d = Math.abs(res.image.data[i * C + c] - img.data[i * C + c]);
      if (!m) assert.equal(d, 0, `${res.kind}: pixel ${i % W},${Math.floor(i / W)} outside the mask changed`);
      else sum += d;
    }
    if (m) area++;
  }
  const minPix = Math.max(1, Math.ceil(minArea * n - 1e-9));
  const maxPix = Math.max(minPix, Math.floor(maxArea * n + 1e-9));
  assert.ok(area >= minPix && area <= maxPix, `${res.kind}: area ${area} not in [${minPix}, ${maxPix}]`);
  return { area, meanDelta: sum / (area * C) };
}

test('same seed, same bytes; another seed, another defect', () => {
  const img = surface(64, 48, 3, 1);
  for (const kind of SYNTHETIC_KINDS) {
    const a = synthesizeDefect(img, new Rng(7), { kinds: [kind] });
    const b = synthesizeDefect(img, new Rng(7), { kinds: [kind] });
    assert.deepEqual(a.image.data, b.image.data);
    assert.deepEqual(a.mask, b.mask);
    const c = synthesizeDefect(img, new Rng(8), { kinds: [kind] });
    assert.notDeepEqual(c.mask, a.mask, kind);
  }
});

test('every kind, 1 and 3 channels, several sizes: exact mask, area in bounds, a visible change, input untouched', () => {
  for (const [w, h] of [[128, 128], [16, 16], [37, 61], [61, 37]] as const) {
    for (const ch of [1, 3] as const) {
      const img = surface(w, h, ch, w * 100 + ch);
      const before = new Uint8Array(img.data);
      const bound = 0.5 * std(img);
      for (const kind of SYNTHETIC_KINDS) {
        let total = 0;
        const runs = 12;
        for (let s = 0; s < runs; s++) {
          const res = synthesizeDefect(img, new Rng(s * 31 + w), { kinds: [kind] });
          assert.equal(res.kind, kind);
          const { meanDelta } = check(img, res);
          total += meanDelta;
          // Each single defect must be visible, not just the average of many.
          assert.ok(meanDelta >= 4, `${kind} ${w}x${h}x${ch} seed ${s}: mean |Δ| ${meanDelta.toFixed(1)}`);
        }
        assert.ok(total / runs >= bound, `${kind} ${w}x${h}x${ch}: mean |Δ| ${(total / runs).toFixed(1)} < ${bound.toFixed(1)} (0.5 std)`);
      }
      assert.deepEqual(img.data, before);
    }
  }
});

test('a flat image still gets a visible defect of every kind (texture and cut-paste have nothing to copy)', () => {
  for (const v of [0, 128, 255]) {
    const img: PixelBuf = { data: new Uint8Array(40 * 40).fill(v), width: 40, height: 40, channels: 1 };
    for (const kind of SYNTHETIC_KINDS) {
      for (let s = 0; s < 5; s++) {
        const { meanDelta } = check(img, synthesizeDefect(img, new Rng(s), { kinds: [kind] }));
        assert.ok(meanDelta >= 4, `${kind} on flat ${v}: mean |Δ| ${meanDelta}`);
      }
    }
  }
});

test('custom area bounds hold exactly, including a narrow range and large defects', () => {
  const img = surface(50, 40, 1, 3);
  for (const [minArea, maxArea] of [[0.01, 0.012], [0.2, 0.3], [0.0001, 0.001]] as const) {
    for (const kind of SYNTHETIC_KINDS) {
      for (let s = 0; s < 6; s++) check(img, synthesizeDefect(img, new Rng(s), { kinds: [kind], minArea, maxArea }), minArea, maxArea);
    }
  }
});

test('a donor of another size and channel count supplies texture and cut-paste', () => {
  const img = surface(48, 48, 3, 4);
  const donor = surface(20, 30, 1, 5);
  for (const kind of ['texture', 'cutpaste'] as const) {
    for (let s = 0; s < 8; s++) check(img, synthesizeDefect(img, new Rng(s), { kinds: [kind], donor }));
  }
  const grey = surface(33, 33, 1, 6);
  for (let s = 0; s < 8; s++) check(grey, synthesizeDefect(grey, new Rng(s), { kinds: ['texture'], donor: img }));
});

test('each kind is reachable with the default kinds', () => {
  const img = surface(32, 32, 1, 9);
  const seen = new Set<SyntheticKind>();
  for (let s = 0; s < 60 && seen.size < SYNTHETIC_KINDS.length; s++) seen.add(synthesizeDefect(img, new Rng(s)).kind);
  assert.deepEqual([...seen].sort(), [...SYNTHETIC_KINDS].sort());
});

test('bad input is refused with a reason', () => {
  const img = surface(16, 16, 1, 1);
  assert.throws(() => synthesizeDefect({ ...img, data: new Uint8Array(5) }, new Rng(1)), /data has 5 bytes/);
  assert.throws(() => synthesizeDefect(img, new Rng(1), { kinds: [] }), /kinds is empty/);
  assert.throws(() => synthesizeDefect(img, new Rng(1), { kinds: ['dent' as SyntheticKind] }), /unknown kind/);
  assert.throws(() => synthesizeDefect(img, new Rng(1), { minArea: 0.5, maxArea: 0.1 }), /minArea <= maxArea/);
  // Raising one bound alone moves the other default out of its way.
  check(img, synthesizeDefect(img, new Rng(1), { minArea: 0.2 }), 0.2, 0.2);
});

test('noiseRegion: exact coverage, deterministic, one main blob', () => {
  for (const [w, h, cov] of [[40, 30, 0.5], [7, 5, 0.1], [1, 1, 1], [64, 64, 0.05]] as const) {
    const m = noiseRegion(w, h, new Rng(3), cov);
    const count = m.reduce((a, v) => a + (v ? 1 : 0), 0);
    assert.equal(count, Math.max(1, Math.round(cov * w * h)));
    assert.deepEqual(noiseRegion(w, h, new Rng(3), cov), m);
  }
  // The largest 4-connected component holds most of the region.
  const w = 60;
  const h = 60;
  const m = noiseRegion(w, h, new Rng(11), 0.4);
  const seen = new Uint8Array(w * h);
  let largest = 0;
  let total = 0;
  for (let i = 0; i < m.length; i++) {
    if (!m[i]) continue;
    total++;
    if (seen[i]) continue;
    let size = 0;
    const stack = [i];
    seen[i] = 1;
    while (stack.length) {
      const j = stack.pop()!;
      size++;
      const x = j % w;
      for (const k of [x > 0 ? j - 1 : -1, x < w - 1 ? j + 1 : -1, j - w, j + w]) {
        if (k >= 0 && k < m.length && m[k] && !seen[k]) {
          seen[k] = 1;
          stack.push(k);
        }
      }
    }
    largest = Math.max(largest, size);
  }
  assert.ok(largest >= 0.8 * total, `largest component ${largest} of ${total}`);
  assert.throws(() => noiseRegion(0, 5, new Rng(1), 0.5), /bad size/);
  assert.throws(() => noiseRegion(5, 5, new Rng(1), 0), /coverage/);
});
