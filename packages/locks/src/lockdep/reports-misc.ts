import type { LockdepCore } from './core.js';
import { formatDirectMapAddress, type LockdepMap } from './map.js';
import {
  dumpStack,
  headerBlock,
  heldLockInfos,
  heldLocksBlock,
  ipSym,
  lockInfo,
  lockLine,
  stackBacktrace,
  taskName,
} from './report-format.js';
import { type LockdepTaskState, MAX_LOCK_DEPTH } from './task-state.js';

/*
 * The remaining lockdep reports. Models print_lock_invalid_wait_context(),
 * print_unlock_imbalance_bug(), print_lock_nested_lock_not_held(),
 * print_lockdep_off(), the MAX_LOCK_DEPTH check of __lock_acquire(),
 * print_freed_lock_bug(), print_held_locks_bug() and lockdep_rcu_suspicious().
 */

/**
 * "BUG: Invalid wait context" for the pending acquisition in `slot`.
 * `ctx` is `task_wait_context()` (printed as `context-{ctx:ctx}`) and
 * `curr` the level allowed after folding the held locks. With keepGoing, each
 * (class, level) pair is reported once. Returns true when the acquisition
 * violated the wait context (reported or not).
 * @internal
 */
export function reportInvalidWaitContext(
  core: LockdepCore,
  ts: LockdepTaskState,
  slot: number,
  ctx: number,
  curr: number,
): boolean {
  const cls = ts.hClass[slot] ?? 0;
  if (core.keepGoing) {
    const k = cls * 16 + curr;
    if (core.waitReported.has(k)) return true;
    core.waitReported.add(k);
  }
  if (!core.beginReport()) return true;
  const h = core.host;
  const lines = [
    ...headerBlock(core, '[ BUG: Invalid wait context ]'),
    `${taskName(core)} is trying to lock:`,
    lockLine(core, ts, slot),
    'other info that might help us debug this:',
    `context-{${ctx}:${ctx}}`,
    ...heldLocksBlock(core, ts),
    ...stackBacktrace(core),
  ];
  const c = core.classes;
  core.emit({
    kind: 'lockdep-invalid-wait-context',
    lines,
    details: {
      lock: lockInfo(core, ts, slot),
      context: ctx,
      allowed: curr,
      outer: c.printOuter(cls),
      inner: c.inner[cls] ?? 0,
      preemptRt: h.preemptRt(),
      heldLocks: heldLockInfos(core, ts),
    },
  });
  return true;
}

/**
 * "WARNING: bad unlock balance detected!": releasing a lock the task does
 * not hold (in this irq context). Models `print_unlock_imbalance_bug()`.
 * @internal
 */
export function reportBadUnlock(
  core: LockdepCore,
  ts: LockdepTaskState,
  map: LockdepMap,
  site: string,
): void {
  if (!core.beginReport()) return;
  const lines = [
    ...headerBlock(core, 'WARNING: bad unlock balance detected!'),
    `${taskName(core)} is trying to release lock (${map.name}) at:`,
    ipSym(site),
    'but there are no more locks to release!',
    '',
    'other info that might help us debug this:',
    ...heldLocksBlock(core, ts),
    '',
    ...stackBacktrace(core),
  ];
  core.emit({
    kind: 'lockdep-bad-unlock',
    lines,
    details: { lock: map.name, addr: map.hexAddr, site, heldLocks: heldLockInfos(core, ts) },
  });
}

/**
 * "WARNING: Nested lock was not taken": a nest_lock annotation names a lock
 * the task does not hold. Models `print_lock_nested_lock_not_held()`.
 * @internal
 */
export function reportNestedLockNotHeld(
  core: LockdepCore,
  ts: LockdepTaskState,
  slot: number,
): void {
  if (!core.beginReport()) return;
  const nest = ts.hNest[slot];
  const lines = [
    ...headerBlock(core, 'WARNING: Nested lock was not taken'),
    `${taskName(core)} is trying to lock:`,
    lockLine(core, ts, slot),
    '',
    'but this task is not holding:',
    nest?.name ?? '',
    '',
    ...stackBacktrace(core),
    '',
    'other info that might help us debug this:',
    ...heldLocksBlock(core, ts),
    '',
    ...stackBacktrace(core),
  ];
  core.emit({
    kind: 'lockdep-nested-lock-not-taken',
    lines,
    details: { lock: lockInfo(core, ts, slot), nestLock: nest?.name ?? '' },
  });
}

/**
 * "BUG: MAX_LOCKDEP_* too low!": a lockdep table is full; lockdep turns
 * itself off even with keepGoing. Models `print_lockdep_off()`.
 * @internal
 */
