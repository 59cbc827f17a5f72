/**
 * Per-image scores for eval's JSON (`images`): what a report needs to draw the score histogram and
 * to show the worst false positives and missed defects as thumbnails that open in the score
 * panel. Where items are crops of photos, one entry per photo (its highest crop score, anomalous
 * when any crop is), because a user opens photos, not crops.
 */
export interface ImageScore {
  /** The image file, or `file#index` for a record inside an IDX/CIFAR container. */
  path: string;
  className: string | null;
  anomaly: boolean;
  /** The model's own score (the one its threshold applies to). */
  score: number;
}

export function perImageScores(sources: readonly string[], scores: ArrayLike<number>, isAnomaly: ArrayLike<number>, classNames?: readonly string[]): ImageScore[] {
  if (sources.length !== scores.length || isAnomaly.length !== scores.length) throw new Error(`perImageScores: ${sources.length} sources, ${scores.length} scores, ${isAnomaly.length} labels`);
  const byPath = new Map<string, ImageScore>();
  for (let i = 0; i < sources.length; i++) {
    const anomaly = isAnomaly[i] === 1;
    const prev = byPath.get(sources[i]);
    if (!prev) {
      byPath.set(sources[i], { path: sources[i], className: classNames?.[i] ?? null, anomaly, score: scores[i] });
      continue;
    }
    prev.score = Math.max(prev.score, scores[i]);
    // A photo's class is that of its defect crops (its normal crops carry the normal class).
    if (anomaly && !prev.anomaly) prev.className = classNames?.[i] ?? prev.className;
    prev.anomaly ||= anomaly;
  }
  return [...byPath.values()];
}
