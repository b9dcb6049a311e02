import type { LockdepCore } from './core.js';
import { reportInvalidWaitContext } from './reports-misc.js';
import type { LockdepTaskState } from './task-state.js';
import { LOCK_TYPE_WAIT_OVERRIDE, WaitType } from './wait-types.js';

/**
 * The wait-type check ("BUG: Invalid wait context"). Models
 * `task_wait_context()` and `check_wait_context()` (lockdep.c).
 *
 * The kernel folds the inner wait types of the held locks of the current irq
 * context: `curr = min(curr, inner)` per lock, reset to `inner` by a
 * wait-override class; held trylocks and `check == 0` acquisitions count
 * too. That fold is a function of the starting level of the form "min with
 * v" or "constant v", so each held-lock slot stores the fold of its context
 * segment up to itself and the check is O(1).
 *
 * NMI: lockdep does not run in NMI context at all (`nmi_enter()` calls
 * `lockdep_off()`), so no wait-context check happens there; a non-trylock
 * acquisition of an already used class in NMI reports "inconsistent
 * {INITIAL USE} -> {IN-NMI} usage" instead (`verify_lock_unused()`).
 */

const SPIN = WaitType.SPIN;
const CONFIG = WaitType.CONFIG;
const MAX = WaitType.MAX;
const OVERRIDE = LOCK_TYPE_WAIT_OVERRIDE;

/**
 * `task_wait_context()`: hardirq gives CONFIG when the handler would be
 * threaded (`hardirq_threaded` or `irq_config`) else SPIN; serving softirq
 * gives CONFIG; task context gives MAX. Values are those of the configured
 * wait-type enum (CONFIG folds into SPIN without RAW nesting).
 * @internal
 */
export function taskWaitContext(core: LockdepCore, hardirq: boolean, softirq: boolean): number {
  const fold = core.proveRawLockNesting ? 0 : 1;
  if (hardirq) {
    const h = core.host;
    return h.hardirqThreaded() || h.irqConfig() ? CONFIG - fold : SPIN;
  }
  return softirq ? CONFIG - fold : MAX - fold;
}

/**
 * `check_wait_context()` for the pending acquisition in `slot`, then record
 * the slot's fold (the previous slot's when it is in the same irq context,
 * else identity, extended by this class). Returns false when the
 * acquisition violated the wait context.
 * @internal
 */
export function checkWaitContext(
  core: LockdepCore,
  ts: LockdepTaskState,
  slot: number,
  hardirq: boolean,
  softirq: boolean,
): boolean {
  const classes = core.classes;
  const cls = ts.hClass[slot] ?? 0;
  const inner = classes.inner[cls] ?? 0;
  let isConst = 0;
  let val = 255;
  if (slot > 0 && ts.hIrqContext[slot - 1] === ts.hIrqContext[slot]) {
    isConst = ts.hWaitConst[slot - 1] ?? 0;
    val = ts.hWaitVal[slot - 1] ?? 255;
  }
  let ok = true;
  if (inner !== 0) {
    if (ts.hTrylock[slot] === 0) {
      const outer = classes.outer[cls] ?? 0;
      const nextOuter = outer !== 0 ? outer : inner;
      const ctx = taskWaitContext(core, hardirq, softirq);
      const curr = isConst === 1 ? val : Math.min(val, ctx);
      if (nextOuter > curr) ok = !reportInvalidWaitContext(core, ts, slot, ctx, curr);
    }
    if (classes.lockType[cls] === OVERRIDE) {
      isConst = 1;
      val = inner;
    } else if (inner < val) {
      val = inner;
    }
  }
  ts.hWaitConst[slot] = isConst;
  ts.hWaitVal[slot] = val;
  return ok;
}
