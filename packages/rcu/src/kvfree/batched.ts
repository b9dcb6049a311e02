import { DelayedWork, HRTIMER_MODE_REL, HRTIMER_NORESTART, Hrtimer, type Wait } from '@sim/cpu';
import {
  __GFP_MEMALLOC,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  GFP_KERNEL,
} from '@sim/gfp';
import type { LlistHead, RawSpinLock } from '@sim/locks';
import {
  FREE_N_CHANNELS,
  KFREE_N_BATCHES,
  KVFREE_BULK_HEADER_SIZE,
  KVFREE_BULK_MAX_ENTR,
  KVFREE_PAGE_SIZE,
  KVFREE_RCU_SHRINKER_NAME,
  RCU_HEAD_FUNC,
  RCU_HEAD_NEXT,
} from '../constants.js';
import { RCU_SHRINK_EMPTY, RCU_SHRINK_STOP, type RcuShrinkControl } from '../ports.js';
import { rcuSeqDoneExact, rcuSeqSnap } from '../rcu-seq.js';
import { RcuWork } from '../rcu-work.js';
import type { KvfreeContext } from './context.js';
import type { KvfreeRcuStats, KvfreeRcuStrategy } from './strategy.js';

/** Offsets inside a `struct kvfree_rcu_bulk_data` page. */
const BN_NEXT = 0;
const BN_PREV = 8;
const BN_SNAP_NORM = 16;
const BN_SNAP_EXP = 24;
const BN_NR = 32;
const BN_RECORDS = KVFREE_BULK_HEADER_SIZE;

/** The mask pages are allocated with where sleeping is allowed. */
const GFP_BNODE = GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN;
/** The same with the 2020 RFC's access to the reserves (`kvfreeMemalloc`). */
const GFP_BNODE_MEMALLOC = (GFP_BNODE & ~__GFP_NOMEMALLOC) | __GFP_MEMALLOC;

/**
 * Today's kvfree_rcu (mm/slab_common.c, `CONFIG_KVFREE_RCU_BATCHED`): per-CPU
 * `struct kfree_rcu_cpu` under a raw spinlock, pointers stored in
 * page-sized arrays (`kvfree_rcu_bulk_data`) per channel (slab, vmalloc), a
 * monitor work that drains after `KFREE_DRAIN_JIFFIES` (one jiffy once a
 * page's worth is pending) into one of two `rcu_work` batches, grace-period
 * snapshots so objects already past their grace period are freed without
 * waiting for another, a per-CPU cache of `rcu_min_cached_objs` pages refilled
 * from process context, the fallback of chaining the `rcu_head` when no page
 * is at hand, the headless fallback of `synchronize_rcu()` then `kvfree()`,
 * a shrinker, and `kfree_bulk()` to free each page's pointers.
 * @internal
 */
export class BatchedKvfree implements KvfreeRcuStrategy {
  readonly name: KvfreeRcuStats['strategy'] = 'batched';
  protected readonly locks: RawSpinLock[] = [];
  /** Channel-3 list: rcu_head chain head, its count and snapshot, per CPU. */
  private readonly headCh3: Float64Array;
  private readonly headCount: Float64Array;
  private readonly headGpSnap: Float64Array;
  /** Pointer-page lists per CPU and channel: first (newest) and last page. */
  private readonly bulkHead: Float64Array;
  private readonly bulkTail: Float64Array;
  private readonly bulkCount: Float64Array;
  /** Per batch slot (CPU × KFREE_N_BATCHES): detached lists waiting for their grace period. */
  private readonly freeHead: Float64Array;
  private readonly freeTail: Float64Array;
  private readonly headFree: Float64Array;
  private readonly headFreeSnapNorm: Float64Array;
  private readonly headFreeSnapExp: Float64Array;
  private readonly works: RcuWork[] = [];
  private readonly monitor: DelayedWork[] = [];
  private readonly monitorExpires: Float64Array;
  private readonly pageCacheWork: DelayedWork[] = [];
  private readonly hrtimers: Hrtimer[] = [];
  private readonly workInProgress: Uint8Array;
  private readonly backoff: Uint8Array;
  private readonly bkvcache: LlistHead[] = [];
  private readonly nrBkvObjs: Int32Array;
  private readonly scratch = new Float64Array(KVFREE_BULK_MAX_ENTR);
  private readonly readyPages: number[] = [];
  private readonly readyChannels: number[] = [];
  private readonly siteAdd: number;
  private readonly siteBulk: number;
  private readonly siteChain: number;
  private readonly sitePage: number;
  private readonly probeAdd: number;
  private flags = 0;
  private readonly hasVmalloc: boolean;
  /** Snapshot last written to the head page of each CPU and channel. */
  private readonly lastSnapNorm: Float64Array;
  private readonly lastSnapExp: Float64Array;
  /** Latency of two L1 hits. */
  private readonly l1Hit2: number;
  // statistics
  pagesAllocated = 0;
  pageAllocFailures = 0;
  pagesInUse = 0;
  batchesQueued = 0;
  freedWithoutExtraGp = 0;

