import {
  __GFP_DIRECT_RECLAIM,
  __GFP_HIGH,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_NOMEMALLOC,
} from '@sim/gfp';

/**
 * The page allocator's internal `ALLOC_*` flags (mm/internal.h). The low two
 * bits select the watermark; the rest grant access to reserves or change how
 * the allocation is made.
 */

/** Check the min watermark (`ALLOC_WMARK_MIN`). @public */
export const ALLOC_WMARK_MIN = 0;
/** Check the low watermark (`ALLOC_WMARK_LOW`), the fast path's mark. @public */
export const ALLOC_WMARK_LOW = 1;
/** Check the high watermark (`ALLOC_WMARK_HIGH`), used before the OOM killer. @public */
export const ALLOC_WMARK_HIGH = 2;
/** Mask of the watermark selector (`ALLOC_WMARK_MASK`). @public */
export const ALLOC_WMARK_MASK = 3;
/** Ignore watermarks entirely (`ALLOC_NO_WATERMARKS`). @public */
export const ALLOC_NO_WATERMARKS = 0x04;
/** OOM victim: may dip further into the min reserve (`ALLOC_OOM`). @public */
export const ALLOC_OOM = 0x08;
/** Caller cannot block: may use part of the min reserve with `ALLOC_MIN_RESERVE` (`ALLOC_NON_BLOCK`). @public */
export const ALLOC_NON_BLOCK = 0x10;
/** `__GFP_HIGH`: may use half of the min reserve (`ALLOC_MIN_RESERVE`). @public */
export const ALLOC_MIN_RESERVE = 0x20;
/** Honour cpuset memory policy (`ALLOC_CPUSET`). @public */
export const ALLOC_CPUSET = 0x40;
/** May use CMA areas (`ALLOC_CMA`); no CMA is configured here. @public */
export const ALLOC_CMA = 0x80;
/** Avoid fragmenting pageblocks on the first pass (`ALLOC_NOFRAGMENT`). @public */
export const ALLOC_NOFRAGMENT = 0x100;
/** May use, and reserve, high-order atomic pageblocks (`ALLOC_HIGHATOMIC`). @public */
export const ALLOC_HIGHATOMIC = 0x200;
/** Only trylock `zone->lock` (`ALLOC_TRYLOCK`, alloc_pages_nolock()). @public */
export const ALLOC_TRYLOCK = 0x400;
/** Wake kswapd (`ALLOC_KSWAPD`, the same bit as `__GFP_KSWAPD_RECLAIM`). @public */
export const ALLOC_KSWAPD = 0x800;
/** Any flag that grants access below the min watermark (`ALLOC_RESERVES`). @public */
export const ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

const NAMES: readonly [number, string][] = [
  [ALLOC_NO_WATERMARKS, 'ALLOC_NO_WATERMARKS'],
  [ALLOC_OOM, 'ALLOC_OOM'],
  [ALLOC_NON_BLOCK, 'ALLOC_NON_BLOCK'],
  [ALLOC_MIN_RESERVE, 'ALLOC_MIN_RESERVE'],
  [ALLOC_CPUSET, 'ALLOC_CPUSET'],
  [ALLOC_CMA, 'ALLOC_CMA'],
  [ALLOC_NOFRAGMENT, 'ALLOC_NOFRAGMENT'],
  [ALLOC_HIGHATOMIC, 'ALLOC_HIGHATOMIC'],
  [ALLOC_TRYLOCK, 'ALLOC_TRYLOCK'],
  [ALLOC_KSWAPD, 'ALLOC_KSWAPD'],
];
const WMARK_NAMES = ['ALLOC_WMARK_MIN', 'ALLOC_WMARK_LOW', 'ALLOC_WMARK_HIGH', 'ALLOC_WMARK_3'];

/**
 * Print alloc flags as `ALLOC_WMARK_MIN|ALLOC_NON_BLOCK|…`, the watermark
 * selector first (the kernel has no printer; this is for reports and tests).
 * @public
 */
export function formatAllocFlags(flags: number): string {
  const parts = [WMARK_NAMES[flags & ALLOC_WMARK_MASK]!];
  for (const [bit, name] of NAMES) if ((flags & bit) !== 0) parts.push(name);
  return parts.join('|');
}

