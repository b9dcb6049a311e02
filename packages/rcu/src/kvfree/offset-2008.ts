import type { Wait } from '@sim/cpu';
import type { OffsetFreeHook } from '../invoke.js';
import type { KvfreeContext } from './context.js';
import { simpleStats } from './per-object.js';
import type { KvfreeRcuStats, KvfreeRcuStrategy } from './strategy.js';

/**
 * Lai Jiangshan's 2008 kfree_rcu() (seed 003), merged in v3.0: no callback
 * function at all — the offset of the `rcu_head` inside the object, in
 * pointer-sized units, is stored in `->func`. Kernel text never lies in the
 * first 4096 bytes, so the RCU core recognises a small `->func` at
 * invocation time and frees `head - offset` itself. Modules that only use
 * kfree_rcu() thus have no function of theirs left pending at unload.
 * @internal
 */
export class Offset2008Kvfree implements KvfreeRcuStrategy, OffsetFreeHook {
  readonly name = 'offset-2008' as const;

  constructor(private readonly ctx: KvfreeContext) {}

  queue(head: number, ptr: number): boolean {
    if (head === 0) return false;
    const ctx = this.ctx;
    // (head - ptr) / sizeof(void *), always below 4096 pointer units.
    if (!ctx.call.callRcu(head, (head - ptr) / 8)) ctx.leaked++;
    return true;
  }

  /** `__rcu_reclaim()`: decode the offset and free the object. */
  freeByOffset(head: number, word: number): void {
    this.ctx.kfree(head - word * 8);
  }

  *barrier(): Generator<Wait<unknown>, void, unknown> {
    yield* this.ctx.rcuBarrier();
  }

  stats(): KvfreeRcuStats {
    return simpleStats(this.ctx, this.name);
  }
}
