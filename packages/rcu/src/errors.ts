/** Why an RCU API call or option was rejected. @public */
export type RcuErrorCode =
  | 'BAD_OPTION'
  | 'UNKNOWN_OPTION'
  | 'BAD_ARGUMENT'
  | 'MISALIGNED_HEAD'
  | 'BAD_OFFSET'
  | 'BAD_CALLBACK'
  | 'BAD_PORT'
  | 'MODULE_UNLOADED'
  | 'ALREADY_CREATED';

/**
 * A host-side error for invalid RCU input (a bad option, a misaligned
 * `rcu_head`, an offset the kernel would refuse at build time…): the message
 * names the bad value and what is accepted. Thrown before any simulated state
 * changes, as the kernel's `BUILD_BUG_ON()` or a rejected boot parameter
 * would stop things before they run.
 * @public
 */
export class RcuError extends Error {
  /** Machine-readable reason. */
  readonly code: RcuErrorCode;

  constructor(code: RcuErrorCode, message: string) {
    super(message);
    this.name = 'RcuError';
    this.code = code;
  }
}

/** Render a value for an error message. @internal */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) {
    return String(v);
  }
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
