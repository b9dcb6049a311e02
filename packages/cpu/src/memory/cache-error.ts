/**
 * A host-side error for an invalid cache geometry or latency, or an invalid CPU
 * count for the cache model. `field` is the dotted path of the offending
 * setting (e.g. `l2.ways`); the message names the bad value and the accepted
 * range. Thrown before any model state is built.
 * @public
 */
export class CacheConfigError extends Error {
  /** Machine-readable reason; always `BAD_CONFIG`. */
  readonly code: 'BAD_CONFIG';
  /** Dotted path of the rejected setting, e.g. `llc.sizeBytes` or `nrCpus`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = 'CacheConfigError';
    this.code = 'BAD_CONFIG';
    this.field = field;
  }
}

/** Why a cache-model call rejected its arguments. @public */
export type CacheErrorCode = 'BAD_CPU' | 'BAD_ADDRESS' | 'BAD_SITE' | 'BAD_LABEL';

/**
 * A host-side error for misuse of the cache model's API (CPU id out of range,
 * negative or non-integer address, unknown site id, empty site label). Thrown
 * before any counter or cache state changes.
 * @public
 */
export class CacheError extends Error {
  /** Machine-readable reason. */
  readonly code: CacheErrorCode;

  constructor(code: CacheErrorCode, message: string) {
    super(message);
    this.name = 'CacheError';
    this.code = code;
  }
}
