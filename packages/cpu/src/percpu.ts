import type { Machine } from './machine.js';

/**
 * A per-CPU variable (`DEFINE_PER_CPU`), one value per CPU, created with
 * `machine.definePerCpu(init)`.
 * @public
 */
export class PerCpu<T> {
  /** The values, indexed by CPU. */
  readonly values: T[];
  private readonly m: Machine;

  /** @internal */
  constructor(m: Machine, init: (cpu: number) => T) {
    this.m = m;
    this.values = [];
    for (let c = 0; c < m.nrCpus; c++) this.values.push(init(c));
  }

  /**
   * `this_cpu_ptr()`: this CPU's value, checked like `smp_processor_id()` —
   * using it where the task could migrate reports
   * "BUG: using smp_processor_id() in preemptible …".
   */
  thisCpuPtr(): T {
    return this.values[this.m.smpProcessorId()]!;
  }

  /** `raw_cpu_ptr()`: this CPU's value without the check. */
  rawCpuPtr(): T {
    return this.values[this.m.curCpu]!;
  }

  /** `per_cpu_ptr(ptr, cpu)`: the value of CPU `cpu`. */
  perCpuPtr(cpu: number): T {
    this.m.checkCpu(cpu, 'perCpuPtr');
    return this.values[cpu]!;
  }
}
