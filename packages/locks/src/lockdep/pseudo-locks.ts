import {
  __GFP_DIRECT_RECLAIM,
  __GFP_FS,
  __GFP_NOLOCKDEP,
  currentGfpContext,
  PF_MEMALLOC,
} from '@sim/gfp';
import { LockdepMap } from './map.js';
import { type LockClassDesc, LockClassDescs } from './wait-types.js';

/**
 * Lockdep maps that are not locks: the RCU read-side maps other packages
 * acquire around their critical sections, and the `fs_reclaim` map that
 * makes "allocation that may enter FS reclaim" a lock in the dependency
 * graph. Models `rcu_lock_map`, `rcu_bh_lock_map`, `rcu_sched_lock_map`
 * (kernel/rcu/update.c) and `__fs_reclaim_map` with `__need_reclaim()`
 * (mm/page_alloc.c).
 */

/** The static pseudo-lock maps of one lockdep instance. @public */
export interface PseudoLockMaps {
  /** `rcu_lock_map` ("rcu_read_lock", `{1:3}`). */
  readonly rcuLockMap: LockdepMap;
  /** `rcu_bh_lock_map` ("rcu_read_lock_bh", `{1:3}`). */
  readonly rcuBhLockMap: LockdepMap;
  /** `rcu_sched_lock_map` ("rcu_read_lock_sched", `{1:2}`). */
  readonly rcuSchedLockMap: LockdepMap;
  /** `__fs_reclaim_map` ("fs_reclaim", unchecked wait type `{0:0}`). */
  readonly fsReclaimMap: LockdepMap;
}

/*
 * These maps are static kernel variables, so they print with kernel-image
 * addresses rather than direct-map ones; fixed values keep output stable.
 */
const STATIC_ADDRS = {
  rcu: 'ffffffff8e1a0de0',
  rcuBh: 'ffffffff8e1a0e20',
  rcuSched: 'ffffffff8e1a0e60',
  fsReclaim: 'ffffffff8e2c7fa0',
} as const;

/**
 * Register the pseudo-lock classes through `register` and build their maps.
 * @internal
 */
export function createPseudoLocks(
  register: (name: string, desc: LockClassDesc) => number,
): PseudoLockMaps {
  const mk = (name: string, desc: LockClassDesc, addr: string) =>
    new LockdepMap(register(name, desc), name, -1, 1, addr);
  return {
    rcuLockMap: mk('rcu_read_lock', LockClassDescs.rcuReadLock, STATIC_ADDRS.rcu),
    rcuBhLockMap: mk('rcu_read_lock_bh', LockClassDescs.rcuReadLockBh, STATIC_ADDRS.rcuBh),
    rcuSchedLockMap: mk(
      'rcu_read_lock_sched',
      LockClassDescs.rcuReadLockSched,
      STATIC_ADDRS.rcuSched,
    ),
    fsReclaimMap: mk('fs_reclaim', LockClassDescs.fsReclaim, STATIC_ADDRS.fsReclaim),
  };
}

/**
 * Whether an allocation with this mask, by a task with these `PF_*` flags,
 * acquires the `fs_reclaim` map: it must be allowed to enter direct reclaim,
 * the task must not already be reclaiming (`PF_MEMALLOC`), the caller must
 * not have opted out with `__GFP_NOLOCKDEP`, and (after the task's
 * `memalloc_nofs/noio` scope) `__GFP_FS` must remain. Models
 * `fs_reclaim_acquire()` with `__need_reclaim()`.
 * @public
 */
export function fsReclaimTracked(gfp: number, taskFlags: number): boolean {
  const mask = currentGfpContext(gfp, taskFlags);
  if ((mask & __GFP_DIRECT_RECLAIM) === 0) return false;
  if ((taskFlags & PF_MEMALLOC) !== 0) return false;
  if ((mask & __GFP_NOLOCKDEP) !== 0) return false;
  return (mask & __GFP_FS) !== 0;
}