  /** The mask of the pointer-page allocations that may sleep. */
  private readonly bnodeGfp: number;

  constructor(protected readonly ctx: KvfreeContext) {
    this.bnodeGfp = ctx.opts.kvfreeMemalloc ? GFP_BNODE_MEMALLOC : GFP_BNODE;
    const rs = ctx.rs;
    const m = ctx.m;
    const n = rs.nr;
    this.headCh3 = new Float64Array(n);
    this.headCount = new Float64Array(n);
    this.headGpSnap = new Float64Array(n);
    this.bulkHead = new Float64Array(n * FREE_N_CHANNELS);
    this.bulkTail = new Float64Array(n * FREE_N_CHANNELS);
    this.bulkCount = new Float64Array(n * FREE_N_CHANNELS);
    this.freeHead = new Float64Array(n * KFREE_N_BATCHES * FREE_N_CHANNELS);
    this.freeTail = new Float64Array(n * KFREE_N_BATCHES * FREE_N_CHANNELS);
    this.headFree = new Float64Array(n * KFREE_N_BATCHES);
    this.headFreeSnapNorm = new Float64Array(n * KFREE_N_BATCHES);
    this.headFreeSnapExp = new Float64Array(n * KFREE_N_BATCHES);
    this.monitorExpires = new Float64Array(n);
    this.workInProgress = new Uint8Array(n);
    this.backoff = new Uint8Array(n);
    this.nrBkvObjs = new Int32Array(n);
    this.hasVmalloc = ctx.freer.isVmallocAddr !== undefined;
    this.lastSnapNorm = new Float64Array(n * FREE_N_CHANNELS).fill(-1);
    this.lastSnapExp = new Float64Array(n * FREE_N_CHANNELS).fill(-1);
    this.l1Hit2 = 2 * m.config.cache.l1.latencyNs;
    this.siteAdd = m.siteId('kvfree_rcu.add');
    this.siteBulk = m.siteId('kvfree_rcu.bulk');
    this.siteChain = m.siteId('kvfree_rcu.chain');
    this.sitePage = m.siteId('kvfree_rcu.page');
    this.probeAdd = m.defineProbe('kvfree_rcu.add');
    // The llist heads of the page caches live in the per-CPU krc structures.
    const krcBase = m.memory.memblockAlloc(n * 64, 64);
    const self = this;
    for (let c = 0; c < n; c++) {
      const cpu = c;
      this.locks.push(ctx.locking.rawSpinLock('&krcp->lock'));
      this.bkvcache.push(ctx.locking.llistHead('krcp->bkvcache', krcBase + c * 64));
      for (let i = 0; i < KFREE_N_BATCHES; i++) {
        const slot = c * KFREE_N_BATCHES + i;
        this.works.push(
          new RcuWork(
            rs,
            ctx.call,
            function* kfree_rcu_work() {
              yield* self.kfreeRcuWork(cpu, slot);
            },
            'kfree_rcu_work',
          ),
        );
      }
      this.monitor.push(
        new DelayedWork(function kfree_rcu_monitor() {
          self.monitorFn(cpu);
        }, 'kfree_rcu_monitor'),
      );
      this.pageCacheWork.push(
        new DelayedWork(function fill_page_cache_func() {
          self.fillPageCache(cpu);
        }, 'fill_page_cache_func'),
      );
      this.hrtimers.push(
        new Hrtimer(function schedule_page_work_fn() {
          m.queueDelayedWork(self.pageCacheWork[cpu]!, 0, cpu);
          return HRTIMER_NORESTART;
        }, HRTIMER_MODE_REL),
      );
    }
    ctx.shrinkers.registerShrinker({
      name: KVFREE_RCU_SHRINKER_NAME,
      countObjects: (sc: RcuShrinkControl) => this.shrinkCount(sc),
      scanObjects: (sc: RcuShrinkControl) => this.shrinkScan(sc),
    });
  }

