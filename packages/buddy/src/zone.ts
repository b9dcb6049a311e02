import * as allocFlagsMod from './alloc-flags.js';
import * as constants from './constants.js';
import type { PageMap } from './page-map.js';
import * as pageMap from './page-map.js';
import type { PerCpuPages } from './pcp.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const {
  ALLOC_HIGHATOMIC,
  ALLOC_KSWAPD,
  ALLOC_MIN_RESERVE,
  ALLOC_NOFRAGMENT,
  ALLOC_NON_BLOCK,
  ALLOC_OOM,
  ALLOC_RESERVES,
  ALLOC_WMARK_MASK,
  ALLOC_WMARK_MIN,
  reserveAdjustedMark,
} = allocFlagsMod;
const {
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MIGRATE_HIGHATOMIC,
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE,
  MIGRATE_TYPES,
  MIGRATE_UNMOVABLE,
  NR_PAGE_ORDERS,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
  ZONE_SLOT_NAMES,
} = constants;
const { PageFlag, PageState } = pageMap;

/** Zone flag: free pages were below the high watermark (`ZONE_BELOW_HIGH`). @internal */
export const ZONE_BELOW_HIGH = 1;
/** Zone flag: kswapd or direct reclaim is active (`ZONE_RECLAIM_ACTIVE`). @internal */
export const ZONE_RECLAIM_ACTIVE = 2;
/** Zone flag: a watermark boost is pending a kswapd wakeup (`ZONE_BOOSTED_WATERMARK`). @internal */
export const ZONE_BOOSTED_WATERMARK = 4;

/** `watermark_boost_factor` default: boost up to 150% of the high watermark. @internal */
export const WATERMARK_BOOST_FACTOR = 15000;

// The fallback order when a migratetype's lists are empty (`fallbacks[]`).
const FALLBACKS: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE],
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE],
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE],
];

/** A zone's lock as the allocator uses it: a `@sim/locks` SpinLock fits. @public */
export interface ZoneLock {
  /** `spin_lock()`. */
  lock(): void;
  /** `spin_unlock()`. */
  unlock(): void;
  /** `spin_trylock()`. */
  trylock(): boolean;
  /** `pcpu_spin_trylock()`: pin the task to this CPU, then `spin_trylock()`; unpinned again on failure. */
  pinTrylock(): boolean;
  /** `pcpu_spin_unlock()`: `spin_unlock()`, then drop the pin. */
  unlockUnpin(): void;
  /** `spin_lock_irqsave()`: returns the saved flags. */
  lockIrqsave(): number;
  /** `spin_unlock_irqrestore()`. */
  unlockIrqrestore(flags: number): void;
  /** `spin_trylock_irqsave()`: the flags, or -1 (irqs restored) when the lock is taken. */
  trylockIrqsave(): number;
  /** `spin_is_locked()`. */
  isLocked(): boolean;
}

/**
 * One memory zone (`struct zone`, include/linux/mmzone.h): its span, free
 * areas per order and migratetype, watermarks, lowmem reserves and the
 * counters /proc prints. The methods here are the operations the kernel does
 * with `zone->lock` held (mm/page_alloc.c: `__free_one_page()`, `expand()`,
 * `__rmqueue_smallest()`, `__rmqueue_claim()`, `__rmqueue_steal()`,
 * `__zone_watermark_ok()`); locking and the per-CPU lists live in the
 * allocator.
 * @internal
 */
