/** Every failure the scorer reports on purpose is a ScorerError with a stable `code`. */
export type ScorerErrorCode =
  | 'MODEL_MISSING' // model.json / flawscope.json not found
  | 'MODEL_CORRUPT' // not JSON, not a tf.io LayersModel, topology that does not build
  | 'WEIGHTS_MISSING'
  | 'WEIGHTS_SIZE' // weight file shorter/longer than the manifest says
  | 'MODEL_MISMATCH' // weights vs topology, or model vs flawscope.json
  | 'INFO_INVALID' // flawscope.json invalid or from a newer format version
  | 'IMAGE_INVALID' // 0-sized, wrong data length, unsupported channel count, undecodable
  | 'IMAGE_TOO_LARGE'
  | 'BACKEND' // requested backend unavailable
  | 'TIMEOUT'
  | 'DISPOSED';

export class ScorerError extends Error {
  readonly code: ScorerErrorCode;
  constructor(code: ScorerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'ScorerError';
    this.code = code;
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Resolves with the promise, or rejects with a TIMEOUT ScorerError after `ms` (the promise is left to settle on its own). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new ScorerError('TIMEOUT', `${what} did not finish within ${ms} ms`)), ms);
    p.then(
      (v) => { clearTimeout(t); resolve(v); },
      (e) => { clearTimeout(t); reject(e); },
    );
  });
}
