import {
  HARDIRQ_MASK,
  HARDIRQ_OFFSET,
  type Machine,
  NMI_MASK,
  PREEMPT_MASK,
  RCU_SOFTIRQ,
  SOFTIRQ_MASK,
  type Task,
  type TaskSlot,
  WaitQueueHead,
} from '@sim/cpu';
import type { Locking } from '@sim/locks';
import { CallbackRegistry } from './callbacks.js';
import {
  DEFAULT_MAX_RCU_BLIMIT,
  RCU_GP_FLAG_FQS,
  RCU_GP_FLAG_INIT,
  RCU_NEXT_READY_TAIL,
  RcuGpState,
} from './constants.js';
import { RcuNodeTree } from './node-tree.js';
import type { ResolvedRcuOptions } from './options.js';
import { GpOracle } from './oracle.js';
import {
  rcuSeqCompletedGp,
  rcuSeqNewGp,
  rcuSeqSnap,
  rcuSeqStarted,
  rcuSeqState,
} from './rcu-seq.js';
import { RcuCbList, SegCbLists } from './segcblist.js';
import { RcuTaskState, SPECIAL_NEED_QS } from './task-state.js';

/** Hooks other RCU modules plug into the core (set once at boot). @internal */
export interface RcuCoreHooks {
  /** `rcu_report_exp_rdp()`. */
  reportExpRdp(c: number): void;
  /** `rcu_report_exp_rnp()`: a blocked reader of leaf `rnp` no longer blocks the expedited grace period. */
  reportExpRnp(rnp: number): void;
  /** `rcu_preempt_deferred_qs()` for `st` on CPU `c`. */
  preemptDeferredQs(st: RcuTaskState, c: number): void;
  /** `check_cpu_stall()`. */
  checkCpuStall(c: number): void;
  /** The irq_work probe of a holdout CPU past half the stall timeout. */
  probeHoldout(c: number): void;
  /** Wake the rcuc kthread of CPU `c` (`invoke_rcu_core_kthread()`). */
  wakeRcuc(c: number): void;
  /** `rcu_nocb_gp_cleanup()`: the grace period `gpSeq` ended for node `rnp`. */
  nocbGpCleanup(rnp: number): void;
}

/**
 * The state of Tree RCU for one machine: `rcu_state`, the rcu_node tree and
 * the per-CPU `rcu_data` (as parallel typed arrays), with the core
 * grace-period bookkeeping of kernel/rcu/tree.c that every other part uses:
 * noticing grace periods, advancing and accelerating callbacks, requesting
 * grace periods and reporting quiescent states up the tree.
 * @internal
 */
export class RcuState {
  readonly nr: number;
  /** CONFIG_PREEMPT_RCU: preemptible readers (`preempt=full` and `rt`). */
  readonly preemptible: boolean;
  /** `rcu_state.name`: "rcu_preempt" or "rcu_sched". */
  readonly name: string;
  readonly tree: RcuNodeTree;
  readonly cbs: SegCbLists;
  readonly registry: CallbackRegistry;
  readonly oracle: GpOracle | null;
  readonly taskSlot: TaskSlot<RcuTaskState>;
  readonly gpWq: WaitQueueHead;
  hooks: RcuCoreHooks | null = null;
  gpKthread: Task | null = null;
  readonly rcuc: (Task | null)[] = [];

  // ---- rcu_state ----
  gpSeq = 0;
  gpSeqNeeded = 0;
  gpFlags = 0;
  gpState: number = RcuGpState.IDLE;
  gpStart = 0;
  gpEnd = 0;
  gpActivity = 0;
  gpReqActivity = 0;
  gpWakeTime = 0;
  gpMaxJiffies = 0;
  jiffiesStall = 0;
  jiffiesResched = 0;
  jiffiesForceQs = 0;
  nForceQs = 0;
  nForceQsGpstart = 0;
  cbovld = false;
  /** Address of `rcu_state.gp_seq` in memory. */
  readonly stateAddr: number;