export class Zone {
  /** Global zone id (index in the allocator's zone table). */
  readonly id: number;
  /** Node id. */
  readonly nid: number;
  /** Zone slot (`zone_idx()`). */
  readonly slot: number;
  /** Name as printed (`zone->name`). */
  readonly name: string;
  /** First pfn (`zone_start_pfn`). */
  readonly startPfn: number;
  /** One past the last pfn. */
  readonly endPfn: number;
  /** Pages spanned, holes included (`spanned_pages`). */
  readonly spanned: number;
  /** Pages present (`present_pages`). */
  readonly present: number;
  /** Pages handed to the buddy allocator (`managed_pages`). */
  managed = 0;
  /** Head index of `free_area[0].free_list[0]`. */
  readonly freeBase: number;
  /** `free_area[order].nr_free`: free blocks per order. */
  readonly nrFree = new Int32Array(NR_PAGE_ORDERS);
  /** NR_FREE_PAGES. */
  freePages = 0;
  /** Free pages on MIGRATE_HIGHATOMIC lists (`nr_free_highatomic`). */
  nrFreeHighatomic = 0;
  /** Pages in MIGRATE_HIGHATOMIC pageblocks (`nr_reserved_highatomic`). */
  nrReservedHighatomic = 0;
  /** Watermarks in pages. */
  wmarkMin = 0;
  wmarkLow = 0;
  wmarkHigh = 0;
  wmarkPromo = 0;
  /** `watermark_boost`. */
  watermarkBoost = 0;
  /** `lowmem_reserve[]` by zone slot. */
  readonly lowmemReserve = new Int32Array(MAX_NR_ZONES);
  /** ZONE_* flag bits. */
  flags = 0;
  /** Pages allocated from this zone (`pgalloc_<zone>`). */
  pgalloc = 0;
  /** LRU pages per list: inactive anon, active anon, inactive file, active file. */
  readonly lruPages = new Int32Array(4);
  /** Per-CPU list `high_min`/`high_max`/`batch` defaults (`pageset_*`). */
  pagesetHighMin = 0;
  pagesetHighMax = 0;
  pagesetBatch = 1;
  /** `zone->per_cpu_pageset`: each CPU's lists for this zone, by CPU id. */
  readonly perCpuPageset: PerCpuPages[] = [];

  private readonly pm: PageMap;

  constructor(
    pm: PageMap,
    id: number,
    nid: number,
    slot: number,
    startPfn: number,
    endPfn: number,
  ) {
    this.pm = pm;
    this.id = id;
    this.nid = nid;
    this.slot = slot;
    this.name = ZONE_SLOT_NAMES[slot]!;
    this.startPfn = startPfn;
    this.endPfn = endPfn;
    this.spanned = endPfn - startPfn;
    this.present = endPfn - startPfn;
    let base = -1;
    for (let i = 0; i < NR_PAGE_ORDERS * MIGRATE_TYPES; i++) {
      const h = pm.takeHead();
      if (i === 0) base = h;
    }
    this.freeBase = base;
  }

  /** Whether the zone has pages (`populated_zone()`). */
  get populated(): boolean {
    return this.present > 0;
  }

  /** The head index of `free_area[order].free_list[mt]`. */
  freeHead(order: number, mt: number): number {
    return this.freeBase + order * MIGRATE_TYPES + mt;
  }

  /** Watermark selected by `ALLOC_WMARK_*` (`wmark_pages()`, boost included). */
  wmark(allocFlags: number): number {
    const w = allocFlags & ALLOC_WMARK_MASK;
    const base = w === 0 ? this.wmarkMin : w === 1 ? this.wmarkLow : this.wmarkHigh;
    return base + this.watermarkBoost;
  }

  /** `zone_spans_pfn()`. */
  spans(pfn: number): boolean {
    return pfn >= this.startPfn && pfn < this.endPfn;
  }

  // ---- free lists (zone->lock held) -----------------------------------------------

  /** `__add_to_free_list()` + `set_buddy_order()` + `account_freepages()`. */
  addToFreeList(pfn: number, order: number, mt: number, tail: boolean): void {
    const pm = this.pm;
    pm.state[pfn] = PageState.BUDDY;
    pm.order[pfn] = order;
    const head = this.freeHead(order, mt);
    if (tail) pm.addTail(pfn, head);
    else pm.add(pfn, head);
    pm.touch(pfn);
    this.nrFree[order]!++;
    this.freePages += 1 << order;
    if (mt === MIGRATE_HIGHATOMIC) this.nrFreeHighatomic += 1 << order;
  }

  /** `del_page_from_free_list()` + `account_freepages()`; the page's state is left to the caller. */
  delFromFreeList(pfn: number, order: number, mt: number): void {
    const pm = this.pm;
    pm.del(pfn);
    this.nrFree[order]!--;
    this.freePages -= 1 << order;
    if (mt === MIGRATE_HIGHATOMIC) this.nrFreeHighatomic -= 1 << order;
  }

