/** Why a GFP operation rejected its input. @public */
export type GfpErrorCode =
  | 'UNKNOWN_FLAG'
  | 'BAD_SYNTAX'
  | 'OUT_OF_RANGE'
  | 'MISMATCH'
  | 'UNKNOWN_DIALECT'
  | 'BAD_ZONE';

/**
 * A host-side error for invalid GFP input: it names the bad value and what is
 * accepted. Thrown before any simulated state changes.
 * @public
 */
export class GfpError extends Error {
  /** Machine-readable reason. */
  readonly code: GfpErrorCode;
  /** Closest valid names, for `UNKNOWN_FLAG`. */
  readonly suggestions: readonly string[];

  constructor(code: GfpErrorCode, message: string, suggestions: readonly string[] = []) {
    super(message);
    this.name = 'GfpError';
    this.code = code;
    this.suggestions = suggestions;
  }
}
