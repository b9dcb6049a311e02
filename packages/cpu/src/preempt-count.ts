/**
 * The layout of `preempt_count` (include/linux/preempt.h) and pure predicates
 * over a raw count. The machine keeps one count per CPU.
 */

/** Bits 0-7: preemption-disable depth. @public */
export const PREEMPT_MASK = 0x000000ff;
/** Bits 8-15: softirq serving (0x100) and bh-disable (0x200 steps) count. @public */
export const SOFTIRQ_MASK = 0x0000ff00;
/** Bits 16-19: hardirq nesting. @public */
export const HARDIRQ_MASK = 0x000f0000;
/** Bits 20-23: NMI nesting. @public */
export const NMI_MASK = 0x00f00000;
/** One level of `preempt_disable()`. @public */
export const PREEMPT_OFFSET = 0x1;
/** Set while serving softirqs (`__do_softirq`). @public */
export const SOFTIRQ_OFFSET = 0x100;
/** Added by `local_bh_disable()` (twice SOFTIRQ_OFFSET so serving stays distinguishable). @public */
export const SOFTIRQ_DISABLE_OFFSET = 0x200;
/** Added by `irq_enter()`. @public */
export const HARDIRQ_OFFSET = 0x10000;
/** Added by `nmi_enter()` together with HARDIRQ_OFFSET. @public */
export const NMI_OFFSET = 0x100000;

/** Interrupt context of a CPU, as `interrupt_context_level()` ranks it. @public */
export type ContextKind = 'task' | 'softirq' | 'hardirq' | 'nmi';

/**
 * Classify a context from the raw preempt count and the softirq count (which
 * on PREEMPT_RT lives in the task), as `interrupt_context_level()` does.
 * @public
 */
export function contextKindOf(preemptCount: number, softirqCount: number): ContextKind {
  if ((preemptCount & NMI_MASK) !== 0) return 'nmi';
  if ((preemptCount & HARDIRQ_MASK) !== 0) return 'hardirq';
  if ((softirqCount & SOFTIRQ_OFFSET) !== 0) return 'softirq';
  return 'task';
}

/** Format a count as the kernel prints it with `%08x`. @public */
export function formatPreemptCount(count: number): string {
  return (count >>> 0).toString(16).padStart(8, '0');
}
