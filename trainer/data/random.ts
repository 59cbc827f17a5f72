/**
 * Seeded randomness for splits, sampling and augmentation. Every random choice in the data
 * pipeline goes through one of these so that the same seed gives the same data, on any machine
 * (Math.random cannot be seeded).
 */

/** mulberry32: tiny, fast, good enough statistically for sampling; returns floats in [0, 1). */
export function createRng(seed: number): () => number {
  let a = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent seed for a named sub-task, so adding one random step elsewhere
 * does not shift every other step's stream. */
export function subSeed(seed: number, label: string): number {
  let h = (Math.floor(seed) ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** In-place Fisher-Yates shuffle. */
export function shuffleInPlace<T>(arr: T[], rng: () => number): T[] {
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
