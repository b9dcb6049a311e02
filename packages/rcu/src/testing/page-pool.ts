import type { Machine } from '@sim/cpu';
import { __GFP_NO_LOCKS, gfpflagsAllowBlocking } from '@sim/gfp';
import type { Locking, SpinLock } from '@sim/locks';
import { RcuError, show } from '../errors.js';
import type { RcuPageAllocator } from '../ports.js';

/** Options of {@link TestPagePool}. @public */
export interface TestPagePoolOptions {
  /** Pages in the pool. Default 4096 (16 MiB). */
  readonly pages?: number;
  /** Pages moved from the zone to a CPU's list per refill (`pcp->batch`). Default 8. */
  readonly pcpBatch?: number;
}

/**
 * A page allocator stand-in for tests and examples, over a region reserved
 * with `memblockAlloc`: per-CPU page lists refilled in batches from a "zone"
 * under a `spinlock_t` (`&zone->lock`, so taking it under a raw spinlock is
 * an Invalid wait context and on PREEMPT_RT a sleeping lock in atomic
 * context), `might_sleep()` for blocking masks, the experimental
 * `__GFP_NO_LOCKS` (fail rather than take the zone lock), and failure
 * injection. Implements {@link RcuPageAllocator}.
 * @public
 */
export class TestPagePool implements RcuPageAllocator {
  /** First page address. */
  readonly base: number;
  /** Pages in the pool. */
  readonly pages: number;
  /** Successful allocations. */
  allocations = 0;
  /** Pages freed. */
  frees = 0;
  /** Allocations that failed (injected, `__GFP_NO_LOCKS`, or empty). */
  failures = 0;
  /** Refills that took the zone lock. */
  zoneLockTaken = 0;
  /** Fail the next N allocations. */
  failNext = 0;
  /** Fail every allocation while true. */
  failAll = false;
  private readonly zoneFree: number[] = [];
  private readonly pcp: number[][] = [];
  private readonly zoneLock: SpinLock;
  private readonly batch: number;
  private readonly outstanding = new Set<number>();

  constructor(
    private readonly m: Machine,
    locking: Locking,
    options: TestPagePoolOptions = {},
  ) {
    const n = options.pages ?? 4096;
    if (!Number.isInteger(n) || n < 1) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `TestPagePool pages ${show(n)} is invalid: accepted an integer ≥ 1`,
      );
    }
    const batch = options.pcpBatch ?? 8;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `TestPagePool pcpBatch ${show(batch)} is invalid: accepted an integer ≥ 1`,
      );
    }
    this.pages = n;
    this.batch = batch;
    this.base = m.memory.memblockAlloc(n * 4096, 4096);
    for (let i = n - 1; i >= 0; i--) this.zoneFree.push(this.base + i * 4096);
    for (let c = 0; c < m.nrCpus; c++) this.pcp.push([]);
    this.zoneLock = locking.spinLock('&zone->lock');
  }

  /** Pages handed out and not freed. */
  get inUse(): number {
    return this.outstanding.size;
  }

  /** `__get_free_page(gfp)`. */
  getFreePage(gfp: number): number {
    const m = this.m;
    if (gfpflagsAllowBlocking(gfp)) m.mightSleep('mm/page_alloc.c:4810');
    if (this.failAll || this.failNext > 0) {
      if (this.failNext > 0) this.failNext--;
      this.failures++;
      return 0;
    }
    const list = this.pcp[m.cpu]!;
    if (list.length === 0) {
      // The RFC's __GFP_NO_LOCKS: fail rather than take zone->lock.
      if ((gfp & __GFP_NO_LOCKS) !== 0) {
        this.failures++;
        return 0;
      }
      const flags = this.zoneLock.lockIrqsave();
      this.zoneLockTaken++;
      for (let k = 0; k < this.batch && this.zoneFree.length > 0; k++)
        list.push(this.zoneFree.pop()!);
      this.zoneLock.unlockIrqrestore(flags);
    }
    const page = list.pop();
    if (page === undefined) {
      this.failures++;
      return 0;
    }
    this.allocations++;
    this.outstanding.add(page);
    return page;
  }

  /** `free_page(addr)`. */
  freePage(addr: number): void {
    if (!this.outstanding.has(addr)) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `TestPagePool.freePage(${show(addr)}): not a page handed out by this pool`,
      );
    }
    this.outstanding.delete(addr);
    this.frees++;
    this.pcp[this.m.cpu]!.push(addr);
  }
}
