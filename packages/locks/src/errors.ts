/** Why a locking call was rejected or could not continue. @public */
export type LocksErrorCode = 'BAD_NAME' | 'BAD_ARGUMENT' | 'DEADLOCK' | 'NOT_OWNER';

/**
 * A host-side error from \@sim/locks. `DEADLOCK` is thrown after the kernel's
 * report when the simulated kernel would hang for ever (a CPU spinning on a
 * lock its own context holds), so the simulation stops instead of looping.
 * @public
 */
export class LocksError extends Error {
  /** Machine-readable reason. */
  readonly code: LocksErrorCode;
  constructor(code: LocksErrorCode, message: string) {
    super(message);
    this.name = 'LocksError';
    this.code = code;
  }
}
