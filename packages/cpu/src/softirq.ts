import { FRAME_SOFTIRQ } from './call-chain.js';
import { MachineError, show } from './errors.js';
import type { Machine } from './machine.js';
import { SOFTIRQ_OFFSET } from './preempt-count.js';
import type { Task } from './task.js';
import { MAX_RT_PRIO, TASK_INTERRUPTIBLE, TASK_RUNNING } from './task-state.js';

/** Softirq vector numbers, as `enum` in include/linux/interrupt.h. @public */
export const HI_SOFTIRQ = 0;
/** @public */
export const TIMER_SOFTIRQ = 1;
/** @public */
export const NET_TX_SOFTIRQ = 2;
/** @public */
export const NET_RX_SOFTIRQ = 3;
/** @public */
export const BLOCK_SOFTIRQ = 4;
/** @public */
export const IRQ_POLL_SOFTIRQ = 5;
/** @public */
export const TASKLET_SOFTIRQ = 6;
/** @public */
export const SCHED_SOFTIRQ = 7;
/** @public */
export const HRTIMER_SOFTIRQ = 8;
/** @public */
export const RCU_SOFTIRQ = 9;
/** Number of softirq vectors (`NR_SOFTIRQS`). @public */
export const NR_SOFTIRQS = 10;

/** Names as in `softirq_to_name[]`. @public */
export const SOFTIRQ_NAMES: readonly string[] = Object.freeze([
  'HI',
  'TIMER',
  'NET_TX',
  'NET_RX',
  'BLOCK',
  'IRQ_POLL',
  'TASKLET',
  'SCHED',
  'HRTIMER',
  'RCU',
]);

/** A softirq action, run with the machine in softirq context. @public */
export type SoftirqHandler = (machine: Machine) => void;

/** `MAX_SOFTIRQ_RESTART`: rounds of pending softirqs before deferring to ksoftirqd. */
const MAX_SOFTIRQ_RESTART = 10;
/** `MAX_SOFTIRQ_TIME`: 2 ms budget before deferring to ksoftirqd. */
const MAX_SOFTIRQ_TIME_NS = 2_000_000;
const TIMER_BITS = (1 << TIMER_SOFTIRQ) | (1 << HRTIMER_SOFTIRQ);

/**
 * Softirqs (kernel/softirq.c): per-CPU pending masks, the vector table,
 * execution on irq exit / `local_bh_enable()` / ksoftirqd, and on PREEMPT_RT
 * in task context (ksoftirqd, ktimers, or the task re-enabling bottom halves).
 * @internal
 */
export class SoftirqController {
  readonly pending: Int32Array;
  readonly handlers: (SoftirqHandler | null)[] = new Array<SoftirqHandler | null>(NR_SOFTIRQS).fill(
    null,
  );
  readonly ksoftirqd: Task[] = [];
  readonly ktimers: Task[] = [];
  /** Per-CPU, per-vector invocation counts (`/proc/softirqs`). */
  readonly counts: Float64Array;
  readonly m: Machine;
  private readonly nameIds: number[];

  constructor(m: Machine, nrCpus: number) {
    this.m = m;
    this.pending = new Int32Array(nrCpus);
    this.counts = new Float64Array(nrCpus * NR_SOFTIRQS);
    this.nameIds = SOFTIRQ_NAMES.map((n) => m.chain.id(`${n.toLowerCase()}_softirq`));
    // init_timers() and hrtimers_init() open these at boot.
    this.handlers[TIMER_SOFTIRQ] = run_timer_softirq;
    this.handlers[HRTIMER_SOFTIRQ] = hrtimer_run_softirq;
  }

  /** Create ksoftirqd/N (and ktimers/N on PREEMPT_RT), sleeping until needed. */
  boot(): void {
    const m = this.m;
    for (let c = 0; c < m.nrCpus; c++) {
      this.ksoftirqd.push(
        m.sched.spawn(
          ksoftirqdBody(this, c, false),
          { comm: `ksoftirqd/${c}`, kthread: true, affinity: [c] },
          true,
        ),
      );
      if (m.rt) {
        // ktimers/N runs at SCHED_FIFO 1 (kernel prio 98).
        this.ktimers.push(
          m.sched.spawn(
            ksoftirqdBody(this, c, true),
            { comm: `ktimers/${c}`, kthread: true, affinity: [c], prio: MAX_RT_PRIO - 2 },
            true,
          ),
        );
      }
    }
  }

