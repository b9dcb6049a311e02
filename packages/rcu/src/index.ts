/**
 * Tree RCU and kvfree_rcu for the simulator: grace periods over an rcu_node
 * tree, quiescent states per preemption model, `call_rcu()` with segmented
 * callback lists, `synchronize_rcu()`, polling, `rcu_barrier()`, expedited
 * grace periods, stall warnings, NOCB offloading, and `kfree_rcu()` with the
 * batched design and the alternatives the kernel tried or rejected.
 *
 * @packageDocumentation
 */
export { CallbackRegistry, RcuCallback, type RcuCallbackFn } from './callbacks.js';
export * from './constants.js';
export { RcuError, type RcuErrorCode } from './errors.js';
export type { KvfreeRcuStats } from './kvfree/strategy.js';
export { RcuModule } from './module.js';
export { type RcuNodeGeometry, type RcuNodeInfo, rcuNodeGeometry } from './node-tree.js';
export {
  KVFREE_RCU_STRATEGIES,
  type KvfreeRcuStrategyName,
  parseCpuList,
  type RcuOptions,
  type ResolvedRcuOptions,
  resolveRcuOptions,
} from './options.js';
export { GpOracle, type GpOracleViolation } from './oracle.js';
export * from './ports.js';
export { createRcu, Rcu, type RcuPorts } from './rcu.js';
export * from './rcu-seq.js';
export type { RcuCpuStats, RcuSiteStats, RcuStats } from './stats.js';
export type { RcuGpOldState } from './synchronize.js';
export { RcuTaskState } from './task-state.js';
export * from './testing/index.js';
export {
  RCU_TORTURE_PIPE_LEN,
  RcuTorture,
  type RcuTortureOptions,
  type RcuTortureResult,
  startRcuTorture,
} from './torture.js';