  // ---- kvfree_call_rcu() ----------------------------------------------------------

  queue(head: number, ptr: number): boolean {
    const ctx = this.ctx;
    if (!ctx.debugQueue(ptr, head)) return true;
    const m = ctx.m;
    this.flags = m.localIrqSave();
    const c = m.cpu;
    const lock = this.locks[c]!;
    lock.lock();
    m.probe(this.probeAdd);
    // The CPU may differ after a sleeping allocation, as the kernel's krcp may.
    const ok = this.addPtrToBulk(c, ptr, head === 0);
    const cpu = m.cpu;
    if (!ok) {
      this.runPageCacheWorker(cpu);
      if (head === 0) {
        this.locks[cpu]!.unlock();
        m.localIrqRestore(this.flags);
        ctx.debugUnqueue(ptr);
        return false;
      }
      // Channel 3: chain the object through its own rcu_head.
      m.store(head + RCU_HEAD_FUNC, ptr, this.siteChain);
      m.store(head + RCU_HEAD_NEXT, this.headCh3[cpu]!, this.siteChain);
      this.headCh3[cpu] = head;
      this.headCount[cpu] = this.headCount[cpu]! + 1;
      this.headGpSnap[cpu] = ctx.waiters.snapshot();
      ctx.chained++;
    }
    this.scheduleMonitor(cpu);
    this.locks[cpu]!.unlock();
    m.localIrqRestore(this.flags);
    return true;
  }

  /**
   * Get a page for the pointer arrays while holding `krcp->lock` with irqs
   * off. Today's kernel never allocates here (only cached pages), which is
   * what makes kfree_rcu() safe under raw spinlocks on PREEMPT_RT.
   */
  protected allocUnderLock(_c: number): number {
    return 0;
  }

  /** `add_ptr_to_bulk_krc_lock()`: true if `ptr` was recorded in a page. */
  private addPtrToBulk(c: number, ptr: number, canAlloc: boolean): boolean {
    const ctx = this.ctx;
    const m = ctx.m;
    const li = c * FREE_N_CHANNELS + (this.hasVmalloc && ctx.isVmalloc(ptr) ? 1 : 0);
    // get_state_synchronize_rcu_full(): read the grace-period counters first,
    // so the page header's words below are touched back to back.
    const w = ctx.waiters;
    const snapNorm = w.snapshot();
    const snapExp = rcuSeqSnap(w.expSeq);
    let bnode = this.bulkHead[li]!;
    let nr = bnode === 0 ? KVFREE_BULK_MAX_ENTR : m.load(bnode + BN_NR, this.siteAdd);
    if (nr === KVFREE_BULK_MAX_ENTR) {
      bnode = this.getCachedBnode(c);
      if (bnode === 0) bnode = this.allocUnderLock(c);
      if (bnode === 0 && canAlloc) {
        // Headless, so sleeping is allowed: drop the lock and allocate.
        this.locks[c]!.unlock();
        m.localIrqRestore(this.flags);
        bnode = this.allocPage(this.bnodeGfp);
        this.flags = m.localIrqSave();
        this.locks[c]!.lock();
      }
      if (bnode === 0) return false;
      this.listAddHead(li, bnode);
      this.pagesInUse++;
      nr = 0;
    }
    // Count the record and refresh the page's snapshot. The header words
    // share the line the count was just written to, so rewriting an
    // unchanged snapshot is two L1 hits: only their latency is charged.
    m.store(bnode + BN_NR, nr + 1, this.siteAdd);
    if (nr === 0 || snapNorm !== this.lastSnapNorm[li] || snapExp !== this.lastSnapExp[li]) {
      m.store(bnode + BN_SNAP_NORM, snapNorm, this.siteAdd);
      m.store(bnode + BN_SNAP_EXP, snapExp, this.siteAdd);
      this.lastSnapNorm[li] = snapNorm;
      this.lastSnapExp[li] = snapExp;
    } else {
      m.charge(this.l1Hit2);
    }
    m.store(bnode + BN_RECORDS + nr * 8, ptr, this.siteAdd);
    this.bulkCount[li] = this.bulkCount[li]! + 1;
    return true;
  }