  /** `move_to_free_list()`: move a free block to another migratetype's list. */
  moveToFreeList(pfn: number, order: number, oldMt: number, newMt: number): void {
    const pm = this.pm;
    pm.del(pfn);
    pm.addTail(pfn, this.freeHead(order, newMt));
    if (oldMt === MIGRATE_HIGHATOMIC) this.nrFreeHighatomic -= 1 << order;
    if (newMt === MIGRATE_HIGHATOMIC) this.nrFreeHighatomic += 1 << order;
  }

  /** Migratetype of the pageblock holding `pfn` (`get_pfnblock_migratetype()`). */
  blockMt(pfn: number): number {
    return this.pm.blockMt[pfn >>> PAGEBLOCK_ORDER]!;
  }

  /** `set_pageblock_migratetype()`. */
  setBlockMt(pfn: number, mt: number): void {
    this.pm.blockMt[pfn >>> PAGEBLOCK_ORDER] = mt;
  }

  /** `page_is_buddy()`: `buddy` is the head of a free block of `order` in this zone. */
  private isBuddy(buddy: number, order: number): boolean {
    const pm = this.pm;
    if (buddy < this.startPfn || buddy >= this.endPfn) return false;
    pm.inspect(buddy);
    return (
      pm.state[buddy] === PageState.BUDDY &&
      pm.order[buddy] === order &&
      pm.zone[buddy] === this.id + 1
    );
  }

  /**
   * Free a block and merge it with its free buddies up to MAX_PAGE_ORDER.
   * Blocks of a pageblock or more only merge with compatible migratetypes.
   * A block whose next-order buddy is free goes to the list tail, where it
   * is less likely to be split again (`buddy_merge_likely()`). Models
   * `__free_one_page()`.
   */
  freeOnePage(pfn: number, order: number, mt: number, toTail: boolean): void {
    const pm = this.pm;
    while (order < MAX_PAGE_ORDER) {
      const buddy = pfn ^ (1 << order);
      if (!this.isBuddy(buddy, order)) break;
      let buddyMt = mt;
      if (order >= PAGEBLOCK_ORDER) {
        buddyMt = this.blockMt(buddy);
        if (buddyMt !== mt && (mt >= MIGRATE_PCPTYPES || buddyMt >= MIGRATE_PCPTYPES)) break;
      }
      this.delFromFreeList(buddy, order, buddyMt);
      if (buddyMt !== mt) this.setBlockMt(buddy, mt);
      const combined = pfn & buddy;
      const upper = combined === pfn ? buddy : pfn;
      pm.state[upper] = PageState.TAIL;
      pm.touch(upper);
      pfn = combined;
      order++;
    }
    let tail = toTail;
    if (!tail && order < MAX_PAGE_ORDER - 1) {
      // buddy_merge_likely(): the next-order buddy is free, so keep this block
      // at the tail where it has time to merge.
      const higher = pfn & ~((1 << (order + 1)) - 1);
      const higherBuddy = higher ^ (1 << (order + 1));
      tail = this.isBuddy(higherBuddy, order + 1);
    }
    this.addToFreeList(pfn, order, mt, tail);
  }

  /**
   * Free a block of any order as pageblock-sized (or smaller) pieces, each
   * with its own pageblock's migratetype. Models `split_large_buddy()`.
   */
  freeSplitLarge(pfn: number, order: number, toTail: boolean): void {
    const end = pfn + (1 << order);
    const o = Math.min(order, PAGEBLOCK_ORDER);
    const pm = this.pm;
    for (let p = pfn; p < end; p += 1 << o) {
      if (p !== pfn) pm.state[p] = PageState.TAIL;
      this.freeOnePage(p, o, this.blockMt(p), toTail);
    }
  }

  /** `expand()`: put the upper halves of a split block back on the free lists. */
  expand(pfn: number, low: number, high: number, mt: number): void {
    while (high > low) {
      high--;
      this.addToFreeList(pfn + (1 << high), high, mt, false);
    }
  }

  /** `__rmqueue_smallest()`: the smallest free block of `mt` at or above `order`, split down. */
  rmqueueSmallest(order: number, mt: number): number {
    const pm = this.pm;
    for (let cur = order; cur < NR_PAGE_ORDERS; cur++) {
      if (this.nrFree[cur] === 0) continue;
      const head = this.freeHead(cur, mt);
      const pfn = pm.next[head]!;
      if (pfn === head) continue;
      this.delFromFreeList(pfn, cur, mt);
      this.expand(pfn, order, cur, mt);
      return pfn;
    }
    return -1;
  }

