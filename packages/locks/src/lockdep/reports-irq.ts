import type { LockdepCore } from './core.js';
import {
  className,
  headerBlock,
  heldLockInfos,
  heldLocksBlock,
  irqStateTag,
  irqtraceEvents,
  lockInfo,
  lockLine,
  lockName,
  oneCpuScenario,
  stackBacktrace,
  taskName,
  textAddress,
  traceLines,
} from './report-format.js';
import { TWO_CPU_HEAD } from './reports-deadlock.js';
import type { LockdepTaskState } from './task-state.js';
import { LOCK_TRACE_STATES, USAGE_STR } from './usage.js';

/*
 * Irq-safety reports. Models print_usage_bug(), print_irq_inversion_bug(),
 * print_bad_irq_dependency(), print_irq_lock_scenario(),
 * print_lock_class_header() and print_shortest_lock_dependencies*().
 */

const CPU1 = ' '.repeat(31);

function usageTrace(core: LockdepCore, cls: number, bit: number): readonly string[] | null {
  return core.classes.usageTraces[cls * LOCK_TRACE_STATES + bit] ?? null;
}

function irqState(core: LockdepCore): Record<string, number | boolean> {
  const h = core.host;
  const ctx = h.irqContext();
  return {
    hardirqContext: ctx >= 2 ? 1 : 0,
    hardirqCount: h.hardirqCount(),
    softirqContext: ctx === 1 || (ctx >= 2 && (h.softirqCount() & 1) !== 0) ? 1 : 0,
    softirqCount: h.softirqCount(),
    hardirqsEnabled: h.hardirqsEnabled(),
    softirqsEnabled: h.softirqsEnabled(),
  };
}

/**
 * "WARNING: inconsistent lock state": `newBit` conflicts with `prevBit`
 * already set on the class of `slot`. Models `print_usage_bug()`.
 * @internal
 */
export function reportUsageBug(
  core: LockdepCore,
  ts: LockdepTaskState,
  slot: number,
  prevBit: number,
  newBit: number,
): void {
  if (!core.beginReport()) return;
  const cls = ts.hClass[slot] ?? 0;
  const name = className(core, cls);
  const from = USAGE_STR[prevBit] ?? '';
  const to = USAGE_STR[newBit] ?? '';
  const lines = [
    ...headerBlock(core, 'WARNING: inconsistent lock state'),
    `inconsistent {${from}} -> {${to}} usage.`,
    `${taskName(core)} ${irqStateTag(core)} takes:`,
    lockLine(core, ts, slot),
    `{${from}} state was registered at:`,
    ...traceLines(usageTrace(core, cls, prevBit), 1),
    ...irqtraceEvents(ts),
    '',
    ...oneCpuScenario([`  lock(${name});`, '  <Interrupt>', `    lock(${name});`]),
    ...heldLocksBlock(core, ts),
    '',
    ...stackBacktrace(core),
  ];
  core.emit({
    kind: 'lockdep-inconsistent',
    lines,
    details: {
      lock: lockInfo(core, ts, slot),
      from,
      to,
      irqState: irqState(core),
      heldLocks: heldLockInfos(core, ts),
    },
  });
}

/** `print_irq_lock_scenario()`. */
function irqLockScenario(
  core: LockdepCore,
  safe: number,
  unsafe: number,
  prevClass: number,
  nextClass: number,
): string[] {
  const middle = prevClass === safe ? nextClass : prevClass;
  const sName = className(core, safe);
  const uName = className(core, unsafe);
  const mName = className(core, middle);
  const out: string[] = [];
  if (middle !== unsafe) out.push('Chain exists of:', `  ${sName} --> ${mName} --> ${uName}`, '');
  out.push(
    ' Possible interrupt unsafe locking scenario:',
    '',
    ...TWO_CPU_HEAD,
    `  lock(${uName});`,
    `${CPU1}local_irq_disable();`,
    `${CPU1}lock(${sName});`,
    `${CPU1}lock(${mName});`,
    '  <Interrupt>',
    `    lock(${sName});`,
    '',
    ' *** DEADLOCK ***',
    '',
  );
  return out;
}