  // ---- rcu_data, one slot per CPU ----
  readonly rdpGpSeq: Float64Array;
  readonly rdpGpSeqNeeded: Float64Array;
  /** `cpu_no_qs.b.norm`. */
  readonly cpuNoQs: Uint8Array;
  /** `cpu_no_qs.b.exp`. */
  readonly cpuNoQsExp: Uint8Array;
  readonly coreNeedsQs: Uint8Array;
  readonly blimit: Float64Array;
  readonly qlenLastFqsCheck: Float64Array;
  readonly nForceQsSnap: Float64Array;
  readonly nCbsInvoked: Float64Array;
  readonly nCbsQueued: Float64Array;
  readonly ticksThisGp: Float64Array;
  readonly softirqSnap: Float64Array;
  readonly softirqCount: Float64Array;
  /** Context-tracking "watching" counter: odd while the CPU runs non-idle code. */
  readonly dynticks: Float64Array;
  readonly dynticksSnap: Float64Array;
  readonly urgentQs: Uint8Array;
  readonly needHeavyQs: Uint8Array;
  readonly lastFqsResched: Float64Array;
  /** `rcu_cpu_has_work` (rcuc). */
  readonly rcuCpuHasWork: Uint8Array;
  /** Oops/leak accounting of callbacks that could not be invoked. */
  readonly nCbsLost: Float64Array;
  /** CONFIG_DEBUG_OBJECTS_RCU_HEAD: heads queued and not yet invoked. */
  readonly debugQueued: Set<number> | null;
  /** Scratch list for `rcu_do_batch()`. */
  readonly rcl = new RcuCbList();

  // ---- statistics ----
  gpStarted = 0;
  gpCompleted = 0;
  stallWarnings = 0;

  // ---- cache-site ids ----
  readonly siteEnqueue: number;
  readonly siteInvoke: number;
  readonly siteList: number;
  readonly siteNode: number;
  readonly siteState: number;

  // ---- probe ids ----
  readonly probeReadLock: number;
  readonly probeReadUnlock: number;
  readonly probeCallRcu: number;
  readonly probeInvoke: number;

  constructor(
    readonly m: Machine,
    readonly locking: Locking,
    readonly opts: ResolvedRcuOptions,
  ) {
    const n = m.nrCpus;
    this.nr = n;
    this.preemptible = m.preemptive;
    this.name = this.preemptible ? 'rcu_preempt' : 'rcu_sched';
    this.tree = new RcuNodeTree(m, locking, n, opts.fanout, opts.fanoutLeaf);
    // rcu_data is per-CPU and cache-line aligned: the cblist head word lives in it.
    const rdpBase = m.memory.memblockAlloc(n * 64, 64);
    this.cbs = new SegCbLists(m, n, rdpBase);
    this.stateAddr = m.memory.memblockAlloc(64, 64);
    this.registry = new CallbackRegistry((name) => m.fnId(name));
    this.oracle = opts.oracle ? new GpOracle(m) : null;
    this.debugQueued = opts.debugObjectsRcuHead ? new Set<number>() : null;
    this.taskSlot = m.defineTaskSlot((t) => new RcuTaskState(t));
    this.gpWq = new WaitQueueHead(m);
    this.rdpGpSeq = new Float64Array(n);
    this.rdpGpSeqNeeded = new Float64Array(n);
    this.cpuNoQs = new Uint8Array(n);
    this.cpuNoQsExp = new Uint8Array(n);
    this.coreNeedsQs = new Uint8Array(n);
    this.blimit = new Float64Array(n).fill(opts.blimit);
    this.qlenLastFqsCheck = new Float64Array(n);
    this.nForceQsSnap = new Float64Array(n);
    this.nCbsInvoked = new Float64Array(n);
    this.nCbsQueued = new Float64Array(n);
    this.ticksThisGp = new Float64Array(n);
    this.softirqSnap = new Float64Array(n);
    this.softirqCount = new Float64Array(n);
    this.dynticks = new Float64Array(n);
    this.dynticksSnap = new Float64Array(n);
    this.urgentQs = new Uint8Array(n);
    this.needHeavyQs = new Uint8Array(n);
    this.lastFqsResched = new Float64Array(n);
    this.rcuCpuHasWork = new Uint8Array(n);
    this.nCbsLost = new Float64Array(n);
    for (let c = 0; c < n; c++) {
      // CPUs boot idle: in an extended quiescent state unless a task runs.
      this.dynticks[c] = m.cpuIsIdle(c) ? 0 : 1;
      this.rcuc.push(null);
    }
    this.siteEnqueue = m.siteId('rcu.enqueue');
    this.siteInvoke = m.siteId('rcu.invoke');
    this.siteList = m.siteId('rcu.cblist');
    this.siteNode = m.siteId('rcu.node');
    this.siteState = m.siteId('rcu.state');
    this.probeReadLock = m.defineProbe('rcu.read_lock');
    this.probeReadUnlock = m.defineProbe('rcu.read_unlock');
    this.probeCallRcu = m.defineProbe('rcu.call_rcu');
    this.probeInvoke = m.defineProbe('rcu.invoke');
  }

