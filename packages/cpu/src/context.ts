import { MachineError, show } from './errors.js';
import type { Machine } from './machine.js';
import * as pcl from './preempt-count.js';
import { type ContextKind, contextKindOf } from './preempt-count.js';

// Local copies of the layout constants: module-local bindings stay plain
// constants on hot paths even when a bundler or test runner rewrites imports.
const HARDIRQ_MASK = pcl.HARDIRQ_MASK;
const HARDIRQ_OFFSET = pcl.HARDIRQ_OFFSET;
const NMI_MASK = pcl.NMI_MASK;
const NMI_OFFSET = pcl.NMI_OFFSET;
const PREEMPT_OFFSET = pcl.PREEMPT_OFFSET;
const SOFTIRQ_DISABLE_OFFSET = pcl.SOFTIRQ_DISABLE_OFFSET;
const SOFTIRQ_MASK = pcl.SOFTIRQ_MASK;
const SOFTIRQ_OFFSET = pcl.SOFTIRQ_OFFSET;

/**
 * Callbacks for irq-state transitions, the simulated `trace_hardirqs_on/off()`
 * and `lockdep_softirqs_on/off()` hooks. Lockdep installs them.
 * @public
 */
export interface IrqTraceHooks {
  /** Hardirqs were just enabled on the current CPU. */
  hardirqsOn(): void;
  /** Hardirqs were just disabled on the current CPU. */
  hardirqsOff(): void;
  /** The bh-disable count of the current context dropped to zero. */
  softirqsOn(): void;
  /** The bh-disable count of the current context left zero. */
  softirqsOff(): void;
}

/** Bit 9 of EFLAGS, the interrupt flag, as saved by `local_irq_save()`. @public */
export const X86_EFLAGS_IF = 0x200;
const FLAGS_FIXED = 0x2;
const FLAGS_TAG = 2 ** 26;
// Exact (a power of two): a multiply instead of a division on every restore.
const INV_FLAGS_TAG = 1 / FLAGS_TAG;

/**
 * Per-CPU execution context: `preempt_count`, the irqs-disabled flag and the
 * lockdep wait-context hints, with the kernel's transitions and predicates
 * (include/linux/preempt.h, include/linux/irqflags.h, kernel/softirq.c).
 * @internal
 */
export class ContextState {
  /** Raw preempt_count per CPU. */
  readonly pc: Int32Array;
  /** 1 while the CPU runs with interrupts disabled. */
  readonly irqsOff: Uint8Array;
  /** lockdep's `hardirq_threaded` for the running handler. */
  readonly hardirqThreaded: Uint8Array;
  /** lockdep's `irq_config` for the running callback. */
  readonly irqConfig: Uint8Array;
  /** Simulated function that last moved the preempt count off zero (`preempt_disable_ip`). */
  readonly preemptDisableFn: Int32Array;
  hooks: IrqTraceHooks | null = null;
  private readonly m: Machine;
  private readonly rt: boolean;
  private readonly warnedOnce = new Set<string>();

  constructor(m: Machine, nrCpus: number, rt: boolean) {
    this.m = m;
    this.rt = rt;
    this.pc = new Int32Array(nrCpus);
    this.irqsOff = new Uint8Array(nrCpus);
    this.hardirqThreaded = new Uint8Array(nrCpus);
    this.irqConfig = new Uint8Array(nrCpus);
    this.preemptDisableFn = new Int32Array(nrCpus);
  }

  // ---- predicates (current CPU) -------------------------------------------------

  preemptCount(): number {
    return this.pc[this.m.curCpu]!;
  }

  softirqCount(): number {
    if (this.rt) return this.m.sched.curr[this.m.curCpu]!.softirqCnt & SOFTIRQ_MASK;
    return this.pc[this.m.curCpu]! & SOFTIRQ_MASK;
  }

  hardirqCount(): number {
    return this.pc[this.m.curCpu]! & HARDIRQ_MASK;
  }

  nmiCount(): number {
    return this.pc[this.m.curCpu]! & NMI_MASK;
  }

