import type { Task, Wait } from '@sim/cpu';
import { MAX_RT_PRIO } from '@sim/cpu';
import { RCU_GP_FLAG_FQS, RCU_GP_FLAG_INIT, RcuGpState } from './constants.js';
import { rcuSeqEnd, rcuSeqStart } from './rcu-seq.js';
import type { RcuState } from './rcu-state.js';

/**
 * The grace-period kthread (`rcu_gp_kthread()` in kernel/rcu/tree.c): waits
 * for a grace-period request, initialises the rcu_node tree
 * (`rcu_gp_init()`), scans for quiescent states every
 * `jiffies_till_next_fqs` until the root is clear (`rcu_gp_fqs_loop()`), then
 * propagates the end of the grace period (`rcu_gp_cleanup()`).
 * @internal
 */
export class GpKthread {
  private readonly bits: Int32Array;
  private readonly initCond: () => boolean;
  private readonly fqsCond: () => boolean;

  constructor(private readonly rs: RcuState) {
    this.bits = new Int32Array(64);
    this.initCond = () => (rs.gpFlags & RCU_GP_FLAG_INIT) !== 0;
    // rcu_gp_fqs_check_wake(): a forced scan was asked for, or the root is clear.
    this.fqsCond = () =>
      (rs.gpFlags & RCU_GP_FLAG_FQS) !== 0 || (rs.tree.qsCount[0] === 0 && rs.tree.blkdGp[0] === 0);
  }

  /** Spawn the kthread ("rcu_preempt" or "rcu_sched"). */
  spawn(): Task {
    const rs = this.rs;
    const m = rs.m;
    const self = this;
    // kthread_prio: SCHED_FIFO 1 when priority boosting is built in (PREEMPT_RT).
    const prio = m.rt ? MAX_RT_PRIO - 2 : 120;
    const t = m.spawn(
      function* rcu_gp_kthread() {
        yield* self.loop();
      },
      { comm: rs.name, kthread: true, prio },
    );
    rs.gpKthread = t;
    return t;
  }

  private *loop(): Generator<Wait<unknown>, void, unknown> {
    const rs = this.rs;
    const m = rs.m;
    for (;;) {
      for (;;) {
        rs.gpState = RcuGpState.WAIT_GPS;
        yield m.waitEvent(rs.gpWq, this.initCond);
        rs.gpState = RcuGpState.DONE_GPS;
        if (this.gpInit()) break;
        yield m.condResched('kernel/rcu/tree.c');
        rs.gpActivity = rs.jiffies;
      }
      yield* this.fqsLoop();
      rs.gpState = RcuGpState.CLEANUP;
      this.gpCleanup();
      rs.gpState = RcuGpState.CLEANED;
    }
  }

  /** `rcu_gp_init()`: start a grace period; false if there was nothing to start. */
  gpInit(): boolean {
    const rs = this.rs;
    const m = rs.m;
    const t = rs.tree;
    rs.gpActivity = rs.jiffies;
    if (rs.gpFlags === 0) return false;
    rs.gpFlags = 0;
    if (rs.gpInProgress()) return false;
    // record_gp_stall_check_time()
    const j = rs.jiffies;
    rs.gpStart = j;
    const j1 = stallTimeoutJiffies(rs);
    rs.jiffiesStall = j + j1;
    rs.jiffiesResched = j + Math.floor(j1 / 2);
    rs.nForceQsGpstart = rs.nForceQs;
    rs.gpSeq = rcuSeqStart(rs.gpSeq);
    rs.publishGpSeq();
    rs.gpStarted++;
    if (m.tracing) m.traceAsyncBegin(`${rs.name} GP ${rs.gpSeq >> 2}`, rs.gpSeq, 'rcu');
    rs.gpState = RcuGpState.INIT;
    const me = m.cpu;
    const myLeaf = t.leafOf[me]!;
    for (let rnp = 0; rnp < t.nodes; rnp++) {
      const lock = t.locks[rnp]!;
      const flags = lock.lockIrqsave();
      // rcu_preempt_check_blocked_tasks(): readers preempted before this grace
      // period began block it.
      const blkd = t.blkd[rnp]!;
      for (let k = 0; k < blkd.length; k++) blkd[k]!.blocksGp = true;
      t.blkdGp[rnp] = blkd.length;
      const base = t.bitBase[rnp]!;
      const nc = t.nChildren[rnp]!;
      t.qsBits.fill(1, base, base + nc);
      t.qsCount[rnp] = nc;
      t.gpSeq[rnp] = rs.gpSeq;
      m.store(t.addr[rnp]!, nc, rs.siteNode);
      if (rnp === myLeaf) rs.noteGpChangesLocked(rnp, me);
      lock.unlockIrqrestore(flags);
      rs.gpActivity = rs.jiffies;
    }
    return true;
  }

