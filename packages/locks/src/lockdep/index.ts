/**
 * The lockdep engine of `@sim/locks`: lock classes, held-lock tracking,
 * the dependency graph, irq-safety and wait-type validation, and the
 * kernel's lockdep reports. The lock types are built on top of it and talk
 * to the machine through a {@link LockdepHost}.
 *
 * @packageDocumentation
 */
export { MAX_LOCKDEP_CHAINS } from './chain-key.js';
export { MAX_LOCKDEP_KEYS, MAX_LOCKDEP_SUBCLASSES } from './classes.js';
export { LockdepError, type LockdepErrorCode } from './errors.js';
export { MAX_LOCKDEP_ENTRIES } from './graph.js';
export { IrqContext, type IrqContextValue, type LockdepHost, type LockdepReport } from './host.js';
export {
  type LockAcquireOptions,
  Lockdep,
  type LockdepOptions,
  LockdepReportKind,
  type LockdepStats,
} from './lockdep.js';
export { formatDirectMapAddress, LOCKDEP_MAP_SIZE, LockdepMap, MAX_PHYS_ADDR } from './map.js';
export { fsReclaimTracked, type PseudoLockMaps } from './pseudo-locks.js';
export type { LockdepLockInfo } from './report-format.js';
export { createLockdepTaskState, LockdepTaskState, MAX_LOCK_DEPTH } from './task-state.js';
export {
  effectiveWaitType,
  type LockClassDesc,
  LockClassDescs,
  LockType,
  type LockTypeName,
  WaitType,
  type WaitTypeValue,
} from './wait-types.js';