  // ---- small accessors ----------------------------------------------------------

  get jiffies(): number {
    return this.m.jiffies;
  }

  /** `rcu_gp_in_progress()`. */
  gpInProgress(): boolean {
    return rcuSeqState(this.gpSeq) !== 0;
  }

  /** The RCU fields of `t`. */
  taskState(t: Task): RcuTaskState {
    return this.taskSlot.get(t);
  }

  /** Is CPU `c` in an extended quiescent state (idle, not watching)? */
  inEqs(c: number): boolean {
    return this.dynticks[c]! % 2 === 0;
  }

  /** Is the qsmask bit of CPU `c` set in its leaf? */
  cpuQsPending(c: number): boolean {
    const t = this.tree;
    const rnp = t.leafOf[c]!;
    return t.qsBits[t.bitBase[rnp]! + t.cpuBit[c]!] === 1;
  }

  /** Write `rcu_state.gp_seq` to memory (its line bounces to readers). */
  publishGpSeq(): void {
    this.m.store(this.stateAddr, this.gpSeq, this.siteState);
  }

  /** Read `rcu_state.gp_seq` as other CPUs do (charging the cache). */
  readGpSeq(): number {
    return this.m.load(this.stateAddr, this.siteState);
  }

  /** `rcu_is_cpu_rrupt_from_idle()`: the tick or IPI interrupted the idle loop directly. */
  rruptFromIdle(): boolean {
    const m = this.m;
    if (!m.current.isIdle) return false;
    const pc = m.preemptCount();
    return (
      (pc & (HARDIRQ_MASK | NMI_MASK)) === HARDIRQ_OFFSET &&
      (pc & (PREEMPT_MASK | SOFTIRQ_MASK)) === 0
    );
  }

  // ---- grace-period requests -------------------------------------------------------

  /**
   * `rcu_start_this_gp()`, with the funnel reduced to the root: record that
   * grace period `req` is needed and, if RCU is idle, ask the GP kthread to
   * start one. Returns whether the kthread must be woken.
   */
  startThisGp(c: number, req: number): boolean {
    if (this.gpSeqNeeded >= req || rcuSeqStarted(this.gpSeq, req)) {
      if (this.rdpGpSeqNeeded[c]! < this.gpSeqNeeded) this.rdpGpSeqNeeded[c] = this.gpSeqNeeded;
      return false;
    }
    this.gpSeqNeeded = req;
    if (this.rdpGpSeqNeeded[c]! < req) this.rdpGpSeqNeeded[c] = req;
    if (this.gpInProgress()) return false;
    this.gpFlags |= RCU_GP_FLAG_INIT;
    this.gpReqActivity = this.jiffies;
    return this.gpKthread !== null;
  }