  /** `rcu_gp_fqs_loop()`. */
  private *fqsLoop(): Generator<Wait<unknown>, void, unknown> {
    const rs = this.rs;
    const m = rs.m;
    const o = rs.opts;
    let first = true;
    let j = o.jiffiesTillFirstFqs;
    let ret = 0;
    for (;;) {
      if (ret === 0) rs.jiffiesForceQs = rs.jiffies + j;
      rs.gpState = RcuGpState.WAIT_FQS;
      ret = yield* m.waitEventTimeout(rs.gpWq, this.fqsCond, j);
      rs.gpState = RcuGpState.DOING_FQS;
      rs.gpActivity = rs.jiffies;
      if (rs.tree.qsCount[0] === 0 && rs.tree.blkdGp[0] === 0) break;
      if (rs.jiffies >= rs.jiffiesForceQs || (rs.gpFlags & RCU_GP_FLAG_FQS) !== 0) {
        this.gpFqs(first);
        first = false;
        ret = 0;
        j = o.jiffiesTillNextFqs;
        yield m.condResched('kernel/rcu/tree.c');
      } else {
        // Woken early: sleep out the rest of the interval.
        ret = 1;
        const now = rs.jiffies;
        j = now > rs.jiffiesForceQs ? 1 : rs.jiffiesForceQs - now;
      }
    }
  }

  /** `rcu_gp_fqs()`: one force-quiescent-state scan. */
  gpFqs(first: boolean): void {
    const rs = this.rs;
    rs.nForceQs++;
    this.forceQsRnp(first);
    if ((rs.gpFlags & RCU_GP_FLAG_FQS) !== 0) rs.gpFlags &= ~RCU_GP_FLAG_FQS;
  }

  /**
   * `force_qs_rnp()`: for every leaf, report the CPUs that are (first scan,
   * `rcu_watching_snap_save()`) or have been (later scans,
   * `rcu_watching_snap_recheck()`) in an extended quiescent state.
   */
  private forceQsRnp(first: boolean): void {
    const rs = this.rs;
    const t = rs.tree;
    const bits = this.bits;
    for (let rnp = t.firstLeaf; rnp < t.nodes; rnp++) {
      const lock = t.locks[rnp]!;
      const flags = lock.lockIrqsave();
      if (t.qsCount[rnp] === 0) {
        lock.unlockIrqrestore(flags);
        continue;
      }
      const inf = t.info[rnp]!;
      const base = t.bitBase[rnp]!;
      let n = 0;
      for (let c = inf.grplo; c <= inf.grphi; c++) {
        const b = c - inf.grplo;
        if (t.qsBits[base + b] === 0) continue;
        if (first ? this.watchingSnapSave(c) : this.watchingSnapRecheck(c)) bits[n++] = b;
      }
      if (n > 0) rs.reportQsRnpBits(rnp, bits, n, t.gpSeq[rnp]!, flags);
      else lock.unlockIrqrestore(flags);
    }
  }

