import { type Machine, PREEMPT_MASK, SOFTIRQ_MASK, type Wait, WaitQueueHead } from '@sim/cpu';
import type { Locking, Mutex } from '@sim/locks';
import { rcuSeqCtr, rcuSeqDone, rcuSeqEnd, rcuSeqSnap, rcuSeqStart } from './rcu-seq.js';
import type { RcuState } from './rcu-state.js';
import type { GpWaiters } from './synchronize.js';
import { SPECIAL_EXP_HINT } from './task-state.js';

/**
 * Expedited grace periods (kernel/rcu/tree_exp.h): mark every CPU in the
 * leaves' `expmask`, report idle CPUs at once and IPI the others with
 * `rcu_exp_handler()`, which reports a quiescent state if the interrupted
 * context is not a reader and otherwise leaves a hint so the reader's
 * unlock (or its preemption) reports; tasks already blocked in readers block
 * it too. Waits with the expedited stall timeout.
 * @internal
 */
export class Expedited {
  readonly wq: WaitQueueHead;
  private readonly mutex: Mutex;
  /** CPUs still owing an expedited quiescent state. */
  private pendingCpus = 0;
  private startJiffies = 0;
  private readonly doneCond: () => boolean;
  private readonly handler: (m: Machine) => void;
  /** Expedited grace periods completed. */
  completed = 0;
  /** Stall warnings printed. */
  stalls = 0;

  constructor(
    private readonly rs: RcuState,
    locking: Locking,
    private readonly waiters: GpWaiters,
  ) {
    this.wq = new WaitQueueHead(rs.m);
    this.mutex = locking.mutex('&rcu_state.exp_mutex');
    this.doneCond = () => this.done();
    const self = this;
    this.handler = function rcu_exp_handler(m: Machine) {
      self.expHandler(m.cpu);
    };
  }

  /** All CPUs and blocked readers reported (`sync_rcu_exp_done()` on the root). */
  done(): boolean {
    if (this.pendingCpus !== 0) return false;
    const t = this.rs.tree;
    for (let rnp = t.firstLeaf; rnp < t.nodes; rnp++) if (t.blkdExp[rnp]! > 0) return false;
    return true;
  }

  /** `synchronize_rcu_expedited()`. */
  *synchronize(): Generator<Wait<unknown>, void, unknown> {
    const rs = this.rs;
    const m = rs.m;
    const w = this.waiters;
    const s = rcuSeqSnap(w.expSeq);
    yield* this.mutex.lock();
    try {
      // exp_funnel_lock(): another caller's expedited grace period covered us.
      if (rcuSeqDone(w.expSeq, s)) return;
      w.expSeq = rcuSeqStart(w.expSeq);
      this.startJiffies = rs.jiffies;
      this.selectCpus();
      let stallJ = expStallJiffies(rs);
      for (;;) {
        const left = yield* m.waitEventTimeout(this.wq, this.doneCond, stallJ);
        if (left !== 0 || this.done()) break;
        this.printStall();
        stallJ = 3 * stallJ + 3;
      }
      w.expSeq = rcuSeqEnd(w.expSeq);
      this.completed++;
    } finally {
      this.mutex.unlock();
    }
  }

  /** `sync_rcu_exp_select_cpus()`: set expmask, report idle CPUs, IPI the rest. */
  private selectCpus(): void {
    const rs = this.rs;
    const m = rs.m;
    const t = rs.tree;
    this.pendingCpus = 0;
    for (let rnp = t.firstLeaf; rnp < t.nodes; rnp++) {
      const lock = t.locks[rnp]!;
      const flags = lock.lockIrqsave();
      const base = t.bitBase[rnp]!;
      const n = t.nChildren[rnp]!;
      t.expBits.fill(1, base, base + n);
      t.expCount[rnp] = n;
      this.pendingCpus += n;
      // Readers preempted before now block this expedited grace period.
      const blkd = t.blkd[rnp]!;
      for (let k = 0; k < blkd.length; k++) blkd[k]!.blocksExp = true;
      t.blkdExp[rnp] = blkd.length;
      lock.unlockIrqrestore(flags);
    }
    for (let c = 0; c < rs.nr; c++) {
      // CPUs in an extended quiescent state need no IPI.
      if (rs.inEqs(c) && m.cpuIsIdle(c)) {
        this.reportExpRdp(c);
        continue;
      }
      m.smpCallFunctionSingle(c, this.handler);
    }
  }

