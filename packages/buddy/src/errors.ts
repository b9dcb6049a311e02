/** Why the page allocator rejected a call or a configuration. @public */
export type BuddyErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_ORDER'
  | 'BAD_GFP'
  | 'BAD_PAGE'
  | 'BAD_ADDRESS'
  | 'BAD_NODE'
  | 'BAD_ARGUMENT'
  | 'NO_MEMORY';

/**
 * A host-side error for invalid input to the page allocator (a bad option,
 * an order that is not an integer, a pfn outside memory): it names the bad
 * value and what is accepted, and is thrown before any simulated state
 * changes. Misuse the kernel itself would detect (a double free, a free of a
 * tail page) is reported in the machine log instead, as `bad_page()` does.
 * @public
 */
export class BuddyError extends Error {
  /** Machine-readable reason. */
  readonly code: BuddyErrorCode;
  /** The option or argument that was wrong, when there is one. */
  readonly field: string;

  constructor(code: BuddyErrorCode, field: string, message: string) {
    super(message);
    this.name = 'BuddyError';
    this.code = code;
    this.field = field;
  }
}

/** Render a value for an error message. @internal */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
