import type { LockdepTaskState } from './task-state.js';

/**
 * The interrupt context lockdep sees: task, serving softirq, hardirq or NMI.
 * Models the pair `lockdep_hardirq_context()` / `current->softirq_context`
 * plus `in_nmi()` (include/linux/irqflags.h, include/linux/preempt.h).
 * @public
 */
export const IrqContext = {
  /** Process context (`in_task()`); BH-disabled sections are still task context. */
  TASK: 0,
  /** Serving a softirq (`in_serving_softirq()`). */
  SOFTIRQ: 1,
  /** Hardirq handler (`in_hardirq()` without NMI). */
  HARDIRQ: 2,
  /** NMI handler (`in_nmi()`); lockdep is off there (`lockdep_off()` in `nmi_enter()`). */
  NMI: 3,
} as const;

/** One of the {@link IrqContext} values. @public */
export type IrqContextValue = (typeof IrqContext)[keyof typeof IrqContext];

/**
 * A finished lockdep report: the kernel-format text (one entry per printed
 * line, without the leading empty line the kernel emits) and structured data
 * for tests and reports.
 * @public
 */
export interface LockdepReport {
  /** Report kind, e.g. `'lockdep-circular'`; see {@link LockdepReportKind}. */
  readonly kind: string;
  /** The report as the kernel would print it, line by line. */
  readonly lines: string[];
  /** Structured data: class names, dependency chain, usage bits, held locks. */
  readonly details: Record<string, unknown>;
  /** Taint letter the report adds, if any (`'W'` for WARN-style splats). */
  readonly taint?: string;
}

/**
 * What the lockdep engine needs from the machine. The machine integration
 * implements it; the engine never touches CPUs, tasks or the log directly.
 *
 * Counters follow the kernel's `[HC%u[%lu]:SC%u[%lu]:HE%u:SE%u]` line:
 * `hardirqCount()` is `hardirq_count() >> HARDIRQ_SHIFT` and `softirqCount()`
 * is `softirq_count() >> SOFTIRQ_SHIFT`, so the low bit of `softirqCount()` is
 * the "serving softirq" bit. Lockdep uses that bit to see a hardirq that
 * interrupted softirq processing, where the kernel keeps
 * `current->softirq_context` set (both IN-HARDIRQ and IN-SOFTIRQ get marked).
 * @public
 */
export interface LockdepHost {
  /** The running task (`current`): pid and comm for report lines. */
  currentTask(): { readonly pid: number; readonly comm: string };
  /** Per-task lockdep state (held-lock stack, irq-event stamps); stored in a task slot. */
  taskState(): LockdepTaskState;
  /** The current CPU (`raw_smp_processor_id()`). */
  cpu(): number;
  /** Virtual time in nanoseconds. */
  now(): number;
  /** The current context, one of {@link IrqContext}. */
  irqContext(): number;
  /** `hardirq_count() >> HARDIRQ_SHIFT`. */
  hardirqCount(): number;
  /** `softirq_count() >> SOFTIRQ_SHIFT` (serving bit in bit 0, BH-disable depth above). */
  softirqCount(): number;
  /** Hardirqs enabled on this CPU (`!irqs_disabled()`). */
  hardirqsEnabled(): boolean;
  /** Softirqs enabled for this task (`softirq_count() == 0`). */
  softirqsEnabled(): boolean;
  /** `current->hardirq_threaded`: the running hardirq handler would be threaded. */
  hardirqThreaded(): boolean;
  /** `current->irq_config`: non-HARD hrtimer / irq_work running in hardirq. */
  irqConfig(): boolean;
  /** CONFIG_PREEMPT_RT. */
  preemptRt(): boolean;
  /** `print_kernel_ident()`: release, version and taint, e.g. `'6.18.0-sim #1 Not tainted'`. */
  kernelIdent(): string;
  /** Innermost simulated function, formatted like `%pS` (`func+0x12/0x40`). */
  callSite(): string;
  /** Simulated call chain, innermost first, for "stack backtrace:". */
  callChain(): readonly string[];
  /** Publish a finished report (machine log, structured record, panic_on_warn...). */
  report(r: LockdepReport): void;
}