  /** `rcu_gp_kthread_wake()`. */
  gpKthreadWake(): void {
    const m = this.m;
    const k = this.gpKthread;
    if (k === null || this.gpFlags === 0) return;
    if (m.current === k && !m.inHardirq() && !m.inServingSoftirq()) return;
    this.gpWakeTime = this.jiffies;
    this.gpWq.wakeUp();
  }

  /** `rcu_accelerate_cbs()`; the leaf lock is held. Returns whether to wake the GP kthread. */
  accelerateCbs(c: number): boolean {
    if (!this.cbs.pendCbs(c)) return false;
    const req = rcuSeqSnap(this.gpSeq);
    if (this.cbs.accelerate(c, req)) return this.startThisGp(c, req);
    return false;
  }

  /** `rcu_advance_cbs()`; the leaf lock is held. */
  advanceCbs(rnp: number, c: number): boolean {
    if (!this.cbs.pendCbs(c)) return false;
    this.cbs.advance(c, this.tree.gpSeq[rnp]!);
    return this.accelerateCbs(c);
  }

  /** `rcu_accelerate_cbs_unlocked()`: irqs are disabled by the caller. */
  accelerateCbsUnlocked(c: number): void {
    const req = rcuSeqSnap(this.gpSeq);
    if (this.rdpGpSeqNeeded[c]! >= req) {
      this.cbs.accelerate(c, req);
      return;
    }
    const lock = this.tree.locks[this.tree.leafOf[c]!]!;
    lock.lock();
    const wake = this.accelerateCbs(c);
    lock.unlock();
    if (wake) this.gpKthreadWake();
  }

  /** `__note_gp_changes()`: the leaf lock is held. */
  noteGpChangesLocked(rnp: number, c: number): boolean {
    const nodeSeq = this.tree.gpSeq[rnp]!;
    const old = this.rdpGpSeq[c]!;
    if (old === nodeSeq) return false;
    let ret = false;
    const offloaded = this.cbs.offloaded[c] === 1;
    if (rcuSeqCompletedGp(old, nodeSeq)) {
      if (!offloaded) ret = this.advanceCbs(rnp, c);
      this.coreNeedsQs[c] = 0;
    } else if (!offloaded) {
      ret = this.accelerateCbs(c);
    }
    if (rcuSeqNewGp(old, nodeSeq)) {
      const need = this.cpuQsPending(c) ? 1 : 0;
      this.cpuNoQs[c] = need;
      this.coreNeedsQs[c] = need;
      this.zeroCpuStallTicks(c);
    }
    this.rdpGpSeq[c] = nodeSeq;
    if (this.rdpGpSeqNeeded[c]! < nodeSeq) this.rdpGpSeqNeeded[c] = nodeSeq;
    return ret;
  }

  /** `note_gp_changes()`. */
  noteGpChanges(c: number): void {
    const rnp = this.tree.leafOf[c]!;
    if (this.rdpGpSeq[c] === this.tree.gpSeq[rnp]) return;
    const lock = this.tree.locks[rnp]!;
    const flags = lock.lockIrqsave();
    const wake = this.noteGpChangesLocked(rnp, c);
    lock.unlockIrqrestore(flags);
    if (wake) this.gpKthreadWake();
  }

  /** `zero_cpu_stall_ticks()`. */
  zeroCpuStallTicks(c: number): void {
    this.ticksThisGp[c] = 0;
    this.softirqSnap[c] = this.softirqCount[c]!;
    this.lastFqsResched[c] = this.jiffies;
  }

  // ---- quiescent-state reporting -----------------------------------------------------