  /** `should_try_claim_block()`. */
  private shouldTryClaimBlock(order: number, startMt: number): boolean {
    if (order >= PAGEBLOCK_ORDER) return true;
    if (order >= PAGEBLOCK_ORDER / 2) return true;
    return startMt === MIGRATE_RECLAIMABLE || startMt === MIGRATE_UNMOVABLE;
  }

  /** `find_suitable_fallback()`: -2 stop claiming, -1 none at this order, else the fallback type. */
  private findSuitableFallback(order: number, mt: number, claimable: boolean): number {
    if (claimable && !this.shouldTryClaimBlock(order, mt)) return -2;
    if (this.nrFree[order] === 0) return -1;
    const fb = FALLBACKS[mt]!;
    for (let i = 0; i < fb.length; i++) {
      const f = fb[i]!;
      if (!this.pm.isEmpty(this.freeHead(order, f))) return f;
    }
    return -1;
  }

  /** `__move_freepages_block()`: move every free block of a pageblock to `newMt`'s lists. */
  private moveFreepagesBlock(start: number, oldMt: number, newMt: number): number {
    const pm = this.pm;
    const end = start + PAGEBLOCK_NR_PAGES;
    let moved = 0;
    for (let p = start; p < end; ) {
      if (pm.state[p] !== PageState.BUDDY) {
        p++;
        continue;
      }
      const o = pm.order[p]!;
      this.moveToFreeList(p, o, oldMt, newMt);
      p += 1 << o;
      moved += 1 << o;
    }
    return moved;
  }

  /** `boost_watermark()`. */
  private boostWatermark(): boolean {
    if (PAGEBLOCK_NR_PAGES * 4 > this.managed) return false;
    let maxBoost = Math.floor((this.wmarkHigh * WATERMARK_BOOST_FACTOR) / 10000);
    if (maxBoost === 0) return false;
    maxBoost = Math.max(PAGEBLOCK_NR_PAGES, maxBoost);
    this.watermarkBoost = Math.min(this.watermarkBoost + PAGEBLOCK_NR_PAGES, maxBoost);
    return true;
  }

  /**
   * `try_to_claim_block()`: take over a whole fallback pageblock when at
   * least half of it is free or compatible, then allocate from it.
   */
  private tryToClaimBlock(
    pfn: number,
    cur: number,
    order: number,
    startMt: number,
    blockType: number,
    allocFlags: number,
  ): number {
    const pm = this.pm;
    if (cur >= PAGEBLOCK_ORDER) {
      this.delFromFreeList(pfn, cur, blockType);
      for (let b = 0; b < 1 << (cur - PAGEBLOCK_ORDER); b++) {
        this.setBlockMt(pfn + b * PAGEBLOCK_NR_PAGES, startMt);
      }
      this.expand(pfn, order, cur, startMt);
      return pfn;
    }
    if (this.boostWatermark() && (allocFlags & ALLOC_KSWAPD) !== 0) {
      this.flags |= ZONE_BOOSTED_WATERMARK;
    }
    const start = pfn & ~(PAGEBLOCK_NR_PAGES - 1);
    if (!this.spans(start) || !this.spans(start + PAGEBLOCK_NR_PAGES - 1)) return -1;
    let free = 0;
    let movable = 0;
    for (let p = start; p < start + PAGEBLOCK_NR_PAGES; ) {
      if (pm.state[p] === PageState.BUDDY) {
        free += 1 << pm.order[p]!;
        p += 1 << pm.order[p]!;
        continue;
      }
      if ((pm.flags[p]! & PageFlag.LRU) !== 0) movable++;
      p++;
    }
    let alike: number;
    if (startMt === MIGRATE_MOVABLE) alike = movable;
    else if (blockType === MIGRATE_MOVABLE) alike = PAGEBLOCK_NR_PAGES - (free + movable);
    else alike = 0;
    if (free + alike >= 1 << (PAGEBLOCK_ORDER - 1)) {
      this.moveFreepagesBlock(start, blockType, startMt);
      this.setBlockMt(start, startMt);
      return this.rmqueueSmallest(order, startMt);
    }
    return -1;
  }

