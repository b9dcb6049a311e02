import { type Task, type Wait, WaitQueueHead } from '@sim/cpu';
import type { Locking, RawSpinLock } from '@sim/locks';
import { NOCB_NOBYPASS_LIM_PER_JIFFY_MS } from './constants.js';
import type { CallbackInvoker } from './invoke.js';
import { rcuSeqDone } from './rcu-seq.js';
import type { RcuState } from './rcu-state.js';
import { RcuCbList } from './segcblist.js';

/** One rcuog kthread's group. */
interface NocbGroup {
  readonly leader: number;
  readonly cpus: number[];
  readonly wq: WaitQueueHead;
  /** `nocb_gp_sleep`: nothing to do until woken. */
  sleep: boolean;
  /** Grace period the kthread waits for, or -1. */
  waitSeq: number;
  task: Task | null;
}

/**
 * Callback offloading (`rcu_nocbs=`, kernel/rcu/tree_nocb.h): callbacks of
 * the listed CPUs are never invoked from their softirq. `call_rcu()` queues
 * under `->nocb_lock` — onto a separate bypass list when more than
 * `nocb_nobypass_lim_per_jiffy` arrive in one jiffy, flushed after a jiffy or
 * when it passes `qhimark` — and wakes the group's rcuog kthread, which
 * advances callbacks, requests grace periods, sleeps until they end and
 * wakes each CPU's rcuop kthread to invoke the ready ones.
 * @internal
 */
export class NocbState {
  private readonly groups: NocbGroup[] = [];
  private readonly groupOf: Int32Array;
  private readonly bypass: RcuCbList[] = [];
  private readonly bypassFirst: Float64Array;
  private readonly nobypassLast: Float64Array;
  private readonly nobypassCount: Float64Array;
  private readonly cbWq: (WaitQueueHead | null)[] = [];
  private readonly cbSleep: Uint8Array;
  private readonly locks: (RawSpinLock | null)[] = [];
  private readonly limPerJiffy: number;
  /** Callbacks that went through a bypass list. */
  bypassed = 0;

  constructor(
    private readonly rs: RcuState,
    locking: Locking,
    private readonly invoker: CallbackInvoker,
  ) {
    const n = rs.nr;
    const m = rs.m;
    this.groupOf = new Int32Array(n).fill(-1);
    this.bypassFirst = new Float64Array(n);
    this.nobypassLast = new Float64Array(n);
    this.nobypassCount = new Float64Array(n);
    this.cbSleep = new Uint8Array(n).fill(1);
    this.limPerJiffy = Math.max(1, Math.floor((NOCB_NOBYPASS_LIM_PER_JIFFY_MS * 1000) / m.hz));
    const stride = rs.opts.nocbGpStride;
    const cpus = rs.opts.rcuNocbs;
    for (let c = 0; c < n; c++) {
      this.bypass.push(new RcuCbList());
      this.cbWq.push(null);
      this.locks.push(null);
    }
    for (const c of cpus) {
      rs.cbs.offloaded[c] = 1;
      this.cbWq[c] = new WaitQueueHead(m);
      this.locks[c] = locking.rawSpinLock('&rdp->nocb_lock');
      // Groups of `stride` consecutive CPU numbers share one rcuog kthread.
      const leader = Math.floor(c / stride) * stride;
      let g = this.groups.findIndex((x) => x.leader === leader);
      if (g < 0) {
        g = this.groups.length;
        this.groups.push({
          leader,
          cpus: [],
          wq: new WaitQueueHead(m),
          sleep: true,
          waitSeq: -1,
          task: null,
        });
      }
      this.groups[g]!.cpus.push(c);
      this.groupOf[c] = g;
    }
  }

  /** Spawn the rcuog/N and rcuop/N kthreads. */
  spawn(): void {
    const rs = this.rs;
    const m = rs.m;
    const prefix = rs.preemptible ? 'p' : 's';
    for (const g of this.groups) {
      const self = this;
      g.task = m.spawn(
        function* rcu_nocb_gp_kthread() {
          yield* self.gpLoop(g);
        },
        { comm: `rcuog/${g.leader}`, kthread: true },
      );
      for (const c of g.cpus) {
        const cpu = c;
        m.spawn(
          function* rcu_nocb_cb_kthread() {
            yield* self.cbLoop(cpu);
          },
          { comm: `rcuo${prefix}/${c}`, kthread: true },
        );
      }
    }
  }

  /** Callbacks on CPU `c`'s bypass list. */
  bypassLen(c: number): number {
    return this.bypass[c]!.len;
  }

  /** `rcu_nocb_flush_bypass()`: move the bypass list into `->cblist`. */
  flushBypass(c: number): void {
    const b = this.bypass[c]!;
    if (b.len === 0) return;
    this.rs.cbs.insertPend(c, b, this.rs.siteList);
  }

  /** Wake CPU `c`'s rcuog kthread (`wake_nocb_gp()`). */
  wakeGp(c: number): void {
    const g = this.groups[this.groupOf[c]!];
    if (g === undefined) return;
    g.sleep = false;
    g.wq.wakeUp();
  }

