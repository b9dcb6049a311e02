import type { SpawnOptions, Wait } from '@sim/cpu';
import { __GFP_IO, __GFP_KSWAPD_RECLAIM, GFP_KERNEL } from '@sim/gfp';
import { DEF_PRIORITY, MAX_NR_ZONES, MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX } from './constants.js';
import {
  LRU_ACTIVE_ANON,
  LRU_ACTIVE_FILE,
  LRU_INACTIVE_ANON,
  LRU_INACTIVE_FILE,
  type Node,
} from './node.js';
import type { BuddyCore } from './page-alloc.js';
import { PageFlag } from './page-map.js';
import { doShrinkSlab } from './shrinker.js';
import { intSqrt } from './watermarks.js';
import { ZONE_RECLAIM_ACTIVE, type Zone } from './zone.js';

/** What one reclaim pass is doing (`struct scan_control`). @internal */
export interface ScanControl {
  readonly gfp: number;
  priority: number;
  /** Highest zone slot whose pages may be reclaimed (`reclaim_idx`). */
  readonly reclaimIdx: number;
  readonly nrToReclaim: number;
  readonly kswapd: boolean;
  nrScanned: number;
  nrReclaimed: number;
}

/**
 * Page reclaim (mm/vmscan.c and mm/shrinker.c): the LRU lists of each node,
 * `shrink_node()` over them and the shrinkers, direct reclaim
 * (`try_to_free_pages()`), the kswapd kthread (`balance_pgdat()`), its
 * wakeup, and `should_reclaim_retry()`.
 * @internal
 */
export class Vmscan {
  private readonly fnTryToFree: number;
  private readonly fnShrinkNode: number;
  private readonly fnBalance: number;

  constructor(private readonly core: BuddyCore) {
    const m = core.m;
    this.fnTryToFree = m.fnId('try_to_free_pages');
    this.fnShrinkNode = m.fnId('shrink_node');
    this.fnBalance = m.fnId('balance_pgdat');
  }

  // ==== LRU lists ======================================================================

  /** `folio_add_lru()`: put an allocated order-0 page on its node's inactive list. */
  lruAdd(pfn: number, anon: boolean, owner: number): void {
    const core = this.core;
    const pm = core.pm;
    const zone = core.zoneOf(pfn)!;
    const node = core.nodes[zone.nid]!;
    const lru = anon ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
    pm.flags[pfn] =
      (pm.flags[pfn]! & ~(PageFlag.ACTIVE | PageFlag.ANON)) |
      PageFlag.LRU |
      (anon ? PageFlag.ANON : 0);
    pm.owner[pfn] = owner;
    pm.add(pfn, node.lruHead[lru]!);
    pm.touch(pfn);
    node.lruSize[lru]!++;
    zone.lruPages[lru]!++;
  }

  /** Which LRU list a page is on. */
  private lruOf(pfn: number): number {
    const f = this.core.pm.flags[pfn]!;
    return ((f & PageFlag.ANON) !== 0 ? 0 : 2) + ((f & PageFlag.ACTIVE) !== 0 ? 1 : 0);
  }

  /** `folio_del_from_lru_list()`: take a page off its LRU list (it stays allocated). */
  lruDel(pfn: number): void {
    const core = this.core;
    const pm = core.pm;
    const zone = core.zoneOf(pfn)!;
    const node = core.nodes[zone.nid]!;
    const lru = this.lruOf(pfn);
    pm.del(pfn);
    node.lruSize[lru]!--;
    zone.lruPages[lru]!--;
    pm.flags[pfn] =
      pm.flags[pfn]! & ~(PageFlag.LRU | PageFlag.ACTIVE | PageFlag.REFERENCED | PageFlag.ANON);
    pm.owner[pfn] = 0;
  }

  /** Move a page to the head of another LRU list of its node. */
  private lruMove(pfn: number, to: number): void {
    const core = this.core;
    const pm = core.pm;
    const zone = core.zoneOf(pfn)!;
    const node = core.nodes[zone.nid]!;
    const from = this.lruOf(pfn);
    pm.del(pfn);
    node.lruSize[from]!--;
    zone.lruPages[from]!--;
    pm.add(pfn, node.lruHead[to]!);
    node.lruSize[to]!++;
    zone.lruPages[to]!++;
    if ((to & 1) === 1) pm.flags[pfn] = pm.flags[pfn]! | PageFlag.ACTIVE;
    else pm.flags[pfn] = pm.flags[pfn]! & ~PageFlag.ACTIVE;
  }

