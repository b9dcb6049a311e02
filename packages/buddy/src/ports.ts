import type { Shrinker, ShrinkerSpec } from './shrinker.js';
import type { ZoneLock } from './zone.js';

/**
 * A page frame, identified by its page frame number (pfn): page `n` covers
 * physical bytes `[n * 4096, (n + 1) * 4096)`. A number rather than an object
 * so that other allocators can keep per-page state in their own typed arrays
 * indexed by pfn, as the kernel keeps it in `struct page`.
 * @public
 */
export type Page = number;

/**
 * What the allocation calls return on failure (the kernel's NULL): -1. Pfn 0
 * is never allocated (the first 1 MiB is reserved), but test with `< 0`.
 * @public
 */
export const NO_PAGE = -1;

/** `NUMA_NO_NODE`: let the allocator pick the local node. @public */
export const NUMA_NO_NODE = -1;

/** An llist head in simulated memory, as `@sim/locks` provides it (`struct llist_head`). @public */
export interface LlistPort {
  /** Physical address of the head word. */
  readonly addr: number;
  /** `llist_add()`: push the node at address `node`; true if the list was empty. */
  add(node: number): boolean;
  /** `llist_del_all()`: take the whole chain, newest first; 0 when empty. */
  delAll(): number;
  /** `llist_next()`. */
  next(node: number): number;
  /** `llist_empty()`. */
  empty(): boolean;
}

/**
 * A per-CPU `local_lock_t` taken with irqs saved, as `@sim/locks` provides it:
 * irqs off (flags returned) without PREEMPT_RT, a per-CPU sleeping lock
 * (flags 0) with it. @public
 */
export interface IrqLocalLock {
  /** `local_lock_irqsave()`: the flags to restore. */
  lockIrqsave(): number;
  /** `local_unlock_irqrestore(flags)`. */
  unlockIrqrestore(flags: number): void;
}

/** A mutex the allocator only ever trylocks (`oom_lock`). @public */
export interface TrylockMutex {
  /** `mutex_trylock()`. */
  trylock(): boolean;
  /** `mutex_unlock()`. */
  unlock(): void;
}

/**
 * What the page allocator needs from the locking layer. `@sim/locks`'
 * `Locking` fits it; a test can pass another implementation.
 * @public
 */
export interface LockingPort {
  /** A `spinlock_t` whose lockdep class is `name` (`&zone->lock`, `&pcp->lock`, …). */
  spinLock(name: string): ZoneLock;
  /** A `struct mutex` (the allocator only trylocks it). */
  mutex(name: string): TrylockMutex;
  /** An llist head, at `addr` when given (embedded in a structure). */
  llistHead(name: string, addr?: number): LlistPort;
  /** `might_alloc()`: fs_reclaim annotation and `might_sleep_if(blocking)`. */
  mightAlloc(gfp: number, site?: string): void;
  /** `fs_reclaim_acquire()` around direct reclaim and in kswapd. */
  fsReclaimAcquire(gfp: number): void;
  /** `fs_reclaim_release()`. */
  fsReclaimRelease(gfp: number): void;
  /**
   * A `local_lock_t` named `name`. Optional: used for the per-CPU lists of the
   * 2020 locking model on PREEMPT_RT (the RT patchset's `pa_lock`); without
   * it that model keeps `local_irq_save()` there on RT too.
   */
  localLock?(name: string): IrqLocalLock;
}

/**
 * The page allocator as its users see it: the calls `@sim/slab` and
 * `@sim/rcu` make. `@sim/buddy`'s {@link BuddyAllocator} implements it; a
 * user can implement it to put another page allocator under the slab
 * allocators. Models the API of include/linux/gfp.h.
 * @public
 */
export interface PageAllocator {
  /** Number of page frames (the highest pfn + 1). */
  readonly nrPages: number;
  /** `alloc_pages()`: the first pfn of 2^order contiguous pages, or {@link NO_PAGE} (-1). */
  allocPages(gfp: number, order: number): Page;
  /** `__free_pages()`: free what `allocPages` returned, with the same order. */
  freePages(page: Page, order: number): void;
  /** `alloc_pages_nolock()`: trylock-only, any context, never reclaims or warns; {@link NO_PAGE} on failure. */
  allocPagesNolock(gfp: number, nid: number, order: number): Page;
  /** `free_pages_nolock()`: free from any context, deferring when the zone lock is busy. */
  freePagesNolock(page: Page, order: number): void;
  /** `page_address()`: the address of the page's first byte. */
  pageAddress(page: Page): number;
  /** `virt_to_page()`: the page holding address `addr`. */
  virtToPage(addr: number): Page;
  /** `shrinker_alloc()` + `shrinker_register()`: reclaim will call the shrinker. */
  registerShrinker(spec: ShrinkerSpec): Shrinker;
}
