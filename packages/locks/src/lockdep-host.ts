import type { Machine, TaintFlag, TaskSlot } from '@sim/cpu';
import {
  IrqContext,
  type LockdepHost,
  type LockdepReport,
  type LockdepTaskState,
} from './lockdep/index.js';

/**
 * The lockdep engine's view of a @sim/cpu machine: current task and context,
 * irq state, wait-context hints and the report sink.
 * @internal
 */
export class MachineLockdepHost implements LockdepHost {
  constructor(
    private readonly m: Machine,
    private readonly slot: TaskSlot<LockdepTaskState>,
    private readonly rt: boolean,
  ) {}

  currentTask(): { readonly pid: number; readonly comm: string } {
    return this.m.current;
  }
  taskState(): LockdepTaskState {
    return this.slot.get(this.m.current);
  }
  cpu(): number {
    return this.m.cpu;
  }
  now(): number {
    return this.m.now();
  }
  irqContext(): number {
    const m = this.m;
    if (m.inNmi()) return IrqContext.NMI;
    if (m.inHardirq()) return IrqContext.HARDIRQ;
    if (m.inServingSoftirq()) return IrqContext.SOFTIRQ;
    return IrqContext.TASK;
  }
  hardirqCount(): number {
    return (this.m.preemptCount() & 0xf0000) >>> 16;
  }
  softirqCount(): number {
    return this.m.softirqCount() >>> 8;
  }
  hardirqsEnabled(): boolean {
    return !this.m.irqsDisabled();
  }
  softirqsEnabled(): boolean {
    return this.m.softirqCount() === 0;
  }
  hardirqThreaded(): boolean {
    return this.m.hardirqThreaded();
  }
  irqConfig(): boolean {
    return this.m.irqConfig();
  }
  preemptRt(): boolean {
    return this.rt;
  }
  kernelIdent(): string {
    return this.m.kernelIdent();
  }
  callSite(): string {
    return this.m.callSite();
  }
  callChain(): readonly string[] {
    return this.m.callChain();
  }
  report(r: LockdepReport): void {
    // The engine ends most reports with its own dump_stack(); the machine's
    // is the canonical one (preempt model, taint legend), so use it instead
    // whenever the dump is the report's last block.
    const lines = r.lines;
    let cut = -1;
    for (let i = 0; i + 1 < lines.length; i++) {
      if (lines[i]!.startsWith('CPU: ') && lines[i + 1] === 'Call Trace:') {
        cut = i;
        break;
      }
    }
    const last = lines[lines.length - 1] ?? '';
    const dumpIsLast = cut >= 0 && /^ <\/(TASK|IRQ|NMI)>$/.test(last);
    this.m.report({
      kind: r.kind,
      lines: dumpIsLast ? lines.slice(0, cut) : lines,
      details: r.details,
      ...(r.taint === undefined ? {} : { taint: r.taint as TaintFlag }),
      withStack: dumpIsLast,
    });
  }
}
