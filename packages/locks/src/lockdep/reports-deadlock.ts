import type { LockdepCore } from './core.js';
import {
  className,
  headerBlock,
  heldLockInfos,
  heldLocksBlock,
  lockInfo,
  lockLine,
  lockName,
  oneCpuScenario,
  stackBacktrace,
  taskName,
  traceLines,
} from './report-format.js';
import type { LockdepTaskState } from './task-state.js';

/** Column where the CPU1 side of a scenario table starts. */
const CPU1 = ' '.repeat(31);
/** The two-CPU scenario table head. @internal */
export const TWO_CPU_HEAD = [
  '       CPU0                    CPU1',
  '       ----                    ----',
];

/**
 * "WARNING: possible recursive locking detected". Models
 * `print_deadlock_bug()` and `print_deadlock_scenario()`.
 * @internal
 */
export function reportRecursive(
  core: LockdepCore,
  ts: LockdepTaskState,
  prev: number,
  next: number,
): void {
  if (!core.beginReport()) return;
  const prevName = className(core, ts.hClass[prev] ?? 0);
  const nextName = className(core, ts.hClass[next] ?? 0);
  const lines = [
    ...headerBlock(core, 'WARNING: possible recursive locking detected'),
    `${taskName(core)} is trying to acquire lock:`,
    lockLine(core, ts, next),
    '',
    'but task is already holding lock:',
    lockLine(core, ts, prev),
    '',
    ...oneCpuScenario([`  lock(${prevName});`, `  lock(${nextName});`]),
    ' May be due to missing lock nesting notation',
    '',
    ...heldLocksBlock(core, ts),
    '',
    ...stackBacktrace(core),
  ];
  core.emit({
    kind: 'lockdep-recursive',
    lines,
    details: {
      lock: lockInfo(core, ts, next),
      held: lockInfo(core, ts, prev),
      heldLocks: heldLockInfos(core, ts),
    },
  });
}

/**
 * "WARNING: possible circular locking dependency detected". `root` is the
 * BFS root (the lock being acquired), `target` the entry that reached the
 * held lock. Models `print_circular_bug()`, `print_circular_bug_header()`,
 * `print_circular_bug_entry()` and `print_circular_lock_scenario()`.
 * @internal
 */
export function reportCircular(
  core: LockdepCore,
  ts: LockdepTaskState,
  root: number,
  target: number,
  src: number,
  tgt: number,
): void {
  if (!core.beginReport()) return;
  const g = core.graph;
  g.eTrace[root] = core.host.callChain();
  let depth = g.depthOf(target);
  const lines = [
    ...headerBlock(core, 'WARNING: possible circular locking dependency detected'),
    `${taskName(core)} is trying to acquire lock:`,
    lockLine(core, ts, src),
    '',
    'but task is already holding lock:',
    lockLine(core, ts, tgt),
    '',
    'which lock already depends on the new lock.',
    '',
    '',
    'the existing dependency chain (in reverse order) is:',
  ];
  const chain: { index: number; class: string; lock: string; trace: readonly string[] }[] = [];
  const entry = (e: number, d: number) => {
    const cls = g.eClass[e] ?? 0;
    const trace = g.eTrace[e] ?? [];
    lines.push('', `-> #${d} ${lockName(core, cls)}:`, ...traceLines(trace, 6));
    chain.push({ index: d, class: className(core, cls), lock: lockName(core, cls), trace });
  };
  entry(target, depth);
  const firstParent = g.eParent[target] ?? -1;
  for (let p = firstParent; p >= 0; p = g.eParent[p] ?? -1) entry(p, --depth);

  const source = ts.hClass[src] ?? 0;
  const targetCls = ts.hClass[tgt] ?? 0;
  const parent = firstParent >= 0 ? (g.eClass[firstParent] ?? 0) : source;
  const sName = className(core, source);
  const pName = className(core, parent);
  const tName = className(core, targetCls);
  lines.push('', 'other info that might help us debug this:', '');
  if (parent !== source) lines.push('Chain exists of:', `  ${sName} --> ${pName} --> ${tName}`, '');
  lines.push(
    ' Possible unsafe locking scenario:',
    '',
    ...TWO_CPU_HEAD,
    `  ${ts.hRead[tgt] !== 0 ? 'rlock' : 'lock'}(${tName});`,
    `${CPU1}lock(${pName});`,
    `${CPU1}lock(${tName});`,
    `  ${ts.hRead[src] !== 0 ? 'rlock' : 'lock'}(${sName});`,
    '',
    ' *** DEADLOCK ***',
    '',
    ...heldLocksBlock(core, ts),
    '',
    ...stackBacktrace(core),
  );
  core.emit({
    kind: 'lockdep-circular',
    lines,
    details: {
      lock: lockInfo(core, ts, src),
      held: lockInfo(core, ts, tgt),
      chain,
      scenario: { source: sName, parent: pName, target: tName },
      heldLocks: heldLockInfos(core, ts),
    },
  });
}
