import { Completion, type Machine, type Wait } from '@sim/cpu';
import type { Locking, Mutex, RawSpinLock } from '@sim/locks';
import type { RcuCallback } from './callbacks.js';
import type { NocbState } from './nocb.js';
import {
  rcuSeqCtr,
  rcuSeqDone,
  rcuSeqEnd,
  rcuSeqSnap,
  rcuSeqStart,
  rcuSeqState,
} from './rcu-seq.js';
import type { RcuState } from './rcu-state.js';

/**
 * `rcu_barrier()` (kernel/rcu/tree.c): under `barrier_mutex`, IPI every CPU
 * that has callbacks to entrain a per-CPU barrier callback behind all of
 * them (`rcu_barrier_entrain()`), then wait until every barrier callback
 * has run. Concurrent callers share one barrier through `barrier_sequence`.
 * Callbacks queued after the barrier started are not waited for.
 * @internal
 */
export class RcuBarrier {
  private seq = 0;
  private cpuCount = 0;
  private readonly completion: Completion;
  private readonly mutex: Mutex;
  private readonly lock: RawSpinLock;
  private readonly seqSnap: Float64Array;
  private readonly heads: Float64Array;
  private readonly cb: RcuCallback;
  private readonly handlers: ((m: Machine) => void)[] = [];
  /** Set when NOCB offloading is configured. */
  nocb: NocbState | null = null;
  /** Barriers that did the work (not satisfied by a concurrent one). */
  count = 0;

  constructor(
    private readonly rs: RcuState,
    locking: Locking,
  ) {
    const m = rs.m;
    this.completion = new Completion(m);
    this.mutex = locking.mutex('&rcu_state.barrier_mutex');
    this.lock = locking.rawSpinLock('&rcu_state.barrier_lock');
    this.seqSnap = new Float64Array(rs.nr);
    this.heads = new Float64Array(rs.nr);
    // rcu_data.barrier_head: one rcu_head per CPU.
    const base = m.memory.memblockAlloc(rs.nr * 16, 64);
    for (let c = 0; c < rs.nr; c++) this.heads[c] = base + c * 16;
    const self = this;
    this.cb = rs.registry.define(
      'rcu_barrier_callback',
      function rcu_barrier_callback() {
        if (--self.cpuCount === 0) self.completion.complete();
      },
      null,
    );
    for (let c = 0; c < rs.nr; c++) {
      const cpu = c;
      this.handlers.push(function rcu_barrier_handler() {
        self.lock.lock();
        self.entrain(cpu);
        self.lock.unlock();
      });
    }
  }

  /** `rcu_barrier_entrain()` on CPU `c`, `barrier_lock` held. */
  private entrain(c: number): void {
    const rs = this.rs;
    const gseq = this.seq;
    const lseq = this.seqSnap[c]!;
    if (rcuSeqState(lseq) !== 0 || rcuSeqState(gseq) === 0 || rcuSeqCtr(gseq) !== rcuSeqCtr(lseq))
      return;
    const head = this.heads[c]!;
    rs.m.store(head + 8, this.cb.addr, rs.siteEnqueue);
    const nocb = this.nocb;
    const offloaded = rs.cbs.offloaded[c] === 1 && nocb !== null;
    const wasAllDone = offloaded && !rs.cbs.pendCbs(c);
    if (offloaded) nocb.flushBypass(c);
    if (rs.cbs.entrain(c, head, rs.siteEnqueue)) {
      this.cpuCount++;
      if (rs.debugQueued !== null) rs.debugQueued.add(head);
    }
    if (offloaded && wasAllDone && rs.cbs.pendCbs(c)) nocb.wakeGp(c);
    this.seqSnap[c] = gseq;
  }

  /** `rcu_barrier()`. */
  *barrier(): Generator<Wait<unknown>, void, unknown> {
    const rs = this.rs;
    const m = rs.m;
    const s = rcuSeqSnap(this.seq);
    yield* this.mutex.lock();
    try {
      // Did a concurrent rcu_barrier() do our work for us?
      if (rcuSeqDone(this.seq, s)) return;
      let flags = this.lock.lockIrqsave();
      this.seq = rcuSeqStart(this.seq);
      const gseq = this.seq;
      this.completion.reinit();
      this.cpuCount = 2;
      this.lock.unlockIrqrestore(flags);
      this.count++;
      for (let c = 0; c < rs.nr; c++) {
        if (this.seqSnap[c] === gseq) continue;
        flags = this.lock.lockIrqsave();
        const bypass = this.nocb === null ? 0 : this.nocb.bypassLen(c);
        if (rs.cbs.nCbs(c) === 0 && bypass === 0) {
          this.seqSnap[c] = gseq;
          this.lock.unlockIrqrestore(flags);
          continue;
        }
        this.lock.unlockIrqrestore(flags);
        yield* m.smpCallFunctionSingleSync(c, this.handlers[c]!);
      }
      this.cpuCount -= 2;
      if (this.cpuCount === 0) this.completion.complete();
      yield this.completion.wait();
      this.seq = rcuSeqEnd(this.seq);
      for (let c = 0; c < rs.nr; c++) this.seqSnap[c] = this.seq;
    } finally {
      this.mutex.unlock();
    }
  }
}