  protected allocPage(gfp: number): number {
    const p = this.ctx.pages.getFreePage(gfp);
    if (p === 0) this.pageAllocFailures++;
    else this.pagesAllocated++;
    return p;
  }

  // ---- page lists (list_head links inside the pages) -----------------------------------

  private listAddHead(li: number, page: number): void {
    const m = this.ctx.m;
    const head = this.bulkHead[li]!;
    m.store(page + BN_NEXT, head, this.sitePage);
    m.store(page + BN_PREV, 0, this.sitePage);
    if (head !== 0) m.store(head + BN_PREV, page, this.sitePage);
    else this.bulkTail[li] = page;
    this.bulkHead[li] = page;
  }

  private listRemove(li: number, page: number): void {
    const m = this.ctx.m;
    const next = m.load(page + BN_NEXT, this.sitePage);
    const prev = m.load(page + BN_PREV, this.sitePage);
    if (prev !== 0) m.store(prev + BN_NEXT, next, this.sitePage);
    else this.bulkHead[li] = next;
    if (next !== 0) m.store(next + BN_PREV, prev, this.sitePage);
    else this.bulkTail[li] = prev;
  }

  // ---- page cache -----------------------------------------------------------------------

  /** `get_cached_bnode()`. */
  private getCachedBnode(c: number): number {
    if (this.nrBkvObjs[c] === 0) return 0;
    this.nrBkvObjs[c] = this.nrBkvObjs[c]! - 1;
    return this.bkvcache[c]!.delFirst();
  }

  /** `put_cached_bnode()`. */
  private putCachedBnode(c: number, page: number): boolean {
    if (this.nrBkvObjs[c]! >= this.ctx.opts.rcuMinCachedObjs) return false;
    this.bkvcache[c]!.add(page);
    this.nrBkvObjs[c] = this.nrBkvObjs[c]! + 1;
    return true;
  }

  /** `drain_page_cache()`: give the cached pages back. */
  private drainPageCache(c: number): number {
    if (this.ctx.opts.rcuMinCachedObjs === 0) return 0;
    const m = this.ctx.m;
    const lock = this.locks[c]!;
    const flags = lock.lockIrqsave();
    let page = this.bkvcache[c]!.delAll();
    this.nrBkvObjs[c] = 0;
    lock.unlockIrqrestore(flags);
    let freed = 0;
    while (page !== 0) {
      const next = m.load(page, this.sitePage);
      this.ctx.pages.freePage(page);
      freed++;
      page = next;
    }
    return freed;
  }

  /**
   * `run_page_cache_worker()`: refill the page cache soon, from an hrtimer
   * that queues the work (keeping workqueue locks out of the raw-locked
   * region), or after the back-off delay once the shrinker asked.
   */
  private runPageCacheWorker(c: number): void {
    const ctx = this.ctx;
    const m = ctx.m;
    if (ctx.opts.rcuMinCachedObjs === 0) return;
    if (this.workInProgress[c] === 1) return;
    this.workInProgress[c] = 1;
    if (this.backoff[c] === 1) {
      m.queueDelayedWork(
        this.pageCacheWork[c]!,
        m.msecsToJiffies(ctx.opts.rcuDelayPageCacheFillMsec),
        c,
      );
    } else {
      m.hrtimerStart(this.hrtimers[c]!, 0, HRTIMER_MODE_REL);
    }
  }

  /** `fill_page_cache_func()`: process context, may sleep in the allocator. */
  private fillPageCache(c: number): void {
    const ctx = this.ctx;
    const nrPages = this.backoff[c] === 1 ? 1 : ctx.opts.rcuMinCachedObjs;
    for (let i = this.nrBkvObjs[c]!; i < nrPages; i++) {
      const page = this.allocPage(this.bnodeGfp);
      if (page === 0) break;
      const lock = this.locks[c]!;
      const flags = lock.lockIrqsave();
      const pushed = this.putCachedBnode(c, page);
      lock.unlockIrqrestore(flags);
      if (!pushed) {
        ctx.pages.freePage(page);
        break;
      }
    }
    this.workInProgress[c] = 0;
    this.backoff[c] = 0;
  }

