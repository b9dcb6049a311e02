import { PREEMPT_MASK, SOFTIRQ_MASK } from '@sim/cpu';
import type { RcuState } from './rcu-state.js';
import {
  type RcuTaskState,
  SPECIAL_BLOCKED,
  SPECIAL_EXP_HINT,
  SPECIAL_NEED_QS,
} from './task-state.js';

/**
 * Preemptible RCU's bookkeeping of readers (kernel/rcu/tree_plugin.h): a
 * task preempted inside a read-side critical section is queued on its leaf
 * rcu_node's `blkd_tasks` list (`rcu_preempt_ctxt_queue()`), where it blocks
 * the current grace period if its CPU had not yet reported a quiescent
 * state, and every later one until it leaves the critical section; the
 * outermost `rcu_read_unlock()` then runs `rcu_read_unlock_special()` to
 * dequeue it and report, or defers that while preemption, bottom halves or
 * irqs are disabled.
 * @internal
 */
export class PreemptRcu {
  constructor(private readonly rs: RcuState) {}

  /** `rcu_preempt_need_deferred_qs()`. */
  needDeferredQs(st: RcuTaskState, c: number): boolean {
    return (this.rs.cpuNoQsExp[c] === 1 || st.special !== 0) && st.nesting === 0;
  }

  /** `rcu_preempt_deferred_qs()`. */
  preemptDeferredQs(st: RcuTaskState, c: number): void {
    if (!this.needDeferredQs(st, c)) return;
    const flags = this.rs.m.localIrqSave();
    this.deferredQsIrqrestore(st, c, flags);
  }

  /** Alias used by the tick. */
  deferredQs(st: RcuTaskState, c: number): void {
    this.preemptDeferredQs(st, c);
  }

  /** `rcu_preempt_deferred_qs_irqrestore()`: irqs were saved in `flags`. */
  deferredQsIrqrestore(st: RcuTaskState, c: number, flags: number): void {
    const rs = this.rs;
    const m = rs.m;
    const special = st.special;
    if (special === 0 && rs.cpuNoQsExp[c] === 0) {
      m.localIrqRestore(flags);
      return;
    }
    st.special = 0;
    if ((special & SPECIAL_NEED_QS) !== 0 && rs.cpuNoQs[c] === 1) rs.cpuNoQs[c] = 0;
    if (rs.cpuNoQsExp[c] === 1) rs.hooks!.reportExpRdp(c);
    if ((special & SPECIAL_BLOCKED) === 0 || st.blkdNode < 0) {
      m.localIrqRestore(flags);
      return;
    }
    const t = rs.tree;
    const rnp = st.blkdNode;
    const lock = t.locks[rnp]!;
    lock.lock();
    const emptyNorm = t.blkdGp[rnp] === 0;
    const emptyExp = t.blkdExp[rnp] === 0;
    const list = t.blkd[rnp]!;
    const i = list.indexOf(st);
    if (i >= 0) list.splice(i, 1);
    if (st.blocksGp) t.blkdGp[rnp] = t.blkdGp[rnp]! - 1;
    if (st.blocksExp) t.blkdExp[rnp] = t.blkdExp[rnp]! - 1;
    st.blkdNode = -1;
    st.blocksGp = false;
    st.blocksExp = false;
    m.store(t.addr[rnp]! + 16, list.length, rs.siteNode);
    const expNowDone = !emptyExp && t.blkdExp[rnp] === 0;
    if (!emptyNorm && t.blkdGp[rnp] === 0) rs.reportUnblockQsRnp(rnp, flags);
    else lock.unlockIrqrestore(flags);
    if (expNowDone) rs.hooks!.reportExpRnp(rnp);
  }

  /**
   * `rcu_preempt_ctxt_queue()`: queue the task preempted in a reader on its
   * CPU's leaf. It blocks the current grace period only if the CPU has not
   * reported yet (the CPU's report will no longer cover the reader), and the
   * current expedited grace period likewise.
   */
  ctxtQueue(st: RcuTaskState, c: number): void {
    const rs = this.rs;
    const t = rs.tree;
    const rnp = t.leafOf[c]!;
    const lock = t.locks[rnp]!;
    const flags = lock.lockIrqsave();
    st.special |= SPECIAL_BLOCKED;
    st.blkdNode = rnp;
    const bit = t.bitBase[rnp]! + t.cpuBit[c]!;
    st.blocksGp = t.qsBits[bit] === 1;
    st.blocksExp = t.expBits[bit] === 1;
    t.blkd[rnp]!.push(st);
    if (st.blocksGp) t.blkdGp[rnp] = t.blkdGp[rnp]! + 1;
    if (st.blocksExp) t.blkdExp[rnp] = t.blkdExp[rnp]! + 1;
    rs.m.store(t.addr[rnp]! + 16, t.blkd[rnp]!.length, rs.siteNode);
    lock.unlockIrqrestore(flags);
    // The expedited grace period now waits for the task instead of the CPU.
    if (st.blocksExp && rs.cpuNoQsExp[c] === 1) rs.hooks!.reportExpRdp(c);
  }

  /** `rcu_read_unlock_special()`: the outermost unlock of a reader with work to do. */
  readUnlockSpecial(st: RcuTaskState): void {
    const rs = this.rs;
    const m = rs.m;
    if (m.inNmi()) return;
    const pbDisabled = (m.preemptCount() & (PREEMPT_MASK | SOFTIRQ_MASK)) !== 0;
    const irqsWereDisabled = m.irqsDisabled();
    const flags = m.localIrqSave();
    const c = m.cpu;
    if (pbDisabled || irqsWereDisabled) {
      // Defer until everything is enabled again: the next context switch,
      // tick or RCU softirq reports it. An expedited grace period or an
      // unlock in hardirq gets the softirq raised right away.
      const expboost = (st.special & SPECIAL_EXP_HINT) !== 0 || rs.cpuNoQsExp[c] === 1;
      if (rs.opts.useSoftirq && (m.inHardirq() || (expboost && !irqsWereDisabled)))
        rs.invokeRcuCore(c);
      m.localIrqRestore(flags);
      return;
    }
    this.deferredQsIrqrestore(st, c, flags);
  }
}
