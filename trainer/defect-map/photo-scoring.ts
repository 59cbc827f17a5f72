/**
 * How a trained defect map scores a photo, chosen on the whole validation photos: the tile stride
 * (stride-choice.ts) and then the image-score rule at that stride. The threshold and normalStats
 * are fitted by the caller on the returned scores, so all three describe the same scoring.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelInfo } from '../../scorer/model-format';
import type { PhotoRef } from '../data/map-data';
import { InputError } from '../data/types';
import { auroc, meanStd, quantile } from '../metrics';
import { chooseThresholdForFlag, smallSampleWarning } from '../threshold';
import { thresholdRequest } from '../train-config';
import type { TrainConfig } from '../train';
import { percentiles } from '../../scorer/familiarity';
import { bestRuleBy, IMAGE_SCORE_RULES, ruleName, type ImageScoreRule } from './evaluate';
import { chooseTileStride, STRIDE_BOOTSTRAP, type StrideChoice } from './stride-choice';
import { evaluatePhotos, evaluatePhotosAt, nullable, type PhotoEval } from './validate';

/**
 * The candidate strides for a model of tile side `size` when the user gave none: the whole tile
 * (side by side, the cheapest) and half of it (every pixel in four tiles, 4x the tiles). A quarter
 * tile is not a candidate: 16x the tiles of side by side, beyond issue 24's scoring budget, and
 * 4x the validation photos' evaluation time in the training.
 */
export function strideCandidates(size: number): number[] {
  return [...new Set([size, Math.max(1, Math.round(size / 2))])];
}

/** What flawscope.json records of the choice (config.defectMap.tileStride). */
export interface StrideRecord extends Omit<StrideChoice, 'text'> {
  /** 'validation': chosen by the rule; 'user': --tile-stride (config "tileStride") given, nothing compared. */
  source: 'validation' | 'user';
  /** The image-score rule chosen at each compared stride, by its validation image AUROC. */
  rules: Record<string, string>;
  bootstrap: typeof STRIDE_BOOTSTRAP;
}

export interface PhotoScoring {
  /** null: the model scores whole images, not tiles. */
  stride: number | null;
  rule: ImageScoreRule;
  /** The validation photos evaluated at the chosen stride (scores by every rule, pixel figures). */
  validation: PhotoEval;
  /** Validation image AUROC of every rule at the chosen stride. */
  ruleAuroc: Record<string, number | null>;
  record: StrideRecord | null;
  text: string | null;
}

/**
 * Evaluates the validation photos at each stride (`strides`: one when the user gave it), picks the
 * best image-score rule at each by validation image AUROC (or `fallbackRule` when validation lacks
 * normal or defect photos), then the stride by chooseTileStride on those rules' scores.
 */
export async function chooseScoring(
  generator: tfl.LayersModel, net: tfl.LayersModel, photos: PhotoRef[], genInfo: ModelInfo,
  o: { strides: number[] | null; source: 'validation' | 'user'; fallbackRule: ImageScoreRule; maxPixels?: number },
): Promise<PhotoScoring> {
  const prep = genInfo.preprocess ?? { mode: 'resize' as const, scale: 1 };
  if (!o.strides || prep.mode !== 'tile') {
    const vp = await evaluatePhotos(generator, net, photos, genInfo, o.maxPixels);
    return { stride: null, validation: vp, ...bestRule(vp, o.fallbackRule), record: null, text: null };
  }
  const strides = o.strides;
  const evals = new Map<number, { vp: PhotoEval; rule: ImageScoreRule; ruleAuroc: Record<string, number | null> }>();
  const vps = await evaluatePhotosAt(generator, net, photos, genInfo, strides, o.maxPixels);
  strides.forEach((stride, k) => evals.set(stride, { vp: vps[k], ...bestRule(vps[k], o.fallbackRule) }));
  const labels = photos.map((p) => p.isAnomaly);
  const choice = chooseTileStride(strides.map((stride) => ({ stride, scores: scoresAt(evals.get(stride)!) })), labels);
  const chosen = evals.get(choice.stride)!;
  const { text, ...rest } = choice;
  const rules = Object.fromEntries(strides.map((s) => [String(s), ruleName(evals.get(s)!.rule)]));
  return {
    stride: choice.stride, rule: chosen.rule, validation: chosen.vp, ruleAuroc: chosen.ruleAuroc,
    record: { ...rest, source: o.source, rules, bootstrap: STRIDE_BOOTSTRAP },
    text: o.source === 'user' ? `tile stride ${choice.stride} px, as given (--tile-stride): no stride compared` : text,
  };
}

const scoresAt = (e: { vp: PhotoEval; rule: ImageScoreRule }) => e.vp.scores[ruleName(e.rule)];

function bestRule(vp: PhotoEval, fallback: ImageScoreRule): { rule: ImageScoreRule; ruleAuroc: Record<string, number | null> } {
  const hasBoth = vp.labels.some((v) => v) && vp.labels.some((v) => !v);
  const ruleAuroc: Record<string, number | null> = {};
  for (const r of IMAGE_SCORE_RULES) ruleAuroc[ruleName(r)] = hasBoth ? nullable(auroc(vp.scores[ruleName(r)], vp.labels)) : null;
  if (!hasBoth) return { rule: fallback, ruleAuroc };
  return { rule: bestRuleBy(ruleAuroc, fallback), ruleAuroc };
}

/**
 * The deployment threshold (trainer/threshold.ts: --false-alarm-rate R, default 1 %, or
 * --defect-rate P) and normalStats, on the validation photos' image scores at the chosen stride
 * and rule. The map's scores are probabilities, so the bound is fitted on their logits.
 */
export function deployedThreshold(scores: number[], labels: number[], cfg: Pick<TrainConfig, 'validationFraction' | 'falseAlarmRate' | 'defectRate'>) {
  const normalScores = scores.filter((_, i) => !labels[i]);
  const anomalyScores = scores.filter((_, i) => labels[i]);
  if (normalScores.length === 0) throw new InputError(`--validation-fraction ${cfg.validationFraction}: the validation split holds no normal photo; raise it or add normal images — the threshold is set on them`);
  const request = thresholdRequest(cfg as TrainConfig);
  const choice = chooseThresholdForFlag(normalScores, anomalyScores, request, 'probability');
  const few = request.method === 'false-alarm-rate' ? smallSampleWarning(choice.normals, request.target, 'the validation photos') : null;
  const { mean, std } = meanStd(normalScores);
  return {
    threshold: Math.max(0, choice.threshold), request, choice, warning: few ? `threshold: ${few}` : null,
    normalStats: { mean, std, p95: quantile(normalScores, 0.95), p99: quantile(normalScores, 0.99), count: normalScores.length, quantiles: percentiles(normalScores) },
  };
}