  /**
   * `folio_mark_accessed()`: the first access sets PG_referenced, a second
   * on an inactive page activates it.
   */
  markAccessed(pfn: number): void {
    const pm = this.core.pm;
    const f = pm.flags[pfn]!;
    if ((f & PageFlag.LRU) === 0) return;
    if ((f & PageFlag.REFERENCED) === 0) {
      pm.flags[pfn] = f | PageFlag.REFERENCED;
    } else if ((f & PageFlag.ACTIVE) === 0) {
      pm.flags[pfn] = f & ~PageFlag.REFERENCED;
      this.lruMove(pfn, this.lruOf(pfn) + 1);
      this.core.events.pgactivate++;
    }
    pm.touch(pfn);
  }

  /** Swap slots left. */
  private swapFree(): number {
    return this.core.swapPages - this.core.swapUsed;
  }

  /** `zone_reclaimable_pages()`: file LRU pages, and anon when swap has room. */
  zoneReclaimable(zone: Zone): number {
    let n = zone.lruPages[LRU_INACTIVE_FILE]! + zone.lruPages[LRU_ACTIVE_FILE]!;
    if (this.swapFree() > 0)
      n += zone.lruPages[LRU_INACTIVE_ANON]! + zone.lruPages[LRU_ACTIVE_ANON]!;
    return n;
  }

  // ==== shrinking ======================================================================

  /** `inactive_is_low()`: the inactive list should be refilled from the active one. */
  private inactiveIsLow(node: Node, inactiveLru: number): boolean {
    const inactive = node.lruSize[inactiveLru]!;
    const active = node.lruSize[inactiveLru + 1]!;
    const gb = (inactive + active) >> 18;
    const ratio = gb > 0 ? intSqrt(10 * gb) : 1;
    return inactive * ratio < active;
  }

  /** `shrink_active_list()`: move `nr` pages from the active tail to the inactive list. */
  private shrinkActiveList(node: Node, nr: number, activeLru: number, sc: ScanControl): void {
    const core = this.core;
    const pm = core.pm;
    const head = node.lruHead[activeLru]!;
    const m = core.m;
    for (let i = 0; i < nr; i++) {
      const pfn = pm.prev[head]!;
      if (pfn === head) break;
      sc.nrScanned++;
      m.charge(core.opts.reclaimCosts.scanPage);
      pm.inspect(pfn);
      pm.flags[pfn] = pm.flags[pfn]! & ~PageFlag.REFERENCED;
      this.lruMove(pfn, activeLru - 1);
      core.events.pgdeactivate++;
    }
  }

  /**
   * `shrink_inactive_list()` + `shrink_folio_list()`: from the inactive tail,
   * activate referenced pages, free clean file pages, write anonymous pages to
   * swap (when there is swap and the caller allows IO), keep the rest.
   */
  private shrinkInactiveList(node: Node, nr: number, lru: number, sc: ScanControl): void {
    const core = this.core;
    const pm = core.pm;
    const m = core.m;
    const costs = core.opts.reclaimCosts;
    const head = node.lruHead[lru]!;
    const anon = lru === LRU_INACTIVE_ANON;
    let budget = node.lruSize[lru]!;
    for (let i = 0; i < nr && budget > 0; budget--) {
      const pfn = pm.prev[head]!;
      if (pfn === head) break;
      const zone = core.zoneOf(pfn)!;
      if (zone.slot > sc.reclaimIdx) {
        // Not in a zone this reclaim may use: rotate (isolate_lru_folios() skips it).
        pm.del(pfn);
        pm.add(pfn, head);
        continue;
      }
      i++;
      sc.nrScanned++;
      if (sc.kswapd) core.events.pgscanKswapd++;
      else core.events.pgscanDirect++;
      m.charge(costs.scanPage);
      pm.inspect(pfn);
      const f = pm.flags[pfn]!;
      if ((f & PageFlag.REFERENCED) !== 0) {
        pm.flags[pfn] = f & ~PageFlag.REFERENCED;
        this.lruMove(pfn, lru + 1);
        core.events.pgactivate++;
        continue;
      }
      if (anon) {
        if (this.swapFree() <= 0 || (sc.gfp & __GFP_IO) === 0) {
          this.lruMove(pfn, lru + 1);
          core.events.pgactivate++;
          continue;
        }
        core.swapUsed++;
        core.events.pswpout++;
        m.charge(costs.swapOutPage);
      } else {
        m.charge(costs.freeFilePage);
      }
      const owner = pm.owner[pfn]!;
      this.lruDel(pfn);
      const w = owner === 0 ? null : core.workloads[owner];
      if (w) w.pageReclaimed(pfn, anon);
      core.freeFrozenPages(pfn, 0, 0);
      sc.nrReclaimed++;
      if (sc.kswapd) core.events.pgstealKswapd++;
      else core.events.pgstealDirect++;
    }
  }

