import { IrqWork, KernelPanic } from '@sim/cpu';
import { RCU_GP_STATE_NAMES, RCU_STALL_RAT_DELAY } from './constants.js';
import { stallTimeoutJiffies } from './gp-kthread.js';
import { rcuSeqCtr } from './rcu-seq.js';
import type { RcuState } from './rcu-state.js';
import { SPECIAL_BLOCKED, SPECIAL_EXP_HINT, SPECIAL_NEED_QS } from './task-state.js';

/**
 * RCU CPU stall warnings (kernel/rcu/tree_stall.h): checked from every tick
 * (`check_cpu_stall()`); once a grace period is older than
 * `rcu_cpu_stall_timeout`, a CPU that still owes a quiescent state reports a
 * self-detected stall, any other CPU reports the stalled CPUs and blocked
 * tasks ("detected stalls on CPUs/tasks"), with the starvation diagnosis of
 * the grace-period kthread. Halfway to the timeout an irq_work is sent to
 * each holdout CPU so the report can tell whether it has irqs disabled.
 * @internal
 */
export class StallDetector {
  private readonly iw: IrqWork[] = [];
  /** `rcu_iw_pending` per CPU. */
  private readonly iwPending: Uint8Array;
  /** `rcu_iw_gp_seq` per CPU. */
  private readonly iwGpSeq: Float64Array;

  constructor(private readonly rs: RcuState) {
    this.iwPending = new Uint8Array(rs.nr);
    this.iwGpSeq = new Float64Array(rs.nr).fill(-4);
    const self = this;
    for (let c = 0; c < rs.nr; c++) {
      const cpu = c;
      this.iw.push(
        new IrqWork(function rcu_iw_handler() {
          self.iwPending[cpu] = 0;
          self.iwGpSeq[cpu] = rs.tree.gpSeq[rs.tree.leafOf[cpu]!]!;
        }),
      );
    }
  }

  /** Part of `rcu_watching_snap_recheck()`: past half the timeout, probe holdouts with an irq_work. */
  probeHoldout(c: number): void {
    const rs = this.rs;
    const gs = rs.tree.gpSeq[rs.tree.leafOf[c]!]!;
    if (rs.jiffies <= rs.jiffiesResched || this.iwPending[c] === 1 || this.iwGpSeq[c] === gs)
      return;
    this.iwPending[c] = 1;
    this.iwGpSeq[c] = gs;
    rs.m.irqWorkQueueOn(this.iw[c]!, c);
  }

  /** `check_cpu_stall()` on CPU `c` (from its tick). */
  check(c: number): void {
    const rs = this.rs;
    if (rs.opts.rcuCpuStallSuppress || !rs.gpInProgress()) return;
    const j = rs.jiffies;
    const js = rs.jiffiesStall;
    const gps = rs.gpStart;
    if (j < js || gps >= js) return;
    const jn = j + 3 * stallTimeoutJiffies(rs) + 3;
    if (rs.cpuQsPending(c)) {
      rs.jiffiesStall = jn;
      this.printCpuStall(c, gps);
    } else if (j >= js + RCU_STALL_RAT_DELAY) {
      rs.jiffiesStall = jn;
      this.printOtherCpuStall(c, gps);
    }
  }

  /** `print_cpu_stall_info()`. */
  private cpuInfo(c: number): string {
    const rs = this.rs;
    const leafSeq = rs.tree.gpSeq[rs.tree.leafOf[c]!]!;
    const behind = rcuSeqCtr(rs.gpSeq - rs.rdpGpSeq[c]!);
    const ticks = behind !== 0 ? `${behind} GPs behind` : `${rs.ticksThisGp[c]} ticks this GP`;
    const delta = rcuSeqCtr(leafSeq - this.iwGpSeq[c]!);
    const iwc = this.iwPending[c] === 1 ? String(Math.min(delta, 9)) : delta === 0 ? '.' : '!';
    const eqs = rs.inEqs(c);
    const idle = ((rs.dynticks[c]! * 4) & 0xffff).toString(16).padStart(4, '0');
    const fqs = rs.nForceQs - rs.nForceQsGpstart;
    const starving = rs.jiffies - rs.gpActivity > 2 * rs.m.hz;
    return `rcu: \t${c}-...${iwc}: (${ticks}) idle=${idle}/${eqs ? 0 : 1}/${eqs ? '0x0' : '0x4000000000000000'} softirq=${rs.softirqSnap[c]}/${rs.softirqCount[c]} fqs=${fqs}${starving && eqs ? ' (false positive?)' : ''}`;
  }

  private taskLine(c: number): string[] {
    const t = this.rs.m.currentOn(c);
    return [
      `Task dump for CPU ${c}:`,
      `task:${t.comm.padEnd(15)} state:${t.state === 0 ? 'R' : 'D'}  running task     stack:0     pid:${t.pid}   tgid:${t.pid}   ppid:2      flags:0x00004008`,
    ];
  }