  /** `__rmqueue_claim()`: claim the largest fallback block available. */
  private rmqueueClaim(order: number, startMt: number, allocFlags: number): number {
    let minOrder = order;
    if (order < PAGEBLOCK_ORDER && (allocFlags & ALLOC_NOFRAGMENT) !== 0)
      minOrder = PAGEBLOCK_ORDER;
    for (let cur = MAX_PAGE_ORDER; cur >= minOrder; cur--) {
      const fb = this.findSuitableFallback(cur, startMt, true);
      if (fb === -1) continue;
      if (fb === -2) break;
      const pfn = this.pm.next[this.freeHead(cur, fb)]!;
      const got = this.tryToClaimBlock(pfn, cur, order, startMt, fb, allocFlags);
      if (got >= 0) return got;
    }
    return -1;
  }

  /** `__rmqueue_steal()`: take one block from a fallback type, leaving its pageblock's type. */
  private rmqueueSteal(order: number, startMt: number): number {
    for (let cur = order; cur < NR_PAGE_ORDERS; cur++) {
      const fb = this.findSuitableFallback(cur, startMt, false);
      if (fb < 0) continue;
      const pfn = this.pm.next[this.freeHead(cur, fb)]!;
      this.delFromFreeList(pfn, cur, fb);
      this.expand(pfn, order, cur, fb);
      return pfn;
    }
    return -1;
  }

  /**
   * `__rmqueue()`: the requested migratetype first, then claiming a fallback
   * pageblock, then (unless avoiding fragmentation) stealing from one.
   * Returns the head pfn (state still to be set by the caller) or -1.
   */
  rmqueue(order: number, mt: number, allocFlags: number): number {
    let pfn = this.rmqueueSmallest(order, mt);
    if (pfn >= 0) return pfn;
    pfn = this.rmqueueClaim(order, mt, allocFlags);
    if (pfn >= 0) return pfn;
    if ((allocFlags & ALLOC_NOFRAGMENT) === 0) pfn = this.rmqueueSteal(order, mt);
    return pfn;
  }

  /**
   * The buddy part of `rmqueue_buddy()` with the lock held: the high-atomic
   * reserve for ALLOC_HIGHATOMIC, else `__rmqueue()`, falling back to the
   * reserve for OOM and non-blocking callers.
   */
  rmqueueLocked(order: number, mt: number, allocFlags: number): number {
    let pfn = -1;
    if ((allocFlags & ALLOC_HIGHATOMIC) !== 0)
      pfn = this.rmqueueSmallest(order, MIGRATE_HIGHATOMIC);
    if (pfn < 0) {
      pfn = this.rmqueue(order, mt, allocFlags);
      if (pfn < 0 && (allocFlags & (ALLOC_OOM | ALLOC_NON_BLOCK)) !== 0) {
        pfn = this.rmqueueSmallest(order, MIGRATE_HIGHATOMIC);
      }
    }
    return pfn;
  }

  /**
   * `reserve_highatomic_pageblock()` with the lock held: turn the block of a
   * successful high-order atomic allocation into a MIGRATE_HIGHATOMIC reserve,
   * capped at about 1% of the zone.
   */
  reserveHighatomicLocked(pfn: number, order: number): void {
    if (Math.floor(this.managed / 100) < PAGEBLOCK_NR_PAGES) return;
    const maxManaged =
      Math.ceil(Math.floor(this.managed / 100) / PAGEBLOCK_NR_PAGES) * PAGEBLOCK_NR_PAGES;
    if (this.nrReservedHighatomic >= maxManaged) return;
    const mt = this.blockMt(pfn);
    if (mt >= MIGRATE_PCPTYPES) return;
    if (order < PAGEBLOCK_ORDER) {
      const start = pfn & ~(PAGEBLOCK_NR_PAGES - 1);
      if (!this.spans(start) || !this.spans(start + PAGEBLOCK_NR_PAGES - 1)) return;
      this.moveFreepagesBlock(start, mt, MIGRATE_HIGHATOMIC);
      this.setBlockMt(start, MIGRATE_HIGHATOMIC);
      this.nrReservedHighatomic += PAGEBLOCK_NR_PAGES;
    } else {
      for (let b = 0; b < 1 << (order - PAGEBLOCK_ORDER); b++) {
        this.setBlockMt(pfn + b * PAGEBLOCK_NR_PAGES, MIGRATE_HIGHATOMIC);
      }
      this.nrReservedHighatomic += 1 << order;
    }
  }

