import {
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_HARDWALL,
  __GFP_NO_LOCKS,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL,
  __GFP_THISNODE,
  formatGfpMode,
  PAGE_ALLOC_COSTLY_ORDER,
  PF_MEMALLOC,
} from '@sim/gfp';
import {
  ALLOC_CPUSET,
  ALLOC_KSWAPD,
  ALLOC_MIN_RESERVE,
  ALLOC_NO_WATERMARKS,
  ALLOC_OOM,
  ALLOC_WMARK_HIGH,
  gfpPfmemallocFlags,
  gfpToAllocFlags,
} from './alloc-flags.js';
import { MAX_RECLAIM_RETRIES, ZoneIndex } from './constants.js';
import { BuddyError } from './errors.js';
import type { BuddyCore } from './page-alloc.js';
import { showMemLines } from './show-mem.js';
import type { Zone } from './zone.js';

/** Slowpath iterations after which an allocation counts as a livelock of the simulated kernel. */
const LIVELOCK_LOOPS = 64 * MAX_RECLAIM_RETRIES;

/**
 * The allocation slow path (`__alloc_pages_slowpath()` in mm/page_alloc.c)
 * and its failure report (`warn_alloc()`): what happens when the fast pass
 * over the zonelist at the low watermark found nothing.
 * @internal
 */
export class Slowpath {
  constructor(private readonly core: BuddyCore) {}

  /** The caller facts `gfp_to_alloc_flags()` and `__gfp_pfmemalloc_flags()` need. */
  callerFacts(): {
    rtTask: boolean;
    inTask: boolean;
    inServingSoftirq: boolean;
    inInterrupt: boolean;
    pfMemalloc: boolean;
    oomVictim: boolean;
  } {
    const m = this.core.m;
    const t = m.current;
    return {
      rtTask: t.prio < 100,
      inTask: m.inTask(),
      inServingSoftirq: m.inServingSoftirq(),
      inInterrupt: m.inInterrupt(),
      pfMemalloc: (this.core.memallocOf(t).flags & PF_MEMALLOC) !== 0,
      oomVictim: this.core.currentIsOomVictim(),
    };
  }

  /**
   * `__alloc_pages_slowpath()`: recompute alloc flags, wake kswapd, retry
   * with reserves, direct reclaim, retry policy (`__GFP_NORETRY`,
   * `__GFP_RETRY_MAYFAIL`, costly orders, `should_reclaim_retry()`), the OOM
   * killer, `__GFP_NOFAIL`, and `warn_alloc()` on failure. There is no
   * compaction (as with CONFIG_COMPACTION=n). Returns a pfn or -1.
   */
  alloc(
    gfp: number,
    order: number,
    zonelist: readonly Zone[],
    highest: number,
    mt: number,
    nid: number,
  ): number {
    const m = this.core.m;
    if ((gfp & __GFP_NO_LOCKS) !== 0) return -1;
    m.fnEnter(this.core.fnSlowpath);
    try {
      return this.allocInner(gfp, order, zonelist, highest, mt, nid);
    } finally {
      m.fnExit();
    }
  }

