/**
 * The locking layer of the simulator: raw_spinlock_t, spinlock_t (sleeping on
 * PREEMPT_RT), local_lock_t, struct mutex, rwlock_t, llist, lock_stat and a
 * lockdep faithful to kernel/locking/lockdep.c.
 *
 * @packageDocumentation
 */
export { LocksError, type LocksErrorCode } from './errors.js';
export { LlistHead } from './llist.js';
export { LocalLock } from './local-lock.js';
export { LockCore } from './lock-core.js';
export { formatLockStat, LockClassStat, LockStat, type LockStatRow } from './lock-stat.js';
export * from './lockdep/index.js';
export { createLocking, Locking, type LockingOptions, type RcuReadLockHooks } from './locking.js';
export { Mutex } from './mutex.js';
export { RwLock } from './rwlock.js';
export { RtSpinLock, SpinLock } from './spinlock.js';
export { RawSpinLock, SpinningLock } from './spinning-lock.js';
