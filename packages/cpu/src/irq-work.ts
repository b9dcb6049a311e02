import { MachineError, show } from './errors.js';
import type { Machine } from './machine.js';
import type { Task } from './task.js';
import { MAX_RT_PRIO, TASK_INTERRUPTIBLE, TASK_RUNNING } from './task-state.js';

/** Run from the next tick rather than a self-IPI (`IRQ_WORK_LAZY`). @public */
export const IRQ_WORK_LAZY = 0x04;
/** Run in hardirq context even on PREEMPT_RT (`IRQ_WORK_HARD_IRQ`). @public */
export const IRQ_WORK_HARD_IRQ = 0x08;

/** Callback of an {@link IrqWork}. @public */
export type IrqWorkFn = (work: IrqWork) => void;

/**
 * `struct irq_work` (kernel/irq_work.c): a callback queued from any context,
 * NMI included, to run soon in hardirq context (or in irq_work/N on RT).
 * @public
 */
export class IrqWork {
  readonly fn: IrqWorkFn;
  /** `IRQ_WORK_*` flags. */
  readonly flags: number;
  /** Claimed and queued, not yet started (`IRQ_WORK_PENDING`). */
  pending = false;
  /** Callback running (`IRQ_WORK_BUSY` without pending). */
  busy = false;
  /** @internal interned callback name for the call chain */
  fnId = 0;

  constructor(fn: IrqWorkFn, flags = 0) {
    if (typeof fn !== 'function') {
      throw new MachineError('BAD_ARGUMENT', `IrqWork callback ${show(fn)}: accepted a function`);
    }
    this.fn = fn;
    this.flags = flags;
  }
}

/**
 * Per-CPU raised and lazy lists, the IRQ_WORK vector and the PREEMPT_RT
 * irq_work/N threads.
 * @internal
 */
export class IrqWorkController {
  private readonly raised: IrqWork[][] = [];
  private readonly lazy: IrqWork[][] = [];
  readonly threads: Task[] = [];
  readonly m: Machine;

  constructor(m: Machine, nrCpus: number) {
    this.m = m;
    for (let c = 0; c < nrCpus; c++) {
      this.raised.push([]);
      this.lazy.push([]);
    }
  }

  boot(): void {
    const m = this.m;
    if (!m.rt) return;
    for (let c = 0; c < m.nrCpus; c++) {
      // irq_work/N at SCHED_FIFO 1 (kernel prio 98).
      this.threads.push(
        m.sched.spawn(
          irqWorkdBody(this, c),
          { comm: `irq_work/${c}`, kthread: true, affinity: [c], prio: MAX_RT_PRIO - 2 },
          true,
        ),
      );
    }
  }

  /** `irq_work_queue_on()`; returns false if the work was already pending. */
  queue(w: IrqWork, cpu: number): boolean {
    const m = this.m;
    if (w.pending) return false;
    w.pending = true;
    const hard = !m.rt || (w.flags & IRQ_WORK_HARD_IRQ) !== 0;
    if (hard && (w.flags & IRQ_WORK_LAZY) !== 0 && m.tick.stopped[cpu] === 0) {
      this.lazy[cpu]!.push(w);
      return true;
    }
    if (hard) this.raised[cpu]!.push(w);
    else this.lazy[cpu]!.push(w);
    if (!hard && (w.flags & IRQ_WORK_LAZY) !== 0 && m.tick.stopped[cpu] === 0) return true;
    if (cpu !== m.curCpu) m.clock[m.curCpu]! += m.costs.ipiSend;
    // arch_irq_work_raise(): a self-IPI (or an IPI to the target CPU).
    m.irq.raise(cpu, m.irq.irqWorkIrq);
    return true;
  }

  /** The IRQ_WORK vector handler (`irq_work_run()`), in hardirq. */
  interrupt(c: number): void {
    this.runList(c, this.raised[c]!, true);
    if (!this.m.rt) this.runList(c, this.lazy[c]!, true);
    else if (this.lazy[c]!.length > 0) this.m.sched.wakeUp(this.threads[c]!);
  }

  /** `irq_work_tick()` from the scheduler tick. */
  tick(c: number): void {
    if (!this.m.rt) this.runList(c, this.lazy[c]!, true);
    else if (this.lazy[c]!.length > 0) this.m.sched.wakeUp(this.threads[c]!);
  }

  lazyPending(c: number): boolean {
    return this.lazy[c]!.length > 0;
  }

  runLazyInThread(c: number): void {
    this.runList(c, this.lazy[c]!, false);
  }

  private runList(c: number, list: IrqWork[], inHardirq: boolean): void {
    if (list.length === 0) return;
    const m = this.m;
    const batch = list.splice(0);
    for (const w of batch) {
      w.pending = false;
      w.busy = true;
      // lockdep_irq_work_enter(): non-HARD work in hardirq runs with irq_config.
      const prev = m.ctx.irqConfig[c]!;
      if (inHardirq && (w.flags & IRQ_WORK_HARD_IRQ) === 0) m.ctx.irqConfig[c] = 1;
      if (w.fnId === 0) w.fnId = m.chain.id(w.fn.name || 'irq_work_fn');
      m.chain.enter(c, w.fnId);
      try {
        w.fn(w);
      } finally {
        m.chain.exit(c);
        m.ctx.irqConfig[c] = prev;
        w.busy = false;
      }
    }
  }
}

function irqWorkdBody(ctl: IrqWorkController, c: number) {
  return function* irq_workd(self: Task) {
    const m = ctl.m;
    for (;;) {
      self.state = TASK_INTERRUPTIBLE;
      if (!ctl.lazyPending(c)) {
        yield m.schedule();
        continue;
      }
      self.state = TASK_RUNNING;
      ctl.runLazyInThread(c);
      yield m.condResched('kernel/irq_work.c');
    }
  };
}