  private allocInner(
    gfp: number,
    order: number,
    zonelist: readonly Zone[],
    highest: number,
    mt: number,
    nid: number,
  ): number {
    const m = this.core.m;
    const canDirectReclaim = (gfp & __GFP_DIRECT_RECLAIM) !== 0;
    const nofail = (gfp & __GFP_NOFAIL) !== 0;
    const costly = order > PAGE_ALLOC_COSTLY_ORDER;
    const caller = this.callerFacts();
    if (nofail) {
      if (order > 1)
        this.core.warnOnce('nofail-order', '__alloc_pages_slowpath', 'WARN_ON_ONCE(order > 1)', {
          order,
        });
      if (!canDirectReclaim)
        this.core.warnOnce(
          'nofail-noreclaim',
          '__alloc_pages_slowpath',
          'WARN_ON_ONCE(!can_direct_reclaim)',
        );
      if (caller.pfMemalloc)
        this.core.warnOnce(
          'nofail-memalloc',
          '__alloc_pages_slowpath',
          'WARN_ON_ONCE(current->flags & PF_MEMALLOC)',
        );
    }
    let allocFlags = gfpToAllocFlags(gfp, order, caller);
    if ((allocFlags & ALLOC_KSWAPD) !== 0)
      this.core.vmscan.wakeAllKswapds(order, gfp, zonelist, highest);
    let pfn = this.core.getPageFromFreelist(gfp, order, allocFlags, zonelist, highest, mt, nid);
    if (pfn >= 0) return pfn;

    let noProgressLoops = 0;
    let loops = 0;
    for (;;) {
      if (++loops > LIVELOCK_LOOPS) this.livelock(gfp, order);
      // retry:
      if ((allocFlags & ALLOC_KSWAPD) !== 0)
        this.core.vmscan.wakeAllKswapds(order, gfp, zonelist, highest);
      const reserve = gfpPfmemallocFlags(gfp, this.callerFacts());
      if (reserve !== 0) allocFlags = reserve | (allocFlags & ALLOC_KSWAPD);
      pfn = this.core.getPageFromFreelist(gfp, order, allocFlags, zonelist, highest, mt, nid);
      if (pfn >= 0) return pfn;
      let failed = false;
      if (!canDirectReclaim) failed = true;
      else if ((this.core.memallocOf(m.current).flags & PF_MEMALLOC) !== 0) failed = true;
      let progress = 0;
      if (!failed) {
        const r = this.directReclaim(gfp, order, allocFlags, zonelist, highest, mt, nid);
        progress = r.progress;
        if (r.pfn >= 0) return r.pfn;
        if ((gfp & __GFP_NORETRY) !== 0) failed = true;
        // Costly orders retry only when compaction can help (with
        // __GFP_RETRY_MAYFAIL); there is no compaction here.
        else if (costly) failed = true;
      }
      if (!failed) {
        const r = this.core.vmscan.shouldReclaimRetry(
          gfp,
          order,
          zonelist,
          highest,
          allocFlags,
          progress > 0,
          noProgressLoops,
          mt,
        );
        noProgressLoops = r.noProgressLoops;
        if (r.retry) continue;
        const oom = this.mayOom(gfp, order, zonelist, highest, mt, nid);
        if (oom.pfn >= 0) return oom.pfn;
        if (
          this.core.currentIsOomVictim() &&
          ((allocFlags & ALLOC_OOM) !== 0 || (gfp & __GFP_NOMEMALLOC) !== 0)
        ) {
          failed = true;
        } else if (oom.progress) {
          noProgressLoops = 0;
          continue;
        } else {
          failed = true;
        }
      }
      // nopage:
      if (nofail && canDirectReclaim) {
        pfn = this.cpusetFallback(gfp, order, ALLOC_MIN_RESERVE, zonelist, highest, mt, nid);
        if (pfn >= 0) return pfn;
        m.charge(this.core.opts.reclaimCosts.scanPage);
        continue;
      }
      this.warnAlloc(gfp, order);
      return -1;
    }
  }

  /** `__alloc_pages_direct_reclaim()`: reclaim, then retry; drain pcp lists and high-atomic reserves once. */
  private directReclaim(
    gfp: number,
    order: number,
    allocFlags: number,
    zonelist: readonly Zone[],
    highest: number,
    mt: number,
    nid: number,
  ): { pfn: number; progress: number } {
    const progress = this.core.vmscan.performReclaim(gfp, order, zonelist, highest);
    if (progress === 0) return { pfn: -1, progress };
    let pfn = this.core.getPageFromFreelist(gfp, order, allocFlags, zonelist, highest, mt, nid);
    if (pfn < 0) {
      this.core.unreserveHighatomic(zonelist, mt, false);
      this.core.drainAllPages();
      pfn = this.core.getPageFromFreelist(gfp, order, allocFlags, zonelist, highest, mt, nid);
    }
    return { pfn, progress };
  }