  /**
   * `shrink_lruvec()` with `get_scan_count()`: scan each list by its size
   * shifted by the priority (anon weighted by swappiness, and only with
   * swap), in SWAP_CLUSTER_MAX chunks, until enough is reclaimed.
   */
  private shrinkLruvec(node: Node, sc: ScanControl): void {
    const core = this.core;
    const canAnon = this.swapFree() > 0 && core.opts.swappiness > 0;
    const nr = [0, 0, 0, 0];
    const ap = canAnon ? core.opts.swappiness : 0;
    const fp = 200 - core.opts.swappiness;
    for (let lru = 0; lru < 4; lru++) {
      const isAnon = lru < 2;
      if (isAnon && !canAnon) continue;
      const size = node.lruSize[lru]!;
      let scan = size >> sc.priority;
      if (scan === 0 && size > 0) scan = Math.min(size, SWAP_CLUSTER_MAX);
      if (canAnon) scan = Math.floor((scan * (isAnon ? ap : fp)) / (ap + fp)) || Math.min(scan, 1);
      nr[lru] = scan;
    }
    while (nr[LRU_INACTIVE_ANON]! > 0 || nr[LRU_ACTIVE_FILE]! > 0 || nr[LRU_INACTIVE_FILE]! > 0) {
      for (let lru = 0; lru < 4; lru++) {
        if (nr[lru]! <= 0) continue;
        const n = Math.min(nr[lru]!, SWAP_CLUSTER_MAX);
        nr[lru]! -= n;
        if ((lru & 1) === 1) {
          if (this.inactiveIsLow(node, lru - 1)) this.shrinkActiveList(node, n, lru, sc);
        } else {
          this.shrinkInactiveList(node, n, lru, sc);
        }
      }
      if (!sc.kswapd && sc.nrReclaimed >= sc.nrToReclaim) break;
    }
    if (canAnon && this.inactiveIsLow(node, LRU_INACTIVE_ANON)) {
      this.shrinkActiveList(node, SWAP_CLUSTER_MAX, LRU_ACTIVE_ANON, sc);
    }
  }

  /**
   * `shrink_slab()`: run every shrinker at this priority. Returns the pages
   * the shrinkers freed back to the page allocator (`reclaim_state`).
   */
  shrinkSlab(gfp: number, nid: number, priority: number): number {
    const core = this.core;
    // Progress is what flush_reclaim_state() adds: slab pages accounted by
    // mm_account_reclaimed_pages(), not pages a shrinker frees itself.
    const before = core.reclaimedSlabPages;
    for (const s of core.shrinkers.slice()) {
      if (!s.active) continue;
      if (s.spec.numaAware !== true && nid !== 0) continue;
      doShrinkSlab(s, gfp, nid, priority, (n) => {
        core.events.slabsScanned += n;
      });
    }
    return core.reclaimedSlabPages - before;
  }

  /** `shrink_node()`: the LRU lists, then the shrinkers; progress resets kswapd's failure count. */
  shrinkNode(node: Node, sc: ScanControl): void {
    const core = this.core;
    const m = core.m;
    m.fnEnter(this.fnShrinkNode);
    const before = sc.nrReclaimed;
    try {
      this.shrinkLruvec(node, sc);
      sc.nrReclaimed += this.shrinkSlab(sc.gfp, node.nid, sc.priority);
    } finally {
      m.fnExit();
    }
    if (sc.nrReclaimed > before) node.kswapdFailures = 0;
  }

  // ==== direct reclaim =================================================================

  /**
   * `__perform_reclaim()`: direct reclaim under the fs_reclaim annotation
   * with PF_MEMALLOC set (so allocations from reclaim use the reserves and do
   * not recurse into reclaim). Returns pages reclaimed.
   */
  performReclaim(gfp: number, order: number, zonelist: readonly Zone[], highest: number): number {
    const core = this.core;
    const m = core.m;
    const scope = core.memallocOf(m.current);
    core.locking.fsReclaimAcquire(gfp);
    const cookie = scope.noreclaimSave();
    let progress = 0;
    try {
      progress = this.tryToFreePages(zonelist, order, gfp, highest);
    } finally {
      scope.noreclaimRestore(cookie);
      core.locking.fsReclaimRelease(gfp);
    }
    return progress;
  }

