import type { Locking } from '@sim/locks';
import type { PreemptRcu } from './preempt-rcu.js';
import type { RcuState } from './rcu-state.js';
import type { RcuTaskState } from './task-state.js';

/** `RCU_NEST_PMAX`: deepest sane reader nesting. */
const RCU_NEST_PMAX = 1 << 30;

/**
 * The read side (include/linux/rcupdate.h, kernel/rcu/tree_plugin.h):
 * `rcu_read_lock()` is a nesting counter in the task under preemptible RCU
 * and `preempt_disable()` otherwise; the `_bh` and `_sched` forms disable
 * bottom halves or preemption, which since the flavour consolidation (v4.20)
 * makes them readers of the same RCU. Each form also takes its lockdep map.
 * @internal
 */
export class RcuReader {
  private warnedImbalance = false;

  constructor(
    private readonly rs: RcuState,
    private readonly locking: Locking,
    private readonly prcu: PreemptRcu,
  ) {}

  /** `rcu_read_lock()`. */
  lock(): void {
    const rs = this.rs;
    const m = rs.m;
    const st = rs.taskSlot.get(m.current);
    if (rs.preemptible) {
      if (++st.nesting > RCU_NEST_PMAX) this.imbalance('rcu_read_lock nesting overflow');
    } else {
      m.preemptDisable();
    }
    if (st.readDepth++ === 0 && rs.oracle !== null) rs.oracle.enter(st);
    this.locking.lockdep.rcuLockAcquire(this.locking.lockdep.rcuLockMap);
    m.probe(rs.probeReadLock);
  }

  /** `rcu_read_unlock()`. */
  unlock(): void {
    const rs = this.rs;
    const m = rs.m;
    const st = rs.taskSlot.get(m.current);
    this.locking.lockdep.rcuLockRelease(this.locking.lockdep.rcuLockMap);
    if (rs.preemptible) {
      if (st.nesting <= 0) {
        this.imbalance('rcu_read_unlock() without rcu_read_lock()');
        return;
      }
      this.exitDepth(st);
      const n = --st.nesting;
      m.probe(rs.probeReadUnlock);
      if (n === 0 && st.special !== 0) this.prcu.readUnlockSpecial(st);
      return;
    }
    if (st.readDepth <= 0) {
      this.imbalance('rcu_read_unlock() without rcu_read_lock()');
      return;
    }
    this.exitDepth(st);
    m.preemptEnable();
    m.probe(rs.probeReadUnlock);
  }

  /** `rcu_read_lock_bh()`: bottom halves off (on PREEMPT_RT also an rcu_read_lock()). */
  lockBh(): void {
    const rs = this.rs;
    const m = rs.m;
    m.localBhDisable();
    const st = rs.taskSlot.get(m.current);
    if (m.rt) st.nesting++;
    if (st.readDepth++ === 0 && rs.oracle !== null) rs.oracle.enter(st);
    this.locking.lockdep.rcuLockAcquire(this.locking.lockdep.rcuBhLockMap);
  }

  /** `rcu_read_unlock_bh()`. */
  unlockBh(): void {
    const rs = this.rs;
    const m = rs.m;
    const st = rs.taskSlot.get(m.current);
    this.locking.lockdep.rcuLockRelease(this.locking.lockdep.rcuBhLockMap);
    if (st.readDepth <= 0) {
      this.imbalance('rcu_read_unlock_bh() without rcu_read_lock_bh()');
      return;
    }
    this.exitDepth(st);
    if (m.rt) {
      const n = --st.nesting;
      m.localBhEnable();
      if (n === 0 && st.special !== 0) this.prcu.readUnlockSpecial(st);
      return;
    }
    m.localBhEnable();
  }

  /** `rcu_read_lock_sched()`: preemption off. */
  lockSched(): void {
    const rs = this.rs;
    const m = rs.m;
    m.preemptDisable();
    const st = rs.taskSlot.get(m.current);
    if (st.readDepth++ === 0 && rs.oracle !== null) rs.oracle.enter(st);
    this.locking.lockdep.rcuLockAcquire(this.locking.lockdep.rcuSchedLockMap);
  }

  /** `rcu_read_unlock_sched()`. */
  unlockSched(): void {
    const rs = this.rs;
    const m = rs.m;
    const st = rs.taskSlot.get(m.current);
    this.locking.lockdep.rcuLockRelease(this.locking.lockdep.rcuSchedLockMap);
    if (st.readDepth <= 0) {
      this.imbalance('rcu_read_unlock_sched() without rcu_read_lock_sched()');
      return;
    }
    this.exitDepth(st);
    m.preemptEnable();
  }

  /** `__rcu_read_lock()` as PREEMPT_RT's sleeping spinlocks call it (lockdep is theirs). */
  rtEnter(): void {
    const rs = this.rs;
    const st = rs.taskSlot.get(rs.m.current);
    st.nesting++;
    if (st.readDepth++ === 0 && rs.oracle !== null) rs.oracle.enter(st);
  }

  /** `__rcu_read_unlock()` for PREEMPT_RT's sleeping spinlocks. */
  rtExit(): void {
    const rs = this.rs;
    const st = rs.taskSlot.get(rs.m.current);
    if (st.nesting <= 0) {
      this.imbalance('__rcu_read_unlock() without __rcu_read_lock()');
      return;
    }
    this.exitDepth(st);
    const n = --st.nesting;
    if (n === 0 && st.special !== 0) this.prcu.readUnlockSpecial(st);
  }

  /** `rcu_preempt_depth()` of the current task (0 without preemptible RCU). */
  depth(): number {
    const rs = this.rs;
    return rs.preemptible ? rs.taskSlot.get(rs.m.current).nesting : 0;
  }

  /** Reader sections of any flavour the current task is inside. */
  readDepth(): number {
    const rs = this.rs;
    return rs.taskSlot.get(rs.m.current).readDepth;
  }

  private exitDepth(st: RcuTaskState): void {
    const rs = this.rs;
    if (--st.readDepth === 0 && rs.oracle !== null) rs.oracle.exit(st);
  }

  private imbalance(msg: string): void {
    if (this.warnedImbalance) return;
    this.warnedImbalance = true;
    this.rs.m.warn({
      kind: 'rcu-read-unlock-imbalance',
      site: 'kernel/rcu/tree_plugin.h',
      fn: '__rcu_read_unlock',
      message: msg,
    });
  }
}
