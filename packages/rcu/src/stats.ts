import type { KvfreeRcuStats } from './kvfree/strategy.js';

/** Per-CPU RCU counters (`/sys/kernel/debug/rcu/rcudata`-style). @public */
export interface RcuCpuStats {
  /** CPU number. */
  readonly cpu: number;
  /** Callbacks queued on the CPU and not yet invoked. */
  readonly pending: number;
  /** Callbacks queued by `call_rcu()` on this CPU. */
  readonly queued: number;
  /** Callbacks invoked (`n_cbs_invoked`). */
  readonly invoked: number;
  /** Current batch limit. */
  readonly blimit: number;
  /** Callbacks offloaded to rcuo kthreads. */
  readonly offloaded: boolean;
  /** The grace period this CPU last noticed (`rdp->gp_seq`). */
  readonly gpSeq: number;
}

/** Cache accesses and misses at one RCU site label. @public */
export interface RcuSiteStats {
  /** Label such as 'rcu.invoke', 'kvfree_rcu.bulk'. */
  readonly label: string;
  /** Loads and stores at the site. */
  readonly accesses: number;
  /** Accesses that missed every private cache (LLC hits, DRAM, transfers). */
  readonly l2Misses: number;
  /** LLC misses plus cross-CPU transfers (`missesOf()`). */
  readonly misses: number;
}

/**
 * A snapshot of RCU's state and counters for reports and tests.
 * @public
 */
export interface RcuStats {
  /** "rcu_preempt" or "rcu_sched". */
  readonly flavor: string;
  /** `rcu_state.gp_seq`. */
  readonly gpSeq: number;
  /** The GP kthread's state name (`RCU_GP_WAIT_GPS`, …). */
  readonly gpState: string;
  /** Normal grace periods started. */
  readonly gpStarted: number;
  /** Normal grace periods completed. */
  readonly gpCompleted: number;
  /** Longest grace period in jiffies (`gp_max`). */
  readonly gpMaxJiffies: number;
  /** Expedited grace periods completed. */
  readonly expGpCompleted: number;
  /** Force-quiescent-state scans (`n_force_qs`). */
  readonly fqsScans: number;
  /** Callbacks queued by `call_rcu()` (kfree_rcu designs that use it included). */
  readonly callbacksQueued: number;
  /** Callbacks invoked. */
  readonly callbacksInvoked: number;
  /** Callbacks queued and not yet invoked, bypass lists included. */
  readonly callbacksPending: number;
  /** Callbacks that Oopsed instead of running. */
  readonly callbacksLost: number;
  /** `rcu_do_batch()` passes. */
  readonly batches: number;
  /** `rcu_barrier()` calls that did the work. */
  readonly barriers: number;
  /** Normal grace periods waited for by `synchronize_rcu()` and friends. */
  readonly synchronizeCalls: number;
  /** RCU CPU stall warnings printed. */
  readonly stallWarnings: number;
  /** Tasks preempted inside readers, on blkd_tasks lists now. */
  readonly blockedTasks: number;
  /** NOCB callbacks that went through a bypass list. */
  readonly nocbBypassed: number;
  /** Per-CPU counters. */
  readonly perCpu: readonly RcuCpuStats[];
  /** kvfree_rcu counters. */
  readonly kvfree: KvfreeRcuStats;
  /** Cache behaviour of the RCU and kvfree_rcu sites. */
  readonly sites: readonly RcuSiteStats[];
  /** Oracle checks and violations, or null when the oracle is off. */
  readonly oracle: { readonly checks: number; readonly violations: number } | null;
}
