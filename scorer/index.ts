/**
 * Flawscope scorer — browser ESM entry (dist/scorer/index.js). No Node-only imports; the Node
 * adapter lives in scorer/node.
 */
export { Scorer, tileStarts, tileCount, normalizeScore, tensorCount, DEFAULT_WORK_LIMITS, HEAT_LAYERS } from './scorer';
export type { LoadOptions, ScoreOptions, ScoreResult, OverlayOptions, TopPatch, WorkLimits, HeatLayer, Verdict } from './scorer';
export { familiarityReasons, percentiles } from './familiarity';
export type { TrainingImages, ImageFacts } from './familiarity';
export { scorePercentile, describePercentile } from './percentile';
export type { ScorePercentile } from './percentile';
export { ScorerError } from './errors';
export type { ScorerErrorCode } from './errors';
export type { ImageInput, PixelImage, ImageLimits } from './image';
export { DEFAULT_LIMITS } from './image';
export type { ModelSource, ModelFileReader } from './loader';
export { selectBackend } from './backend';
export type { BackendChoice, BackendName, BackendOptions, BackendResult } from './backend';
export { colormapLut, blendHeat } from './colormap';
export type { ColormapName } from './colormap';
export { FORMAT_VERSION, parseModelInfo, validateModelInfo, defaultPatchSpec, imageScoreLabel } from './model-format';
export type { FlipMode, ModelInfo, PatchSpec, ScoreKind, DefectMapSpec, DefectImageScore, DefectScoreKind } from './model-format';
export { NORMALIZATION, convertChannels, toInputTensor, resizePixels, resampleFloat } from './preprocess';
export { errorMap, patchMeans, topPatchScore, scoreMap, scoreBatchTensor, reconstructWithError, defectMapInput, defectImageScore } from './score';