export function reportLimit(core: LockdepCore, which: string): void {
  if (!core.beginReport(true)) return;
  core.emit({
    kind: 'lockdep-limit',
    lines: [
      `BUG: ${which} too low!`,
      'turning off the locking correctness validator.',
      ...dumpStack(core),
    ],
    details: { limit: which },
  });
}

/**
 * "BUG: MAX_LOCK_DEPTH too low!": the task holds 48 locks. Lockdep turns
 * itself off even with keepGoing.
 * @internal
 */
export function reportMaxDepth(core: LockdepCore, ts: LockdepTaskState): void {
  if (!core.beginReport(true)) return;
  const held = heldLocksBlock(core, ts);
  core.emit({
    kind: 'lockdep-max-depth',
    lines: [
      'BUG: MAX_LOCK_DEPTH too low!',
      'turning off the locking correctness validator.',
      `depth: ${ts.depth}  max: ${MAX_LOCK_DEPTH}!`,
      ...held,
      '',
      'Showing all locks held in the system:',
      ...held,
      '',
      '=============================================',
      '',
      ...dumpStack(core),
    ],
    details: { depth: ts.depth, max: MAX_LOCK_DEPTH, heldLocks: heldLockInfos(core, ts) },
  });
}

/**
 * "WARNING: held lock freed!": memory [addr, addr + len) being freed or
 * re-initialised contains the held lock in `slot`. Models
 * `print_freed_lock_bug()`.
 * @internal
 */
export function reportHeldLockFreed(
  core: LockdepCore,
  ts: LockdepTaskState,
  addr: number,
  len: number,
  slot: number,
): void {
  if (!core.beginReport()) return;
  const from = formatDirectMapAddress(addr);
  const to = formatDirectMapAddress(addr + len - 1);
  core.emit({
    kind: 'lockdep-held-lock-freed',
    lines: [
      ...headerBlock(core, 'WARNING: held lock freed!'),
      `${taskName(core)} is freeing memory ${from}-${to}, with a lock still held there!`,
      lockLine(core, ts, slot),
      ...heldLocksBlock(core, ts),
      '',
      ...stackBacktrace(core),
    ],
    details: { from, to, lock: lockInfo(core, ts, slot), heldLocks: heldLockInfos(core, ts) },
  });
}

/**
 * "WARNING: %s/%d still has locks held!". Models `print_held_locks_bug()`.
 * @internal
 */
export function reportLocksStillHeld(core: LockdepCore, ts: LockdepTaskState): void {
  if (!core.beginReport()) return;
  core.emit({
    kind: 'lockdep-locks-held',
    lines: [
      ...headerBlock(core, `WARNING: ${taskName(core)} still has locks held!`, 36),
      ...heldLocksBlock(core, ts),
      '',
      ...stackBacktrace(core),
    ],
    details: { heldLocks: heldLockInfos(core, ts) },
  });
}

/**
 * "WARNING: suspicious RCU usage". Does not turn lockdep off. Models
 * `lockdep_rcu_suspicious()`.
 * @internal
 */
export function reportSuspiciousRcu(
  core: LockdepCore,
  ts: LockdepTaskState,
  file: string,
  line: number,
  msg: string,
): void {
  core.emit({
    kind: 'lockdep-rcu-suspicious',
    lines: [
      ...headerBlock(core, 'WARNING: suspicious RCU usage'),
      `${file}:${line} ${msg}!`,
      '',
      'other info that might help us debug this:',
      '',
      '',
      'rcu_scheduler_active = 2, debug_locks = 1',
      ...heldLocksBlock(core, ts),
      '',
      ...stackBacktrace(core),
    ],
    details: { file, line, message: msg, heldLocks: heldLockInfos(core, ts) },
  });
}

/**
 * The WARN splat of a failed `lockdep_assert_held()`. Taints 'W'; does not
 * turn lockdep off.
 * @internal
 */
export function reportAssertHeld(core: LockdepCore, map: LockdepMap, site: string): void {
  const h = core.host;
  const t = h.currentTask();
  core.emit({
    kind: 'lockdep-assert-held',
    lines: [
      '------------[ cut here ]------------',
      `WARNING: CPU: ${h.cpu()} PID: ${t.pid} at ${site}`,
      'Modules linked in:',
      ...dumpStack(core),
      '---[ end trace 0000000000000000 ]---',
    ],
    details: { lock: map.name, addr: map.hexAddr, site },
    taint: 'W',
  });
}
