import type { Wait } from '@sim/cpu';
import type { RcuCallback } from '../callbacks.js';
import { KVFREE_RCU_OFFSET_LIMIT } from '../constants.js';
import type { KvfreeContext } from './context.js';
import type { KvfreeRcuStats, KvfreeRcuStrategy } from './strategy.js';

/**
 * kfree_rcu() before batching: every object gets its own trivial `call_rcu()`
 * callback that does `kfree(container_of(head, …))`, one per structure type
 * (here one per `rcu_head` offset). Each object is a callback on the
 * segmented list, walked through its `rcu_head` after the grace period — the
 * cache miss per object that seed 000 wants to avoid. The headless form
 * waits for a grace period inline (`synchronize_rcu(); kvfree()`), as
 * kernels without `CONFIG_KVFREE_RCU_BATCHED` do.
 * @internal
 */
export class PerObjectKvfree implements KvfreeRcuStrategy {
  readonly name = 'per-object' as const;
  private readonly byOffset: (RcuCallback | undefined)[] = new Array<RcuCallback | undefined>(
    KVFREE_RCU_OFFSET_LIMIT / 8,
  );

  constructor(private readonly ctx: KvfreeContext) {}

  private callbackFor(off: number): RcuCallback {
    const i = off / 8;
    let cb = this.byOffset[i];
    if (cb === undefined) {
      const ctx = this.ctx;
      cb = ctx.rs.registry.define(
        `kfree_rcu_cb_off${off}`,
        function kfree_rcu_trivial_cb(head: number) {
          ctx.kfree(head - off);
        },
        null,
      );
      this.byOffset[i] = cb;
    }
    return cb;
  }

  queue(head: number, ptr: number): boolean {
    if (head === 0) return false;
    const ctx = this.ctx;
    if (!ctx.call.callRcu(head, this.callbackFor(head - ptr).addr)) ctx.leaked++;
    return true;
  }

  *barrier(): Generator<Wait<unknown>, void, unknown> {
    yield* this.ctx.rcuBarrier();
  }

  stats(): KvfreeRcuStats {
    return simpleStats(this.ctx, this.name);
  }
}

/** Counters of a design without pointer pages. @internal */
export function simpleStats(
  ctx: KvfreeContext,
  strategy: KvfreeRcuStats['strategy'],
): KvfreeRcuStats {
  const pending = ctx.queued - ctx.freed - ctx.leaked - ctx.sheafQueued;
  return {
    strategy,
    queued: ctx.queued,
    freed: ctx.freed,
    pending,
    headlessInline: ctx.headlessInline,
    chained: ctx.chained,
    sheafQueued: ctx.sheafQueued,
    pagesAllocated: 0,
    pageAllocFailures: 0,
    pagesInUse: 0,
    pagesCached: 0,
    batchesQueued: 0,
    freedWithoutExtraGp: 0,
    leaked: ctx.leaked,
    bytesHeld: Math.max(0, ctx.pendingBytes),
  };
}
