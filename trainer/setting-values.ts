/**
 * The value lists train's settings are checked against (loss names, skip modes, backends), without
 * TensorFlow.js: trainer/train-options.ts imports them from here so the extension can bundle the
 * settings schema (the Train wizard's input checks) without pulling tfjs into the extension host.
 * losses.ts, model.ts and backend.ts re-export them for their own callers.
 */
import { BACKENDS_OF, type BackendOf } from '../shared/backends';

export interface LossWeights {
  recon: number;
  abc: number;
  normalAdv: number;
  patch: number;
  latent: number;
  anomalyAdv: number;
}

/** Table 2 of the paper. */
export const PAPER_WEIGHTS: Readonly<LossWeights> = { recon: 1.5, abc: 0.5, normalAdv: 0.5, patch: 1.5, latent: 0.5, anomalyAdv: 1.0 };

export type SkipMode = 'all' | 'no-outer' | 'none';
export const SKIP_MODES: readonly SkipMode[] = ['all', 'no-outer', 'none'];

/** Train's backends are shared/backends.ts's `train` list: one vocabulary, no copy here. */
export type BackendRequest = BackendOf<'train'>;
export const BACKEND_REQUESTS: readonly BackendRequest[] = BACKENDS_OF.train;
