import type { Machine } from './machine.js';
import { formatPreemptCount } from './preempt-count.js';
import { RateLimit } from './printk.js';
import type { Task } from './task.js';
import { TASK_RUNNING } from './task-state.js';

// Frames a might_sleep() report adds above the caller, shared by every call.
const MIGHT_SLEEP_FRAMES: readonly string[] = ['__might_resched', '__might_sleep'];
const MIGHT_RESCHED_FRAMES: readonly string[] = ['__might_resched'];

/**
 * The "sleeping in atomic context" debug checks (kernel/sched/core.c):
 * `__might_sleep()`/`__might_resched()` and `check_preemption_disabled()`
 * (lib/smp_processor_id.c).
 * @internal
 */
export class MightSleepChecker {
  private prevJiffy: number | null = null;
  private stateWarned = false;
  private readonly printkRatelimit: RateLimit;
  private readonly m: Machine;

  constructor(m: Machine) {
    this.m = m;
    // printk_ratelimit(): 10 messages per 5 s.
    this.printkRatelimit = new RateLimit(5_000_000_000, 10);
  }

  /** `__might_sleep()`: the task-state check, then `__might_resched(site, 0)`. */
  mightSleep(site: string): void {
    const m = this.m;
    const c = m.curCpu;
    const t = m.sched.curr[c]!;
    if (t.state !== TASK_RUNNING && !this.stateWarned && !t.isIdle) this.warnState(t.state);
    if (!this.atExpectedOffsets(c, t, 0, 0)) this.reportResched(site, 0, 0, MIGHT_SLEEP_FRAMES, t);
  }

  /** The once-only "do not call blocking ops when !TASK_RUNNING" warning. */
  private warnState(state: number): void {
    this.stateWarned = true;
    this.m.warn({
      kind: 'might-sleep-state',
      site: 'kernel/sched/core.c',
      fn: '__might_sleep',
      message: `do not call blocking ops when !TASK_RUNNING; state=${state.toString(16)} set at [<0000000000000000>] 0x0`,
    });
  }

  /**
   * `__might_resched()`: report when preempt_count or the RCU nesting differ
   * from the expected offsets, irqs are off, or the idle task would sleep.
   * Rate-limited to one report per HZ. Returns whether it reported.
   */
  mightResched(
    site: string,
    preemptOffset: number,
    rcuOffset: number,
    frames: readonly string[] = MIGHT_RESCHED_FRAMES,
  ): boolean {
    const m = this.m;
    const c = m.curCpu;
    const t = m.sched.curr[c]!;
    if (this.atExpectedOffsets(c, t, preemptOffset, rcuOffset)) return false;
    return this.reportResched(site, preemptOffset, rcuOffset, frames, t);
  }

  /**
   * The check of `__might_resched()`, shared by both entries and small
   * enough for callers to inline: preempt_count and the RCU nesting of task
   * `t` on CPU `c` at the expected offsets, irqs on, and not the idle task.
   */
  private atExpectedOffsets(c: number, t: Task, preemptOffset: number, rcuOffset: number): boolean {
    const m = this.m;
    if (m.ctx.pc[c] !== preemptOffset || m.ctx.irqsOff[c] !== 0 || t.isIdle) return false;
    const rcu = m.reporter.rcuNestDepth;
    return (rcu === null ? 0 : rcu(t)) === rcuOffset;
  }

  /**
   * The report half of `__might_resched()`, run only when its check failed;
   * it reads the state again for the message (nothing ran in between).
   */
  private reportResched(
    site: string,
    preemptOffset: number,
    rcuOffset: number,
    frames: readonly string[],
    t: Task,
  ): boolean {
    const m = this.m;
    const c = m.curCpu;
    const pc = m.ctx.pc[c]!;
    const irqsOff = m.ctx.irqsOff[c]! !== 0;
    const rcu = m.reporter.rcuNestDepth;
    const depth = rcu === null ? 0 : rcu(t);
    const j = m.jiffies;
    if (this.prevJiffy !== null && j < this.prevJiffy + m.hz) return false;
    this.prevJiffy = j;
    const lines = [
      `BUG: sleeping function called from invalid context at ${site}`,
      `in_atomic(): ${pc !== 0 ? 1 : 0}, irqs_disabled(): ${irqsOff ? 1 : 0}, non_block: 0, pid: ${t.pid}, name: ${t.comm}`,
      `preempt_count: ${pc.toString(16)}, expected: ${preemptOffset.toString(16)}`,
    ];
    if (rcu !== null) lines.push(`RCU nest depth: ${depth}, expected: ${rcuOffset}`);
    lines.push(...m.reporter.heldLockLines(t));
    if (pc !== preemptOffset) {
      lines.push('Preemption disabled at:');
      lines.push(m.ipSym(m.ctx.preemptDisableFn[c]!));
    }
    m.report({
      kind: 'might-sleep',
      lines,
      details: {
        site,
        inAtomic: pc !== 0,
        irqsDisabled: irqsOff,
        preemptCount: pc,
        expected: preemptOffset,
        rcuNestDepth: depth,
        pid: t.pid,
        comm: t.comm,
      },
      taint: 'W',
      withStack: true,
      frames,
    });
    return true;
  }

  /**
   * `check_preemption_disabled()`: the CPU number, reporting
   * "BUG: using smp_processor_id() in preemptible [...] code" when the task
   * could migrate (printk-rate-limited).
   */
  checkPreemptionDisabled(what1: string, what2: string): number {
    const m = this.m;
    const c = m.curCpu;
    const pc = m.ctx.pc[c]!;
    if (pc !== 0 || m.ctx.irqsOff[c]! !== 0) return c;
    const t = m.sched.curr[c]!;
    if (t.percpuThread || t.isIdle || t.migrationDisabled > 0) return c;
    if (!this.printkRatelimit.allow(m.clock[c]!)) return c;
    const caller = m.chain.name(m.chain.top(c));
    m.report({
      kind: 'smp-processor-id-preemptible',
      lines: [
        `BUG: using ${what1}${what2}() in preemptible [${formatPreemptCount(pc)}] code: ${t.comm}/${t.pid}`,
        `caller is ${m.chain.top(c) === 0 ? '0x0' : caller}`,
      ],
      details: { what: `${what1}${what2}`, pid: t.pid, comm: t.comm },
      withStack: true,
      frames: ['check_preemption_disabled'],
    });
    return c;
  }
}