  /**
   * `rcu_report_qs_rnp()`: clear child `bit` of node `rnp` for grace period
   * `gps` and propagate up while nodes become clear. Called with `rnp`'s lock
   * held and irqs disabled by `flags`; returns with every lock released and
   * irqs restored.
   */
  reportQsRnp(rnp: number, bit: number, gps: number, flags: number): void {
    const t = this.tree;
    const m = this.m;
    for (;;) {
      const idx = t.bitBase[rnp]! + bit;
      if (t.qsBits[idx] === 0 || t.gpSeq[rnp] !== gps) {
        t.locks[rnp]!.unlockIrqrestore(flags);
        return;
      }
      t.qsBits[idx] = 0;
      t.qsCount[rnp] = t.qsCount[rnp]! - 1;
      m.store(t.addr[rnp]!, t.qsCount[rnp]!, this.siteNode);
      if (t.qsCount[rnp] !== 0 || t.blkdGp[rnp]! > 0) {
        t.locks[rnp]!.unlockIrqrestore(flags);
        return;
      }
      const parent = t.info[rnp]!.parent;
      if (parent < 0) break;
      bit = t.info[rnp]!.grpnum;
      t.locks[rnp]!.unlock();
      rnp = parent;
      t.locks[rnp]!.lock();
    }
    this.reportQsRsp(flags);
  }

  /**
   * `rcu_report_qs_rnp()` for several children of one node at once (the
   * force-quiescent-state scan of a leaf). `rnp`'s lock is held; returns with
   * every lock released and irqs restored.
   */
  reportQsRnpBits(rnp: number, bits: Int32Array, nbits: number, gps: number, flags: number): void {
    const t = this.tree;
    if (t.gpSeq[rnp] !== gps) {
      t.locks[rnp]!.unlockIrqrestore(flags);
      return;
    }
    const base = t.bitBase[rnp]!;
    for (let i = 0; i < nbits; i++) {
      const idx = base + bits[i]!;
      if (t.qsBits[idx] === 1) {
        t.qsBits[idx] = 0;
        t.qsCount[rnp] = t.qsCount[rnp]! - 1;
      }
    }
    this.m.store(t.addr[rnp]!, t.qsCount[rnp]!, this.siteNode);
    if (t.qsCount[rnp] !== 0 || t.blkdGp[rnp]! > 0) {
      t.locks[rnp]!.unlockIrqrestore(flags);
      return;
    }
    const parent = t.info[rnp]!.parent;
    if (parent < 0) {
      this.reportQsRsp(flags);
      return;
    }
    const bit = t.info[rnp]!.grpnum;
    t.locks[rnp]!.unlock();
    t.locks[parent]!.lock();
    this.reportQsRnp(parent, bit, gps, flags);
  }

  /** `rcu_report_qs_rsp()`: the root is clear; tell the GP kthread. Root lock held. */
  reportQsRsp(flags: number): void {
    this.gpFlags |= RCU_GP_FLAG_FQS;
    this.tree.locks[0]!.unlockIrqrestore(flags);
    this.gpKthreadWake();
  }

  /**
   * `rcu_report_unblock_qs_rnp()`: the last blocked reader of `rnp` left its
   * critical section. `rnp`'s lock is held with irqs saved in `flags`.
   */
  reportUnblockQsRnp(rnp: number, flags: number): void {
    const t = this.tree;
    if (t.qsCount[rnp] !== 0 || t.blkdGp[rnp]! > 0 || rcuSeqState(t.gpSeq[rnp]!) === 0) {
      t.locks[rnp]!.unlockIrqrestore(flags);
      return;
    }
    const parent = t.info[rnp]!.parent;
    if (parent < 0) {
      this.reportQsRsp(flags);
      return;
    }
    const gps = t.gpSeq[rnp]!;
    const bit = t.info[rnp]!.grpnum;
    t.locks[rnp]!.unlock();
    t.locks[parent]!.lock();
    this.reportQsRnp(parent, bit, gps, flags);
  }