  /** `rcu_exp_handler()`: the IPI on the target CPU. */
  private expHandler(c: number): void {
    const rs = this.rs;
    const m = rs.m;
    const t = rs.tree;
    if (t.expBits[t.bitBase[t.leafOf[c]!]! + t.cpuBit[c]!] === 0 || rs.cpuNoQsExp[c] === 1) return;
    const pcOk = (m.preemptCount() & (PREEMPT_MASK | SOFTIRQ_MASK)) === 0;
    if (rs.preemptible) {
      const st = rs.taskState(m.current);
      if (st.nesting === 0) {
        if (pcOk || rs.rruptFromIdle()) this.reportExpRdp(c);
        else rs.cpuNoQsExp[c] = 1;
        return;
      }
      // Inside a reader: its unlock, or its preemption, reports for us.
      rs.cpuNoQsExp[c] = 1;
      st.special |= SPECIAL_EXP_HINT;
      return;
    }
    if (rs.rruptFromIdle() || pcOk) {
      this.reportExpRdp(c);
      return;
    }
    rs.cpuNoQsExp[c] = 1;
  }

  /** `rcu_report_exp_rdp()`. */
  reportExpRdp(c: number): void {
    const rs = this.rs;
    const t = rs.tree;
    rs.cpuNoQsExp[c] = 0;
    const rnp = t.leafOf[c]!;
    const idx = t.bitBase[rnp]! + t.cpuBit[c]!;
    if (t.expBits[idx] === 0) return;
    t.expBits[idx] = 0;
    t.expCount[rnp] = t.expCount[rnp]! - 1;
    this.pendingCpus--;
    if (this.done()) this.wq.wakeUp();
  }

  /** `rcu_report_exp_rnp()`: a blocked reader of `rnp` finished. */
  reportExpRnp(_rnp: number): void {
    if (this.done()) this.wq.wakeUp();
  }

  /** `synchronize_rcu_expedited_stall()`. */
  private printStall(): void {
    const rs = this.rs;
    const m = rs.m;
    const t = rs.tree;
    if (rs.opts.rcuCpuStallSuppress) return;
    this.stalls++;
    const parts: string[] = [];
    const cpus: number[] = [];
    const tasks: number[] = [];
    for (let rnp = t.firstLeaf; rnp < t.nodes; rnp++) {
      const inf = t.info[rnp]!;
      for (let c = inf.grplo; c <= inf.grphi; c++) {
        if (t.expBits[t.bitBase[rnp]! + c - inf.grplo] === 0) continue;
        cpus.push(c);
        parts.push(` ${c}-...${rs.cpuNoQsExp[c] === 1 ? '.' : 'D'}`);
      }
      for (const st of t.blkd[rnp]!) {
        if (!st.blocksExp) continue;
        tasks.push(st.task.pid);
        parts.push(` P${st.task.pid}`);
      }
    }
    let rootTasks = false;
    for (let rnp = t.firstLeaf; rnp < t.nodes; rnp++) if (t.blkdExp[rnp]! > 0) rootTasks = true;
    const j = rs.jiffies - this.startJiffies;
    const lines = [
      `rcu: INFO: ${rs.name} detected expedited stalls on CPUs/tasks: {${parts.join('')} } ${j} jiffies s: ${rcuSeqCtr(this.waiters.expSeq) * 4 + 1} root: ${t.qsmaskHex(0, true)}/${rootTasks ? 'T' : '.'}`,
    ];
    for (const c of cpus) {
      const task = m.currentOn(c);
      lines.push(`Task dump for CPU ${c}:`);
      lines.push(
        `task:${task.comm.padEnd(15)} state:R  running task     stack:0     pid:${task.pid}   tgid:${task.pid}   ppid:2      flags:0x00004008`,
      );
    }
    rs.stallWarnings++;
    m.report({
      kind: 'rcu-stall',
      lines,
      details: { type: 'expedited', cpus, tasks, jiffies: j },
      withStack: true,
      frames: ['synchronize_rcu_expedited_wait', 'synchronize_rcu_expedited'],
    });
  }
}

/** `rcu_exp_jiffies_till_stall_check()`. @internal */
export function expStallJiffies(rs: RcuState): number {
  const ms = rs.opts.rcuExpCpuStallTimeout;
  if (ms === 0) return rs.opts.rcuCpuStallTimeout * rs.m.hz;
  return Math.max(1, Math.ceil((ms * rs.m.hz) / 1000));
}
