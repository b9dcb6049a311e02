import type { Machine, Task } from '@sim/cpu';
import * as gfpMod from '@sim/gfp';
import { type BuddyOptions, type ResolvedBuddyOptions, resolveBuddyOptions } from './config.js';
import * as constants from './constants.js';
import { BuddyError, show } from './errors.js';
import { NODE_STAT_ITEMS, type NodeStatItem } from './node.js';
import type { OomKillRecord } from './oom-kill.js';
import * as pageAlloc from './page-alloc.js';
import { BuddyCore, registerCore } from './page-alloc.js';
import * as pageMap from './page-map.js';
import type { LockingPort, Page, PageAllocator } from './ports.js';
import * as ports from './ports.js';
import { buddyinfo, memAvailable, meminfo, vmstat, zoneinfo } from './proc.js';
import { showMemLines } from './show-mem.js';
import { checkShrinkerSpec, Shrinker, type ShrinkerSpec } from './shrinker.js';
import type { VmEventCounts } from './vm-events.js';
import { type SpawnWorkloadOptions, Workload, type WorkloadOptions } from './workload.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const { __GFP_HIGHMEM, __GFP_ZERO } = gfpMod;
const { MIGRATETYPE_NAMES, NR_PAGE_ORDERS } = constants;
const { FPI_TRYLOCK } = pageAlloc;
const { PageFlag, PageState } = pageMap;
const { NUMA_NO_NODE } = ports;

/** A zone as `zones()` reports it. @public */
export interface ZoneInfo {
  /** Node id. */
  readonly nid: number;
  /** Zone name (`DMA`, `DMA32`, `Normal`, `Movable`). */
  readonly name: string;
  /** Zone slot (`zone_idx()`). */
  readonly slot: number;
  /** First pfn (`zone_start_pfn`). */
  readonly startPfn: number;
  /** Pages spanned (`spanned_pages`). */
  readonly spanned: number;
  /** Pages present (`present_pages`). */
  readonly present: number;
  /** Pages managed by the buddy allocator (`managed_pages`). */
  readonly managed: number;
  /** NR_FREE_PAGES. */
  readonly free: number;
  /** Min watermark in pages, boost included (`min_wmark_pages()`). */
  readonly min: number;
  /** Low watermark, boost included. */
  readonly low: number;
  /** High watermark, boost included. */
  readonly high: number;
  /** Promo watermark, boost included. */
  readonly promo: number;
  /** `watermark_boost`. */
  readonly boost: number;
  /** `lowmem_reserve[]` by zone slot. */
  readonly lowmemReserve: readonly number[];
  /** Free blocks per order (`free_area[].nr_free`). */
  readonly nrFree: readonly number[];
  /** Pages on all CPUs' per-CPU lists. */
  readonly pcpCount: number;
  /** Per-CPU list `batch`. */
  readonly pcpBatch: number;
  /** Per-CPU list `high_min`. */
  readonly pcpHighMin: number;
  /** Per-CPU list `high_max`. */
  readonly pcpHighMax: number;
  /** `nr_reserved_highatomic`. */
  readonly reservedHighatomic: number;
}

/** What `pageInfo()` says about a page frame. @public */
export interface PageInfo {
  /** The page frame number. */
  readonly pfn: number;
  /** `reserved`, `buddy` (free, zone list), `pcp` (free, per-CPU list), `allocated`, `deferred` (free, trylock_free_pages) or `tail`. */
  readonly state: 'reserved' | 'buddy' | 'pcp' | 'allocated' | 'deferred' | 'tail';
  /** Block order (heads only; 0 for tails and reserved pages). */
  readonly order: number;
  /** Zone name, or null outside every zone. */
  readonly zone: string | null;
  /** Node id (-1 outside every zone). */
  readonly nid: number;
  /** Migratetype of the page's pageblock. */
  readonly migratetype: string;
  /** Page flags set: `lru`, `active`, `referenced`, `anon`, `pfmemalloc`, `head`. */
  readonly flags: readonly string[];
}

const STATE_NAMES = ['reserved', 'buddy', 'pcp', 'allocated', 'deferred', 'tail'] as const;

