import { FRAME_IRQ } from './call-chain.js';
import { MachineError, show } from './errors.js';
import { type EventCallback, NO_EVENT } from './event-queue.js';
import type { Machine } from './machine.js';
import type { Task } from './task.js';
import { MAX_RT_PRIO, TASK_INTERRUPTIBLE, TASK_RUNNING } from './task-state.js';

/** Shared line (`IRQF_SHARED`). @public */
export const IRQF_SHARED = 0x00000080;
/** Per-CPU interrupt (`IRQF_PERCPU`): never threaded. @public */
export const IRQF_PERCPU = 0x00000400;
/** Keep the line masked until the thread ran (`IRQF_ONESHOT`): the primary is not force-threaded. @public */
export const IRQF_ONESHOT = 0x00002000;
/** Never thread this handler (`IRQF_NO_THREAD`). @public */
export const IRQF_NO_THREAD = 0x00010000;
/** Timer interrupt (`IRQF_TIMER` = `__IRQF_TIMER | IRQF_NO_SUSPEND | IRQF_NO_THREAD`). @public */
export const IRQF_TIMER = 0x00000200 | 0x00004000 | IRQF_NO_THREAD;

/** A hardirq handler (`irq_handler_t`). @public */
export type IrqHandler = (irq: number, machine: Machine) => void;

/** Most interrupt lines, system vectors included. @public */
export const NR_IRQS = 256;
/** First number `requestIrq()` hands out; lower ones are the system vectors. @public */
export const FIRST_DEVICE_IRQ = 16;

/** Interrupt descriptor (`struct irq_desc` + its one `irqaction`). @internal */
export interface IrqDesc {
  readonly irq: number;
  readonly name: string;
  readonly handler: IrqHandler;
  readonly flags: number;
  /** Handler would run in a thread under forced threading. */
  readonly threadable: boolean;
  /** PREEMPT_RT: the handler runs in irq/N-name. */
  readonly forcedThread: boolean;
  thread: Task | null;
  threadPending: boolean;
  readonly counts: Float64Array;
  readonly fnId: number;
}

/**
 * Hardirqs (kernel/irq/): descriptors, per-CPU pending lines, delivery with
 * `irq_enter()`/`irq_exit()` semantics, and PREEMPT_RT forced threading.
 * @internal
 */
export class IrqController {
  readonly descs: (IrqDesc | undefined)[] = [];
  /** Per CPU × line pending flags. */
  readonly pendingLines: Uint8Array;
  readonly pendingCount: Int32Array;
  readonly localTimerIrq: number;
  readonly callFunctionIrq: number;
  readonly irqWorkIrq: number;
  private readonly deliverHandle: Float64Array;
  private readonly deliverFn: EventCallback;
  private nextIrq = FIRST_DEVICE_IRQ;
  readonly m: Machine;

  constructor(m: Machine, nrCpus: number) {
    this.m = m;
    this.pendingLines = new Uint8Array(nrCpus * NR_IRQS);
    this.pendingCount = new Int32Array(nrCpus);
    this.deliverHandle = new Float64Array(nrCpus).fill(NO_EVENT);
    // The event itself does nothing: dispatch delivers pending interrupts of
    // the event's CPU once its callback returned.
    this.deliverFn = (arg: unknown) => {
      this.deliverHandle[arg as number] = NO_EVENT;
    };
    const flags = IRQF_TIMER | IRQF_PERCPU;
    this.localTimerIrq = this.register(
      0,
      'LOC',
      (_i, mm) => mm.hrtimers.interrupt(mm.curCpu),
      flags,
    );
    this.callFunctionIrq = this.register(1, 'CAL', (_i, mm) => mm.smp.interrupt(mm.curCpu), flags);
    this.irqWorkIrq = this.register(2, 'IWI', (_i, mm) => mm.irqWork.interrupt(mm.curCpu), flags);
  }

  private register(irq: number, name: string, handler: IrqHandler, flags: number): number {
    const m = this.m;
    const threadable = (flags & (IRQF_NO_THREAD | IRQF_PERCPU | IRQF_ONESHOT)) === 0;
    const desc: IrqDesc = {
      irq,
      name,
      handler,
      flags,
      threadable,
      forcedThread: m.rt && threadable,
      thread: null,
      threadPending: false,
      counts: new Float64Array(m.nrCpus),
      fnId: m.chain.id(
        handler.name && handler.name !== 'handler' ? handler.name : `${name}_handler`,
      ),
    };
    this.descs[irq] = desc;
    if (desc.forcedThread) {
      // irq_thread() at SCHED_FIFO 50 (kernel prio 49).
      desc.thread = m.sched.spawn(
        irqThreadBody(this, desc),
        { comm: `irq/${irq}-${name}`, kthread: true, prio: MAX_RT_PRIO - 1 - 50 },
        true,
      );
    }
    return irq;
  }

