import { MachineConfigError, show } from './errors.js';

/**
 * Virtual-time cost in nanoseconds of the machine operations that are not
 * memory accesses (those are charged by the cache model). Upper packages
 * charge these with `machine.chargeCost(key)`; the machine charges them itself
 * for its own transitions (irq entry, context switch…). The defaults are
 * order-of-magnitude figures for a current x86_64 server core at 3-4 GHz.
 * @public
 */
export interface CostTable {
  /** One locked read-modify-write (`lock cmpxchg`, `lock xadd`) on a line already held exclusively. */
  readonly atomicRmw: number;
  /** One `local_irq_save()` or `local_irq_restore()` (pushf/cli, popf). */
  readonly irqSaveRestore: number;
  /** One `preempt_disable()`/`preempt_enable()` or bh toggle: a per-CPU increment. */
  readonly preemptToggle: number;
  /** A direct call and return of a small function. */
  readonly call: number;
  /** `__schedule()` switching from one task to another (`context_switch()`). */
  readonly contextSwitch: number;
  /** `try_to_wake_up()` of a sleeping task, charged to the waker. */
  readonly wakeup: number;
  /** Latency from sending an IPI to the handler starting on the target CPU. */
  readonly ipi: number;
  /** Cost on the sender of writing the APIC ICR to send an IPI. */
  readonly ipiSend: number;
  /** NMI entry plus exit (`exc_nmi()` with its nesting dance and `iret`). */
  readonly nmiEntry: number;
  /** Hardirq entry plus exit: vectoring, `irq_enter_rcu()`/`irq_exit_rcu()`, EOI. */
  readonly irqEntry: number;
  /** `__do_softirq()` setup per invocation (pending snapshot, accounting). */
  readonly softirqEntry: number;
  /** Scheduler tick bookkeeping: `update_process_times()` + `sched_tick()`. */
  readonly timerTick: number;
  /** Running one expired timer or hrtimer callback's bookkeeping (detach, accounting). */
  readonly timerExpiry: number;
}

/** A key of {@link CostTable}. @public */
export type CostKey = keyof CostTable;

/**
 * Default cost table. Sources: Agner Fog's instruction tables for Intel
 * Golden Cove / AMD Zen 4 (locked RMW ≈ 18-20 cycles, POPF ≈ 20 cycles);
 * lmbench `lat_ctx` and `perf bench sched pipe` (context switch ≈ 1-2 µs
 * round-trip on current servers); published IPI round-trip measurements on
 * x86 (≈ 1-2 µs, half of it one-way); interrupt entry/exit and NMI costs as
 * measured by the kernel's own `trace_irq_*`/`nmi` tracepoints (hundreds of ns).
 * @public
 */
export const DEFAULT_COSTS: CostTable = Object.freeze({
  // lock cmpxchg: ~18 cycles at ~3.5 GHz (Agner Fog, Golden Cove).
  atomicRmw: 5,
  // pushf+cli or popf: ~20 cycles (Agner Fog); popf serialises IF.
  irqSaveRestore: 6,
  // incl %gs:__preempt_count: a per-CPU add, ~1 cycle plus dependency.
  preemptToggle: 1,
  // call+ret with a small body, a few cycles.
  call: 2,
  // perf bench sched pipe: ~2-3 µs per round trip of two switches on one CPU.
  contextSwitch: 1200,
  // try_to_wake_up() enqueue of a sleeping task on a local runqueue.
  wakeup: 400,
  // One-way IPI delivery, about half an x86 round-trip of ~1.5-2 µs.
  ipi: 900,
  // x2APIC ICR write (a WRMSR), ~100 ns on current parts.
  ipiSend: 100,
  // exc_nmi() entry/exit including the nested-NMI check and iret: ~0.5-1 µs.
  nmiEntry: 700,
  // Vectoring + irqentry_enter/exit + EOI: a few hundred ns.
  irqEntry: 300,
  // handle_softirqs() prologue/epilogue.
  softirqEntry: 80,
  // update_process_times() + sched_tick(): ~1 µs with accounting.
  timerTick: 800,
  // Detach and account one expired timer: tens of ns.
  timerExpiry: 40,
});

/** Names of all cost keys, in table order. @public */
export const COST_KEYS: readonly CostKey[] = Object.freeze(Object.keys(DEFAULT_COSTS) as CostKey[]);

/**
 * Merge overrides into {@link DEFAULT_COSTS}, rejecting unknown keys and
 * values that are not finite numbers ≥ 0.
 * @public
 */
export function resolveCosts(overrides: Partial<CostTable> | undefined): CostTable {
  if (overrides === undefined) return DEFAULT_COSTS;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new MachineConfigError(
      'BAD_TYPE',
      'costs',
      `costs = ${show(overrides)} is invalid: accepted an object with any of ${COST_KEYS.join(', ')}`,
    );
  }
  const out: Record<string, number> = { ...DEFAULT_COSTS };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(COST_KEYS as readonly string[]).includes(k)) {
      throw new MachineConfigError(
        'UNKNOWN_FIELD',
        `costs.${k}`,
        `costs.${k} is not a known cost: accepted ${COST_KEYS.join(', ')}`,
      );
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new MachineConfigError(
        'BAD_VALUE',
        `costs.${k}`,
        `costs.${k} = ${show(v)} is invalid: accepted a finite number of ns >= 0`,
      );
    }
    out[k] = v;
  }
  return Object.freeze(out) as unknown as CostTable;
}
