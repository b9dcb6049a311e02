import { __GFP_MEMALLOC, __GFP_NO_LOCKS, GFP_ATOMIC } from '@sim/gfp';
import { BatchedKvfree } from './batched.js';
import type { KvfreeContext } from './context.js';

/**
 * The design the seeds reject (seeds 000 and 002): batched pointer arrays,
 * but when no cached page is at hand the page is allocated right there,
 * under `krcp->lock` (a raw spinlock) with irqs off, with `GFP_ATOMIC`
 * whatever the caller's context. The page allocator takes `zone->lock`, a
 * `spinlock_t`: lockdep reports an Invalid wait context (with
 * PROVE_RAW_LOCK_NESTING), and on PREEMPT_RT it is a sleeping lock taken in
 * atomic context. The `__GFP_NO_LOCKS` variant (the 2020 RFC) asks the
 * allocator to fail instead of taking its locks.
 * @internal
 */
export class NaiveAtomicKvfree extends BatchedKvfree {
  override readonly name = 'naive-atomic-alloc' as const;
  private readonly gfp: number;

  constructor(ctx: KvfreeContext) {
    super(ctx);
    this.gfp =
      (ctx.opts.naiveNoLocks ? GFP_ATOMIC | __GFP_NO_LOCKS : GFP_ATOMIC) |
      (ctx.opts.kvfreeMemalloc ? __GFP_MEMALLOC : 0);
  }

  protected override allocUnderLock(_c: number): number {
    return this.allocPage(this.gfp);
  }
}
