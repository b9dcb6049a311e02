import type { Wait } from '@sim/cpu';
import { BatchedKvfree } from './batched.js';
import type { KvfreeContext } from './context.js';
import type { KvfreeRcuStats, KvfreeRcuStrategy } from './strategy.js';

/**
 * kvfree_rcu with the slab's `rcu_free` sheaf (v6.18 sheaves): first try
 * `kfree_rcu_sheaf()` — the object joins a per-CPU sheaf that is handed to
 * `call_rcu()` whole once full, its objects reusable straight from the barn
 * afterwards — and fall back to the batched design when that is not
 * possible (no sheaves, trylock failure, vmalloc, or PREEMPT_RT, where the
 * kernel skips the sheaf path).
 * @internal
 */
export class SheafKvfree implements KvfreeRcuStrategy {
  readonly name = 'sheaf' as const;
  private readonly batched: BatchedKvfree;

  constructor(private readonly ctx: KvfreeContext) {
    this.batched = new BatchedKvfree(ctx);
  }

  queue(head: number, ptr: number): boolean {
    const ctx = this.ctx;
    const sheaf = ctx.sheaf;
    if (!ctx.m.rt && sheaf !== null && !ctx.isVmalloc(ptr) && sheaf.kfreeRcuSheaf(ptr)) {
      ctx.sheafQueued++;
      return true;
    }
    return this.batched.queue(head, ptr);
  }

  /** `kvfree_rcu_barrier()`: flush the sheaves, wait for their callbacks, then the batched barrier. */
  *barrier(): Generator<Wait<unknown>, void, unknown> {
    const ctx = this.ctx;
    const sheaf = ctx.sheaf;
    if (sheaf?.flushAllRcuSheaves !== undefined) {
      sheaf.flushAllRcuSheaves();
      yield* ctx.rcuBarrier();
    }
    yield* this.batched.barrier();
  }

  stats(): KvfreeRcuStats {
    return { ...this.batched.stats(), strategy: 'sheaf' };
  }
}