/** `print_lock_class_header()`: the class, its usage bits with traces, its key. */
function classHeader(core: LockdepCore, cls: number, depth: number): string[] {
  const sp = ' '.repeat(depth);
  const out = [`${sp}-> ${lockName(core, cls)} {`];
  const usage = core.classes.usage[cls] ?? 0;
  for (let bit = 0; bit < LOCK_TRACE_STATES; bit++) {
    if ((usage & (1 << bit)) === 0) continue;
    const s = `${sp}   ${USAGE_STR[bit] ?? ''}`;
    out.push(`${s} at:`);
    // The kernel indents by the printed length of the two printk()s before it.
    out.push(...traceLines(usageTrace(core, cls, bit), depth + s.length + 4));
  }
  const key = `__key.${core.classes.base[cls] ?? cls}+0x0/0x10`;
  out.push(`${sp} }`, `${sp} ... key      at: [<${textAddress(key)}>] ${key}`);
  return out;
}

/** `print_shortest_lock_dependencies()`: from a forward-search leaf back to its root. */
function shortestDeps(core: LockdepCore, leaf: number, root: number): string[] {
  const g = core.graph;
  const out: string[] = [];
  let entry = leaf;
  let depth = g.depthOf(leaf);
  do {
    out.push(...classHeader(core, g.eClass[entry] ?? 0, depth));
    out.push(`${' '.repeat(depth)} ... acquired at:`, ...traceLines(g.eTrace[entry], 2), '');
    if (depth === 0 && entry !== root) {
      out.push('lockdep:print_shortest_lock_dependencies bad path found in chain graph');
      break;
    }
    entry = g.eParent[entry] ?? -1;
    depth--;
  } while (entry >= 0 && depth >= 0);
  return out;
}

/** `print_shortest_lock_dependencies_backwards()`: a backward-search path in lock order. */
function shortestDepsBackwards(core: LockdepCore, leaf: number, root: number): string[] {
  const g = core.graph;
  const out: string[] = [];
  let entry = leaf;
  let trace: readonly string[] | null = null;
  let depth = g.depthOf(leaf);
  do {
    out.push(...classHeader(core, g.eClass[entry] ?? 0, depth));
    if (trace !== null) {
      out.push(`${' '.repeat(depth)} ... acquired at:`, ...traceLines(trace, 2), '');
    }
    trace = g.eTrace[entry] ?? null;
    if (depth === 0 && entry !== root) {
      out.push('lockdep:print_shortest_lock_dependencies_backwards bad path found in chain graph');
      break;
    }
    entry = g.eParent[entry] ?? -1;
    depth--;
  } while (entry >= 0 && depth >= 0);
  return out;
}

/**
 * "WARNING: possible irq lock inversion dependency detected": marking the
 * class of `slot` made it irq-safe (irq-unsafe) while it already reaches
 * (is reached from) an irq-unsafe (irq-safe) class. Models
 * `print_irq_inversion_bug()`.
 * @internal
 */
export function reportIrqInversion(
  core: LockdepCore,
  ts: LockdepTaskState,
  slot: number,
  root: number,
  other: number,
  forwards: boolean,
  irqclass: string,
): void {
  if (!core.beginReport()) return;
  const g = core.graph;
  const otherCls = g.eClass[other] ?? 0;
  const rootCls = g.eClass[root] ?? 0;
  const lines = [
    ...headerBlock(core, 'WARNING: possible irq lock inversion dependency detected'),
    `${taskName(core)} just changed the state of lock:`,
    lockLine(core, ts, slot),
    forwards
      ? `but this lock took another, ${irqclass}-unsafe lock in the past:`
      : `but this lock was taken by another, ${irqclass}-safe lock in the past:`,
    ` ${lockName(core, otherCls)}`,
    '',
    'and interrupts could create inverse lock ordering between them.',
    '',
    '',
    'other info that might help us debug this:',
  ];
  // The middle lock is the first hop of the path from the root.
  let middle = -1;
  let entry = other;
  let depth = g.depthOf(other);
  do {
    if (depth === 0 && entry !== root) {
      lines.push('lockdep:print_irq_inversion_bug bad path found in chain graph');
      break;
    }
    middle = entry;
    entry = g.eParent[entry] ?? -1;
    depth--;
  } while (entry >= 0 && entry !== root && depth >= 0);
  if (forwards) {
    const mid = middle >= 0 ? (g.eClass[middle] ?? 0) : rootCls;
    lines.push(...irqLockScenario(core, rootCls, otherCls, mid, otherCls));
  } else {
    const mid = middle >= 0 ? (g.eClass[middle] ?? 0) : otherCls;
    lines.push(...irqLockScenario(core, otherCls, rootCls, mid, rootCls));
  }
  lines.push(
    ...heldLocksBlock(core, ts),
    '',
    'the shortest dependencies between 2nd lock and 1st lock:',
  );
  g.eTrace[root] = core.host.callChain();
  lines.push(...shortestDeps(core, other, root), '', ...stackBacktrace(core));
  core.emit({
    kind: 'lockdep-irq-inversion',
    lines,
    details: {
      lock: lockInfo(core, ts, slot),
      other: className(core, otherCls),
      forwards,
      irqClass: irqclass,
      heldLocks: heldLockInfos(core, ts),
    },
  });
}

