import type { LockdepCore } from './core.js';
import { BfsMatch, calcDep, calcDepb, ROOT_A } from './graph.js';
import { reportCircular, reportRecursive } from './reports-deadlock.js';
import { reportLimit } from './reports-misc.js';
import type { LockdepTaskState } from './task-state.js';
import { checkIrqUsage } from './usage-check.js';

/**
 * Dependency validation on a new lock chain. Models `check_deadlock()`,
 * `check_noncircular()`, `check_prev_add()` and `check_prevs_add()` of
 * kernel/locking/lockdep.c.
 */

/**
 * `check_deadlock()`: is this class already held (a recursive read on a
 * read-held class is allowed; a held nest_lock serialises the nesting)?
 * Returns 0 after reporting, 1 when fine, 2 when a nest_lock covers it.
 * @internal
 */
export function checkDeadlock(core: LockdepCore, ts: LockdepTaskState, next: number): number {
  const cls = ts.hClass[next];
  const nestLock = ts.hNest[next] ?? null;
  const nextRead = ts.hRead[next];
  let nest = -1;
  for (let i = 0; i < next; i++) {
    if (nestLock !== null && ts.hInstance[i] === nestLock) nest = i;
    if (ts.hClass[i] !== cls) continue;
    if (nextRead === 2 && ts.hRead[i] !== 0) continue;
    if (nest >= 0) return 2;
    reportRecursive(core, ts, i, next);
    return 0;
  }
  return 1;
}

/**
 * `check_prevs_add()`: add next's dependency on the held locks of this
 * context: every consecutive trylock from the top and the first
 * non-trylock (whose own dependencies cover the rest). Returns false after
 * a report.
 * @internal
 */
export function checkPrevsAdd(core: LockdepCore, ts: LockdepTaskState, next: number): boolean {
  core.pendingTrace = null;
  let depth = next;
  for (;;) {
    const distance = next - depth + 1;
    const h = depth - 1;
    if (ts.hCheck[h] !== 0) {
      if (!checkPrevAdd(core, ts, h, next, distance)) return false;
      if (ts.hTrylock[h] === 0) break;
    }
    depth--;
    if (depth === 0) break;
    if (ts.hIrqContext[depth] !== ts.hIrqContext[depth - 1]) break;
  }
  return true;
}

function checkPrevAdd(
  core: LockdepCore,
  ts: LockdepTaskState,
  prev: number,
  next: number,
  distance: number,
): boolean {
  const g = core.graph;
  const pc = ts.hClass[prev] ?? 0;
  const nc = ts.hClass[next] ?? 0;
  const prevRead = ts.hRead[prev] ?? 0;
  const nextRead = ts.hRead[next] ?? 0;

  // check_noncircular(): can next already reach prev through a strong path?
  g.initRoot(ROOT_A, nc, nextRead === 2);
  const t = g.bfs(ROOT_A, true, BfsMatch.CONFLICT, pc, prevRead, false);
  if (t !== 0) {
    if (core.pendingTrace === null) core.pendingTrace = core.host.callChain();
    // The kernel passes (src = next, target = prev) to print_deadlock_bug(curr, prev, next).
    if (nc === pc) reportRecursive(core, ts, next, prev);
    else reportCircular(core, ts, ROOT_A, t, next, prev);
    return false;
  }

  if (!checkIrqUsage(core, ts, prev, next)) return false;

  const e = g.findAfter(pc, nc);
  if (e !== 0) {
    if (distance === 1) g.eDistance[e] = 1;
    g.eDep[e] = (g.eDep[e] ?? 0) | calcDep(prevRead, nextRead);
    const b = g.findBefore(nc, pc);
    if (b === 0) return false;
    if (distance === 1) g.eDistance[b] = 1;
    g.eDep[b] = (g.eDep[b] ?? 0) | calcDepb(prevRead, nextRead);
    return true;
  }

  if (core.pendingTrace === null) core.pendingTrace = core.host.callChain();
  if (
    !g.add(
      pc,
      nc,
      calcDep(prevRead, nextRead),
      calcDepb(prevRead, nextRead),
      distance,
      core.pendingTrace,
    )
  ) {
    reportLimit(core, 'MAX_LOCKDEP_ENTRIES');
    return false;
  }
  return true;
}