// Each check is one compare for the values every caller passes (`x >>> 0 === x`
// holds exactly for the integers in [0, 2^32)); anything else takes the full check.
function checkGfp(gfp: unknown, what: string): number {
  if (typeof gfp === 'number' && gfp >>> 0 === gfp) return gfp;
  throw new BuddyError(
    'BAD_GFP',
    'gfp',
    `${what}: gfp ${show(gfp)} is invalid: accepted an integer mask in [0, 0xffffffff]`,
  );
}

function checkOrder(order: unknown, what: string): number {
  if (typeof order === 'number' && order >>> 0 === order) return order;
  return checkOrderSlow(order, what);
}

function checkOrderSlow(order: unknown, what: string): number {
  if (typeof order !== 'number' || !Number.isInteger(order) || order < 0) {
    throw new BuddyError(
      'BAD_ORDER',
      'order',
      `${what}: order ${show(order)} is invalid: accepted an integer >= 0`,
    );
  }
  return order;
}

/**
 * The zoned buddy page allocator of one machine: zones and free areas,
 * watermarks, per-CPU page lists, kswapd, direct reclaim, shrinkers, the OOM
 * killer and `alloc_pages_nolock()`, with /proc views. Pages are pfns
 * ({@link Page}); addresses are physical byte addresses (the simulator's
 * direct map is the identity). Arguments are validated here; a wrong order,
 * pfn or mask throws {@link BuddyError} before anything changes. Models
 * mm/page_alloc.c, mm/vmscan.c, mm/oom_kill.c and friends.
 * @public
 */
export class BuddyAllocator implements PageAllocator {
  /** The machine it runs on. */
  readonly machine: Machine;
  /** Options in effect. */
  readonly options: ResolvedBuddyOptions;
  /** Page frames (highest pfn + 1). */
  readonly nrPages: number;
  /** NUMA nodes. */
  readonly nrNodes: number;
  private readonly core: BuddyCore;
  private nextPid = 10000;
  private nextWorkload = 1;

  /** @internal */
  constructor(machine: Machine, locking: LockingPort, options: ResolvedBuddyOptions) {
    this.machine = machine;
    this.options = options;
    this.core = new BuddyCore(machine, locking, options);
    registerCore(this, this.core);
    this.nrPages = this.core.nrPages;
    this.nrNodes = this.core.nodes.length;
  }

  private checkPage(page: unknown, what: string): number {
    if (typeof page === 'number' && page >>> 0 === page && page < this.nrPages) {
      if (this.core.pm.zone[page] !== 0) return page;
      throw new BuddyError('BAD_PAGE', 'page', `${what}: pfn ${page} belongs to no zone`);
    }
    throw new BuddyError(
      'BAD_PAGE',
      'page',
      `${what}: page ${show(page)} is invalid: accepted a pfn in [0, ${this.nrPages})`,
    );
  }

  private checkNid(nid: unknown, what: string): number {
    if (
      typeof nid !== 'number' ||
      !Number.isInteger(nid) ||
      nid < NUMA_NO_NODE ||
      nid >= this.nrNodes
    ) {
      throw new BuddyError(
        'BAD_NODE',
        'nid',
        `${what}: node ${show(nid)} is invalid: accepted NUMA_NO_NODE (-1) or 0..${this.nrNodes - 1}`,
      );
    }
    return nid;
  }

  // ==== allocation =====================================================================

  /**
   * `alloc_pages()`: the first pfn of 2^order contiguous pages from the local
   * node, or {@link NO_PAGE} (-1). An order above MAX_PAGE_ORDER is a
   * `WARN_ON_ONCE` and a failure, as in the kernel; a negative or fractional
   * order throws.
   */
  allocPages(gfp: number, order: number): Page {
    checkGfp(gfp, 'allocPages');
    checkOrder(order, 'allocPages');
    return this.core.allocPages(gfp, order, -1, false);
  }

  /** `alloc_pages_node()`: prefer node `nid` (NUMA_NO_NODE for the local one); {@link NO_PAGE} on failure. */
  allocPagesNode(nid: number, gfp: number, order: number): Page {
    this.checkNid(nid, 'allocPagesNode');
    checkGfp(gfp, 'allocPagesNode');
    checkOrder(order, 'allocPagesNode');
    return this.core.allocPages(gfp, order, nid, false);
  }

