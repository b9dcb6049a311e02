import { KernelPanic, MachineError, show } from './errors.js';
import type { Machine } from './machine.js';
import type { ContextKind } from './preempt-count.js';
import { type LogLevel, levelOf } from './printk.js';
import type { TaintFlag } from './taint.js';
import type { Task } from './task.js';

/**
 * What a subsystem passes to `machine.report()`: the kernel-format text and
 * the structured facts that tests and reports read.
 * @public
 */
export interface ReportInput {
  /** Category, e.g. 'might-sleep', 'scheduling-while-atomic', 'lockdep-circular'. */
  readonly kind: string;
  /** Kernel-format lines; the first is the kernel's own header line. */
  readonly lines: readonly string[];
  /** JSON-able facts for programmatic checks. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Taint flag added after printing, as `add_taint()` at the end of the report. */
  readonly taint?: TaintFlag;
  /** Append the `dump_stack()` block (CPU/PID/Comm line and "Call Trace:"). */
  readonly withStack?: boolean;
  /** Frames (innermost first) printed above the simulated call chain, e.g. `['__might_resched']`. */
  readonly frames?: readonly string[];
  /** printk level of the lines. Default 'err'. */
  readonly level?: LogLevel;
}

/** A report as stored by the machine (`machine.reports()`). @public */
export interface ReportRecord {
  /** 0-based position among all reports. */
  readonly seq: number;
  readonly kind: string;
  /** CPU the report was raised on. */
  readonly cpu: number;
  /** Context it was raised in. */
  readonly context: ContextKind;
  /** Virtual time in ns. */
  readonly time: number;
  /** Current task's pid and comm. */
  readonly pid: number;
  readonly comm: string;
  /** Held locks of the current task, from the registered provider (empty if none). */
  readonly locks: readonly string[];
  readonly details: Readonly<Record<string, unknown>>;
  /** The full text as printed (all lines, no timestamps). */
  readonly text: string;
}

/** Filter of `machine.reports()`. @public */
export interface ReportFilter {
  /** Only reports of this kind. */
  readonly kind?: string;
}

/**
 * Input of `machine.warn()`: a `WARN()`-style report with the
 * "------------[ cut here ]------------" framing.
 * @public
 */
export interface WarnInput {
  readonly kind: string;
  /** Source file of the WARN, e.g. 'kernel/sched/core.c'. */
  readonly site: string;
  /** Function containing the WARN, e.g. 'preempt_count_sub'. */
  readonly fn: string;
  /** Message printed before the WARNING line (the WARN format string). */
  readonly message?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Provider of the current task's held locks, formatted as lockdep prints them. @public */
export type HeldLocksProvider = (task: Task) => readonly string[];

/** Provider of a task's RCU read-side nesting depth (`rcu_preempt_depth()`). @public */
export type RcuNestDepthProvider = (task: Task) => number;

/**
 * The diagnostics sink of the machine: formats, logs, stores and (with
 * panic_on_warn) escalates every report.
 * @internal
 */
export class Reporter {
  readonly records: ReportRecord[] = [];
  heldLocks: HeldLocksProvider | null = null;
  rcuNestDepth: RcuNestDepthProvider | null = null;
  private readonly m: Machine;

  constructor(m: Machine) {
    this.m = m;
  }

  /** `dump_stack()`'s text for the current CPU and task. */
  stackLines(frames: readonly string[]): string[] {
    const m = this.m;
    const c = m.curCpu;
    const t = m.sched.curr[c]!;
    const lines = [
      `CPU: ${c} UID: 0 PID: ${t.pid} Comm: ${t.comm} ${m.taint.compact()} ${m.config.kernelRelease} #1 ${m.preemptModelStr()} `,
    ];
    if (m.taint.value !== 0) lines.push(m.taint.verbose());
    const work = m.wq.currentWorkName(t);
    if (work !== null) lines.push(`Workqueue: events ${work}`);
    lines.push(...m.chain.format(c, ['dump_stack_lvl', ...frames]));
    return lines;
  }

  /** "N locks held by comm/pid:" block, or nothing when no provider is registered. */
  heldLockLines(t: Task): string[] {
    if (this.heldLocks === null) return [];
    const locks = this.heldLocks(t);
    if (locks.length === 0) return [`no locks held by ${t.comm}/${t.pid}.`];
    return [
      `${locks.length} lock${locks.length > 1 ? 's' : ''} held by ${t.comm}/${t.pid}:`,
      ...locks,
    ];
  }

  report(input: ReportInput): ReportRecord {
    if (
      typeof input !== 'object' ||
      input === null ||
      typeof input.kind !== 'string' ||
      input.kind === ''
    ) {
      throw new MachineError('BAD_ARGUMENT', `report(${show(input)}): accepted { kind, lines, … }`);
    }
    if (!Array.isArray(input.lines)) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `report lines ${show(input.lines)}: accepted an array of strings`,
      );
    }
    const m = this.m;
    const c = m.curCpu;
    const t = m.sched.curr[c]!;
    const level = levelOf(input.level ?? 'err');
    const lines = [...input.lines];
    if (input.withStack === true) lines.push(...this.stackLines(input.frames ?? []));
    const text = lines.join('\n');
    const time = m.clock[c]!;
    m.log.append(time, c, level, text);
    const rec: ReportRecord = Object.freeze({
      seq: this.records.length,
      kind: input.kind,
      cpu: c,
      context: m.ctx.contextKind(),
      time,
      pid: t.pid,
      comm: t.comm,
      locks: Object.freeze(this.heldLocks === null ? [] : [...this.heldLocks(t)]),
      details: Object.freeze({ ...(input.details ?? {}) }),
      text,
    });
    this.records.push(rec);
    if (input.taint !== undefined) m.taint.add(input.taint);
    if (m.tracing) m.tracer.instant(c, time, `report:${input.kind}`, { seq: rec.seq });
    if (m.config.panicOnWarn) {
      const msg = `Kernel panic - not syncing: ${input.kind}: panic_on_warn set ...`;
      m.log.append(m.clock[c]!, c, 0, msg);
      m.log.append(m.clock[c]!, c, 0, `---[ end ${msg} ]---`);
      throw new KernelPanic(input.kind, rec.seq, msg);
    }
    return rec;
  }

  warn(input: WarnInput): ReportRecord {
    const m = this.m;
    const t = m.sched.curr[m.curCpu]!;
    const lines = ['------------[ cut here ]------------'];
    if (input.message !== undefined && input.message !== '') lines.push(input.message);
    lines.push(`WARNING: CPU: ${m.curCpu} PID: ${t.pid} at ${input.site} ${input.fn}`);
    lines.push('Modules linked in:');
    lines.push(...this.stackLines([input.fn]));
    lines.push('---[ end trace 0000000000000000 ]---');
    return this.report({
      kind: input.kind,
      lines,
      details: {
        site: input.site,
        fn: input.fn,
        message: input.message ?? '',
        ...(input.details ?? {}),
      },
      taint: 'W',
      level: 'warning',
    });
  }

  filter(f: ReportFilter = {}): readonly ReportRecord[] {
    if (f.kind === undefined) return this.records.slice();
    return this.records.filter((r) => r.kind === f.kind);
  }
}
