import type { EventCallback } from './event-queue.js';
import type { Machine } from './machine.js';
import type { Wait } from './wait.js';

/** A function run on another CPU by an IPI (`smp_call_func_t`). @public */
export type SmpCallFn = (machine: Machine) => void;

/** One `call_single_data_t` in flight. @internal */
export interface Csd {
  readonly fn: SmpCallFn;
  done: boolean;
}

/**
 * Cross-CPU function calls (kernel/smp.c): per-CPU call-single queues and the
 * CALL_FUNCTION IPI that drains them in hardirq context on the target.
 * @internal
 */
export class SmpController {
  private readonly queues: Csd[][] = [];
  private readonly m: Machine;
  private readonly arriveFn: EventCallback;

  constructor(m: Machine, nrCpus: number) {
    this.m = m;
    for (let c = 0; c < nrCpus; c++) this.queues.push([]);
    // The IPI reaches the target after the delivery latency.
    this.arriveFn = (arg: unknown) => m.irq.raise(arg as number, m.irq.callFunctionIrq);
  }

  /** Queue `fn` for CPU `cpu`; runs it right here (irqs off) when `cpu` is this CPU. */
  call(cpu: number, fn: SmpCallFn): Csd {
    const m = this.m;
    const csd: Csd = { fn, done: false };
    if (cpu === m.curCpu) {
      const flags = m.ctx.localIrqSave();
      try {
        fn(m);
      } finally {
        m.ctx.localIrqRestore(flags);
      }
      csd.done = true;
      return csd;
    }
    const q = this.queues[cpu]!;
    q.push(csd);
    if (q.length === 1) {
      const c = m.curCpu;
      m.clock[c]! += m.costs.ipiSend;
      m.queue.push(m.clock[c]! + m.costs.ipi, cpu, this.arriveFn, cpu);
    }
    return csd;
  }

  /** `on_each_cpu()`: IPIs to the others first, then the local call. */
  callAll(fn: SmpCallFn): Csd[] {
    const m = this.m;
    const out: Csd[] = [];
    for (let c = 0; c < m.nrCpus; c++) if (c !== m.curCpu) out.push(this.call(c, fn));
    out.push(this.call(m.curCpu, fn));
    return out;
  }

  /** The CALL_FUNCTION vector (`generic_smp_call_function_single_interrupt()`). */
  interrupt(c: number): void {
    const batch = this.queues[c]!.splice(0);
    const m = this.m;
    for (const csd of batch) {
      m.chain.enter(c, m.chain.id(csd.fn.name || 'smp_call_fn'));
      try {
        csd.fn(m);
      } finally {
        m.chain.exit(c);
        csd.done = true;
      }
    }
  }

  /** Spin (preemption off, as `get_cpu()`) until every csd ran: `csd_lock_wait()`. */
  *waitAll(csds: readonly Csd[]): Generator<Wait<unknown>, void, unknown> {
    const m = this.m;
    yield* m.spinUntil(() => csds.every((c) => c.done));
  }
}