  open(nr: number, handler: SoftirqHandler): void {
    if (!Number.isInteger(nr) || nr < 0 || nr >= NR_SOFTIRQS) {
      throw new MachineError(
        'BAD_SOFTIRQ',
        `openSoftirq(${show(nr)}): accepted a vector in [0, ${NR_SOFTIRQS - 1}]`,
      );
    }
    if (typeof handler !== 'function') {
      throw new MachineError(
        'BAD_ARGUMENT',
        `openSoftirq handler ${show(handler)}: accepted a function`,
      );
    }
    if (this.handlers[nr] !== null) {
      throw new MachineError(
        'SOFTIRQ_BUSY',
        `softirq ${SOFTIRQ_NAMES[nr]} (${nr}) already has a handler`,
      );
    }
    this.handlers[nr] = handler;
  }

  checkNr(nr: number): void {
    if (!Number.isInteger(nr) || nr < 0 || nr >= NR_SOFTIRQS) {
      throw new MachineError(
        'BAD_SOFTIRQ',
        `raiseSoftirq(${show(nr)}): accepted a vector in [0, ${NR_SOFTIRQS - 1}]`,
      );
    }
  }

  /** `raise_softirq_irqoff()` on the current CPU. */
  raiseIrqoff(nr: number): void {
    const m = this.m;
    const c = m.curCpu;
    this.pending[c] = this.pending[c]! | (1 << nr);
    // Outside interrupt context nothing will run them soon: wake ksoftirqd.
    if (!m.ctx.inInterrupt()) this.wakeSoftirqd(c, nr);
  }

  /** `raise_softirq()`: the same with interrupts saved around it. */
  raise(nr: number): void {
    const m = this.m;
    const flags = m.ctx.localIrqSave();
    this.raiseIrqoff(nr);
    m.ctx.localIrqRestore(flags);
  }

  /** TIMER_SOFTIRQ from the tick (hardirq). */
  raiseTimer(c: number): void {
    this.pending[c] = this.pending[c]! | (1 << TIMER_SOFTIRQ);
  }

  /** HRTIMER_SOFTIRQ from the hrtimer interrupt. */
  raiseHrtimer(c: number): void {
    this.pending[c] = this.pending[c]! | (1 << HRTIMER_SOFTIRQ);
  }

  private wakeSoftirqd(c: number, nr: number): void {
    const m = this.m;
    if (m.rt && (1 << nr) & TIMER_BITS) {
      const t = this.ktimers[c];
      if (t !== undefined) m.sched.wakeUp(t);
      return;
    }
    const t = this.ksoftirqd[c];
    if (t !== undefined) m.sched.wakeUp(t);
  }

  /** `wakeup_softirqd()` on CPU `c`. */
  wakeKsoftirqd(c: number): void {
    const t = this.ksoftirqd[c];
    if (t !== undefined) this.m.sched.wakeUp(t);
  }

  /** `invoke_softirq()` from irq exit on CPU `c` (already outside hardirq). */
  invokeOnIrqExit(c: number): void {
    const m = this.m;
    if (m.rt) {
      // PREEMPT_RT: softirqs never run on irq exit; their threads do them.
      const p = this.pending[c]!;
      if (p & TIMER_BITS && this.ktimers[c] !== undefined) m.sched.wakeUp(this.ktimers[c]!);
      if (p & ~TIMER_BITS && this.ksoftirqd[c] !== undefined) m.sched.wakeUp(this.ksoftirqd[c]!);
      return;
    }
    this.handle(c);
  }

  /** `do_softirq()` from `local_bh_enable()` in task context (!RT), on the softirq stack. */
  doSoftirq(c: number): void {
    const m = this.m;
    const wasOff = m.ctx.irqsOff[c]!;
    m.ctx.setIrqsOff(c, 1);
    if (this.pending[c]! !== 0) {
      m.chain.enter(c, FRAME_SOFTIRQ);
      this.handle(c);
      m.chain.exit(c);
    }
    m.ctx.setIrqsOff(c, wasOff);
  }

  /** PREEMPT_RT: run pending softirqs in the current task (bh count in the task). */
  runInTask(c: number): void {
    const m = this.m;
    const t = m.sched.curr[c]!;
    t.softirqCnt += SOFTIRQ_OFFSET;
    const wasOff = m.ctx.irqsOff[c]!;
    try {
      this.loop(c);
    } finally {
      t.softirqCnt -= SOFTIRQ_OFFSET;
      m.ctx.setIrqsOff(c, wasOff);
    }
  }