  /** `try_to_free_pages()` / `do_try_to_free_pages()`: shrink the zonelist's nodes at rising priority. */
  tryToFreePages(zonelist: readonly Zone[], _order: number, gfp: number, highest: number): number {
    const core = this.core;
    const m = core.m;
    m.fnEnter(this.fnTryToFree);
    core.events.allocstall[highest]!++;
    const sc: ScanControl = {
      gfp,
      priority: DEF_PRIORITY,
      reclaimIdx: highest,
      nrToReclaim: SWAP_CLUSTER_MAX,
      kswapd: false,
      nrScanned: 0,
      nrReclaimed: 0,
    };
    const zones = zonelist.filter((z) => z.slot <= highest);
    for (const z of zones) z.flags |= ZONE_RECLAIM_ACTIVE;
    try {
      do {
        let lastNid = -1;
        for (const z of zones) {
          if (z.nid === lastNid) continue;
          lastNid = z.nid;
          this.shrinkNode(core.nodes[z.nid]!, sc);
          if (sc.nrReclaimed >= sc.nrToReclaim) break;
        }
        if (sc.nrReclaimed >= sc.nrToReclaim) break;
      } while (--sc.priority >= 0);
    } finally {
      for (const z of zones) z.flags &= ~ZONE_RECLAIM_ACTIVE;
      m.fnExit();
    }
    return sc.nrReclaimed;
  }

  /**
   * `should_reclaim_retry()`: give up after MAX_RECLAIM_RETRIES loops without
   * progress, or when no zone could meet the min watermark even with all its
   * reclaimable pages freed; before giving up, release high-atomic reserves.
   */
  shouldReclaimRetry(
    _gfp: number,
    order: number,
    zonelist: readonly Zone[],
    highest: number,
    allocFlags: number,
    didProgress: boolean,
    loopsIn: number,
    mt: number,
  ): { retry: boolean; noProgressLoops: number } {
    const core = this.core;
    let loops = loopsIn;
    if (didProgress && order <= 3) loops = 0;
    else loops++;
    let ret = false;
    if (loops <= MAX_RECLAIM_RETRIES) {
      for (const zone of zonelist) {
        const available = this.zoneReclaimable(zone) + zone.freePages;
        if (zone.watermarkOk(order, zone.wmarkMin, highest, allocFlags, available)) {
          ret = true;
          break;
        }
      }
    }
    if (!ret) ret = core.unreserveHighatomic(zonelist, mt, true);
    return { retry: ret, noProgressLoops: loops };
  }

  // ==== kswapd =========================================================================

  /** `pgdat_balanced()`: some eligible zone is above its high watermark (or none is managed). */
  pgdatBalanced(node: Node, order: number, highest: number): boolean {
    let managed = false;
    for (let s = 0; s <= highest && s < MAX_NR_ZONES; s++) {
      const z = node.zones[s]!;
      if (z.managed === 0) continue;
      managed = true;
      if (z.watermarkOk(order, z.wmarkHigh + z.watermarkBoost, highest, 0)) return true;
    }
    return !managed;
  }

  /**
   * `wakeup_kswapd()`: record the request and wake the node's kswapd unless it
   * is already running, the node is balanced (and not boosted), or kswapd
   * has failed too often. The wakeup takes the wait queue's `spinlock_t`.
   */
  wakeupKswapd(zone: Zone, _gfp: number, order: number, highest: number): void {
    const core = this.core;
    if (zone.managed === 0) return;
    const node = core.nodes[zone.nid]!;
    if (node.kswapd === null || node.kswapdWait === null) return;
    if (node.kswapdHighestZoneidx === MAX_NR_ZONES || node.kswapdHighestZoneidx < highest) {
      node.kswapdHighestZoneidx = highest;
    }
    if (node.kswapdOrder < order) node.kswapdOrder = order;
    // waitqueue_active(): a running kswapd will see the request anyway.
    if (node.kswapdRunning) return;
    let boosted = false;
    for (const z of node.zones) if (z.watermarkBoost > 0) boosted = true;
    if (
      node.kswapdFailures >= MAX_RECLAIM_RETRIES ||
      (this.pgdatBalanced(node, order, highest) && !boosted)
    ) {
      return;
    }
    if (!node.kswapdWakeup) {
      core.events.kswapdWakeups++;
      node.kswapdWakeup = true;
    }
    // A kswapd that has not reached its first sleep yet finds the request
    // when it starts; a sleeping one is woken under the wait queue's lock.
    if (!node.kswapdWait.active()) return;
    const lock = node.kswapdWaitLock!;
    const flags = lock.lockIrqsave();
    node.kswapdWait.wakeUp();
    lock.unlockIrqrestore(flags);
  }

