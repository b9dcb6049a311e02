import type { LockdepCore } from './core.js';
import { IrqContext } from './host.js';
import type { LockdepTaskState } from './task-state.js';
import { usageChars } from './usage.js';

/**
 * Text building blocks shared by every lockdep report: the header block,
 * lock lines, held-lock lists, stack traces and the `dump_stack()` output.
 * Models `print_kernel_ident()`, `print_lock_name()`, `print_lock()`,
 * `lockdep_print_held_locks()`, `print_lock_trace()` and `print_ip_sym()`.
 */

/** Structured description of one lock in a report's details. @public */
export interface LockdepLockInfo {
  /** Class name as printed (`name#version/subclass`). */
  readonly class: string;
  /** Instance name (`lockdep_map::name`). */
  readonly instance: string;
  /** Address as printed. */
  readonly addr: string;
  /** The 4 usage characters. */
  readonly usage: string;
  /** Wait types as printed: `[outer, inner]`. */
  readonly wait: readonly [number, number];
  /** Acquisition site. */
  readonly site: string;
  /** 0 write, 1 read, 2 recursive read. */
  readonly read: number;
  /** Acquired with a trylock. */
  readonly trylock: boolean;
}

/** Header block: '=' line, title, kernel ident, '-' line. @internal */
export function headerBlock(core: LockdepCore, title: string, width = title.length): string[] {
  return ['='.repeat(width), title, core.host.kernelIdent(), '-'.repeat(width)];
}

/** `comm/pid` of the current task. @internal */
export function taskName(core: LockdepCore): string {
  const t = core.host.currentTask();
  return `${t.comm}/${t.pid}`;
}

/** `__print_lock_name()`: the class name with `#version` and `/subclass`. @internal */
export function className(core: LockdepCore, cls: number): string {
  return core.classes.printNames[cls] ?? '<RELEASED>';
}

/** `print_lock_name()` without the leading space: `(name){usage}-{outer:inner}`. @internal */
export function lockName(core: LockdepCore, cls: number): string {
  const c = core.classes;
  return `(${className(core, cls)}){${usageChars(c.usage[cls] ?? 0)}}-{${c.printOuter(cls)}:${c.inner[cls] ?? 0}}`;
}

/** `print_lock()`: `addr (name){usage}-{o:i}, at: site` for a held-lock slot. @internal */
export function lockLine(core: LockdepCore, ts: LockdepTaskState, slot: number): string {
  const map = ts.hInstance[slot];
  const addr = map !== null && map !== undefined ? map.hexAddr : '0000000000000000';
  return `${addr} ${lockName(core, ts.hClass[slot] ?? 0)}, at: ${ts.hSite[slot] ?? ''}`;
}

/** Structured form of a held-lock slot. @internal */
export function lockInfo(core: LockdepCore, ts: LockdepTaskState, slot: number): LockdepLockInfo {
  const cls = ts.hClass[slot] ?? 0;
  const c = core.classes;
  const map = ts.hInstance[slot];
  return {
    class: className(core, cls),
    instance: map?.name ?? '',
    addr: map?.hexAddr ?? '',
    usage: usageChars(c.usage[cls] ?? 0),
    wait: [c.printOuter(cls), c.inner[cls] ?? 0],
    site: ts.hSite[slot] ?? '',
    read: ts.hRead[slot] ?? 0,
    trylock: ts.hTrylock[slot] === 1,
  };
}

/** Structured form of every held lock of the task. @internal */
export function heldLockInfos(core: LockdepCore, ts: LockdepTaskState): LockdepLockInfo[] {
  const out: LockdepLockInfo[] = [];
  for (let i = 0; i < ts.depth; i++) out.push(lockInfo(core, ts, i));
  return out;
}

/** `lockdep_print_held_locks()`. @internal */
export function heldLocksBlock(core: LockdepCore, ts: LockdepTaskState): string[] {
  const depth = ts.depth;
  const who = taskName(core);
  if (depth === 0) return [`no locks held by ${who}.`];
  const out = [`${depth} lock${depth > 1 ? 's' : ''} held by ${who}:`];
  for (let i = 0; i < depth; i++) out.push(` #${i}: ${lockLine(core, ts, i)}`);
  return out;
}