  /** `rcu_report_qs_rdp()`: CPU `c` passed a quiescent state for its current grace period. */
  reportQsRdp(c: number): void {
    const t = this.tree;
    const rnp = t.leafOf[c]!;
    const lock = t.locks[rnp]!;
    const flags = lock.lockIrqsave();
    if (this.cpuNoQs[c] === 1 || this.rdpGpSeq[c] !== t.gpSeq[rnp]) {
      this.cpuNoQs[c] = 1;
      lock.unlockIrqrestore(flags);
      return;
    }
    this.coreNeedsQs[c] = 0;
    if (!this.cpuQsPending(c)) {
      lock.unlockIrqrestore(flags);
      return;
    }
    // This grace period cannot end before this CPU checks in, so its new
    // callbacks can be given the next one already.
    if (this.cbs.offloaded[c] === 0) this.accelerateCbs(c);
    this.urgentQs[c] = 0;
    this.needHeavyQs[c] = 0;
    this.reportQsRnp(rnp, t.cpuBit[c]!, t.gpSeq[rnp]!, flags);
  }

  /** `rcu_check_quiescent_state()`. */
  checkQuiescentState(c: number): void {
    this.noteGpChanges(c);
    if (this.coreNeedsQs[c] === 0) return;
    if (this.cpuNoQs[c] === 1) return;
    this.reportQsRdp(c);
  }

  /** `rcu_qs()`: note (not yet report) a quiescent state of the current CPU. */
  rcuQs(c: number): void {
    if (this.preemptible) {
      if (this.cpuNoQs[c] === 1) {
        this.cpuNoQs[c] = 0;
        const st = this.taskSlot.get(this.m.current);
        st.special &= ~SPECIAL_NEED_QS;
      }
      return;
    }
    if (this.cpuNoQs[c] === 0 && this.cpuNoQsExp[c] === 0) return;
    this.cpuNoQs[c] = 0;
    if (this.cpuNoQsExp[c] === 1) this.hooks!.reportExpRdp(c);
  }

  /** `rcu_force_quiescent_state()`: ask the GP kthread for a scan now. */
  forceQuiescentState(): void {
    if ((this.gpFlags & RCU_GP_FLAG_FQS) !== 0) return;
    this.gpFlags |= RCU_GP_FLAG_FQS;
    this.gpKthreadWake();
  }

  /** `invoke_rcu_core()`: RCU_SOFTIRQ, or the rcuc kthread. */
  invokeRcuCore(c: number): void {
    if (this.opts.useSoftirq) {
      if (c === this.m.cpu) this.m.raiseSoftirq(RCU_SOFTIRQ);
      return;
    }
    this.rcuCpuHasWork[c] = 1;
    this.hooks!.wakeRcuc(c);
  }

  /** `rcu_pending()`: does this CPU have RCU work its tick should start? */
  pending(c: number): boolean {
    this.hooks!.checkCpuStall(c);
    const rnp = this.tree.leafOf[c]!;
    if (
      this.coreNeedsQs[c] === 1 &&
      this.cpuNoQs[c] === 0 &&
      this.rdpGpSeq[c] === this.tree.gpSeq[rnp]
    )
      return true;
    const offloaded = this.cbs.offloaded[c] === 1;
    if (!offloaded && this.cbs.readyCbs(c)) return true;
    if (!this.gpInProgress() && !offloaded && !this.cbs.restEmpty(c, RCU_NEXT_READY_TAIL))
      return true;
    if (this.rdpGpSeq[c] !== this.tree.gpSeq[rnp]) return true;
    return false;
  }

  /** `__call_rcu_core()`'s flood handling: lift the batch limit and force quiescent states. */
  callRcuFlood(c: number, head: number): void {
    const len = this.cbs.len[c]!;
    if (len <= this.qlenLastFqsCheck[c]! + this.opts.qhimark) return;
    this.noteGpChanges(c);
    if (!this.gpInProgress()) {
      this.accelerateCbsUnlocked(c);
      return;
    }
    this.blimit[c] = DEFAULT_MAX_RCU_BLIMIT;
    // Force quiescent states only if none were forced since the flood began
    // and the new callback is not the only one waiting.
    const firstPend = this.m.load(this.cbs.tails[c * 4]!, this.siteList);
    if (this.nForceQs === this.nForceQsSnap[c] && firstPend !== head) this.forceQuiescentState();
    this.nForceQsSnap[c] = this.nForceQs;
    this.qlenLastFqsCheck[c] = len;
  }
}