  /** `__alloc_pages_may_oom()`. */
  private mayOom(
    gfp: number,
    order: number,
    zonelist: readonly Zone[],
    highest: number,
    mt: number,
    nid: number,
  ): { pfn: number; progress: boolean } {
    const m = this.core.m;
    if (!this.core.oomLock.trylock()) {
      // Somebody else is killing: schedule_timeout_uninterruptible(1).
      m.charge(m.tickNs);
      return { pfn: -1, progress: true };
    }
    let pfn = -1;
    let progress = false;
    try {
      pfn = this.core.getPageFromFreelist(
        (gfp | __GFP_HARDWALL) & ~__GFP_DIRECT_RECLAIM,
        order,
        ALLOC_WMARK_HIGH | ALLOC_CPUSET,
        zonelist,
        highest,
        mt,
        nid,
      );
      if (pfn >= 0) return { pfn, progress };
      if (order > PAGE_ALLOC_COSTLY_ORDER) return { pfn, progress };
      if ((gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE)) !== 0) return { pfn, progress };
      if (highest < ZoneIndex.NORMAL) return { pfn, progress };
      const killed = this.core.oom.outOfMemory(gfp, order);
      const nofail = (gfp & __GFP_NOFAIL) !== 0;
      if (!killed && nofail && (gfp & __GFP_NOWARN) === 0) {
        this.core.warnOnce(
          'nofail-oom',
          '__alloc_pages_may_oom',
          'WARN_ON_ONCE_GFP(gfp_mask & __GFP_NOFAIL)',
        );
      }
      if (killed || nofail) {
        progress = true;
        if (nofail) {
          pfn = this.cpusetFallback(gfp, order, ALLOC_NO_WATERMARKS, zonelist, highest, mt, nid);
        }
      }
      return { pfn, progress };
    } finally {
      this.core.oomLock.unlock();
    }
  }

  /**
   * Try the freelists within the cpuset, then anywhere: the last resort of
   * __GFP_NOFAIL callers. Models `__alloc_pages_cpuset_fallback()`.
   */
  private cpusetFallback(
    gfp: number,
    order: number,
    allocFlags: number,
    zonelist: readonly Zone[],
    highest: number,
    mt: number,
    nid: number,
  ): number {
    const c = this.core;
    const pfn = c.getPageFromFreelist(
      gfp,
      order,
      allocFlags | ALLOC_CPUSET,
      zonelist,
      highest,
      mt,
      nid,
    );
    if (pfn >= 0) return pfn;
    return c.getPageFromFreelist(gfp, order, allocFlags, zonelist, highest, mt, nid);
  }

  /** A simulated-kernel livelock: report it as the soft-lockup watchdog would and stop. */
  private livelock(gfp: number, order: number): never {
    const m = this.core.m;
    const t = m.current;
    m.report({
      kind: 'soft-lockup',
      lines: [`watchdog: BUG: soft lockup - CPU#${m.cpu} stuck for 22s! [${t.comm}:${t.pid}]`],
      details: { gfp, order, reason: 'page allocator slow path made no progress' },
      withStack: true,
    });
    throw new BuddyError(
      'NO_MEMORY',
      'gfp',
      `allocation of order ${order} with mode:${formatGfpMode(gfp)} loops forever in the slow path (${LIVELOCK_LOOPS} rounds without a page or an OOM kill): the simulated kernel would hang here`,
    );
  }

  /** `warn_alloc()`: the "page allocation failure" report, rate-limited to one per 10 s. */
  warnAlloc(gfp: number, order: number): void {
    const m = this.core.m;
    if ((gfp & __GFP_NOWARN) !== 0) return;
    if ((gfp & __GFP_DMA) !== 0 && !this.core.gfpZoneConfig.dma) return;
    const ok = this.core.nopageRs.allow(m.jiffies, (missed) =>
      m.printk('warning', `warn_alloc: ${missed} callbacks suppressed`),
    );
    if (!ok) return;
    const t = m.current;
    const line = `${t.comm}: page allocation failure: order:${order}, mode:${formatGfpMode(gfp)}, nodemask=(null),cpuset=/,mems_allowed=${this.core.memsAllowed()}`;
    m.report({
      kind: 'page-alloc-failure',
      lines: [line],
      withStack: true,
      frames: ['warn_alloc'],
      level: 'warning',
      details: { order, gfp, mode: formatGfpMode(gfp) },
    });
    m.printk('warning', showMemLines(this.core, this.core.highestSlot(gfp)).join('\n'));
  }
}
