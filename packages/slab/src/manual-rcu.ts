import type { SlabRcuPort } from './contract.js';
import { SlabError } from './errors.js';
import { show } from './internal/show.js';

/**
 * A hand-driven stand-in for RCU: `callRcu()` queues, {@link ManualRcuPort.gracePeriod}
 * ends a grace period and runs what was queued before it. For tests and for
 * running the slab allocator without `@sim/rcu`.
 * @public
 */
export class ManualRcuPort implements SlabRcuPort {
  private heads: number[] = [];
  private fns: ((head: number) => void)[] = [];

  /** Callbacks waiting for a grace period. */
  get pending(): number {
    return this.heads.length;
  }

  /** Models `call_rcu()`. */
  callRcu(head: number, fn: (head: number) => void): void {
    if (typeof fn !== 'function') {
      throw new SlabError('BAD_ARGUMENT', `callRcu callback ${show(fn)}: accepted a function`);
    }
    this.heads.push(head);
    this.fns.push(fn);
  }

  /**
   * End a grace period: run, in order, every callback queued before this
   * call (callbacks they queue wait for the next one). Returns how many ran.
   */
  gracePeriod(): number {
    const heads = this.heads;
    const fns = this.fns;
    this.heads = [];
    this.fns = [];
    for (let i = 0; i < heads.length; i++) fns[i]!(heads[i]!);
    return heads.length;
  }

  /** Run grace periods until nothing is pending (`rcu_barrier()`); returns callbacks run. */
  barrier(): number {
    let n = 0;
    while (this.heads.length > 0) n += this.gracePeriod();
    return n;
  }
}

/** A {@link ManualRcuPort}. @public */
export function createManualRcuPort(): ManualRcuPort {
  return new ManualRcuPort();
}
