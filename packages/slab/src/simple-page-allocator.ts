import type { Machine } from '@sim/cpu';
import * as gfpMod from '@sim/gfp';
import type { Locking, SpinLock } from '@sim/locks';
import * as cacheLayout from './cache-layout.js';
import { SlabError } from './errors.js';
import * as constants from './internal/constants.js';
import { show } from './internal/show.js';
import type { PageAllocator } from './page-allocator.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const { __GFP_NOWARN, __GFP_ZERO, formatGfp, gfpflagsAllowBlocking } = gfpMod;
const { MAX_PAGE_ORDER } = cacheLayout;
const { PAGE_SIZE } = constants;

/** Options of {@link createSimplePageAllocator}. @public */
export interface SimplePageAllocatorOptions {
  /** Pages in the pool (carved with `memblockAlloc` at creation). */
  readonly pages: number;
  /**
   * A locking layer: the pool is then guarded by a `&zone->lock` spinlock,
   * taken with irqs saved, and the `*Nolock` calls only trylock it.
   */
  readonly locking?: Locking;
}

/** Counters of a {@link SimplePageAllocator}. @public */
export interface SimplePageAllocatorStats {
  /** Pages in the pool. */
  readonly pages: number;
  /** Pages allocated now. */
  readonly allocated: number;
  /** Successful allocations. */
  readonly allocs: number;
  /** Frees. */
  readonly frees: number;
  /** Failed allocations, injected ones included. */
  readonly failures: number;
  /** Failures caused by {@link SimplePageAllocator.failNext} or a fail rate. */
  readonly injected: number;
  /** Slab pages reported freed through {@link SimplePageAllocator.accountReclaimedPages}. */
  readonly reclaimedSlabPages: number;
}

/**
 * A small, correct page allocator for tests and stand-alone use: a pool of
 * pages with naturally aligned power-of-two blocks (first fit), order support
 * up to MAX_PAGE_ORDER, `__GFP_ZERO`, the `alloc_pages_nolock()` rules and
 * failure injection. Allocation failures print the kernel's `warn_alloc()`
 * line unless `__GFP_NOWARN`.
 * @public
 */
export class SimplePageAllocator implements PageAllocator {
  /** First pfn of the pool. */
  readonly basePfn: number;
  /** Pages in the pool. */
  readonly nrPages: number;
  private readonly m: Machine;
  private readonly lock: SpinLock | null;
  // Per page: 0 free, 1 head of an allocated block, 2 tail.
  private readonly state: Uint8Array;
  private readonly orders: Int8Array;
  private cursor = 0;
  private allocated = 0;
  private allocs = 0;
  private frees = 0;
  private failures = 0;
  private injected = 0;
  private reclaimedSlabPages = 0;
  private failCount = 0;
  private failRateValue = 0;

  /** @internal use {@link createSimplePageAllocator} */
  constructor(machine: Machine, options: SimplePageAllocatorOptions) {
    this.m = machine;
    this.nrPages = options.pages;
    const base = machine.memory.memblockAlloc(options.pages * PAGE_SIZE, PAGE_SIZE);
    this.basePfn = base / PAGE_SIZE;
    this.state = new Uint8Array(options.pages);
    this.orders = new Int8Array(options.pages);
    this.lock = options.locking === undefined ? null : options.locking.spinLock('&zone->lock');
  }

