import { Completion, type Wait } from '@sim/cpu';
import type { Locking } from '@sim/locks';
import type { CallRcuPath } from './call-rcu.js';
import type { RcuCallback } from './callbacks.js';
import { RCU_GET_STATE_COMPLETED, rcuSeqDoneExact, rcuSeqSnap } from './rcu-seq.js';
import type { RcuState } from './rcu-state.js';

/** Heads per chunk of the `struct rcu_synchronize` pool. */
const CHUNK = 64;

/**
 * Snapshot of both grace-period counters (`struct rcu_gp_oldstate`), as taken
 * by `get_state_synchronize_rcu_full()`.
 * @public
 */
export interface RcuGpOldState {
  /** Normal grace-period cookie (`rgos_norm`). */
  readonly rgosNorm: number;
  /** Expedited grace-period cookie (`rgos_exp`). */
  readonly rgosExp: number;
}

/**
 * Waiting for grace periods (kernel/rcu/tree.c, kernel/rcu/update.c):
 * `synchronize_rcu()` as `wait_rcu_gp(call_rcu_hurry)` — a
 * `struct rcu_synchronize` (an `rcu_head` in memory plus a completion) whose callback
 * `wakeme_after_rcu()` completes it — and the polled-grace-period API built
 * on `rcu_seq_snap()` cookies.
 * @internal
 */
export class GpWaiters {
  private readonly heads: number[] = [];
  private readonly completions: Completion[] = [];
  private readonly free: number[] = [];
  private readonly byHead = new Map<number, number>();
  private readonly wakeme: RcuCallback;
  /** `rcu_state.expedited_sequence`, kept here for the full-state cookies. */
  expSeq = 0;
  /** Normal grace periods waited for by synchronize_rcu(). */
  synchronizeCalls = 0;

  constructor(
    private readonly rs: RcuState,
    private readonly locking: Locking,
    private readonly call: CallRcuPath,
  ) {
    const self = this;
    this.wakeme = rs.registry.define(
      'wakeme_after_rcu',
      function wakeme_after_rcu(head: number) {
        const i = self.byHead.get(head);
        if (i !== undefined) self.completions[i]!.complete();
      },
      null,
    );
  }

  private take(): number {
    if (this.free.length === 0) {
      const m = this.rs.m;
      const base = m.memory.memblockAlloc(CHUNK * 16, 64);
      for (let k = CHUNK - 1; k >= 0; k--) {
        const i = this.heads.length;
        this.heads.push(base + k * 16);
        this.completions.push(new Completion(m));
        this.byHead.set(base + k * 16, i);
        this.free.push(i);
      }
    }
    return this.free.pop()!;
  }

  /** The lockdep check at the top of `synchronize_rcu()` and friends. */
  checkNotInReader(what: string, line: number): void {
    const ld = this.locking.lockdep;
    if (
      ld.lockIsHeld(ld.rcuBhLockMap) ||
      ld.lockIsHeld(ld.rcuLockMap) ||
      ld.lockIsHeld(ld.rcuSchedLockMap)
    ) {
      ld.lockdepRcuSuspicious(
        'kernel/rcu/tree.c',
        line,
        `Illegal ${what} in RCU read-side critical section`,
      );
    }
  }

  /** `wait_rcu_gp(call_rcu_hurry)`: queue a callback and sleep until it runs. */
  *waitRcuGp(): Generator<Wait<unknown>, void, unknown> {
    const i = this.take();
    const done = this.completions[i]!;
    done.reinit();
    this.synchronizeCalls++;
    this.call.callRcu(this.heads[i]!, this.wakeme.addr);
    yield done.wait();
    this.free.push(i);
  }

  /** The cookie `get_state_synchronize_rcu()` would return, for internal users (no oracle bookkeeping). */
  snapshot(): number {
    return rcuSeqSnap(this.rs.readGpSeq());
  }

  /** Whether a cookie's grace period elapsed, for internal users. */
  elapsed(cookie: number): boolean {
    return cookie === RCU_GET_STATE_COMPLETED || rcuSeqDoneExact(this.rs.readGpSeq(), cookie);
  }

  /** `get_state_synchronize_rcu()`: a cookie; no grace period is started. */
  getState(): number {
    const cookie = this.snapshot();
    if (this.rs.oracle !== null) this.rs.oracle.onCookie(cookie);
    return cookie;
  }

  /** `start_poll_synchronize_rcu()`: a cookie, and make sure a grace period will start. */
  startPoll(): number {
    const rs = this.rs;
    const m = rs.m;
    const cookie = this.getState();
    const c = m.cpu;
    const lock = rs.tree.locks[rs.tree.leafOf[c]!]!;
    const flags = lock.lockIrqsave();
    const wake = rs.startThisGp(c, cookie);
    lock.unlockIrqrestore(flags);
    if (wake) rs.gpKthreadWake();
    return cookie;
  }

  /** `poll_state_synchronize_rcu(cookie)`. */
  pollState(cookie: number): boolean {
    if (cookie === RCU_GET_STATE_COMPLETED) return true;
    const done = this.elapsed(cookie);
    if (done && this.rs.oracle !== null) this.rs.oracle.onCookieDone(cookie);
    return done;
  }

  /** `get_state_synchronize_rcu_full()`. */
  getStateFull(): RcuGpOldState {
    return { rgosNorm: this.getState(), rgosExp: rcuSeqSnap(this.expSeq) };
  }

  /** `poll_state_synchronize_rcu_full()`: a normal or an expedited grace period elapsed. */
  pollStateFull(s: RcuGpOldState): boolean {
    return (
      s.rgosNorm === RCU_GET_STATE_COMPLETED ||
      rcuSeqDoneExact(this.rs.readGpSeq(), s.rgosNorm) ||
      s.rgosExp === RCU_GET_STATE_COMPLETED ||
      rcuSeqDoneExact(this.expSeq, s.rgosExp)
    );
  }
}
