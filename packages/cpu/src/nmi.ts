import { FRAME_NMI } from './call-chain.js';
import type { Machine } from './machine.js';

/** An NMI handler, run in NMI context on the target CPU. @public */
export type NmiHandler = (machine: Machine) => void;

/**
 * Non-maskable interrupts (arch/x86/kernel/nmi.c): taken whatever the irq
 * state, at the next probe point of an executing CPU or at once on a CPU that
 * is not executing; never nested (a second NMI waits for the first to end).
 * @internal
 */
export class NmiController {
  private readonly queues: NmiHandler[][] = [];
  /** NMIs taken per CPU. */
  readonly counts: Float64Array;
  private readonly m: Machine;

  constructor(m: Machine, nrCpus: number) {
    this.m = m;
    this.counts = new Float64Array(nrCpus);
    for (let c = 0; c < nrCpus; c++) this.queues.push([]);
  }

  pending(c: number): number {
    return this.queues[c]!.length;
  }

  raise(c: number, h: NmiHandler): void {
    const m = this.m;
    this.queues[c]!.push(h);
    m.attnRaise(c);
    if (!(m.executing && m.curCpu === c)) m.irq.kick(c);
  }

  /** Take the oldest pending NMI of CPU `c` (the current CPU, not in NMI). */
  deliverOne(c: number): void {
    const h = this.queues[c]!.shift()!;
    this.m.attnTake(c);
    this.run(c, h);
  }

  /** Run `h` in NMI context now on CPU `c` (the current CPU). */
  run(c: number, h: NmiHandler): void {
    const m = this.m;
    m.clock[c]! += m.costs.nmiEntry;
    this.counts[c] = this.counts[c]! + 1;
    const was = m.ctx.nmiEnter(c);
    const depth = m.chain.depth[c]!;
    m.chain.enter(c, FRAME_NMI);
    const traced = m.tracing;
    if (traced) m.tracer.begin(c, m.clock[c]!, 'nmi', 'nmi');
    try {
      h(m);
    } finally {
      m.chain.depth[c] = depth;
      if (traced) m.tracer.end(c, m.clock[c]!);
      m.ctx.nmiExit(c, was);
    }
  }
}