  // ---- monitor and batches ------------------------------------------------------------

  /** `krc_count()`. */
  private krcCount(c: number): number {
    let s = this.headCount[c]!;
    for (let ch = 0; ch < FREE_N_CHANNELS; ch++) s += this.bulkCount[c * FREE_N_CHANNELS + ch]!;
    return s;
  }

  /** `need_offload_krc()`. */
  private needOffload(c: number): boolean {
    for (let ch = 0; ch < FREE_N_CHANNELS; ch++)
      if (this.bulkHead[c * FREE_N_CHANNELS + ch] !== 0) return true;
    return this.headCh3[c] !== 0;
  }

  /** `need_wait_for_krwp_work()`. */
  private slotBusy(slot: number): boolean {
    for (let ch = 0; ch < FREE_N_CHANNELS; ch++)
      if (this.freeHead[slot * FREE_N_CHANNELS + ch] !== 0) return true;
    return this.headFree[slot] !== 0;
  }

  /**
   * `__schedule_delayed_monitor_work()`: drain after KFREE_DRAIN_JIFFIES, or
   * after one jiffy once a page's worth is pending; only ever shortens.
   */
  private scheduleMonitor(c: number): void {
    const ctx = this.ctx;
    const m = ctx.m;
    const drain = ctx.opts.kfreeDrainJiffies;
    const delay = this.krcCount(c) >= KVFREE_BULK_MAX_ENTR ? 1 : drain;
    const dw = this.monitor[c]!;
    if (dw.work.pending) {
      // Armed at most KFREE_DRAIN_JIFFIES ahead, so the full delay never shortens it.
      if (delay >= drain) return;
      const j = m.jiffies;
      if (delay < this.monitorExpires[c]! - j) {
        m.modDelayedWork(dw, delay, c);
        this.monitorExpires[c] = j + delay;
      }
      return;
    }
    m.queueDelayedWork(dw, delay, c);
    this.monitorExpires[c] = m.jiffies + delay;
  }

  /** `kfree_rcu_monitor()`. */
  private monitorFn(c: number): void {
    this.drainReady(c);
    this.queueBatch(c);
    if (this.needOffload(c)) {
      const lock = this.locks[c]!;
      const flags = lock.lockIrqsave();
      this.scheduleMonitor(c);
      lock.unlockIrqrestore(flags);
    }
  }

  /** Whether a page's full snapshot has elapsed (`poll_state_synchronize_rcu_full()`). */
  private snapDone(page: number, site: number): boolean {
    const m = this.ctx.m;
    const norm = m.load(page + BN_SNAP_NORM, site);
    const exp = m.load(page + BN_SNAP_EXP, site);
    const w = this.ctx.waiters;
    return rcuSeqDoneExact(this.ctx.rs.readGpSeq(), norm) || rcuSeqDoneExact(w.expSeq, exp);
  }

  /**
   * `kvfree_rcu_drain_ready()`: free at once the pages (oldest first) and
   * the channel-3 list whose grace-period snapshot already elapsed.
   */
  private drainReady(c: number): void {
    const ctx = this.ctx;
    const m = ctx.m;
    const lock = this.locks[c]!;
    const flags = lock.lockIrqsave();
    const ready = this.readyPages;
    const readyCh = this.readyChannels;
    ready.length = 0;
    readyCh.length = 0;
    for (let ch = 0; ch < FREE_N_CHANNELS; ch++) {
      const li = c * FREE_N_CHANNELS + ch;
      let page = this.bulkTail[li]!;
      while (page !== 0) {
        if (!this.snapDone(page, this.siteBulk)) break;
        const prev = m.load(page + BN_PREV, this.sitePage);
        this.bulkCount[li] = this.bulkCount[li]! - m.load(page + BN_NR, this.siteBulk);
        this.listRemove(li, page);
        ready.push(page);
        readyCh.push(ch);
        page = prev;
      }
    }
    let headReady = 0;
    if (this.headCh3[c] !== 0 && ctx.waiters.elapsed(this.headGpSnap[c]!)) {
      headReady = this.headCh3[c]!;
      this.headCount[c] = 0;
      this.headCh3[c] = 0;
    }
    lock.unlockIrqrestore(flags);
    const before = ctx.freed;
    for (let i = 0; i < ready.length; i++) this.bulkFree(c, ready[i]!, readyCh[i]!);
    if (headReady !== 0) this.freeChain(headReady);
    this.freedWithoutExtraGp += ctx.freed - before;
  }

