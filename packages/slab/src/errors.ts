/** Why a slab operation rejected its input. @public */
export type SlabErrorCode =
  | 'BAD_ARGUMENT'
  | 'BAD_SIZE'
  | 'BAD_FLAGS'
  | 'BAD_NAME'
  | 'BAD_CACHE'
  | 'BAD_NODE'
  | 'BAD_OPTION'
  | 'BAD_ADDRESS'
  | 'NO_MEMORY'
  | 'NO_RCU'
  | 'UNKNOWN_ALLOCATOR';

/**
 * A host-side error for invalid slab input (bad size, unknown flag, a cache
 * handle from another allocator, an unknown `slab=` name): it names the bad
 * value and what is accepted, and is thrown before any simulated state
 * changes.
 * @public
 */
export class SlabError extends Error {
  /** Machine-readable reason. */
  readonly code: SlabErrorCode;

  constructor(code: SlabErrorCode, message: string) {
    super(message);
    this.name = 'SlabError';
    this.code = code;
  }
}
