/** Brute-force references for map-derived scores (tests compare the scorer's fast paths with these). */

/** The largest k x k box mean of a w x h map: every window wholly inside the map. */
export function boxMax(m: ArrayLike<number>, w: number, h: number, k: number): number {
  let best = -Infinity;
  for (let y = 0; y + k <= h; y++)
    for (let x = 0; x + k <= w; x++) {
      let s = 0;
      for (let yy = y; yy < y + k; yy++) for (let xx = x; xx < x + k; xx++) s += m[yy * w + xx];
      best = Math.max(best, s / (k * k));
    }
  return best;
}
