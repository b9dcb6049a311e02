import * as constants from './constants.js';
import type { PageMap } from './page-map.js';
import type { Zone, ZoneLock } from './zone.js';
import * as zoneMod from './zone.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const { NR_PCP_LISTS, PAGE_ALLOC_COSTLY_ORDER_PCP, PCP_BATCH_SCALE_MAX } = constants;
const { ZONE_BELOW_HIGH, ZONE_RECLAIM_ACTIVE } = zoneMod;

/** `PCPF_PREV_FREE_HIGH_ORDER`: the previous free was of a high order. @internal */
export const PCPF_PREV_FREE_HIGH_ORDER = 1;
/** `PCPF_FREE_HIGH_BATCH`: keep a batch of high-order pages (large cache slice). @internal */
export const PCPF_FREE_HIGH_BATCH = 2;
// noteFree() reads module-local copies, which the JIT folds (exports are cells).
const PREV_FREE_HIGH_ORDER = PCPF_PREV_FREE_HIGH_ORDER;
const FREE_HIGH_BATCH = PCPF_FREE_HIGH_BATCH;

/**
 * One CPU's page cache for one zone (`struct per_cpu_pages`): lists per
 * (migratetype, order) of free pages, their page count, and the `high` /
 * `batch` limits with the kernel's auto-tuning (`nr_pcp_alloc()`,
 * `nr_pcp_high()`, `nr_pcp_free()` in mm/page_alloc.c).
 * @internal
 */
export class PerCpuPages {
  /** Pages on the lists (`count`). */
  count = 0;
  /** Current drain threshold (`high`). */
  high = 0;
  highMin = 0;
  highMax = 0;
  /** Pages moved per refill or drain (`batch`). */
  batch = 1;
  /** Consecutive freed pages, decayed on allocation (`free_count`). */
  freeCount = 0;
  /** Refill batch doubling exponent (`alloc_factor`). */
  allocFactor = 0;
  /** PCPF_* bits. */
  flags = 0;
  /** Head index of `lists[0]`. */
  readonly listBase: number;
  /** `pcp->lock`, taken only with trylock. */
  readonly lock: ZoneLock;

  constructor(
    pm: PageMap,
    lock: ZoneLock,
    readonly cpu: number,
  ) {
    this.lock = lock;
    let base = -1;
    for (let i = 0; i < NR_PCP_LISTS; i++) {
      const h = pm.takeHead();
      if (i === 0) base = h;
    }
    this.listBase = base;
  }

  /** `pageset_update()`. */
  setLimits(highMin: number, highMax: number, batch: number): void {
    this.highMin = highMin;
    this.highMax = highMax;
    this.batch = batch;
    if (this.high < highMin) this.high = highMin;
    if (this.high > highMax) this.high = highMax;
  }

  /** `nr_pcp_alloc()`: how many pages a refill takes from the buddy. */
  nrAlloc(zone: Zone, order: number): number {
    const base = this.batch;
    let high = Math.min(Math.max(this.high, this.highMin), this.highMax);
    this.high = high;
    if (high < base) return 1;
    let batch = order === 0 ? base << this.allocFactor : base;
    if (this.highMin !== this.highMax && (zone.flags & ZONE_BELOW_HIGH) === 0) {
      high = Math.min(high + batch, this.highMax);
      this.high = high;
    }
    if (order === 0) {
      const maxNrAlloc = Math.max(high - this.count - base, base);
      if (batch <= maxNrAlloc && this.allocFactor < PCP_BATCH_SCALE_MAX) this.allocFactor++;
      batch = Math.min(batch, maxNrAlloc);
    }
    if (batch > 1) batch = Math.max(batch >> order, 2);
    return batch;
  }

  /** `nr_pcp_high()`: the threshold above which a free drains the lists. */
  nrHigh(zone: Zone, freeHigh: boolean): number {
    const high = Math.min(Math.max(this.high, this.highMin), this.highMax);
    this.high = high;
    // The common case (auto-tuned high, nothing to trim) stays small enough to inline.
    if (
      high === 0 ||
      freeHigh ||
      (zone.flags & (ZONE_RECLAIM_ACTIVE | ZONE_BELOW_HIGH)) !== 0 ||
      this.count >= high
    ) {
      return this.nrHighAdjust(zone, freeHigh, high);
    }
    return high;
  }

  /** {@link PerCpuPages.nrHigh} when `high` shrinks or grows. */
  private nrHighAdjust(zone: Zone, freeHigh: boolean, highIn: number): number {
    const batch = this.batch;
    let high = highIn;
    if (high === 0) return 0;
    if (freeHigh) {
      this.high = Math.max(high - (batch << PCP_BATCH_SCALE_MAX), this.highMin);
      return 0;
    }
    if ((zone.flags & ZONE_RECLAIM_ACTIVE) !== 0) {
      const fc = Math.max(this.freeCount, batch);
      this.high = Math.max(high - fc, this.highMin);
      return Math.min(batch << 2, this.high);
    }
    if (this.highMin === this.highMax) return high;
    if ((zone.flags & ZONE_BELOW_HIGH) !== 0) {
      const fc = Math.max(this.freeCount, batch);
      this.high = Math.max(high - fc, this.highMin);
      high = Math.max(this.count, this.highMin);
    } else if (this.count >= high) {
      const need = this.freeCount + batch;
      if (this.high < need) this.high = Math.min(Math.max(need, this.highMin), this.highMax);
    }
    return high;
  }

  /** `nr_pcp_free()`: how many pages a drain returns to the buddy. */
  nrFree(high: number, freeHigh: boolean): number {
    let batch = this.batch;
    if (freeHigh) return Math.min(this.count, batch << PCP_BATCH_SCALE_MAX);
    if (high < batch) return 1;
    const minNr = batch;
    const maxNr = high - batch;
    batch = Math.min(Math.max(this.freeCount, minNr), maxNr);
    return batch;
  }

  /**
   * The bookkeeping of `free_frozen_page_commit()` after a page was added:
   * decay the refill factor, count the free, and decide whether a run of
   * high-order frees should drain everything (`free_high`).
   */
  noteFree(order: number): boolean {
    this.allocFactor >>= 1;
    let freeHigh = false;
    if (order > 0 && order <= PAGE_ALLOC_COSTLY_ORDER_PCP) freeHigh = this.noteHighOrderFree();
    else this.flags &= ~PREV_FREE_HIGH_ORDER;
    if (this.freeCount < this.batch << PCP_BATCH_SCALE_MAX) this.freeCount += 1 << order;
    return freeHigh;
  }

  /** {@link PerCpuPages.noteFree} of a costly-or-less high-order block: is this a run of them? */
  private noteHighOrderFree(): boolean {
    const freeHigh =
      this.freeCount >= this.batch + Math.floor(this.highMin / 2) &&
      (this.flags & PREV_FREE_HIGH_ORDER) !== 0 &&
      ((this.flags & FREE_HIGH_BATCH) === 0 || this.count >= this.batch);
    this.flags |= PREV_FREE_HIGH_ORDER;
    return freeHigh;
  }
}
