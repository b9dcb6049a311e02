import { HARDIRQ_OFFSET, PREEMPT_MASK, SOFTIRQ_MASK, TASK_RUNNING, type Task } from '@sim/cpu';
import type { PreemptRcu } from './preempt-rcu.js';
import type { RcuState } from './rcu-state.js';
import { SPECIAL_BLOCKED, SPECIAL_NEED_QS } from './task-state.js';

/**
 * Where quiescent states come from, per preemption model: the scheduling
 * clock interrupt (`rcu_sched_clock_irq()` and the flavour's
 * `rcu_flavor_sched_clock_irq()`), context switches
 * (`rcu_note_context_switch()`), and idle entry and exit (the
 * context-tracking counter that force-quiescent-state scans sample).
 * @internal
 */
export class QsHooks {
  private voluntaryWarned = false;

  constructor(
    private readonly rs: RcuState,
    private readonly prcu: PreemptRcu,
  ) {}

  /** `rcu_sched_clock_irq(user)`: the tick on CPU `c`, in hardirq context. */
  tick(c: number, user: boolean): void {
    const rs = this.rs;
    rs.ticksThisGp[c] = rs.ticksThisGp[c]! + 1;
    // rcu_urgent_qs would set need_resched here; the tick below reports the
    // quiescent state itself whenever the interrupted context allows it.
    rs.urgentQs[c] = 0;
    if (rs.preemptible) this.flavorTickPreempt(c, user);
    else this.flavorTickSched(c, user);
    if (rs.pending(c)) rs.invokeRcuCore(c);
  }

  /**
   * `rcu_flavor_sched_clock_irq()` without preemptible RCU: a quiescent state
   * if the tick came from user mode, from idle, or (CONFIG_PREEMPT_COUNT) from
   * code holding no preempt count.
   */
  private flavorTickSched(c: number, user: boolean): void {
    const rs = this.rs;
    if (user || rs.rruptFromIdle() || rs.m.preemptCount() === HARDIRQ_OFFSET) rs.rcuQs(c);
  }

  /**
   * `rcu_flavor_sched_clock_irq()` with preemptible RCU: a quiescent state
   * unless the interrupted task is inside a reader or has preemption or
   * bottom halves disabled; a long-running reader is asked to report at its
   * outermost unlock.
   */
  private flavorTickPreempt(c: number, _user: boolean): void {
    const rs = this.rs;
    const m = rs.m;
    const st = rs.taskState(m.current);
    const pc = m.preemptCount();
    // PREEMPT_RT keeps the bottom-half count in the task, and its
    // local_bh_disable() is also an rcu_read_lock(): count it as a reader.
    const bh = m.rt && m.softirqCount() !== 0;
    if (st.nesting > 0 || bh || (pc & (PREEMPT_MASK | SOFTIRQ_MASK)) !== 0) {
      // No quiescent state; a deferred one is reported at the next switch.
    } else if (this.prcu.needDeferredQs(st, c)) {
      this.prcu.deferredQs(st, c);
      return;
    } else {
      rs.rcuQs(c);
      return;
    }
    if (
      st.nesting > 0 &&
      rs.coreNeedsQs[c] === 1 &&
      rs.cpuNoQs[c] === 1 &&
      (st.special & SPECIAL_NEED_QS) === 0 &&
      rs.jiffies > rs.gpStart + m.hz
    ) {
      st.special |= SPECIAL_NEED_QS;
    }
  }

  /** `rcu_note_context_switch(preempt)` for `prev` leaving CPU `c`. */
  contextSwitch(c: number, prev: Task, _next: Task): void {
    const rs = this.rs;
    if (rs.preemptible) {
      const st = rs.taskState(prev);
      const preempt = prev.state === TASK_RUNNING;
      if (!preempt && st.nesting > 0 && !this.voluntaryWarned) {
        this.voluntaryWarned = true;
        rs.m.warn({
          kind: 'rcu-voluntary-switch-in-reader',
          site: 'kernel/rcu/tree_plugin.h',
          fn: 'rcu_note_context_switch',
          message: 'Voluntary context switch within RCU read-side critical section!',
          details: { pid: prev.pid, comm: prev.comm, nesting: st.nesting },
        });
      }
      if (st.nesting > 0 && (st.special & SPECIAL_BLOCKED) === 0) {
        this.prcu.ctxtQueue(st, c);
      } else {
        this.prcu.preemptDeferredQs(st, c);
      }
      if (rs.cpuNoQs[c] === 1) {
        rs.cpuNoQs[c] = 0;
        st.special &= ~SPECIAL_NEED_QS;
      }
      if (rs.cpuNoQsExp[c] === 1) rs.hooks!.reportExpRdp(c);
      return;
    }
    rs.rcuQs(c);
  }

  /** Idle entry: the CPU enters an extended quiescent state (`ct_idle_enter()`). */
  idleEnter(c: number): void {
    const rs = this.rs;
    if (rs.dynticks[c]! % 2 === 1) rs.dynticks[c] = rs.dynticks[c]! + 1;
  }

  /** Idle exit (`ct_idle_exit()`). */
  idleExit(c: number): void {
    const rs = this.rs;
    if (rs.dynticks[c]! % 2 === 0) rs.dynticks[c] = rs.dynticks[c]! + 1;
  }
}