  /**
   * One step of `unreserve_highatomic_pageblock()` with the lock held: give a
   * high-atomic pageblock back to `mt`. Returns pages moved (0 if none).
   */
  unreserveHighatomicLocked(mt: number, force: boolean): number {
    if (!force && this.nrReservedHighatomic <= PAGEBLOCK_NR_PAGES) return 0;
    const pm = this.pm;
    for (let order = 0; order < NR_PAGE_ORDERS; order++) {
      const head = this.freeHead(order, MIGRATE_HIGHATOMIC);
      const pfn = pm.next[head]!;
      if (pfn === head) continue;
      const size = Math.min(Math.max(PAGEBLOCK_NR_PAGES, 1 << order), this.nrReservedHighatomic);
      this.nrReservedHighatomic -= size;
      if (order < PAGEBLOCK_ORDER) {
        const start = pfn & ~(PAGEBLOCK_NR_PAGES - 1);
        const moved = this.moveFreepagesBlock(start, MIGRATE_HIGHATOMIC, mt);
        this.setBlockMt(start, mt);
        if (moved > 0) return moved;
      } else {
        this.moveToFreeList(pfn, order, MIGRATE_HIGHATOMIC, mt);
        for (let b = 0; b < 1 << (order - PAGEBLOCK_ORDER); b++) {
          this.setBlockMt(pfn + b * PAGEBLOCK_NR_PAGES, mt);
        }
        return 1 << order;
      }
    }
    return 0;
  }

  // ---- watermarks -----------------------------------------------------------------

  /** `__zone_watermark_unusable_free()`. */
  private unusableFree(order: number, allocFlags: number): number {
    let u = (1 << order) - 1;
    if ((allocFlags & ALLOC_RESERVES) === 0) u += this.nrFreeHighatomic;
    return u;
  }

  /**
   * Whether `freePages` free pages satisfy `mark` for this request, after the
   * reserve discounts and the lowmem reserve of `highestZoneidx`; high orders
   * also need a free block large enough. Models `__zone_watermark_ok()`.
   */
  watermarkOk(
    order: number,
    mark: number,
    highestZoneidx: number,
    allocFlags: number,
    freePages: number = this.freePages,
  ): boolean {
    const free = freePages - this.unusableFree(order, allocFlags);
    const min = reserveAdjustedMark(mark, allocFlags);
    if (free <= min + this.lowmemReserve[highestZoneidx]!) return false;
    if (order === 0) return true;
    const pm = this.pm;
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      if (this.nrFree[o] === 0) continue;
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) {
        if (!pm.isEmpty(this.freeHead(o, mt))) return true;
      }
      if (
        (allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) !== 0 &&
        !pm.isEmpty(this.freeHead(o, MIGRATE_HIGHATOMIC))
      ) {
        return true;
      }
    }
    return false;
  }

  /** `zone_watermark_fast()`: a cheap order-0 test before the full check. */
  watermarkFast(order: number, mark: number, highestZoneidx: number, allocFlags: number): boolean {
    const free = this.freePages;
    if (order === 0) {
      const reserved = this.unusableFree(0, allocFlags);
      const usable = free - Math.min(free, reserved);
      if (usable > mark + this.lowmemReserve[highestZoneidx]!) return true;
    }
    if (this.watermarkOk(order, mark, highestZoneidx, allocFlags, free)) return true;
    if (
      order === 0 &&
      (allocFlags & ALLOC_MIN_RESERVE) !== 0 &&
      this.watermarkBoost !== 0 &&
      (allocFlags & ALLOC_WMARK_MASK) === ALLOC_WMARK_MIN
    ) {
      return this.watermarkOk(order, this.wmarkMin, highestZoneidx, allocFlags, free);
    }
    return false;
  }

  /** `zone_watermark_ok()` against the high watermark, no reserves (used by kswapd). */
  balanced(order: number, highestZoneidx: number): boolean {
    return this.watermarkOk(order, this.wmarkHigh, highestZoneidx, ALLOC_WMARK_MIN);
  }
}
