/** Why a physical-memory operation rejected its input. @public */
export type MemoryErrorCode =
  | 'BAD_SIZE'
  | 'BAD_ALIGN'
  | 'MISALIGNED'
  | 'OUT_OF_RANGE'
  | 'BAD_VALUE'
  | 'NO_MEMORY';

/**
 * A host-side error for invalid physical-memory input (the simulated
 * counterpart of an access the MMU would fault, or a `memblock_alloc()` that
 * cannot be satisfied). The message names the bad value and what is accepted;
 * it is thrown before any simulated state changes.
 * @public
 */
export class MemoryError extends Error {
  /** Machine-readable reason. */
  readonly code: MemoryErrorCode;

  constructor(code: MemoryErrorCode, message: string) {
    super(message);
    this.name = 'MemoryError';
    this.code = code;
  }
}
