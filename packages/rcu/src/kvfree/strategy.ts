import type { Wait } from '@sim/cpu';
import type { KvfreeRcuStrategyName } from '../options.js';

/**
 * Counters of the kvfree_rcu machinery, whatever its design.
 * @public
 */
export interface KvfreeRcuStats {
  /** The design in use. */
  readonly strategy: KvfreeRcuStrategyName;
  /** Objects handed to `kfreeRcu()` / `kvfreeRcuMightsleep()`. */
  readonly queued: number;
  /** Objects freed after their grace period. */
  readonly freed: number;
  /** Objects queued and not yet freed (leaked double frees excluded). */
  readonly pending: number;
  /** Headless calls that fell back to `synchronize_rcu()` + `kvfree()` inline. */
  readonly headlessInline: number;
  /** Two-argument calls that fell back to chaining the `rcu_head` (channel 3). */
  readonly chained: number;
  /** Objects put into a slab `rcu_free` sheaf. */
  readonly sheafQueued: number;
  /** Pointer-array pages obtained from the page allocator. */
  readonly pagesAllocated: number;
  /** Page allocation attempts that failed. */
  readonly pageAllocFailures: number;
  /** Pages holding pointers right now. */
  readonly pagesInUse: number;
  /** Pages in the per-CPU caches (`bkvcache`). */
  readonly pagesCached: number;
  /** Batches handed to `queue_rcu_work()`. */
  readonly batchesQueued: number;
  /** Objects freed by the monitor without waiting for another grace period (their snapshot had elapsed). */
  readonly freedWithoutExtraGp: number;
  /** Objects leaked on a double `kfree_rcu()` or a failed grace-period check. */
  readonly leaked: number;
  /** Bytes held: pointer pages (in use and cached) plus pending objects when their size is known. */
  readonly bytesHeld: number;
}

/**
 * One kvfree_rcu design behind `kfreeRcu()`: `kvfree_call_rcu()` and
 * `kvfree_rcu_barrier()`.
 * @internal
 */
export interface KvfreeRcuStrategy {
  readonly name: KvfreeRcuStrategyName;
  /**
   * `kvfree_call_rcu(head, ptr)`; `head` is 0 for the headless form. Returns
   * false when the headless form must fall back to `synchronize_rcu()` and an
   * inline free.
   */
  queue(head: number, ptr: number): boolean;
  /** `kvfree_rcu_barrier()`. */
  barrier(): Generator<Wait<unknown>, void, unknown>;
  /** Counters. */
  stats(): KvfreeRcuStats;
}