/** `print_lock_trace(trace, spaces)`: one frame per line, indented by spaces + 1. @internal */
export function traceLines(trace: readonly string[] | null | undefined, spaces: number): string[] {
  if (trace === null || trace === undefined) return [];
  const pad = ' '.repeat(spaces + 1);
  return trace.map((f) => pad + f);
}

/**
 * A stable kernel-text address for a symbol, for `[<%px>]` fields. Derived
 * from the symbol name (FNV-1a) so output is deterministic; an empty symbol
 * prints as address 0, like an irq event that never happened.
 * @internal
 */
export function textAddress(sym: string): string {
  if (sym.length === 0) return '0000000000000000';
  let h = 0x811c9dc5;
  for (let i = 0; i < sym.length; i++) h = Math.imul(h ^ sym.charCodeAt(i), 0x01000193);
  return `ffffffff81${((h >>> 0) & 0xfffff0).toString(16).padStart(6, '0')}`;
}

/** `print_ip_sym()`: `[<address>] symbol`. @internal */
export function ipSym(sym: string): string {
  return `[<${textAddress(sym)}>] ${sym.length === 0 ? '0x0' : sym}`;
}

/**
 * `dump_stack()` output: the CPU/task line, then the simulated call chain
 * inside a context marker (`<TASK>`, `<IRQ>` or `<NMI>`).
 * @internal
 */
export function dumpStack(core: LockdepCore): string[] {
  const h = core.host;
  const t = h.currentTask();
  const ident = h.kernelIdent();
  const sp1 = ident.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : ident.indexOf(' ', sp1 + 1);
  const relVer = sp2 < 0 ? ident : ident.slice(0, sp2);
  const taint = sp2 < 0 ? 'Not tainted' : ident.slice(sp2 + 1);
  const ctx = h.irqContext();
  const tag = ctx === IrqContext.TASK ? 'TASK' : ctx === IrqContext.NMI ? 'NMI' : 'IRQ';
  const out = [
    `CPU: ${h.cpu()} UID: 0 PID: ${t.pid} Comm: ${t.comm} ${taint} ${relVer}`,
    'Call Trace:',
    ` <${tag}>`,
  ];
  for (const f of h.callChain()) out.push(` ${f}`);
  out.push(` </${tag}>`);
  return out;
}

/**
 * The one-CPU "Possible unsafe locking scenario" of print_deadlock_scenario()
 * and print_irq_lock_scenario(): `steps` under a CPU0 column, then
 * "*** DEADLOCK ***". @internal
 */
export function oneCpuScenario(steps: readonly string[]): string[] {
  return [
    'other info that might help us debug this:',
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0',
    '       ----',
    ...steps,
    '',
    ' *** DEADLOCK ***',
    '',
  ];
}

/** "stack backtrace:" followed by `dump_stack()`. @internal */
export function stackBacktrace(core: LockdepCore): string[] {
  return ['stack backtrace:', ...dumpStack(core)];
}

/** `[HC%u[%lu]:SC%u[%lu]:HE%u:SE%u]` for the current context. @internal */
export function irqStateTag(core: LockdepCore): string {
  const h = core.host;
  const ctx = h.irqContext();
  const hc = ctx >= IrqContext.HARDIRQ ? 1 : 0;
  const sc = ctx === IrqContext.SOFTIRQ || (hc === 1 && (h.softirqCount() & 1) !== 0) ? 1 : 0;
  return `[HC${hc}[${h.hardirqCount()}]:SC${sc}[${h.softirqCount()}]:HE${h.hardirqsEnabled() ? 1 : 0}:SE${h.softirqsEnabled() ? 1 : 0}]`;
}

/** `print_irqtrace_events()`. @internal */
export function irqtraceEvents(ts: LockdepTaskState): string[] {
  return [
    `irq event stamp: ${ts.irqEvents}`,
    `hardirqs last  enabled at (${ts.hardirqEnableEvent}): ${ipSym(ts.hardirqEnableSite)}`,
    `hardirqs last disabled at (${ts.hardirqDisableEvent}): ${ipSym(ts.hardirqDisableSite)}`,
    `softirqs last  enabled at (${ts.softirqEnableEvent}): ${ipSym(ts.softirqEnableSite)}`,
    `softirqs last disabled at (${ts.softirqDisableEvent}): ${ipSym(ts.softirqDisableSite)}`,
  ];
}
