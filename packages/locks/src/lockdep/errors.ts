/** Why a lockdep call rejected its input. @public */
export type LockdepErrorCode =
  | 'BAD_NAME'
  | 'BAD_WAIT_TYPE'
  | 'BAD_LOCK_TYPE'
  | 'BAD_CLASS'
  | 'CLASS_MISMATCH'
  | 'TOO_MANY_CLASSES'
  | 'BAD_SUBCLASS'
  | 'BAD_READ'
  | 'BAD_ADDRESS'
  | 'BAD_SIZE'
  | 'BAD_MAP'
  | 'BAD_OPTION'
  | 'BAD_GFP';

/**
 * A host-side error for invalid lockdep input (bad class descriptor, unknown
 * class id, out-of-range subclass, misaligned address...). It names the bad
 * value and what is accepted, and is thrown before any lockdep state changes.
 * @public
 */
export class LockdepError extends Error {
  /** Machine-readable reason. */
  readonly code: LockdepErrorCode;

  constructor(code: LockdepErrorCode, message: string) {
    super(message);
    this.name = 'LockdepError';
    this.code = code;
  }
}