  /** `__get_free_pages()`: the address of 2^order pages, or 0. */
  getFreePages(gfp: number, order: number): number {
    checkGfp(gfp, 'getFreePages');
    checkOrder(order, 'getFreePages');
    const pfn = this.core.allocPages(gfp & ~__GFP_HIGHMEM, order, -1, false);
    return pfn < 0 ? 0 : pfn * 4096;
  }

  /** `__get_free_page()`: the address of one page, or 0. */
  getFreePage(gfp: number): number {
    return this.getFreePages(gfp, 0);
  }

  /** `free_page()`: free one page by address (0 is ignored). */
  freePage(addr: number): void {
    this.freePagesAddr(addr, 0);
  }

  /** `get_zeroed_page()`: the address of one zeroed page, or 0. */
  getZeroedPage(gfp: number): number {
    return this.getFreePages(checkGfp(gfp, 'getZeroedPage') | __GFP_ZERO, 0);
  }

  /**
   * `__free_pages()`: return an allocation. Freeing a page that is not the
   * head of an allocation of this order (a double free, a tail page) is
   * reported as "BUG: Bad page state" and ignored, as `free_pages_prepare()`
   * does.
   */
  freePages(page: Page, order: number): void {
    this.checkPage(page, 'freePages');
    checkOrder(order, 'freePages');
    const core = this.core;
    const m = core.m;
    m.fnEnter(core.fnFreePages);
    try {
      if (core.freeCheck(page, order)) core.freeFrozenPages(page, order, 0);
    } finally {
      m.fnExit();
    }
  }

