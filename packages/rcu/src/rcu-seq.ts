/**
 * Grace-period sequence numbers (kernel/rcu/rcu.h): a counter whose low two
 * bits hold the phase of the current grace period (0 idle, 1 in progress) and
 * whose upper bits count completed grace periods. Values stay below 2^53, so
 * these functions use arithmetic rather than 32-bit bit operations.
 */

/** `RCU_SEQ_CTR_SHIFT`: bits of state below the counter. @public */
export const RCU_SEQ_CTR_SHIFT = 2;
/** `RCU_SEQ_STATE_MASK`: the state bits. @public */
export const RCU_SEQ_STATE_MASK = 3;
/**
 * `RCU_GET_STATE_COMPLETED`: a cookie that `pollStateSynchronizeRcu()` always
 * reports as completed.
 * @public
 */
export const RCU_GET_STATE_COMPLETED = 0x1;

const ONE = 1 << RCU_SEQ_CTR_SHIFT;

/** `rcu_seq_state()`: the phase bits of `s`. @public */
export function rcuSeqState(s: number): number {
  return s % ONE;
}

/** `rcu_seq_ctr()`: the counter part of `s`. @public */
export function rcuSeqCtr(s: number): number {
  return Math.floor(s / ONE);
}

/** `rcu_seq_current()`: `s` itself (kept for readability at call sites). @public */
export function rcuSeqCurrent(s: number): number {
  return s;
}

/** `rcu_seq_start()`: the value of `s` once a grace period has started. @public */
export function rcuSeqStart(s: number): number {
  return s + 1;
}

/** `rcu_seq_end()`: the value of `s` once the running grace period ended. @public */
export function rcuSeqEnd(s: number): number {
  return (Math.floor(s / ONE) + 1) * ONE;
}

/**
 * `rcu_seq_snap()`: the value `s` will have once a full grace period that
 * starts after now has completed.
 * @public
 */
export function rcuSeqSnap(s: number): number {
  return Math.floor((s + 2 * RCU_SEQ_STATE_MASK + 1) / ONE) * ONE;
}

/** `rcu_seq_done()`: has the grace period recorded by snapshot `snap` completed, `cur` being now? @public */
export function rcuSeqDone(cur: number, snap: number): boolean {
  return cur >= snap;
}

/**
 * `rcu_seq_done_exact()`: like {@link rcuSeqDone}, and also true for a
 * snapshot so far in the past that the counter could have wrapped past it.
 * @public
 */
export function rcuSeqDoneExact(cur: number, snap: number): boolean {
  return cur >= snap || cur < snap - (3 * RCU_SEQ_STATE_MASK + 1);
}

/** `rcu_seq_started()`: has the grace period needed by `snap` already started? @public */
export function rcuSeqStarted(cur: number, snap: number): boolean {
  return Math.floor((snap - 1) / ONE) * ONE < cur;
}

/** `rcu_seq_completed_gp()`: did a grace period end between `old` and `cur`? @public */
export function rcuSeqCompletedGp(old: number, cur: number): boolean {
  return old < Math.floor(cur / ONE) * ONE;
}

/** `rcu_seq_new_gp()`: did a grace period start between `old` and `cur`? @public */
export function rcuSeqNewGp(old: number, cur: number): boolean {
  return Math.floor((old + RCU_SEQ_STATE_MASK) / ONE) * ONE < cur;
}
