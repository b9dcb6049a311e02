import type { Machine } from '@sim/cpu';
import { PREEMPT_MASK } from '@sim/cpu';
import type { RcuCallback } from './callbacks.js';
import { hex16 } from './callbacks.js';
import {
  DEFAULT_MAX_RCU_BLIMIT,
  KVFREE_RCU_OFFSET_LIMIT,
  RCU_HEAD_FUNC,
  RCU_NEXT_READY_TAIL,
} from './constants.js';
import { reportOops } from './oops.js';
import type { RcuState } from './rcu-state.js';

/** What the invoker does with a `->func` word below 4096 (offset-encoded kfree_rcu). @internal */
export interface OffsetFreeHook {
  /** Free the object whose `rcu_head` at `head` carries offset word `word`. */
  freeByOffset(head: number, word: number): void;
}

/**
 * Callback invocation (`rcu_core()` and `rcu_do_batch()` of
 * kernel/rcu/tree.c): the RCU_SOFTIRQ handler (or rcuc body) that reports
 * this CPU's quiescent state, requests grace periods for new callbacks and
 * invokes the DONE segment in batches bounded by `blimit`, the
 * `pending >> rcu_divisor` floor and, in softirq, `rcu_resched_ns`.
 * @internal
 */
export class CallbackInvoker {
  /** Set when the offset-encoded kfree_rcu design is in use. */
  offsetHook: OffsetFreeHook | null = null;
  /** Module names for "Modules linked in:". */
  modulesLine: () => string = () => '';
  private readonly fnRcuCore: number;
  private readonly fnDoBatch: number;
  /** `rcu_do_batch()` passes, for tests and statistics. */
  batches = 0;

  constructor(private readonly rs: RcuState) {
    this.fnRcuCore = rs.m.fnId('rcu_core');
    this.fnDoBatch = rs.m.fnId('rcu_do_batch');
  }

  /** `rcu_core()` on the current CPU. */
  rcuCore(): void {
    const rs = this.rs;
    const m = rs.m;
    const c = m.cpu;
    m.fnEnter(this.fnRcuCore);
    try {
      rs.softirqCount[c] = rs.softirqCount[c]! + 1;
      if (rs.preemptible) {
        const st = rs.taskState(m.current);
        if ((m.preemptCount() & PREEMPT_MASK) === 0) rs.hooks!.preemptDeferredQs(st, c);
      }
      rs.checkQuiescentState(c);
      const offloaded = rs.cbs.offloaded[c] === 1;
      if (!rs.gpInProgress() && !offloaded) {
        const flags = m.localIrqSave();
        if (!rs.cbs.restEmpty(c, RCU_NEXT_READY_TAIL)) rs.accelerateCbsUnlocked(c);
        m.localIrqRestore(flags);
      }
      if (!offloaded && rs.cbs.readyCbs(c)) {
        this.doBatch(c);
        if (rs.cbs.readyCbs(c)) rs.invokeRcuCore(c);
      }
    } finally {
      m.fnExit();
    }
  }

  /**
   * `rcu_do_batch()`: invoke ready callbacks of CPU `c` (the current CPU),
   * stopping at the batch limit when the CPU has other work. Returns the
   * number invoked.
   */
  doBatch(c: number): number {
    const rs = this.rs;
    const m = rs.m;
    const cbs = rs.cbs;
    if (!cbs.readyCbs(c)) return 0;
    m.fnEnter(this.fnDoBatch);
    this.batches++;
    const o = rs.opts;
    const pending = cbs.nCbs(c);
    const bl = Math.max(rs.blimit[c]!, Math.floor(pending / 2 ** o.rcuDivisor));
    const inSoftirq = m.inServingSoftirq();
    const tlimit = inSoftirq && bl > 100 ? m.now() + o.rcuReschedNs : 0;
    // rcuc and rcuo kthreads invoke with bottom halves disabled in task context.
    const kthread = !inSoftirq && !m.current.isIdle && m.current.kthread;
    const kthreadLimit = kthread ? m.now() + o.rcuReschedNs : 0;
    const flags = m.localIrqSave();
    const rcl = rs.rcl;
    cbs.extractDone(c, rcl, rs.siteList);
    m.localIrqRestore(flags);
    let count = 0;
    try {
      for (
        let rhp = rcl.dequeue(m, rs.siteInvoke);
        rhp !== 0;
        rhp = rcl.dequeue(m, rs.siteInvoke)
      ) {
        count++;
        this.invokeOne(m, c, rhp);
        if (inSoftirq) {
          // Stop at the limit only if this CPU has something else to do.
          if (count >= bl && !m.current.isIdle) break;
          if (tlimit !== 0 && (count & 31) === 0 && m.now() >= tlimit) break;
        } else if (kthread && (count & 31) === 0 && m.now() >= kthreadLimit) {
          // Stands in for the cond_resched() rcuc/rcuo do between callbacks:
          // hand the rest back and let the kthread yield.
          rs.rcuCpuHasWork[c] = 1;
          break;
        }
      }
    } finally {
      const f2 = m.localIrqSave();
      rs.nCbsInvoked[c] = rs.nCbsInvoked[c]! + count;
      cbs.insertDone(c, rcl, rs.siteList);
      cbs.addLen(c, -count);
      const left = cbs.nCbs(c);
      if (rs.blimit[c]! >= DEFAULT_MAX_RCU_BLIMIT && left <= o.qlowmark) rs.blimit[c] = o.blimit;
      if (left === 0 && rs.qlenLastFqsCheck[c] !== 0) {
        rs.qlenLastFqsCheck[c] = 0;
        rs.nForceQsSnap[c] = rs.nForceQs;
      } else if (left < rs.qlenLastFqsCheck[c]! - o.qhimark) {
        rs.qlenLastFqsCheck[c] = left;
      }
      m.localIrqRestore(f2);
      m.fnExit();
    }
    return count;
  }

  /** Invoke one callback: read and clear `->func`, then call it (or Oops). */
  invokeOne(m: Machine, c: number, rhp: number): void {
    const rs = this.rs;
    const word = m.load(rhp + RCU_HEAD_FUNC, rs.siteInvoke);
    m.store(rhp + RCU_HEAD_FUNC, 0, rs.siteInvoke);
    if (rs.debugQueued !== null) rs.debugQueued.delete(rhp);
    if (rs.oracle !== null) rs.oracle.onInvoke(rhp);
    m.probe(rs.probeInvoke);
    const reg = rs.registry;
    const i = reg.decode(word);
    if (i >= 0 && reg.state[i] !== 2) {
      m.fnEnter(reg.fnIds[i]!);
      try {
        reg.fns[i]!(rhp);
      } finally {
        m.fnExit();
      }
      return;
    }
    if (word < KVFREE_RCU_OFFSET_LIMIT && this.offsetHook !== null) {
      // kfree_rcu() of 2008-2022: a "function" below 4096 is an offset.
      this.offsetHook.freeByOffset(rhp, word);
      return;
    }
    rs.nCbsLost[c] = rs.nCbsLost[c]! + 1;
    const cb: RcuCallback | undefined = i >= 0 ? reg.callbacks[i] : undefined;
    reportOops(m, {
      address: i >= 0 ? reg.printable[i]! : hex16(word),
      frames: ['rcu_do_batch', 'rcu_core'],
      modulesLine: this.modulesLine(),
      details: {
        head: rhp,
        func: word,
        symbol: cb === undefined ? null : cb.name,
        module: cb === undefined ? null : cb.module,
        reason: cb === undefined ? 'bad-function-pointer' : 'module-unloaded',
      },
    });
  }
}