  /** `kvfree_rcu_queue_batch()`: detach what is pending into a free batch slot and queue its rcu_work. */
  private queueBatch(c: number): boolean {
    const ctx = this.ctx;
    const lock = this.locks[c]!;
    const flags = lock.lockIrqsave();
    let queued = false;
    for (let i = 0; i < KFREE_N_BATCHES; i++) {
      const slot = c * KFREE_N_BATCHES + i;
      if (this.slotBusy(slot)) continue;
      if (!this.needOffload(c)) break;
      for (let ch = 0; ch < FREE_N_CHANNELS; ch++) {
        const fi = slot * FREE_N_CHANNELS + ch;
        const li = c * FREE_N_CHANNELS + ch;
        if (this.freeHead[fi] === 0) {
          this.bulkCount[li] = 0;
          this.freeHead[fi] = this.bulkHead[li]!;
          this.freeTail[fi] = this.bulkTail[li]!;
          this.bulkHead[li] = 0;
          this.bulkTail[li] = 0;
        }
      }
      if (this.headFree[slot] === 0) {
        this.headFree[slot] = this.headCh3[c]!;
        const w = ctx.waiters;
        this.headFreeSnapNorm[slot] = w.snapshot();
        this.headFreeSnapExp[slot] = rcuSeqSnap(w.expSeq);
        this.headCount[c] = 0;
        this.headCh3[c] = 0;
      }
      queued = this.works[slot]!.queue();
      if (queued) this.batchesQueued++;
      break;
    }
    lock.unlockIrqrestore(flags);
    return queued;
  }

  /** `kfree_rcu_work()`: after the grace period, free the batch in slot `slot`. */
  private *kfreeRcuWork(c: number, slot: number): Generator<Wait<unknown>, void, unknown> {
    const ctx = this.ctx;
    const m = ctx.m;
    const lock = this.locks[c]!;
    const flags = lock.lockIrqsave();
    const heads: number[] = [];
    for (let ch = 0; ch < FREE_N_CHANNELS; ch++) {
      const fi = slot * FREE_N_CHANNELS + ch;
      heads.push(this.freeHead[fi]!);
      this.freeHead[fi] = 0;
      this.freeTail[fi] = 0;
    }
    const head = this.headFree[slot]!;
    const snapNorm = this.headFreeSnapNorm[slot]!;
    const snapExp = this.headFreeSnapExp[slot]!;
    this.headFree[slot] = 0;
    lock.unlockIrqrestore(flags);
    for (let ch = 0; ch < FREE_N_CHANNELS; ch++) {
      let page = heads[ch]!;
      while (page !== 0) {
        const next = m.load(page + BN_NEXT, this.sitePage);
        this.bulkFree(c, page, ch);
        yield m.condResched('mm/slab_common.c');
        page = next;
      }
    }
    if (head !== 0) {
      const w = ctx.waiters;
      if (rcuSeqDoneExact(ctx.rs.readGpSeq(), snapNorm) || rcuSeqDoneExact(w.expSeq, snapExp))
        this.freeChain(head);
      else this.prematureFree('kfree_rcu_work', head);
    }
  }

  /** `kvfree_rcu_bulk()`: free one page's pointers with kfree_bulk(), then recycle the page. */
  private bulkFree(c: number, page: number, ch: number): void {
    const ctx = this.ctx;
    const m = ctx.m;
    if (this.snapDone(page, this.siteBulk)) {
      const nr = m.load(page + BN_NR, this.siteBulk);
      const recs = this.scratch;
      for (let i = 0; i < nr; i++) recs[i] = m.load(page + BN_RECORDS + i * 8, this.siteBulk);
      if (ch === 0) {
        ctx.kfreeBulk(recs, nr);
      } else {
        for (let i = 0; i < nr; i++) ctx.kvfree(recs[i]!);
      }
    } else {
      this.prematureFree('kvfree_rcu_bulk', page);
    }
    const lock = this.locks[c]!;
    const flags = lock.lockIrqsave();
    const cached = this.putCachedBnode(c, page);
    lock.unlockIrqrestore(flags);
    this.pagesInUse--;
    if (!cached) ctx.pages.freePage(page);
  }

