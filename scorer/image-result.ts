/**
 * One scoring call's last stage: the stitched maps of each job become its scores (on the tfjs
 * backend with the shared math of score.ts, images of equal working size batched together), and
 * then its ScoreResult at the image's own resolution, with the verdict and the familiarity reasons.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInfo } from './model-format';
import { patchCount } from './work-plan';
import { resampleFloat, toPixelValue } from './preprocess';
import { defectImageScore, patchMeans, scoreMap } from './score';
import { ScorerError } from './errors';
import { familiarityReasons } from './familiarity';
import { scorePercentile } from './percentile';
import { normalizeScore, type ScoreResult } from './result';
import type { Job } from './tile-run';

/** The results of `jobs`, in their order. Throws MODEL_CORRUPT on a non-finite score: a NaN would read as "normal". */
export async function resultsOf(info: ModelInfo, jobs: Job[], wantRec: boolean): Promise<ScoreResult[]> {
  const results: ScoreResult[] = new Array(jobs.length);
  const groups = new Map<string, number[]>();
  jobs.forEach((j, i) => groups.set(`${j.ww}x${j.wh}`, [...(groups.get(`${j.ww}x${j.wh}`) ?? []), i]));
  for (const idx of groups.values()) {
    const { ww, wh } = jobs[idx[0]];
    const flat = new Float32Array(idx.length * ww * wh);
    idx.forEach((ji, k) => flat.set(jobs[ji].err, k * ww * wh));
    const patch = info.score.patch;
    const k = Math.min(patch.topN, patchCount(wh, ww, patch));
    const [mean, top, tv, ti] = tf.tidy(() => {
      const map = tf.tensor3d(flat, [idx.length, wh, ww]);
      const pm = patchMeans(map, patch);
      const tk = tf.topk(pm, k);
      return [scoreMap(map, 'mean', patch), scoreMap(map, 'topPatch', patch), tk.values, tk.indices];
    });
    const [md, td, tvd, tid] = await Promise.all([mean.data(), top.data(), tv.data(), ti.data()]);
    tf.dispose([mean, top, tv, ti]);
    idx.forEach((ji, n) => {
      // A NaN compares false with the threshold and would read as "normal": no verdict instead.
      if (!Number.isFinite(md[n]) || !Number.isFinite(td[n]))
        throw new ScorerError('MODEL_CORRUPT', `${jobs.length > 1 ? `image ${ji}: ` : ''}the model gave a non-finite score (mean ${md[n]}, top patches ${td[n]}): its weights or the "normalization" in flawscope.json are broken, so no verdict can be given`);
      const j = jobs[ji];
      const dm = info.defectMap;
      const ps = dm && j.prob ? defectImageScore(j.prob, j.ww, j.wh, dm.imageScore) : null;
      if (ps !== null && !Number.isFinite(ps))
        throw new ScorerError('MODEL_CORRUPT', `${jobs.length > 1 ? `image ${ji}: ` : ''}the defect map (${dm!.file}) gave a non-finite probability: its weights are broken, so no verdict can be given`);
      results[ji] = finish(info, j, md[n], td[n], ps, Array.from(tvd.subarray(n * k, (n + 1) * k)), Array.from(tid.subarray(n * k, (n + 1) * k)), wantRec);
    });
  }
  return results;
}

/** `probScore`: the image score from the probability map (null without a defect map). */
function finish(info: ModelInfo, j: Job, mean: number, top: number, probScore: number | null, topVals: number[], topIdx: number[], wantRec: boolean): ScoreResult {
  const { width: w, height: h } = j.px;
  const C = info.input.channels;
  const patch = info.score.patch;
  const size = Math.min(patch.size, j.wh, j.ww);
  const cols = Math.floor((j.ww - size) / patch.stride) + 1;
  const fx = w / j.ww, fy = h / j.wh;
  const topPatches = topIdx.map((pi, n) => {
    const r = Math.floor(pi / cols), c = pi % cols;
    const x0 = Math.min(w - 1, Math.floor(c * patch.stride * fx)), y0 = Math.min(h - 1, Math.floor(r * patch.stride * fy));
    const x1 = Math.min(w, Math.max(x0 + 1, Math.ceil((c * patch.stride + size) * fx))), y1 = Math.min(h, Math.max(y0 + 1, Math.ceil((r * patch.stride + size) * fy)));
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0, score: topVals[n] };
  });
  const err = j.ww === w && j.wh === h ? j.err : resampleFloat(j.err, j.ww, j.wh, 1, w, h);
  const probability = j.prob && (j.ww === w && j.wh === h ? j.prob : resampleFloat(j.prob, j.ww, j.wh, 1, w, h));
  let rec = new Uint8ClampedArray(0);
  if (wantRec && j.rec) {
    const rf = j.ww === w && j.wh === h ? j.rec : resampleFloat(j.rec, j.ww, j.wh, C, w, h);
    rec = new Uint8ClampedArray(rf.length);
    const sd = info.preprocess?.standardize;
    if (sd && j.photo) {
      // Drawn at the photo's own exposure, not the standardised one the model saw.
      const { scale, offset } = info.normalization, g = j.photo.std / sd.std;
      for (let i = 0; i < rf.length; i++) rec[i] = Math.round(j.photo.mean + ((rf[i] - offset) / scale - sd.mean) * g);
    } else for (let i = 0; i < rf.length; i++) rec[i] = toPixelValue(rf[i], info.normalization);
  }
  const recKind = info.score.kind;
  const reconstructionScore = recKind === 'mean' ? mean : top;
  const dm = info.defectMap;
  const [score, kind] = dm && probScore !== null ? [probScore, dm.imageScore.kind] : [reconstructionScore, recKind];
  const reasons = familiarityReasons(info, j.facts, score, j.mode);
  return {
    score, kind, reconstructionScore, scores: { mean, topPatch: top },
    normalized: normalizeScore(score, info.threshold),
    isAnomaly: score > info.threshold,
    verdict: reasons.length ? 'unfamiliar' : score > info.threshold ? 'anomaly' : 'normal',
    reasons,
    percentile: scorePercentile(score, info.normalStats),
    facts: j.facts,
    threshold: info.threshold,
    width: w, height: h, errorMap: err, probability,
    reconstruction: { data: rec, width: w, height: h, channels: C },
    topPatches, tiles: j.tiles.length, image: j.px,
  };
}
