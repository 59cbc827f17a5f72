/**
 * Seeded randomness: every random choice that must repeat per seed goes through here (Math.random
 * cannot be seeded). One generator, mulberry32, in two shapes:
 * - `Rng` (training: batch order, group choice). Its whole state is the `state` field, which a
 *   checkpoint saves (`seed`) and resume writes back, so the field's name and meaning are fixed.
 * - `createRng(seed)` (data pipeline: splits, sampling, augmentation), a `() => number` that starts
 *   from `seed` mixed with 0x9e3779b9. The two seedings differ and both are kept: changing either
 *   would change every saved split, sample or training run made with a given seed.
 */

/** mulberry32: tiny, fast, good enough statistically for sampling. */
export class Rng {
  constructor(private state: number) {
    this.state = state >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    return shuffleInPlace(a, () => this.next());
  }
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
  get seed(): number {
    return this.state;
  }
}

/** The data pipeline's generator: mulberry32 from `seed` (floored) mixed with 0x9e3779b9; floats in [0, 1). */
export function createRng(seed: number): () => number {
  const rng = new Rng((Math.floor(seed) ^ 0x9e3779b9) >>> 0);
  return () => rng.next();
}

/** Derives an independent seed for a named sub-task, so adding one random step elsewhere
 * does not shift every other step's stream. */
export function subSeed(seed: number, label: string): number {
  let h = (Math.floor(seed) ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** In-place Fisher-Yates shuffle (arrays and typed arrays). */
export function shuffleInPlace<A extends { length: number; [i: number]: any }>(arr: A, rng: () => number): A {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  return arr;
}

/** `k` distinct elements chosen uniformly at random (all of them, shuffled, when k >= length). */
export function sampleWithoutReplacement<T>(arr: readonly T[], k: number, rng: () => number): T[] {
  return shuffleInPlace(arr.slice(), rng).slice(0, Math.max(0, Math.min(k, arr.length)));
}