  /** `handle_softirqs()` on !RT: serving bit in preempt_count, irqs on while handlers run. */
  handle(c: number): void {
    const m = this.m;
    m.ctx.pc[c] = m.ctx.pc[c]! + SOFTIRQ_OFFSET;
    const wasOff = m.ctx.irqsOff[c]!;
    try {
      this.loop(c);
    } finally {
      m.ctx.pc[c] = m.ctx.pc[c]! - SOFTIRQ_OFFSET;
      m.ctx.setIrqsOff(c, wasOff);
    }
  }

  private loop(c: number): void {
    const m = this.m;
    m.clock[c]! += m.costs.softirqEntry;
    const end = m.clock[c]! + MAX_SOFTIRQ_TIME_NS;
    let restart = MAX_SOFTIRQ_RESTART;
    for (;;) {
      let pending = this.pending[c]!;
      this.pending[c] = 0;
      // Handlers run with interrupts enabled; pending hardirqs are taken at probes.
      m.ctx.setIrqsOff(c, 0);
      if (m.attn[c]! !== 0) m.deliverInterrupts(c);
      let nr = 0;
      while (pending !== 0) {
        if (pending & 1) this.runOne(c, nr);
        pending >>>= 1;
        nr++;
      }
      m.ctx.setIrqsOff(c, 1);
      if (this.pending[c]! === 0) return;
      if (m.clock[c]! < end && m.sched.needResched[c] === 0 && --restart > 0) continue;
      // Too much work: leave the rest to ksoftirqd (ktimers for timers on RT).
      const p = this.pending[c]!;
      if (m.rt && p & TIMER_BITS && this.ktimers[c] !== undefined) m.sched.wakeUp(this.ktimers[c]!);
      if (this.ksoftirqd[c] !== undefined) m.sched.wakeUp(this.ksoftirqd[c]!);
      return;
    }
  }

  private runOne(c: number, nr: number): void {
    const m = this.m;
    this.counts[c * NR_SOFTIRQS + nr] = this.counts[c * NR_SOFTIRQS + nr]! + 1;
    const h = this.handlers[nr] ?? null;
    if (h === null) {
      m.printk('err', `softirq: no handler for vector ${nr} (${SOFTIRQ_NAMES[nr]})`);
      return;
    }
    const traced = m.tracing;
    if (traced) m.tracer.begin(c, m.clock[c]!, `softirq:${SOFTIRQ_NAMES[nr]}`, 'softirq');
    m.chain.enter(c, this.nameIds[nr]!);
    const depth = m.chain.depth[c]!;
    try {
      h(m);
    } finally {
      m.chain.depth[c] = depth - 1;
      if (traced) m.tracer.end(c, m.clock[c]!);
    }
  }
}

function run_timer_softirq(m: Machine): void {
  m.timers.run(m.curCpu);
}

function hrtimer_run_softirq(m: Machine): void {
  m.hrtimers.runSoft(m.curCpu);
}

/** The smpboot loop of ksoftirqd/N (and of ktimers/N on RT). */
function ksoftirqdBody(s: SoftirqController, c: number, timersOnly: boolean) {
  return function* ksoftirqd(self: Task) {
    const m = s.m;
    for (;;) {
      self.state = TASK_INTERRUPTIBLE;
      const p = s.pending[c]!;
      const mine = timersOnly ? p & TIMER_BITS : p;
      if (mine === 0) {
        yield m.schedule();
        continue;
      }
      self.state = TASK_RUNNING;
      if (m.rt) {
        // ksoftirqd_run_begin() on RT: bh-disable in the task, then handle_softirqs().
        m.ctx.localBhDisable();
        s.runInTask(c);
        m.ctx.localBhEnable();
      } else {
        // run_ksoftirqd(): irqs off, __do_softirq(), irqs on, cond_resched().
        const wasOff = m.ctx.irqsOff[c]!;
        m.ctx.setIrqsOff(c, 1);
        if (s.pending[c]! !== 0) s.handle(c);
        m.ctx.setIrqsOff(c, wasOff);
        if (m.attn[c]! !== 0 && wasOff === 0) m.deliverInterrupts(c);
      }
      yield m.condResched('kernel/softirq.c');
    }
  };
}