  /** Make the next `count` allocations fail (after the current ones). */
  failNext(count = 1): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new SlabError('BAD_ARGUMENT', `failNext(${show(count)}): accepted an integer >= 0`);
    }
    this.failCount = count;
  }

  /** Make each allocation fail with probability `rate` (seeded; 0 turns it off). */
  failRate(rate: number): void {
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new SlabError('BAD_ARGUMENT', `failRate(${show(rate)}): accepted a number in [0, 1]`);
    }
    this.failRateValue = rate;
  }

  /** Whether page `pfn` is part of an allocated block. */
  isAllocated(pfn: number): boolean {
    const i = pfn - this.basePfn;
    return i >= 0 && i < this.nrPages && this.state[i] !== 0;
  }

  /** Counters. */
  stats(): SimplePageAllocatorStats {
    return {
      pages: this.nrPages,
      allocated: this.allocated,
      allocs: this.allocs,
      frees: this.frees,
      failures: this.failures,
      injected: this.injected,
      reclaimedSlabPages: this.reclaimedSlabPages,
    };
  }

  /** `alloc_pages()` from the pool; -1 when no aligned block is free (or a failure is injected). */
  allocPages(gfp: number, order: number): number {
    this.checkOrder(order, 'allocPages');
    if (gfpflagsAllowBlocking(gfp)) this.m.mightSleep('mm/page_alloc.c');
    const flags = this.lock === null ? 0 : this.lock.lockIrqsave();
    const pfn = this.take(order);
    if (this.lock !== null) this.lock.unlockIrqrestore(flags);
    return this.finish(pfn, gfp, order);
  }

  /** `alloc_pages_nolock()`: zeroed, orders up to 3, trylock only, nothing from RT hardirq/NMI. */
  allocPagesNolock(gfp: number, _nid: number, order: number): number {
    this.checkOrder(order, 'allocPagesNolock');
    const m = this.m;
    // alloc_pages_nolock(): nothing on RT from hardirq/NMI, pcp orders only.
    if (m.rt && (m.inNmi() || m.inHardirq())) return this.fail(gfp | __GFP_NOWARN, order, false);
    if (order > 3) return this.fail(gfp | __GFP_NOWARN, order, false);
    let flags = 0;
    if (this.lock !== null) {
      flags = this.lock.trylockIrqsave();
      if (flags === -1) return this.fail(gfp | __GFP_NOWARN, order, false);
    }
    const pfn = this.take(order);
    if (this.lock !== null) this.lock.unlockIrqrestore(flags);
    return this.finish(pfn, gfp | __GFP_NOWARN | __GFP_ZERO, order);
  }

  /** `mm_account_reclaimed_pages()`: count slab pages the slab allocator freed. */
  accountReclaimedPages(nr: number): void {
    if (!Number.isSafeInteger(nr) || nr < 0) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `accountReclaimedPages(${show(nr)}): accepted a non-negative page count`,
      );
    }
    this.reclaimedSlabPages += nr;
  }

  /** `__free_pages()`; a block that is not allocated at `order` is a "Bad page state" report. */
  freePages(pfn: number, order: number): void {
    const flags = this.lock === null ? 0 : this.lock.lockIrqsave();
    this.give(pfn, order);
    if (this.lock !== null) this.lock.unlockIrqrestore(flags);
  }

  /** `free_pages_nolock()`. */
  freePagesNolock(pfn: number, order: number): void {
    // free_pages_nolock() parks pages when the lock is contended; the pool has
    // no deferred list, so it frees directly when the trylock fails.
    if (this.lock === null) {
      this.give(pfn, order);
      return;
    }
    const flags = this.lock.trylockIrqsave();
    this.give(pfn, order);
    if (flags !== -1) this.lock.unlockIrqrestore(flags);
  }

  /** `page_address()`: pfn × 4096. */
  pageAddress(pfn: number): number {
    return pfn * PAGE_SIZE;
  }

  /** `virt_to_pfn()`. */
  virtToPfn(addr: number): number {
    return Math.floor(addr / PAGE_SIZE);
  }

  private checkOrder(order: number, what: string): void {
    if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `${what} order ${show(order)}: accepted an integer in [0, ${MAX_PAGE_ORDER}]`,
      );
    }
  }

  private take(order: number): number {
    if (this.failCount > 0) {
      this.failCount--;
      this.injected++;
      return -2;
    }
    if (
      this.failRateValue > 0 &&
      this.m.rng('simple-page-allocator').float() < this.failRateValue
    ) {
      this.injected++;
      return -2;
    }
    const n = 2 ** order;
    const total = this.nrPages;
    const st = this.state;
    // Next fit over naturally aligned blocks, wrapping once.
    let start = Math.floor(this.cursor / n) * n;
    for (let scanned = 0; scanned < total; ) {
      if (start + n > total) {
        scanned += total - start;
        start = 0;
        continue;
      }
      let busy = -1;
      for (let i = start; i < start + n; i++) {
        if (st[i] !== 0) {
          busy = i;
          break;
        }
      }
      if (busy < 0) {
        st[start] = 1;
        this.orders[start] = order;
        for (let i = start + 1; i < start + n; i++) st[i] = 2;
        this.allocated += n;
        this.cursor = start + n >= total ? 0 : start + n;
        return this.basePfn + start;
      }
      const next = (Math.floor(busy / n) + 1) * n;
      scanned += next - start;
      start = next;
    }
    return -1;
  }

  private finish(pfn: number, gfp: number, order: number): number {
    if (pfn < 0) return this.fail(gfp, order, true);
    this.allocs++;
    if ((gfp & __GFP_ZERO) !== 0) this.m.memory.zeroRange(pfn * PAGE_SIZE, PAGE_SIZE * 2 ** order);
    return pfn;
  }

  private fail(gfp: number, order: number, counted: boolean): number {
    this.failures++;
    if (counted && (gfp & __GFP_NOWARN) === 0) {
      const m = this.m;
      const t = m.current;
      m.report({
        kind: 'page-alloc-failure',
        lines: [
          `${t.comm}: page allocation failure: order:${order}, mode:0x${gfp.toString(16)}(${formatGfp(gfp)}), nodemask=(null)`,
        ],
        details: { order, gfp },
        withStack: true,
        frames: ['warn_alloc', '__alloc_pages_slowpath'],
        level: 'warning',
      });
    }
    return -1;
  }

  private give(pfn: number, order: number): void {
    const i = pfn - this.basePfn;
    if (!(i >= 0 && i < this.nrPages) || this.state[i] !== 1 || this.orders[i] !== order) {
      const m = this.m;
      m.report({
        kind: 'bad-page',
        lines: [
          `BUG: Bad page state in process ${m.current.comm}  pfn:${pfn.toString(16)}`,
          `page dumped because: freeing a page that is not allocated at order ${order}`,
        ],
        details: { pfn, order },
        taint: 'B',
        withStack: true,
        frames: ['bad_page', 'free_pages_prepare'],
      });
      return;
    }
    const n = 2 ** order;
    for (let k = i; k < i + n; k++) this.state[k] = 0;
    this.allocated -= n;
    this.frees++;
  }
}

/**
 * A {@link SimplePageAllocator} over `pages` pages of the machine's memory.
 * @throws {@link SlabError} `BAD_ARGUMENT` when `pages` is not a positive integer.
 * @public
 */
export function createSimplePageAllocator(
  machine: Machine,
  options: SimplePageAllocatorOptions,
): SimplePageAllocator {
  if (typeof options !== 'object' || options === null) {
    throw new SlabError(
      'BAD_ARGUMENT',
      `simple page allocator options ${show(options)}: accepted { pages, locking? }`,
    );
  }
  if (!Number.isInteger(options.pages) || options.pages < 1) {
    throw new SlabError(
      'BAD_ARGUMENT',
      `pages = ${show(options.pages)} is invalid: accepted an integer >= 1`,
    );
  }
  return new SimplePageAllocator(machine, options);
}
