import type { Task } from '@sim/cpu';

/** `rcu_read_unlock_special.b.blocked`: preempted inside a reader, on a blkd_tasks list. @internal */
export const SPECIAL_BLOCKED = 0x1;
/** `rcu_read_unlock_special.b.need_qs`: report a quiescent state at the outermost unlock. @internal */
export const SPECIAL_NEED_QS = 0x2;
/** `rcu_read_unlock_special.b.exp_hint`: an expedited grace period waits for this reader. @internal */
export const SPECIAL_EXP_HINT = 0x4;

/**
 * The RCU fields of a task (`struct task_struct`): the preemptible-RCU
 * nesting counter and `rcu_read_unlock_special`, the rcu_node it is queued
 * on when preempted inside a reader, and the oracle's bookkeeping.
 * @internal
 */
export class RcuTaskState {
  /** `rcu_read_lock_nesting` (preemptible RCU; PREEMPT_RT spinlocks count too). */
  nesting = 0;
  /** Reader sections of any flavour (rcu_read_lock, _bh, _sched, RT locks), for checks and the oracle. */
  readDepth = 0;
  /** `rcu_read_unlock_special.s`. */
  special = 0;
  /** Leaf rcu_node whose `blkd_tasks` holds the task, or -1 (`rcu_blocked_node`). */
  blkdNode = -1;
  /** Queued as blocking the current normal grace period. */
  blocksGp = false;
  /** Queued as blocking the current expedited grace period. */
  blocksExp = false;
  /** Oracle: sequence number of the outermost reader section in progress, or -1. */
  readerSeq = -1;
  /** Oracle: position in the active-reader array, or -1. */
  readerSlot = -1;

  /** The task these fields belong to. */
  readonly task: Task;

  constructor(task: Task) {
    this.task = task;
  }
}