  irqCount(): number {
    const c = this.m.curCpu;
    if (this.rt) return (this.pc[c]! & (NMI_MASK | HARDIRQ_MASK)) | this.softirqCount();
    return this.pc[c]! & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK);
  }

  inNmi(): boolean {
    return (this.pc[this.m.curCpu]! & NMI_MASK) !== 0;
  }

  inHardirq(): boolean {
    return (this.pc[this.m.curCpu]! & HARDIRQ_MASK) !== 0;
  }

  inServingSoftirq(): boolean {
    return (this.softirqCount() & SOFTIRQ_OFFSET) !== 0;
  }

  inSoftirq(): boolean {
    return this.softirqCount() !== 0;
  }

  inInterrupt(): boolean {
    return this.irqCount() !== 0;
  }

  inTask(): boolean {
    const c = this.m.curCpu;
    return (this.pc[c]! & (NMI_MASK | HARDIRQ_MASK)) === 0 && !this.inServingSoftirq();
  }

  inAtomic(): boolean {
    return this.pc[this.m.curCpu]! !== 0;
  }

  preemptible(): boolean {
    const c = this.m.curCpu;
    return this.pc[c]! === 0 && this.irqsOff[c]! === 0;
  }

  irqsDisabled(): boolean {
    return this.irqsOff[this.m.curCpu]! !== 0;
  }

  contextKind(): ContextKind {
    return contextKindOf(this.pc[this.m.curCpu]!, this.softirqCount());
  }

  // ---- preemption ---------------------------------------------------------------
  // preempt_disable()/preempt_enable() themselves are Machine.preemptDisable()
  // and Machine.preemptEnable(), on the machine's own fields; these are their
  // DEBUG_PREEMPT warnings.

  /** `preempt_count_add()`'s warning: the preempt count is within 10 of overflowing. */
  warnPreemptOverflow(): void {
    this.warnImbalance(
      'preempt_count_add',
      'DEBUG_LOCKS_WARN_ON((preempt_count() & PREEMPT_MASK) >= PREEMPT_MASK - 10)',
    );
  }

  /** `preempt_count_sub()`'s warning: `preempt_enable()` with no preemption disabled. */
  warnPreemptUnderflow(): void {
    this.warnImbalance(
      'preempt_count_sub',
      'DEBUG_LOCKS_WARN_ON((val < PREEMPT_MASK) && !(preempt_count() & PREEMPT_MASK))',
    );
  }

  // ---- hardirq enable/disable -----------------------------------------------------

  encodeFlags(c: number, enabled: boolean): number {
    return (c + 1) * FLAGS_TAG + FLAGS_FIXED + (enabled ? X86_EFLAGS_IF : 0);
  }

  localIrqSave(): number {
    const m = this.m;
    const c = m.curCpu;
    const wasOn = this.irqsOff[c]! === 0;
    if (wasOn) {
      this.irqsOff[c] = 1;
      if (this.hooks !== null) this.hooks.hardirqsOff();
    }
    m.clock[c]! += m.costs.irqSaveRestore;
    return this.encodeFlags(c, wasOn);
  }

  localIrqRestore(flags: number): void {
    if (typeof flags !== 'number' || !Number.isSafeInteger(flags) || flags < 0) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `localIrqRestore(${show(flags)}): accepted the flags returned by localIrqSave()`,
      );
    }
    const m = this.m;
    const c = m.curCpu;
    const tag = Math.floor(flags * INV_FLAGS_TAG);
    if (tag !== 0 && tag - 1 !== c) {
      this.warnImbalance(
        'local_irq_restore',
        `local_irq_restore() of flags saved on CPU ${tag - 1} while running on CPU ${c}`,
      );
    }
    if (this.irqsOff[c]! === 0) {
      // raw_check_bogus_irq_restore(): restoring with irqs already enabled means
      // an unbalanced save/restore pair.
      this.warnImbalance(
        'warn_bogus_irq_restore',
        'raw_local_irq_restore() called with IRQs enabled',
      );
    }
    m.clock[c]! += m.costs.irqSaveRestore;
    const enable = ((flags - tag * FLAGS_TAG) & X86_EFLAGS_IF) !== 0;
    if (enable) this.enableIrqs(c);
    else if (this.irqsOff[c]! === 0) {
      this.irqsOff[c] = 1;
      if (this.hooks !== null) this.hooks.hardirqsOff();
    }
  }

  localIrqDisable(): void {
    const m = this.m;
    const c = m.curCpu;
    if (this.irqsOff[c]! === 0) {
      this.irqsOff[c] = 1;
      if (this.hooks !== null) this.hooks.hardirqsOff();
    }
    m.clock[c]! += m.costs.irqSaveRestore;
  }

  localIrqEnable(): void {
    const m = this.m;
    const c = m.curCpu;
    m.clock[c]! += m.costs.irqSaveRestore;
    this.enableIrqs(c);
  }

  /** Enable irqs on `c` (the current CPU) and take pending hardirqs at once. */
  enableIrqs(c: number): void {
    if (this.irqsOff[c]! === 0) return;
    if (this.hooks !== null) this.hooks.hardirqsOn();
    this.irqsOff[c] = 0;
    if (this.m.attn[c]! !== 0) this.m.deliverInterrupts(c);
  }

  /** Set CPU `c`'s irq flag, calling the trace hooks on a transition (no delivery). */
  setIrqsOff(c: number, off: number): void {
    if (this.irqsOff[c] === off) return;
    if (this.hooks !== null) {
      if (off === 0) this.hooks.hardirqsOn();
      else this.hooks.hardirqsOff();
    }
    this.irqsOff[c] = off;
  }

  // ---- bottom halves --------------------------------------------------------------

  localBhDisable(): void {
    const m = this.m;
    const c = m.curCpu;
    m.clock[c]! += m.costs.preemptToggle;
    if (this.rt) {
      // PREEMPT_RT: the count lives in the task; the outermost disable takes the
      // per-CPU softirq local lock, which pins the task (migrate_disable()).
      const t = m.sched.curr[c]!;
      if ((t.softirqCnt & SOFTIRQ_MASK) === 0) {
        t.migrationDisabled++;
        if (this.hooks !== null) this.hooks.softirqsOff();
      }
      t.softirqCnt += SOFTIRQ_DISABLE_OFFSET;
      return;
    }
    const v = this.pc[c]!;
    if ((v & SOFTIRQ_MASK) === 0 && this.hooks !== null) this.hooks.softirqsOff();
    this.pc[c] = v + SOFTIRQ_DISABLE_OFFSET;
    if (v === 0) this.preemptDisableFn[c] = m.chain.top(c);
  }

  localBhEnable(): void {
    const m = this.m;
    const c = m.curCpu;
    m.clock[c]! += m.costs.preemptToggle;
    if (this.inHardirq() || this.irqsOff[c]! !== 0) {
      // __local_bh_enable_ip(): WARN_ON_ONCE(in_hardirq()) and
      // lockdep_assert_irqs_enabled(); softirqs must not run from here.
      this.warnOnce(
        'irq-context',
        'local_bh_enable',
        'kernel/softirq.c',
        this.inHardirq() ? 'WARN_ON_ONCE(in_hardirq())' : 'lockdep_assert_irqs_enabled()',
      );
    }
    if (this.rt) {
      const t = m.sched.curr[c]!;
      if ((t.softirqCnt & SOFTIRQ_MASK) < SOFTIRQ_DISABLE_OFFSET) {
        this.warnImbalance(
          '__local_bh_enable_ip',
          'WARN_ON_ONCE(cnt > this_cpu_read(softirq_ctrl.cnt))',
        );
        return;
      }
      t.softirqCnt -= SOFTIRQ_DISABLE_OFFSET;
      if ((t.softirqCnt & SOFTIRQ_MASK) === 0) {
        if (this.hooks !== null) this.hooks.softirqsOn();
        if (m.softirq.pending[c]! !== 0 && !this.inHardirq() && !this.inNmi()) {
          // RT __local_bh_enable_ip(): run them here if preemptible, else
          // leave them to ksoftirqd.
          if (this.preemptible()) m.softirq.runInTask(c);
          else m.softirq.wakeKsoftirqd(c);
        }
        if (t.migrationDisabled > 0) t.migrationDisabled--;
      }
      return;
    }
    const v = this.pc[c]!;
    if ((v & SOFTIRQ_MASK) < SOFTIRQ_DISABLE_OFFSET) {
      this.warnImbalance('__local_bh_enable_ip', 'DEBUG_LOCKS_WARN_ON(val > preempt_count())');
      return;
    }
    const after = v - SOFTIRQ_DISABLE_OFFSET;
    if ((after & SOFTIRQ_MASK) === 0 && this.hooks !== null) this.hooks.softirqsOn();
    // Keep preemption off while pending softirqs run, as __local_bh_enable_ip()
    // subtracts cnt - 1 first and the last PREEMPT_OFFSET afterwards.
    this.pc[c] = after + PREEMPT_OFFSET;
    if (
      (this.pc[c]! & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)) === 0 &&
      m.softirq.pending[c]! !== 0
    ) {
      m.softirq.doSoftirq(c);
    }
    this.pc[c] = this.pc[c]! - PREEMPT_OFFSET;
  }

  // ---- migration ------------------------------------------------------------------

  migrateDisable(): void {
    const t = this.m.sched.curr[this.m.curCpu]!;
    t.migrationDisabled++;
  }

  migrateEnable(): void {
    const t = this.m.sched.curr[this.m.curCpu]!;
    if (t.migrationDisabled <= 0) {
      this.warnImbalance('migrate_enable', 'WARN_ON_ONCE((s16)p->migration_disabled <= 0)');
      return;
    }
    t.migrationDisabled--;
  }

  // ---- interrupt entry/exit used by the irq code ---------------------------------

  hardirqEnter(c: number): number {
    const was = this.irqsOff[c]!;
    if (was === 0) {
      this.irqsOff[c] = 1;
      if (this.hooks !== null) this.hooks.hardirqsOff();
    }
    this.pc[c] = this.pc[c]! + HARDIRQ_OFFSET;
    return was;
  }

  hardirqExitCount(c: number): void {
    this.pc[c] = this.pc[c]! - HARDIRQ_OFFSET;
  }

  restoreIrqState(c: number, was: number): void {
    if (was === 0 && this.irqsOff[c]! !== 0) {
      if (this.hooks !== null) this.hooks.hardirqsOn();
      this.irqsOff[c] = 0;
    } else if (was !== 0) {
      this.irqsOff[c] = 1;
    }
  }

  nmiEnter(c: number): number {
    const was = this.irqsOff[c]!;
    this.irqsOff[c] = 1;
    this.pc[c] = this.pc[c]! + NMI_OFFSET + HARDIRQ_OFFSET;
    return was;
  }

  nmiExit(c: number, was: number): void {
    this.pc[c] = this.pc[c]! - NMI_OFFSET - HARDIRQ_OFFSET;
    this.irqsOff[c] = was;
  }

  // ---- reporting --------------------------------------------------------------------

  /** Report an unbalanced transition once per call site, as WARN_ON_ONCE() does. */
  warnImbalance(fn: string, message: string): void {
    this.warnOnce('preempt-imbalance', fn, fnFile(fn), message);
  }

  warnOnce(kind: string, fn: string, file: string, message: string): void {
    const key = `${kind}:${fn}:${message}`;
    if (this.warnedOnce.has(key)) return;
    this.warnedOnce.add(key);
    this.m.warn({ kind, site: file, fn, message, details: { op: fn } });
  }
}

function fnFile(fn: string): string {
  switch (fn) {
    case 'preempt_count_add':
    case 'preempt_count_sub':
    case 'migrate_enable':
      return 'kernel/sched/core.c';
    case '__local_bh_enable_ip':
      return 'kernel/softirq.c';
    default:
      return 'kernel/locking/irqflag-debug.c';
  }
}
