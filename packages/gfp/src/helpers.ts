import * as flags from './flags.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const {
  __GFP_DIRECT_RECLAIM,
  __GFP_FS,
  __GFP_IO,
  __GFP_KSWAPD_RECLAIM,
  __GFP_NOLOCKDEP,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  GFP_ATOMIC,
  GFP_KERNEL,
  GFP_MOVABLE_MASK,
} = flags;

/**
 * Whether the caller may sleep in direct reclaim. Models
 * `gfpflags_allow_blocking()` (include/linux/gfp.h).
 * @public
 */
export function gfpflagsAllowBlocking(gfp: number): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0;
}

/**
 * Whether the allocator may spin on its (non-raw) locks. Every named GFP_*
 * mask allows it; only masks with no reclaim bit at all, which the `*_nolock`
 * APIs synthesise, mean "trylock only". Models `gfpflags_allow_spinning()`.
 * @public
 */
export function gfpflagsAllowSpinning(gfp: number): boolean {
  return (gfp & __GFP_RECLAIM) !== 0;
}

/** Whether reclaim may start IO (`gfp & __GFP_IO`). @public */
export function gfpHasIo(gfp: number): boolean {
  return (gfp & __GFP_IO) !== 0;
}

/** Whether reclaim may enter filesystems (`gfp & __GFP_FS`). @public */
export function gfpHasFs(gfp: number): boolean {
  return (gfp & __GFP_FS) !== 0;
}

/** Whether the allocation wakes kswapd (`__GFP_KSWAPD_RECLAIM`). @public */
export function gfpWakesKswapd(gfp: number): boolean {
  return (gfp & __GFP_KSWAPD_RECLAIM) !== 0;
}

/**
 * Migrate types in the kernel's order (`enum migratetype`).
 * @public
 */
export const MigrateType = {
  UNMOVABLE: 0,
  MOVABLE: 1,
  RECLAIMABLE: 2,
  HIGHATOMIC: 3,
} as const;
/** A migrate type. @public */
export type MigrateType = (typeof MigrateType)[keyof typeof MigrateType];

/**
 * The page mobility of an allocation: `(gfp & GFP_MOVABLE_MASK) >> 3`.
 * Setting both `__GFP_MOVABLE` and `__GFP_RECLAIMABLE` is a `VM_WARN_ON` in
 * the kernel and yields 3 here as there; callers that model the warning check
 * for it. Models `gfp_migratetype()` (include/linux/gfp.h).
 * @public
 */
export function gfpMigratetype(gfp: number): MigrateType {
  return ((gfp & GFP_MOVABLE_MASK) >>> 3) as MigrateType;
}

/**
 * The mask for an allocation made internally on behalf of another one: keep
 * the caller's context bits, never retry, never dip into reserves, never warn.
 * Models `gfp_nested_mask()` (include/linux/gfp.h).
 * @public
 */
export function gfpNestedMask(gfp: number): number {
  return (
    ((gfp & (GFP_KERNEL | GFP_ATOMIC | __GFP_NOLOCKDEP)) |
      __GFP_NORETRY |
      __GFP_NOMEMALLOC |
      __GFP_NOWARN) >>>
    0
  );
}