  /** `rcu_watching_snap_save()`: snapshot the CPU's context-tracking counter; idle is a quiescent state. */
  private watchingSnapSave(c: number): boolean {
    const rs = this.rs;
    rs.dynticksSnap[c] = rs.dynticks[c]!;
    return rs.inEqs(c);
  }

  /**
   * `rcu_watching_snap_recheck()`: the CPU passed through an extended
   * quiescent state since the snapshot; else escalate urgency as the grace
   * period ages.
   */
  private watchingSnapRecheck(c: number): boolean {
    const rs = this.rs;
    if (rs.dynticks[c] !== rs.dynticksSnap[c] || rs.inEqs(c)) return true;
    const j = rs.jiffies;
    const jtsq = rs.opts.jiffiesTillSchedQs;
    if (
      rs.needHeavyQs[c] === 0 &&
      (j > rs.gpStart + 2 * jtsq || j > rs.jiffiesResched || rs.cbovld)
    ) {
      rs.needHeavyQs[c] = 1;
      rs.urgentQs[c] = 1;
    } else if (j > rs.gpStart + jtsq) {
      rs.urgentQs[c] = 1;
    }
    if (j > rs.jiffiesResched) {
      if (j > rs.lastFqsResched[c]! + jtsq) rs.lastFqsResched[c] = j;
      rs.hooks!.probeHoldout(c);
    }
    return false;
  }

  /** `rcu_gp_cleanup()`: publish the end of the grace period down the tree. */
  gpCleanup(): void {
    const rs = this.rs;
    const m = rs.m;
    const t = rs.tree;
    const j = rs.jiffies;
    rs.gpEnd = j;
    if (j - rs.gpStart > rs.gpMaxJiffies) rs.gpMaxJiffies = j - rs.gpStart;
    const newSeq = rcuSeqEnd(rs.gpSeq);
    const me = m.cpu;
    const myLeaf = t.leafOf[me]!;
    let needgp = false;
    for (let rnp = 0; rnp < t.nodes; rnp++) {
      const lock = t.locks[rnp]!;
      const flags = lock.lockIrqsave();
      t.gpSeq[rnp] = newSeq;
      m.store(t.addr[rnp]! + 8, newSeq, rs.siteNode);
      if (rnp === myLeaf) needgp = rs.noteGpChangesLocked(rnp, me) || needgp;
      if (rnp === 0) {
        // rcu_future_gp_cleanup()
        const more = newSeq < rs.gpSeqNeeded;
        if (!more) rs.gpSeqNeeded = newSeq;
        needgp = more || needgp;
      }
      lock.unlockIrqrestore(flags);
      rs.hooks!.nocbGpCleanup(rnp);
      rs.gpActivity = rs.jiffies;
    }
    if (m.tracing) m.traceAsyncEnd(`${rs.name} GP ${rs.gpSeq >> 2}`, rs.gpSeq, 'rcu');
    rs.gpSeq = newSeq;
    rs.publishGpSeq();
    rs.gpCompleted++;
    rs.gpState = RcuGpState.IDLE;
    if (!needgp && rs.gpSeq < rs.gpSeqNeeded) needgp = true;
    const root = t.locks[0]!;
    const flags = root.lockIrqsave();
    const offloaded = rs.cbs.offloaded[me] === 1;
    if ((offloaded || !rs.accelerateCbs(me)) && needgp) {
      rs.gpFlags = RCU_GP_FLAG_INIT;
      rs.gpReqActivity = rs.jiffies;
    } else {
      rs.gpFlags &= RCU_GP_FLAG_INIT;
    }
    root.unlockIrqrestore(flags);
  }
}

/** `rcu_jiffies_till_stall_check()`. @internal */
export function stallTimeoutJiffies(rs: RcuState): number {
  return rs.opts.rcuCpuStallTimeout * rs.m.hz;
}
