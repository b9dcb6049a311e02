import type { Machine } from '../src/index.js';

/** Every context predicate of the current CPU at once. */
export interface Ctx {
  pc: number;
  inNmi: boolean;
  inHardirq: boolean;
  inSoftirq: boolean;
  inServingSoftirq: boolean;
  inInterrupt: boolean;
  inTask: boolean;
  inAtomic: boolean;
  preemptible: boolean;
  irqsDisabled: boolean;
  context: string;
}

export function snapshot(m: Machine): Ctx {
  return {
    pc: m.preemptCount(),
    inNmi: m.inNmi(),
    inHardirq: m.inHardirq(),
    inSoftirq: m.inSoftirq(),
    inServingSoftirq: m.inServingSoftirq(),
    inInterrupt: m.inInterrupt(),
    inTask: m.inTask(),
    inAtomic: m.inAtomic(),
    preemptible: m.preemptible(),
    irqsDisabled: m.irqsDisabled(),
    context: m.context(),
  };
}

export const TASK_CTX: Ctx = {
  pc: 0,
  inNmi: false,
  inHardirq: false,
  inSoftirq: false,
  inServingSoftirq: false,
  inInterrupt: false,
  inTask: true,
  inAtomic: false,
  preemptible: true,
  irqsDisabled: false,
  context: 'task',
};