  /**
   * `call_rcu()` on an offloaded CPU (`call_rcu_nocb()`), irqs disabled:
   * `rcu_nocb_try_bypass()`, else queue on `->cblist` and wake rcuog if the
   * list had nothing pending.
   */
  enqueue(c: number, head: number): void {
    const rs = this.rs;
    const m = rs.m;
    const lock = this.locks[c]!;
    lock.lock();
    const j = rs.jiffies;
    let cnt: number;
    if (j === this.nobypassLast[c]) {
      cnt = this.nobypassCount[c]! + 1;
    } else {
      this.nobypassLast[c] = j;
      cnt = this.nobypassCount[c]! - this.limPerJiffy;
      if (cnt < this.limPerJiffy) cnt = 0;
      else if (cnt > this.limPerJiffy) cnt = this.limPerJiffy;
    }
    this.nobypassCount[c] = cnt;
    const b = this.bypass[c]!;
    const wasAllDone = !rs.cbs.pendCbs(c);
    if (cnt < this.limPerJiffy) {
      // Not flooded: flush any bypass and queue normally.
      this.flushBypass(c);
      rs.cbs.enqueue(c, head, rs.siteEnqueue);
    } else if ((b.len > 0 && j !== this.bypassFirst[c]) || b.len >= rs.opts.qhimark) {
      // The bypass list is old or full: flush it along with this callback.
      b.enqueue(m, head, rs.siteEnqueue);
      this.bypassed++;
      this.flushBypass(c);
    } else {
      if (b.len === 0) this.bypassFirst[c] = j;
      b.enqueue(m, head, rs.siteEnqueue);
      this.bypassed++;
      lock.unlock();
      // The first bypassed callback wakes rcuog so it can arm the flush.
      if (b.len === 1) this.wakeGp(c);
      return;
    }
    const len = rs.cbs.len[c]!;
    lock.unlock();
    if (wasAllDone || len > rs.opts.qhimark) this.wakeGp(c);
  }

  /** `rcu_nocb_gp_cleanup()`: grace periods ended at node `rnp`; wake rcuog kthreads waiting there. */
  gpCleanup(rnp: number): void {
    const t = this.rs.tree;
    for (const g of this.groups) {
      if (g.waitSeq >= 0 && t.leafOf[g.leader] === rnp) g.wq.wakeUp();
    }
  }

  /** `nocb_gp_wait()` loop of rcuog. */
  private *gpLoop(g: NocbGroup): Generator<Wait<unknown>, void, unknown> {
    const rs = this.rs;
    const m = rs.m;
    const t = rs.tree;
    const leaf = t.leafOf[g.leader]!;
    const gpDone = () => g.waitSeq < 0 || rcuSeqDone(t.gpSeq[leaf]!, g.waitSeq);
    const woken = () => !g.sleep;
    for (;;) {
      let needWait = false;
      let waitSeq = 0;
      let bypassPending = false;
      for (const c of g.cpus) {
        const lock = this.locks[c]!;
        const flags = lock.lockIrqsave();
        const b = this.bypass[c]!;
        if (b.len > 0 && (rs.jiffies > this.bypassFirst[c]! + 1 || b.len > 2 * rs.opts.qhimark))
          this.flushBypass(c);
        if (b.len > 0) bypassPending = true;
        if (rs.cbs.empty(c)) {
          lock.unlockIrqrestore(flags);
          continue;
        }
        const rnpLock = t.locks[t.leafOf[c]!]!;
        rnpLock.lock();
        const wakeGp = rs.advanceCbs(t.leafOf[c]!, c);
        rnpLock.unlock();
        const next = rs.cbs.firstPendGpSeq(c);
        if (next >= 0 && (!needWait || next < waitSeq)) {
          waitSeq = next;
          needWait = true;
        }
        const ready = rs.cbs.readyCbs(c);
        lock.unlockIrqrestore(flags);
        if (wakeGp) rs.gpKthreadWake();
        if (ready) {
          this.cbSleep[c] = 0;
          this.cbWq[c]!.wakeUp();
        }
      }
      g.sleep = true;
      if (needWait) {
        g.waitSeq = waitSeq;
        yield m.waitEvent(g.wq, gpDone);
        g.waitSeq = -1;
      } else if (bypassPending) {
        yield* m.waitEventTimeout(g.wq, woken, 1);
      } else {
        yield m.waitEvent(g.wq, woken);
      }
    }
  }

  /** `nocb_cb_wait()` loop of rcuop. */
  private *cbLoop(c: number): Generator<Wait<unknown>, void, unknown> {
    const rs = this.rs;
    const m = rs.m;
    const t = rs.tree;
    const wq = this.cbWq[c]!;
    const woken = () => this.cbSleep[c] === 0;
    for (;;) {
      yield m.waitEvent(wq, woken);
      m.localBhDisable();
      this.invoker.doBatch(c);
      m.localBhEnable();
      const lock = this.locks[c]!;
      const flags = lock.lockIrqsave();
      // Advance if the grace period the next segment waits for is over.
      const next = rs.cbs.firstPendGpSeq(c);
      const rnp = t.leafOf[c]!;
      let wakeGp = false;
      if (next >= 0 && rcuSeqDone(t.gpSeq[rnp]!, next)) {
        t.locks[rnp]!.lock();
        wakeGp = rs.advanceCbs(rnp, c);
        t.locks[rnp]!.unlock();
      }
      this.cbSleep[c] = rs.cbs.readyCbs(c) ? 0 : 1;
      lock.unlockIrqrestore(flags);
      if (wakeGp) rs.gpKthreadWake();
      yield m.condResched('kernel/rcu/tree_nocb.h');
    }
  }
}
