import { type Wait, Work, type WorkFn } from '@sim/cpu';
import type { CallRcuPath } from './call-rcu.js';
import type { RcuCallback } from './callbacks.js';
import type { RcuState } from './rcu-state.js';

/**
 * `struct rcu_work` (kernel/workqueue.c): a work item queued only after a
 * grace period. `queueRcuWork()` marks it pending and `call_rcu()`s its
 * embedded `rcu_head` (in memory), whose callback `rcu_work_rcufn()` queues
 * the work on the CPU that invoked it.
 * @internal
 */
export class RcuWork {
  readonly work: Work;
  /** The embedded `rcu_head`. */
  readonly head: number;
  /** Pending from `queue_rcu_work()` until the work item has been queued. */
  pending = false;
  private readonly cb: RcuCallback;

  constructor(
    private readonly rs: RcuState,
    private readonly call: CallRcuPath,
    fn: WorkFn,
    name: string,
  ) {
    this.work = new Work(fn, name);
    this.head = rs.m.memory.memblockAlloc(16, 16);
    const self = this;
    this.cb = rs.registry.define(
      'rcu_work_rcufn',
      function rcu_work_rcufn() {
        const m = rs.m;
        const flags = m.localIrqSave();
        self.pending = false;
        m.queueWork(self.work, m.cpu);
        m.localIrqRestore(flags);
      },
      null,
    );
  }

  /** `queue_rcu_work()`: false if already pending. */
  queue(): boolean {
    if (this.pending || this.work.pending) return false;
    this.pending = true;
    this.call.callRcu(this.head, this.cb.addr);
    return true;
  }

  /**
   * `flush_rcu_work()`: if the grace period has not passed yet, wait for it
   * with `rcu_barrier()`; then wait for the work item.
   */
  *flush(
    rcuBarrier: () => Generator<Wait<unknown>, void, unknown>,
  ): Generator<Wait<unknown>, boolean, unknown> {
    const m = this.rs.m;
    if (this.pending) {
      yield* rcuBarrier();
      yield* m.flushWork(this.work);
      return true;
    }
    return yield* m.flushWork(this.work);
  }
}