  /** `kvfree_rcu_list()`: free the channel-3 chain, walking the rcu_heads. */
  private freeChain(head: number): void {
    const ctx = this.ctx;
    const m = ctx.m;
    while (head !== 0) {
      const ptr = m.load(head + RCU_HEAD_FUNC, this.siteChain);
      const next = m.load(head + RCU_HEAD_NEXT, this.siteChain);
      ctx.kvfree(ptr);
      head = next;
    }
  }

  /** The WARN_ON_ONCE guarding against freeing before the grace period: the objects are leaked. */
  private prematureFree(fn: string, where: number): void {
    const ctx = this.ctx;
    ctx.m.warn({
      kind: 'rcu-premature-free',
      site: 'mm/slab_common.c',
      fn,
      message: `WARN_ON_ONCE(!poll_state_synchronize_rcu_full(&bnode->gp_snap)) at ${where.toString(16)}`,
    });
  }

  // ---- shrinker -------------------------------------------------------------------------

  /** `kfree_rcu_shrink_count()`: also makes every CPU back off its page-cache refill. */
  private shrinkCount(_sc: RcuShrinkControl): number {
    let count = 0;
    for (let c = 0; c < this.ctx.rs.nr; c++) {
      count += this.krcCount(c) + this.nrBkvObjs[c]!;
      this.backoff[c] = 1;
    }
    return count === 0 ? RCU_SHRINK_EMPTY : count;
  }

  /** `kfree_rcu_shrink_scan()`: drain page caches and run the monitor inline. */
  private shrinkScan(sc: RcuShrinkControl): number {
    let freed = 0;
    for (let c = 0; c < this.ctx.rs.nr; c++) {
      const count = this.krcCount(c) + this.drainPageCache(c);
      this.monitorFn(c);
      sc.nrToScan -= count;
      freed += count;
      if (sc.nrToScan <= 0) break;
    }
    return freed === 0 ? RCU_SHRINK_STOP : freed;
  }

  // ---- barrier and statistics --------------------------------------------------------------

  /** `__kvfree_rcu_barrier()`. */
  *barrier(): Generator<Wait<unknown>, void, unknown> {
    const ctx = this.ctx;
    const m = ctx.m;
    const n = ctx.rs.nr;
    for (let c = 0; c < n; c++) {
      if (!this.needOffload(c)) continue;
      for (;;) {
        const queued = this.queueBatch(c);
        if (queued || !this.needOffload(c)) break;
        for (let i = 0; i < KFREE_N_BATCHES; i++)
          yield* this.works[c * KFREE_N_BATCHES + i]!.flush(ctx.rcuBarrier);
      }
    }
    for (let c = 0; c < n; c++) {
      yield* m.cancelDelayedWorkSync(this.monitor[c]!);
      for (let i = 0; i < KFREE_N_BATCHES; i++)
        yield* this.works[c * KFREE_N_BATCHES + i]!.flush(ctx.rcuBarrier);
    }
  }

  /** Pages cached on every CPU. */
  pagesCached(): number {
    let s = 0;
    for (let c = 0; c < this.ctx.rs.nr; c++) s += this.nrBkvObjs[c]!;
    return s;
  }

  stats(): KvfreeRcuStats {
    const ctx = this.ctx;
    const cached = this.pagesCached();
    return {
      strategy: this.name,
      queued: ctx.queued,
      freed: ctx.freed,
      pending: ctx.queued - ctx.freed - ctx.leaked - ctx.sheafQueued,
      headlessInline: ctx.headlessInline,
      chained: ctx.chained,
      sheafQueued: ctx.sheafQueued,
      pagesAllocated: this.pagesAllocated,
      pageAllocFailures: this.pageAllocFailures,
      pagesInUse: this.pagesInUse,
      pagesCached: cached,
      batchesQueued: this.batchesQueued,
      freedWithoutExtraGp: this.freedWithoutExtraGp,
      leaked: ctx.leaked,
      bytesHeld: (this.pagesInUse + cached) * KVFREE_PAGE_SIZE + Math.max(0, ctx.pendingBytes),
    };
  }
}
