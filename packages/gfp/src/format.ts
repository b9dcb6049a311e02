import { type GfpDialectId, gfpDialect } from './dialect.js';
import { __GFP_NO_LOCKS } from './flags.js';

/** Options for {@link formatGfp}. @public */
export interface FormatGfpOptions {
  /** Kernel layout to print with; default `'7.x'`. */
  readonly dialect?: GfpDialectId;
  /**
   * Name the simulator's experimental bits (`__GFP_NO_LOCKS`); default true.
   * Pass false to print exactly as a kernel, which knows no such bit, would.
   */
  readonly experimental?: boolean;
}

/**
 * Print a mask as the kernel's `%pGg` does: walk the naming table in order,
 * print every entry whose bits are all still set and clear them, then print
 * any leftover bits as lower-case hex with `0x`. Zero prints as the empty
 * string. Models `format_flags()` with `gfpflag_names` (lib/vsprintf.c).
 * @example
 * ```ts
 * formatGfp(0x2cc0); // 'GFP_KERNEL|__GFP_NOWARN'
 * ```
 * @public
 */
export function formatGfp(mask: number, options: FormatGfpOptions = {}): string {
  let rest = mask >>> 0;
  if (rest === 0) return '';
  const names = gfpDialect(options.dialect).names;
  const experimental = options.experimental ?? true;
  let out = '';
  for (let i = 0; i < names.length && rest !== 0; i++) {
    const entry = names[i]!;
    if ((rest & entry.mask) >>> 0 !== entry.mask) continue;
    if (!experimental && entry.mask === __GFP_NO_LOCKS) continue;
    out += out === '' ? entry.name : `|${entry.name}`;
    rest = (rest & ~entry.mask) >>> 0;
  }
  if (rest !== 0) out += `${out === '' ? '' : '|'}0x${rest.toString(16)}`;
  return out;
}

/**
 * Print a mask as tracepoints do: like {@link formatGfp} but `none` for zero.
 * Models `show_gfp_flags()` (include/trace/events/mmflags.h).
 * @public
 */
export function showGfpFlags(mask: number, options: FormatGfpOptions = {}): string {
  return mask >>> 0 === 0 ? 'none' : formatGfp(mask, options);
}

/**
 * Print `mode:%#x(%pGg)`, the form used in allocation-failure reports.
 * Models the `mode:` field of `warn_alloc()` (mm/page_alloc.c).
 * @public
 */
export function formatGfpMode(mask: number, options: FormatGfpOptions = {}): string {
  const m = mask >>> 0;
  return `0x${m.toString(16)}(${formatGfp(m, options)})`;
}
