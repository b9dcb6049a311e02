import { MAX_NR_ZONES } from './constants.js';

/**
 * The page allocator's event counters, a subset of `enum vm_event_item`
 * (include/linux/vm_event_item.h) as /proc/vmstat names them, plus the
 * simulator's own counts of allocation failures and kswapd wakeups (the
 * kernel prints failures but does not count them).
 * @public
 */
export interface VmEventCounts {
  /** Pages allocated, per zone slot (`pgalloc_dma`, `pgalloc_dma32`, `pgalloc_normal`, `pgalloc_movable`). */
  readonly pgalloc: readonly number[];
  /** Pages freed (`pgfree`). */
  readonly pgfree: number;
  /** Direct reclaim entries, per zone slot of the request (`allocstall_*`). */
  readonly allocstall: readonly number[];
  /** Pages scanned by kswapd (`pgscan_kswapd`). */
  readonly pgscanKswapd: number;
  /** Pages scanned by direct reclaim (`pgscan_direct`). */
  readonly pgscanDirect: number;
  /** Pages reclaimed by kswapd (`pgsteal_kswapd`). */
  readonly pgstealKswapd: number;
  /** Pages reclaimed by direct reclaim (`pgsteal_direct`). */
  readonly pgstealDirect: number;
  /** Active pages moved to the inactive list (`pgdeactivate`). */
  readonly pgdeactivate: number;
  /** Inactive pages promoted to the active list (`pgactivate`). */
  readonly pgactivate: number;
  /** Pages written to swap (`pswpout`). */
  readonly pswpout: number;
  /** Shrinker objects scanned (`slabs_scanned`). */
  readonly slabsScanned: number;
  /** kswapd balancing runs (`pageoutrun`). */
  readonly pageoutrun: number;
  /** OOM kills (`oom_kill`). */
  readonly oomKill: number;
  /** kswapd wakeups by allocations (simulator counter). */
  readonly kswapdWakeups: number;
  /** Allocations that returned NULL, warned or not (simulator counter). */
  readonly allocFail: number;
  /** `alloc_pages_nolock()` calls that returned NULL (simulator counter). */
  readonly nolockFail: number;
  /** Pages parked on `zone->trylock_free_pages` (simulator counter). */
  readonly deferredFrees: number;
}

/** Mutable counters behind {@link VmEventCounts}. @internal */
export class VmEvents {
  readonly pgalloc = new Float64Array(MAX_NR_ZONES);
  pgfree = 0;
  readonly allocstall = new Float64Array(MAX_NR_ZONES);
  pgscanKswapd = 0;
  pgscanDirect = 0;
  pgstealKswapd = 0;
  pgstealDirect = 0;
  pgdeactivate = 0;
  pgactivate = 0;
  pswpout = 0;
  slabsScanned = 0;
  pageoutrun = 0;
  oomKill = 0;
  kswapdWakeups = 0;
  allocFail = 0;
  nolockFail = 0;
  deferredFrees = 0;

  snapshot(): VmEventCounts {
    return {
      pgalloc: Array.from(this.pgalloc),
      pgfree: this.pgfree,
      allocstall: Array.from(this.allocstall),
      pgscanKswapd: this.pgscanKswapd,
      pgscanDirect: this.pgscanDirect,
      pgstealKswapd: this.pgstealKswapd,
      pgstealDirect: this.pgstealDirect,
      pgdeactivate: this.pgdeactivate,
      pgactivate: this.pgactivate,
      pswpout: this.pswpout,
      slabsScanned: this.slabsScanned,
      pageoutrun: this.pageoutrun,
      oomKill: this.oomKill,
      kswapdWakeups: this.kswapdWakeups,
      allocFail: this.allocFail,
      nolockFail: this.nolockFail,
      deferredFrees: this.deferredFrees,
    };
  }
}