  /** `rcu_print_task_stall()`: blocked readers of a leaf. */
  private blockedTasks(rnp: number, lines: string[], pids: number[]): number {
    const t = this.rs.tree;
    if (t.blkdGp[rnp] === 0) return 0;
    const inf = t.info[rnp]!;
    let s = `rcu: \tTasks blocked on level-${inf.level} rcu_node (CPUs ${inf.grplo}-${inf.grphi}):`;
    let n = 0;
    for (const st of t.blkd[rnp]!) {
      if (!st.blocksGp || n >= 8) continue;
      n++;
      pids.push(st.task.pid);
      const sp = st.special;
      s += ` P${st.task.pid}/${st.nesting}:${sp & SPECIAL_BLOCKED ? 'b' : '.'}${sp & SPECIAL_NEED_QS ? 'q' : '.'}${sp & SPECIAL_EXP_HINT ? 'e' : '.'}l`;
    }
    lines.push(s);
    return n;
  }

  /** `rcu_check_gp_kthread_starvation()`. */
  private starvation(lines: string[]): boolean {
    const rs = this.rs;
    const j = rs.jiffies - rs.gpActivity;
    if (j <= 2 * rs.m.hz) return false;
    const k = rs.gpKthread;
    lines.push(
      `rcu: ${rs.name} kthread starved for ${j} jiffies! g${rs.gpSeq} f0x${rs.gpFlags.toString(16)} ${RCU_GP_STATE_NAMES[rs.gpState] ?? '???'}(${rs.gpState}) ->state=0x${(k?.state ?? 0).toString(16)} ->cpu=${k?.cpu ?? -1}`,
    );
    if (k !== null) {
      lines.push(
        `rcu: \tUnless ${rs.name} kthread gets sufficient CPU time, OOM is now expected behavior.`,
      );
      lines.push('rcu: RCU grace-period kthread stack dump:');
      lines.push(
        `task:${k.comm.padEnd(15)} state:${k.state === 0 ? 'R' : 'I'} stack:0     pid:${k.pid}   tgid:${k.pid}   ppid:2      flags:0x00004000`,
      );
    }
    return true;
  }

  private totalCbs(): number {
    const rs = this.rs;
    let q = 0;
    for (let c = 0; c < rs.nr; c++) q += rs.cbs.len[c]!;
    return q;
  }

  /** `print_other_cpu_stall()`. */
  private printOtherCpuStall(me: number, gps: number): void {
    const rs = this.rs;
    const t = rs.tree;
    const lines = [`rcu: INFO: ${rs.name} detected stalls on CPUs/tasks:`];
    const cpus: number[] = [];
    const pids: number[] = [];
    let nd = 0;
    for (let rnp = t.firstLeaf; rnp < t.nodes; rnp++) {
      const inf = t.info[rnp]!;
      for (let c = inf.grplo; c <= inf.grphi; c++) {
        if (t.qsBits[t.bitBase[rnp]! + c - inf.grplo] === 0) continue;
        lines.push(this.cpuInfo(c));
        cpus.push(c);
        nd++;
      }
      nd += this.blockedTasks(rnp, lines, pids);
    }
    lines.push(
      `rcu: \t(detected by ${me}, t=${rs.jiffies - gps} jiffies, g=${rs.gpSeq}, q=${this.totalCbs()} ncpus=${rs.nr})`,
    );
    if (nd > 0) {
      for (const c of cpus) lines.push(...this.taskLine(c));
    } else {
      const j = rs.jiffies;
      lines.push(
        `rcu: All QSes seen, last ${rs.name} kthread activity ${j - rs.gpActivity} (${j}-${rs.gpActivity}), jiffies_till_next_fqs=${rs.opts.jiffiesTillNextFqs}, root ->qsmask ${t.qsmaskHex(0)}`,
      );
    }
    const starved = this.starvation(lines);
    this.emit(
      lines,
      {
        type: 'other',
        cpus,
        tasks: pids,
        detectedBy: me,
        jiffies: rs.jiffies - gps,
        gp: rs.gpSeq,
        starved,
      },
      false,
    );
    rs.forceQuiescentState();
  }

  /** `print_cpu_stall()`: this CPU has not passed a quiescent state. */
  private printCpuStall(c: number, gps: number): void {
    const rs = this.rs;
    const lines = [`rcu: INFO: ${rs.name} self-detected stall on CPU`, this.cpuInfo(c)];
    lines.push(
      `rcu: \t(t=${rs.jiffies - gps} jiffies g=${rs.gpSeq} q=${this.totalCbs()} ncpus=${rs.nr})`,
    );
    const starved = this.starvation(lines);
    this.emit(
      lines,
      { type: 'self', cpus: [c], tasks: [], jiffies: rs.jiffies - gps, gp: rs.gpSeq, starved },
      true,
    );
  }

  private emit(lines: string[], details: Record<string, unknown>, withStack: boolean): void {
    const rs = this.rs;
    const m = rs.m;
    rs.stallWarnings++;
    const rec = m.report({
      kind: 'rcu-stall',
      lines,
      details,
      withStack,
      frames: ['rcu_sched_clock_irq', 'update_process_times', 'tick_nohz_handler'],
    });
    if (rs.opts.panicOnRcuStall) {
      const msg = 'Kernel panic - not syncing: RCU Stall';
      m.printk('emerg', msg);
      m.printk('emerg', `---[ end ${msg} ]---`);
      throw new KernelPanic('rcu-stall', rec.seq, msg);
    }
  }
}