  /**
   * `mm_account_reclaimed_pages()`: the slab allocator reports `nr` slab
   * pages it just freed, which reclaim counts as progress when a shrinker's
   * work released them.
   */
  accountReclaimedPages(nr: number): void {
    if (!Number.isSafeInteger(nr) || nr < 0) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'accountReclaimedPages',
        `accountReclaimedPages(${String(nr)}): accepted a non-negative page count`,
      );
    }
    this.core.reclaimedSlabPages += nr;
  }

  /** `free_pages()`: free by address (0 is ignored). */
  freePagesAddr(addr: number, order: number): void {
    if (addr === 0) return;
    this.freePages(this.virtToPage(addr), order);
  }

  /**
   * `alloc_pages_nolock()`: best-effort, reentrant, any context. Only
   * `__GFP_ACCOUNT` may be passed (anything else is a `VM_WARN_ON_ONCE`).
   * Never spins, never wakes kswapd, never reclaims, never warns;
   * {@link NO_PAGE} on PREEMPT_RT in NMI or hardirq, for orders above 3 (except the THP order),
   * when the min watermark is not met, or when both the per-CPU trylock and
   * the zone trylock fail.
   */
  allocPagesNolock(gfp: number, nid: number, order: number): Page {
    checkGfp(gfp, 'allocPagesNolock');
    this.checkNid(nid, 'allocPagesNolock');
    checkOrder(order, 'allocPagesNolock');
    return this.core.allocPagesNolock(gfp, nid, order);
  }

  /**
   * `free_pages_nolock()`: free from any context (NMI, under raw spinlocks):
   * per-CPU list by trylock, else `zone->lock` by trylock, else park the
   * block on `zone->trylock_free_pages` for the next locked free.
   */
  freePagesNolock(page: Page, order: number): void {
    this.checkPage(page, 'freePagesNolock');
    checkOrder(order, 'freePagesNolock');
    const core = this.core;
    const m = core.m;
    m.fnEnter(core.fnFreeNolock);
    try {
      if (core.freeCheck(page, order)) core.freeFrozenPages(page, order, FPI_TRYLOCK);
    } finally {
      m.fnExit();
    }
  }

  /** `page_address()`: the physical byte address of the page's first byte. */
  pageAddress(page: Page): number {
    if (typeof page !== 'number' || !Number.isInteger(page) || page < 0 || page >= this.nrPages) {
      throw new BuddyError(
        'BAD_PAGE',
        'page',
        `pageAddress: page ${show(page)} is invalid: accepted a pfn in [0, ${this.nrPages})`,
      );
    }
    return page * 4096;
  }

  /** `virt_to_page()`: the page holding byte address `addr`. */
  virtToPage(addr: number): Page {
    if (
      typeof addr !== 'number' ||
      !Number.isInteger(addr) ||
      addr < 0 ||
      addr >= this.nrPages * 4096
    ) {
      throw new BuddyError(
        'BAD_ADDRESS',
        'addr',
        `virtToPage: address ${show(addr)} is invalid: accepted an integer in [0, ${this.nrPages * 4096})`,
      );
    }
    return Math.floor(addr / 4096);
  }

  /** `virt_to_pfn()`: the same as {@link BuddyAllocator.virtToPage}, as pages are pfns. */
  virtToPfn(addr: number): Page {
    return this.virtToPage(addr);
  }

  /** `page_to_nid()`. */
  pageToNid(page: Page): number {
    this.checkPage(page, 'pageToNid');
    return this.core.zoneOf(page)!.nid;
  }

  /** `drain_all_pages(NULL)`: every CPU's per-CPU lists back to the buddy. */
  drainAllPages(): void {
    this.core.drainAllPages();
  }

  // ==== reclaim and memory consumers ===================================================

  /** Register a shrinker reclaim will call (`shrinker_alloc()` + `shrinker_register()`). */
  registerShrinker(spec: ShrinkerSpec): Shrinker {
    checkShrinkerSpec(spec);
    const list = this.core.shrinkers;
    const s = new Shrinker(spec, this.nrNodes, (x) => {
      const i = list.indexOf(x);
      if (i >= 0) list.splice(i, 1);
    });
    list.push(s);
    return s;
  }

  /** Registered shrinkers. */
  shrinkers(): readonly Shrinker[] {
    return this.core.shrinkers.slice();
  }

  /**
   * A memory consumer (an mm) without a task of its own, with a pid of its
   * own: call `fault()` on it from simulated code (e.g. in `runOn()`).
   */
  createWorkload(options: WorkloadOptions): Workload {
    this.checkWorkloadOptions(options);
    return this.newWorkload(options, null);
  }

  /**
   * A task that faults `pages` pages in steps, holds them, and exits; it is
   * a candidate for the OOM killer and exits when killed.
   */
  spawnWorkload(options: SpawnWorkloadOptions): Workload {
    this.checkWorkloadOptions(options);
    const pages = options.pages;
    if (!Number.isInteger(pages) || pages < 0) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'pages',
        `spawnWorkload pages ${show(pages)}: accepted an integer >= 0`,
      );
    }
    const step = options.pagesPerStep ?? 64;
    if (!Number.isInteger(step) || step < 1) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'pagesPerStep',
        `spawnWorkload pagesPerStep ${show(step)}: accepted an integer >= 1`,
      );
    }
    const stepNs = options.stepNs ?? 1_000_000;
    if (typeof stepNs !== 'number' || !(stepNs >= 0)) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'stepNs',
        `spawnWorkload stepNs ${show(stepNs)}: accepted ns >= 0`,
      );
    }
    const hold = options.holdNs ?? null;
    if (hold !== null && (typeof hold !== 'number' || !(hold >= 0))) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'holdNs',
        `spawnWorkload holdNs ${show(hold)}: accepted ns >= 0 or null`,
      );
    }
    const m = this.machine;
    let w: Workload | null = null;
    const comm = options.comm ?? (options.kind === 'anon' ? 'anon-hog' : 'cache-reader');
    const task = m.spawn(
      function* workload() {
        const me = w!;
        while (!me.killed && me.faulted < pages) {
          const want = Math.min(step, pages - me.faulted);
          me.fault(want);
          if (me.killed) break;
          yield m.sleep(stepNs);
        }
        if (!me.killed) {
          if (hold === null) yield me.killedCompletion.wait();
          else if (hold > 0)
            yield me.killedCompletion.waitTimeout(Math.max(1, Math.ceil(hold / m.tickNs)));
        }
        me.exit();
        return me.killed ? 'killed' : 'done';
      },
      options.cpu === undefined ? { comm } : { comm, cpu: options.cpu },
    );
    w = this.newWorkload({ ...options, comm }, task);
    return w;
  }

  private checkWorkloadOptions(o: WorkloadOptions): void {
    if (typeof o !== 'object' || o === null || (o.kind !== 'anon' && o.kind !== 'file')) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'kind',
        `workload kind ${show((o as { kind?: unknown })?.kind)}: accepted 'anon' or 'file'`,
      );
    }
    const adj = o.oomScoreAdj ?? 0;
    if (!Number.isInteger(adj) || adj < -1000 || adj > 1000) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'oomScoreAdj',
        `oomScoreAdj ${show(adj)}: accepted an integer in [-1000, 1000]`,
      );
    }
    if (o.nid !== undefined) this.checkNid(o.nid, 'workload');
  }

  private newWorkload(options: WorkloadOptions, task: Task | null): Workload {
    const core = this.core;
    const id = this.nextWorkload++;
    const w = new Workload(this, id, task === null ? this.nextPid++ : task.pid, options, task);
    core.workloads[id] = w;
    if (task !== null) core.mmSlot.set(task, w);
    return w;
  }

  /** Live workloads. */
  workloads(): readonly Workload[] {
    return this.core.workloads.filter((w): w is Workload => w !== null);
  }

  /** What the OOM killer has killed, in order. */
  oomKills(): readonly OomKillRecord[] {
    return this.core.oom.kills.slice();
  }

  /** `folio_mark_accessed()` on an LRU page. */
  markPageAccessed(page: Page): void {
    this.checkPage(page, 'markPageAccessed');
    this.core.vmscan.markAccessed(page);
  }

  /** The kswapd task of node `nid`, or null when kswapd is disabled. */
  kswapdTask(nid = 0): Task | null {
    this.checkNid(nid, 'kswapdTask');
    return this.core.nodes[Math.max(0, nid)]!.kswapd;
  }

  /**
   * `mod_node_page_state()` for counters other subsystems own (slab pages,
   * kernel stacks, page tables), so /proc/meminfo and the OOM report show
   * them. `delta` is in pages.
   */
  modNodePageState(nid: number, item: NodeStatItem, delta: number): void {
    this.checkNid(nid, 'modNodePageState');
    const i = NODE_STAT_ITEMS.indexOf(item);
    if (i < 0) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'item',
        `modNodePageState item ${show(item)}: accepted ${NODE_STAT_ITEMS.join(', ')}`,
      );
    }
    if (!Number.isInteger(delta)) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'delta',
        `modNodePageState delta ${show(delta)}: accepted an integer`,
      );
    }
    this.core.nodes[Math.max(0, nid)]!.stat[i]! += delta;
  }

  // ==== tunables =======================================================================

  /** `vm.min_free_kbytes` in effect. */
  get minFreeKbytes(): number {
    return this.core.minFreeKbytes;
  }

  /** Write `vm.min_free_kbytes` and recompute watermarks (`min_free_kbytes_sysctl_handler()`). */
  setMinFreeKbytes(kb: number): void {
    if (!Number.isInteger(kb) || kb < 128 || kb > 4 * 2 ** 30) {
      throw new BuddyError(
        'BAD_CONFIG',
        'minFreeKbytes',
        `minFreeKbytes = ${show(kb)} is invalid: accepted an integer in [128, ${4 * 2 ** 30}]`,
      );
    }
    this.core.setMinFreeKbytes(kb);
  }

  // ==== observability ==================================================================

  /** `totalram_pages()`: pages managed by the buddy allocator. */
  totalramPages(): number {
    return this.core.totalramPages();
  }

  /** NR_FREE_PAGES summed over zones (per-CPU list pages excluded, as in the kernel). */
  nrFreePages(): number {
    return this.core.freePagesTotal();
  }

  /** `si_mem_available()` in pages. */
  memAvailable(): number {
    return memAvailable(this.core);
  }

  /** Zones, populated or not, node by node. */
  zones(): ZoneInfo[] {
    const core = this.core;
    return core.zones.map((z) => {
      const p0 = z.perCpuPageset[0]!;
      return {
        nid: z.nid,
        name: z.name,
        slot: z.slot,
        startPfn: z.startPfn,
        spanned: z.spanned,
        present: z.present,
        managed: z.managed,
        free: z.freePages,
        min: z.wmarkMin + z.watermarkBoost,
        low: z.wmarkLow + z.watermarkBoost,
        high: z.wmarkHigh + z.watermarkBoost,
        promo: z.wmarkPromo + z.watermarkBoost,
        boost: z.watermarkBoost,
        lowmemReserve: Array.from(z.lowmemReserve),
        nrFree: Array.from(z.nrFree),
        pcpCount: core.pcpCount(z),
        pcpBatch: p0.batch,
        pcpHighMin: p0.highMin,
        pcpHighMax: p0.highMax,
        reservedHighatomic: z.nrReservedHighatomic,
      };
    });
  }

  /** What a page frame is and where it sits. */
  pageInfo(page: Page): PageInfo {
    if (typeof page !== 'number' || !Number.isInteger(page) || page < 0 || page >= this.nrPages) {
      throw new BuddyError(
        'BAD_PAGE',
        'page',
        `pageInfo: page ${show(page)} is invalid: accepted a pfn in [0, ${this.nrPages})`,
      );
    }
    const pm = this.core.pm;
    const z = this.core.zoneOf(page);
    const f = pm.flags[page]!;
    const flags: string[] = [];
    if ((f & PageFlag.LRU) !== 0) flags.push('lru');
    if ((f & PageFlag.ACTIVE) !== 0) flags.push('active');
    if ((f & PageFlag.REFERENCED) !== 0) flags.push('referenced');
    if ((f & PageFlag.ANON) !== 0) flags.push('anon');
    if ((f & PageFlag.PFMEMALLOC) !== 0) flags.push('pfmemalloc');
    if ((f & PageFlag.HEAD) !== 0) flags.push('head');
    const s = pm.state[page]!;
    return {
      pfn: page,
      state: STATE_NAMES[s]!,
      order: s === PageState.TAIL || s === PageState.RESERVED ? 0 : pm.order[page]!,
      zone: z?.name ?? null,
      nid: z?.nid ?? -1,
      migratetype: MIGRATETYPE_NAMES[pm.blockMt[page >>> 9]!]!,
      flags,
    };
  }

  /** Event counters (allocstall, kswapd wakeups, pgscan, pgsteal, OOM kills, failures, …). */
  events(): VmEventCounts {
    return this.core.events.snapshot();
  }

  /** `/proc/buddyinfo`. */
  buddyinfo(): string {
    return buddyinfo(this.core);
  }

  /** `/proc/zoneinfo`. */
  zoneinfo(): string {
    return zoneinfo(this.core);
  }

  /** `/proc/meminfo` (up to PageTables). */
  meminfo(): string {
    return meminfo(this.core);
  }

  /** `/proc/vmstat` (the counters the simulator keeps). */
  vmstat(): string {
    return vmstat(this.core);
  }

  /** The `Mem-Info:` dump of `show_mem()`. */
  showMem(): string {
    return `${showMemLines(this.core).join('\n')}\n`;
  }

  /** Free blocks per order summed over zones. */
  freeBlocksPerOrder(): number[] {
    const out = new Array<number>(NR_PAGE_ORDERS).fill(0);
    for (const z of this.core.zones)
      for (let o = 0; o < NR_PAGE_ORDERS; o++) out[o]! += z.nrFree[o]!;
    return out;
  }
}

/**
 * Build the page allocator of `machine` on `locking` (`@sim/locks`'
 * `createLocking(machine)`): lays out nodes and zones over the machine's
 * memory, reserves the struct page array, frees the rest to the buddy lists,
 * sets watermarks and per-CPU lists, and starts kswapd. Call it after the
 * boot-time structures (locks, per-CPU areas) other subsystems allocate
 * with `memblockAlloc()`, or leave them room with `memblockSlackBytes`.
 * @public
 */
export function createPageAllocator(
  machine: Machine,
  locking: LockingPort,
  options: BuddyOptions = {},
): BuddyAllocator {
  const resolved = resolveBuddyOptions(options, machine.memory.sizeBytes);
  return new BuddyAllocator(machine, locking, resolved);
}