  request(name: string, handler: IrqHandler, flags: number): number {
    if (typeof name !== 'string' || name.length === 0) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `requestIrq name ${show(name)}: accepted a non-empty string`,
      );
    }
    if (typeof handler !== 'function') {
      throw new MachineError(
        'BAD_ARGUMENT',
        `requestIrq handler ${show(handler)}: accepted a function`,
      );
    }
    if (!Number.isInteger(flags) || flags < 0) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `requestIrq flags ${show(flags)}: accepted IRQF_* bits`,
      );
    }
    if (this.nextIrq >= NR_IRQS) {
      throw new MachineError(
        'NO_IRQ',
        `requestIrq(${show(name)}): all ${NR_IRQS} lines are in use`,
      );
    }
    return this.register(this.nextIrq++, name, handler, flags);
  }

  check(irq: number): IrqDesc {
    const d = Number.isInteger(irq) ? this.descs[irq] : undefined;
    if (d === undefined) {
      throw new MachineError('BAD_IRQ', `irq ${show(irq)} was never requested`);
    }
    return d;
  }

  /** Mark `irq` pending on CPU `c`; it is taken as soon as `c` has irqs enabled. */
  raise(c: number, irq: number): void {
    const m = this.m;
    const i = c * NR_IRQS + irq;
    if (this.pendingLines[i] === 1) return; // edge already latched
    this.pendingLines[i] = 1;
    this.pendingCount[c] = this.pendingCount[c]! + 1;
    m.attnRaise(c);
    if (!(m.executing && m.curCpu === c)) this.kick(c);
  }

  /** Make CPU `c` look at its pending interrupts at the raiser's current time. */
  kick(c: number): void {
    const m = this.m;
    const at = m.clock[m.curCpu]!;
    const h = this.deliverHandle[c]!;
    if (m.queue.isPending(h) && m.queue.timeOf(h) <= at) return;
    this.deliverHandle[c] = m.queue.push(at, c, this.deliverFn, c);
  }

  /** Take the lowest pending line of CPU `c` (irqs enabled, current CPU). */
  deliverOne(c: number): void {
    const base = c * NR_IRQS;
    let irq = 0;
    while (this.pendingLines[base + irq] === 0) irq++;
    this.pendingLines[base + irq] = 0;
    this.pendingCount[c] = this.pendingCount[c]! - 1;
    this.m.attnTake(c);
    this.handle(c, this.descs[irq]!);
  }

  /** One interrupt: irq_enter, the handler (or thread wakeup), irq_exit. */
  private handle(c: number, d: IrqDesc): void {
    const m = this.m;
    const ctx = m.ctx;
    m.clock[c]! += m.costs.irqEntry;
    d.counts[c] = d.counts[c]! + 1;
    const was = ctx.hardirqEnter(c);
    const depth = m.chain.depth[c]!;
    m.chain.enter(c, FRAME_IRQ);
    const traced = m.tracing;
    if (traced) m.tracer.begin(c, m.clock[c]!, `irq:${d.irq} ${d.name}`, 'hardirq');
    try {
      if (d.forcedThread) {
        // irq_default_primary_handler() returns IRQ_WAKE_THREAD.
        d.threadPending = true;
        if (d.thread !== null) m.sched.wakeUp(d.thread);
      } else {
        // kernel/irq/handle.c marks handlers that forced threading would
        // thread (lockdep_hardirq_threaded()).
        const prev = ctx.hardirqThreaded[c]!;
        ctx.hardirqThreaded[c] = d.threadable ? 1 : 0;
        m.chain.enter(c, d.fnId);
        try {
          d.handler(d.irq, m);
        } finally {
          ctx.hardirqThreaded[c] = prev;
        }
      }
    } finally {
      // Keep the <IRQ> marker: softirqs run on irq exit are still on the irq stack.
      m.chain.depth[c] = depth + 1;
      if (traced) m.tracer.end(c, m.clock[c]!);
    }
    // __irq_exit_rcu(): leave hardirq, then run softirqs if no longer in interrupt.
    ctx.hardirqExitCount(c);
    try {
      if (m.softirq.pending[c]! !== 0 && !ctx.inInterrupt()) m.softirq.invokeOnIrqExit(c);
    } finally {
      m.chain.depth[c] = depth;
    }
    ctx.restoreIrqState(c, was);
  }
}

/** irq_thread() running a force-threaded handler with bottom halves disabled. */
function irqThreadBody(ctl: IrqController, d: IrqDesc) {
  return function* irq_thread(self: Task) {
    const m = ctl.m;
    for (;;) {
      self.state = TASK_INTERRUPTIBLE;
      if (!d.threadPending) {
        yield m.schedule();
        continue;
      }
      self.state = TASK_RUNNING;
      d.threadPending = false;
      // irq_forced_thread_fn(): local_bh_disable() around the handler.
      m.ctx.localBhDisable();
      m.chain.enter(m.curCpu, d.fnId);
      try {
        d.handler(d.irq, m);
      } finally {
        m.chain.exit(m.curCpu);
      }
      m.ctx.localBhEnable();
    }
  };
}
