import { describe, expect, it } from 'vitest';
import {
  RCU_GET_STATE_COMPLETED,
  rcuSeqCompletedGp,
  rcuSeqCtr,
  rcuSeqDone,
  rcuSeqDoneExact,
  rcuSeqEnd,
  rcuSeqNewGp,
  rcuSeqSnap,
  rcuSeqStart,
  rcuSeqStarted,
  rcuSeqState,
} from '../src/index.js';

describe('grace-period sequence numbers (kernel/rcu/rcu.h)', { timeout: 30_000 }, () => {
  it('start sets the phase bit, end bumps the counter and clears it', () => {
    expect(rcuSeqStart(8)).toBe(9);
    expect(rcuSeqState(9)).toBe(1);
    expect(rcuSeqEnd(9)).toBe(12);
    expect(rcuSeqCtr(12)).toBe(3);
    expect(rcuSeqState(12)).toBe(0);
  });

  it('rcu_seq_snap() asks for the next full grace period: one if idle, two if one is running', () => {
    // Idle at 8: a grace period starting now ends at 12.
    expect(rcuSeqSnap(8)).toBe(12);
    // In progress at 9: the running one may have missed us, so 16.
    expect(rcuSeqSnap(9)).toBe(16);
    expect(rcuSeqDone(12, rcuSeqSnap(8))).toBe(true);
    expect(rcuSeqDone(12, rcuSeqSnap(9))).toBe(false);
  });

  it('done_exact also accepts cookies too far ahead to be from now (they wrapped)', () => {
    // A live cookie is at most two grace periods (8) ahead of the counter.
    expect(rcuSeqDoneExact(100, 108)).toBe(false);
    expect(rcuSeqDoneExact(100, 100)).toBe(true);
    expect(rcuSeqDoneExact(100, 96)).toBe(true);
    expect(rcuSeqDoneExact(100, 200)).toBe(true);
    expect(RCU_GET_STATE_COMPLETED).toBe(1);
  });

  it('started / new_gp / completed_gp compare an old snapshot with the present', () => {
    expect(rcuSeqStarted(9, 12)).toBe(true);
    expect(rcuSeqStarted(8, 12)).toBe(false);
    expect(rcuSeqNewGp(8, 9)).toBe(true);
    expect(rcuSeqNewGp(9, 9)).toBe(false);
    expect(rcuSeqNewGp(9, 13)).toBe(true);
    expect(rcuSeqCompletedGp(9, 12)).toBe(true);
    expect(rcuSeqCompletedGp(12, 13)).toBe(false);
  });
});