/** What `gfp_to_alloc_flags()` needs to know about the caller. @public */
export interface AllocCaller {
  /** Current task is real-time or deadline (`rt_or_dl_task(current)`). */
  readonly rtTask: boolean;
  /** Running in task context (`in_task()`). */
  readonly inTask: boolean;
}

/**
 * The slow path's alloc flags for a mask: min watermark and cpuset, plus
 * `__GFP_HIGH` as MIN_RESERVE and `__GFP_KSWAPD_RECLAIM` as KSWAPD; callers
 * that cannot block (and did not say `__GFP_NOMEMALLOC`) get NON_BLOCK, and
 * HIGHATOMIC for high-order `__GFP_HIGH`; a non-blocking `__GFP_HIGH` ignores
 * cpusets; a blocking real-time task in task context gets MIN_RESERVE.
 * Models `gfp_to_alloc_flags()` (mm/page_alloc.c); no CMA, no defrag_mode.
 * @public
 */
export function gfpToAllocFlags(gfp: number, order: number, caller: AllocCaller): number {
  let flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
  flags |= gfp & (__GFP_HIGH | __GFP_KSWAPD_RECLAIM);
  if ((gfp & __GFP_DIRECT_RECLAIM) === 0) {
    if ((gfp & __GFP_NOMEMALLOC) === 0) {
      flags |= ALLOC_NON_BLOCK;
      if (order > 0 && (flags & ALLOC_MIN_RESERVE) !== 0) flags |= ALLOC_HIGHATOMIC;
    }
    if ((flags & ALLOC_MIN_RESERVE) !== 0) flags &= ~ALLOC_CPUSET;
  } else if (caller.rtTask && caller.inTask) {
    flags |= ALLOC_MIN_RESERVE;
  }
  return flags;
}

/** What `__gfp_pfmemalloc_flags()` needs to know about the caller. @public */
export interface PfmemallocCaller {
  /** `in_serving_softirq()`. */
  readonly inServingSoftirq: boolean;
  /** `in_interrupt()`. */
  readonly inInterrupt: boolean;
  /** `current->flags & PF_MEMALLOC`. */
  readonly pfMemalloc: boolean;
  /** `tsk_is_oom_victim(current)`. */
  readonly oomVictim: boolean;
}

/**
 * Full access to reserves: none with `__GFP_NOMEMALLOC`; no watermarks for
 * `__GFP_MEMALLOC`, for a PF_MEMALLOC task outside interrupts or serving a
 * softirq; ALLOC_OOM for an OOM victim outside interrupts; else 0. Models
 * `__gfp_pfmemalloc_flags()` (mm/page_alloc.c).
 * @public
 */
export function gfpPfmemallocFlags(gfp: number, caller: PfmemallocCaller): number {
  if ((gfp & __GFP_NOMEMALLOC) !== 0) return 0;
  if ((gfp & __GFP_MEMALLOC) !== 0) return ALLOC_NO_WATERMARKS;
  if (caller.inServingSoftirq && caller.pfMemalloc) return ALLOC_NO_WATERMARKS;
  if (!caller.inInterrupt) {
    if (caller.pfMemalloc) return ALLOC_NO_WATERMARKS;
    if (caller.oomVictim) return ALLOC_OOM;
  }
  return 0;
}

/**
 * The effective min watermark after the reserve discounts of
 * `__zone_watermark_ok()`: MIN_RESERVE halves it, NON_BLOCK on top takes a
 * further quarter (GFP_ATOMIC keeps 3/8), OOM halves what is left.
 * @public
 */
export function reserveAdjustedMark(mark: number, allocFlags: number): number {
  let min = mark;
  if ((allocFlags & ALLOC_RESERVES) !== 0) {
    if ((allocFlags & ALLOC_MIN_RESERVE) !== 0) {
      min -= Math.floor(min / 2);
      if ((allocFlags & ALLOC_NON_BLOCK) !== 0) min -= Math.floor(min / 4);
    }
    if ((allocFlags & ALLOC_OOM) !== 0) min -= Math.floor(min / 2);
  }
  return min;
}