/**
 * "WARNING: %s-safe -> %s-unsafe lock order detected": the dependency
 * prev -> next connects an irq-safe lock (`back`, found backwards from
 * `prevRoot`) with an irq-unsafe one (`fwd`, found forwards from
 * `nextRoot`). Models `print_bad_irq_dependency()`.
 * @internal
 */
export function reportBadIrqDependency(
  core: LockdepCore,
  ts: LockdepTaskState,
  prev: number,
  next: number,
  prevRoot: number,
  nextRoot: number,
  back: number,
  fwd: number,
  bit1: number,
  bit2: number,
  irqclass: string,
): void {
  if (!core.beginReport()) return;
  const g = core.graph;
  const backCls = g.eClass[back] ?? 0;
  const fwdCls = g.eClass[fwd] ?? 0;
  const prevCls = ts.hClass[prev] ?? 0;
  const nextCls = ts.hClass[next] ?? 0;
  const lines = [
    ...headerBlock(core, `WARNING: ${irqclass}-safe -> ${irqclass}-unsafe lock order detected`, 53),
    `${taskName(core)} ${irqStateTag(core)} is trying to acquire:`,
    lockLine(core, ts, next),
    '',
    'and this task is already holding:',
    lockLine(core, ts, prev),
    'which would create a new lock dependency:',
    ` ${lockName(core, prevCls)} -> ${lockName(core, nextCls)}`,
    '',
    `but this new dependency connects a ${irqclass}-irq-safe lock:`,
    ` ${lockName(core, backCls)}`,
    `... which became ${irqclass}-irq-safe at:`,
    ...traceLines(usageTrace(core, backCls, bit1), 1),
    '',
    `to a ${irqclass}-irq-unsafe lock:`,
    ` ${lockName(core, fwdCls)}`,
    `... which became ${irqclass}-irq-unsafe at:`,
    '...',
    ...traceLines(usageTrace(core, fwdCls, bit2), 1),
    '',
    'other info that might help us debug this:',
    '',
    ...irqLockScenario(core, backCls, fwdCls, prevCls, nextCls),
    ...heldLocksBlock(core, ts),
    '',
    `the dependencies between ${irqclass}-irq-safe lock and the holding lock:`,
    ...shortestDepsBackwards(core, back, prevRoot),
    '',
    'the dependencies between the lock to be acquired',
    ` and ${irqclass}-irq-unsafe lock:`,
  ];
  g.eTrace[nextRoot] = core.host.callChain();
  lines.push(...shortestDeps(core, fwd, nextRoot), '', ...stackBacktrace(core));
  core.emit({
    kind: 'lockdep-irq-unsafe',
    lines,
    details: {
      irqClass: irqclass,
      lock: lockInfo(core, ts, next),
      held: lockInfo(core, ts, prev),
      safe: className(core, backCls),
      unsafe: className(core, fwdCls),
      safeUsage: USAGE_STR[bit1] ?? '',
      unsafeUsage: USAGE_STR[bit2] ?? '',
      heldLocks: heldLockInfos(core, ts),
    },
  });
}
