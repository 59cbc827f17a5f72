/**
 * One error type for bad input. Every refusal that names a file, flag or field and says what to
 * do is an InputError (or a subclass); the CLI commands exit 2 on it and 1 on anything else, so
 * nothing is classified by its name or by the wording of its message.
 */
import { ScorerError, type ScorerErrorCode } from '../scorer/errors';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Scorer failures that come from what the user gave (a model folder, an image), not from a bug. */
const SCORER_INPUT_CODES: ReadonlySet<ScorerErrorCode> = new Set<ScorerErrorCode>([
  'MODEL_MISSING', 'MODEL_CORRUPT', 'WEIGHTS_MISSING', 'WEIGHTS_SIZE', 'MODEL_MISMATCH', 'INFO_INVALID', 'IMAGE_INVALID', 'IMAGE_TOO_LARGE', 'BACKEND',
]);

export function isInputError(e: unknown): boolean {
  return e instanceof InputError || (e instanceof ScorerError && SCORER_INPUT_CODES.has(e.code));
}