  /** `wake_all_kswapds()`: once per node of the zonelist. */
  wakeAllKswapds(order: number, gfp: number, zonelist: readonly Zone[], highest: number): void {
    if ((gfp & __GFP_KSWAPD_RECLAIM) === 0) return;
    let lastNid = -1;
    for (const z of zonelist) {
      if (z.managed === 0 || z.nid === lastNid) continue;
      lastNid = z.nid;
      this.wakeupKswapd(z, gfp, order, highest);
    }
  }

  /** Spawn `kswapd<nid>` for a node. */
  startKswapd(node: Node): void {
    const core = this.core;
    const m = core.m;
    const self = this;
    const opts: SpawnOptions =
      node.cpus.length > 0
        ? { comm: `kswapd${node.nid}`, kthread: true, affinity: node.cpus }
        : { comm: `kswapd${node.nid}`, kthread: true };
    node.kswapd = m.spawn(function* kswapd() {
      for (;;) {
        if (!node.kswapdWakeup) {
          yield m.waitEvent(node.kswapdWait!, () => node.kswapdWakeup || m.kthreadShouldStop());
        }
        if (m.kthreadShouldStop()) return 0;
        node.kswapdWakeup = false;
        const order = node.kswapdOrder;
        const highest =
          node.kswapdHighestZoneidx === MAX_NR_ZONES ? MAX_NR_ZONES - 1 : node.kswapdHighestZoneidx;
        node.kswapdOrder = 0;
        node.kswapdHighestZoneidx = MAX_NR_ZONES;
        yield* self.balancePgdat(node, order, highest);
        // kswapd_try_to_sleep(): stay awake while unbalanced, unless hopeless.
        if (
          !self.pgdatBalanced(node, order, highest) &&
          node.kswapdFailures < MAX_RECLAIM_RETRIES
        ) {
          node.kswapdWakeup = true;
          if (node.kswapdOrder < order) node.kswapdOrder = order;
        }
      }
    }, opts);
  }

  /**
   * `balance_pgdat()`: reclaim the node at rising priority until an eligible
   * zone is above its high watermark, yielding between passes; a run that
   * reclaims nothing counts as a kswapd failure. Watermark boosts are
   * consumed.
   */
  *balancePgdat(
    node: Node,
    order: number,
    highest: number,
  ): Generator<Wait<unknown>, void, unknown> {
    const core = this.core;
    const m = core.m;
    node.kswapdRunning = true;
    core.events.pageoutrun++;
    const zones = node.zones.filter((z) => z.slot <= highest && z.managed > 0);
    for (const z of zones) z.flags |= ZONE_RECLAIM_ACTIVE;
    const scope = core.memallocOf(m.current);
    let total = 0;
    let priority = DEF_PRIORITY;
    try {
      do {
        if (this.pgdatBalanced(node, order, highest)) break;
        let nrToReclaim = 0;
        for (const z of zones)
          nrToReclaim += Math.max(z.wmarkHigh + z.watermarkBoost, SWAP_CLUSTER_MAX);
        const sc: ScanControl = {
          gfp: GFP_KERNEL,
          priority,
          reclaimIdx: highest,
          nrToReclaim,
          kswapd: true,
          nrScanned: 0,
          nrReclaimed: 0,
        };
        core.locking.fsReclaimAcquire(GFP_KERNEL);
        const cookie = scope.noreclaimSave();
        m.fnEnter(this.fnBalance);
        try {
          this.shrinkNode(node, sc);
        } finally {
          m.fnExit();
          scope.noreclaimRestore(cookie);
          core.locking.fsReclaimRelease(GFP_KERNEL);
        }
        total += sc.nrReclaimed;
        const raise = !(sc.nrScanned >= sc.nrToReclaim);
        if (raise || sc.nrReclaimed === 0) priority--;
        yield m.condResched();
      } while (priority >= 1);
    } finally {
      if (total === 0 && !this.pgdatBalanced(node, order, highest)) node.kswapdFailures++;
      for (const z of zones) {
        z.flags &= ~ZONE_RECLAIM_ACTIVE;
        z.watermarkBoost = 0;
      }
      node.kswapdRunning = false;
    }
  }
}
