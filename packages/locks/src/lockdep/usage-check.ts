import type { LockdepCore } from './core.js';
import { BfsMatch, ROOT_A, ROOT_B } from './graph.js';
import type { LockdepMap } from './map.js';
import { reportBadIrqDependency, reportIrqInversion, reportUsageBug } from './reports-irq.js';
import type { LockdepTaskState } from './task-state.js';
import {
  exclusiveBit,
  exclusiveMask,
  findExclusiveMatch,
  LOCK_TRACE_STATES,
  LOCK_USAGE_STATES,
  LOCK_USED,
  LOCKF_ENABLED_IRQ_ALL,
  LOCKF_USED,
  LOCKF_USED_IN_IRQ_ALL,
  LOCKF_USED_READ,
  stateName,
  USAGE_DIR_MASK,
  USAGE_READ_MASK,
} from './usage.js';

/**
 * Irq-safety validation. Models `mark_lock()`, `mark_lock_irq()`,
 * `valid_state()`, `check_usage_forwards()` / `check_usage_backwards()`,
 * `check_irq_usage()`, `mark_held_locks()` and `verify_lock_unused()` of
 * kernel/locking/lockdep.c.
 */

/**
 * `mark_lock()`: set one usage bit on the class of `slot`, record where,
 * and validate the new state. Returns false when it reported.
 * @internal
 */
export function markLock(
  core: LockdepCore,
  ts: LockdepTaskState,
  slot: number,
  bit: number,
): boolean {
  const classes = core.classes;
  const cls = ts.hClass[slot] ?? 0;
  const mask = 1 << bit;
  const usage = classes.usage[cls] ?? 0;
  if ((usage & mask) !== 0) return true;
  classes.usage[cls] = usage | mask;
  if (bit < LOCK_TRACE_STATES) {
    classes.usageTraces[cls * LOCK_TRACE_STATES + bit] = core.host.callChain();
  }
  if (bit < LOCK_USED) return markLockIrq(core, ts, slot, bit);
  return true;
}

function validState(
  core: LockdepCore,
  ts: LockdepTaskState,
  slot: number,
  newBit: number,
  badBit: number,
): boolean {
  const usage = core.classes.usage[ts.hClass[slot] ?? 0] ?? 0;
  if ((usage & (1 << badBit)) === 0) return true;
  reportUsageBug(core, ts, slot, badBit, newBit);
  return false;
}

function markLockIrq(core: LockdepCore, ts: LockdepTaskState, slot: number, bit: number): boolean {
  const excl = exclusiveBit(bit);
  const read = bit & USAGE_READ_MASK;
  if (!validState(core, ts, slot, bit, excl)) return false;
  if (read === 0 && !validState(core, ts, slot, bit, excl + USAGE_READ_MASK)) return false;
  // ENABLED looks backwards for a USED_IN dependee; USED_IN looks forwards.
  if ((bit & USAGE_DIR_MASK) !== 0) return checkUsage(core, ts, slot, excl, false);
  return checkUsage(core, ts, slot, excl, true);
}

function checkUsage(
  core: LockdepCore,
  ts: LockdepTaskState,
  slot: number,
  bit: number,
  forwards: boolean,
): boolean {
  const g = core.graph;
  const cls = ts.hClass[slot] ?? 0;
  const read = ts.hRead[slot] ?? 0;
  const readBit = bit + USAGE_READ_MASK;
  g.initRoot(ROOT_A, cls, forwards ? read === 2 : read !== 0);
  const t = g.bfs(ROOT_A, forwards, BfsMatch.USAGE, (1 << bit) | (1 << readBit), 0, true);
  if (t === 0) return true;
  const other = g.eClass[t] ?? 0;
  const name =
    ((core.classes.usage[other] ?? 0) & (1 << bit)) !== 0 ? stateName(bit) : stateName(readBit);
  reportIrqInversion(core, ts, slot, ROOT_A, t, forwards, name);
  return false;
}

/**
 * `check_irq_usage()`: the new dependency prev -> next must not connect an
 * irq-safe lock (backwards from prev) with an irq-unsafe one (forwards from
 * next). Returns false when it reported.
 * @internal
 */
export function checkIrqUsage(
  core: LockdepCore,
  ts: LockdepTaskState,
  prev: number,
  next: number,
): boolean {
  const g = core.graph;
  const usage = core.classes.usage;
  g.initRoot(ROOT_A, ts.hClass[prev] ?? 0, (ts.hRead[prev] ?? 0) !== 0);
  g.accumulated = 0;
  g.bfs(ROOT_A, false, BfsMatch.ACCUMULATE, 0, 0, true);
  const usedIn = g.accumulated & LOCKF_USED_IN_IRQ_ALL;
  if (usedIn === 0) return true;

  g.initRoot(ROOT_B, ts.hClass[next] ?? 0, ts.hRead[next] === 2);
  const fwd = g.bfs(ROOT_B, true, BfsMatch.USAGE, exclusiveMask(usedIn), 0, true);
  if (fwd === 0) return true;

  const fwdUsage = usage[g.eClass[fwd] ?? 0] ?? 0;
  const backMask = exclusiveMask(fwdUsage & LOCKF_ENABLED_IRQ_ALL);
  const back = g.bfs(ROOT_A, false, BfsMatch.USAGE, backMask, 0, true);
  if (back === 0) return true;

  const pair = findExclusiveMatch(usage[g.eClass[back] ?? 0] ?? 0, fwdUsage);
  if (pair < 0) return true;
  const backBit = pair & 0xff;
  const fwdBit = pair >> 8;
  reportBadIrqDependency(
    core,
    ts,
    prev,
    next,
    ROOT_A,
    ROOT_B,
    back,
    fwd,
    backBit,
    fwdBit,
    stateName(backBit),
  );
  return false;
}

/**
 * `mark_held_locks()`: irqs (or softirqs) are being enabled with these
 * locks held, so each checked one gets the ENABLED bit `base` (+ read).
 * @internal
 */
export function markHeldLocks(core: LockdepCore, ts: LockdepTaskState, base: number): boolean {
  for (let i = 0; i < ts.depth; i++) {
    if (ts.hCheck[i] === 0) continue;
    const bit = base + (ts.hRead[i] !== 0 ? USAGE_READ_MASK : 0);
    if (!markLock(core, ts, i, bit) && !core.debugLocks) return false;
  }
  return true;
}

/**
 * `verify_lock_unused()`: lockdep is off in NMI, but taking (not trying) a
 * lock whose class was ever used outside NMI can deadlock against the
 * interrupted holder; write acquisitions conflict with read use too.
 * @internal
 */
export function verifyLockUnused(
  core: LockdepCore,
  ts: LockdepTaskState,
  map: LockdepMap,
  cls: number,
  read: number,
  site: string,
): void {
  const mask = LOCKF_USED | (read === 0 ? LOCKF_USED_READ : 0);
  if (((core.classes.usage[cls] ?? 0) & mask) === 0) return;
  // The held_lock is a stack variable in the kernel; use the free slot above the stack.
  const slot = ts.depth;
  ts.hClass[slot] = cls;
  ts.hRead[slot] = read;
  ts.hTrylock[slot] = 0;
  ts.hCheck[slot] = 1;
  ts.hHardirqsOff[slot] = 1;
  ts.hIrqContext[slot] = 2;
  ts.hReferences[slot] = 0;
  ts.hInstance[slot] = map;
  ts.hNest[slot] = null;
  ts.hSite[slot] = site;
  reportUsageBug(core, ts, slot, LOCK_USED, LOCK_USAGE_STATES);
}
