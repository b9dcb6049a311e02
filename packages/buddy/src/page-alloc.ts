import type { Machine, Task, TaskSlot } from '@sim/cpu';
import { WaitQueueHead } from '@sim/cpu';
import type { MemallocScope } from '@sim/gfp';
import * as gfpMod from '@sim/gfp';
import * as allocFlagsMod from './alloc-flags.js';
import type { ResolvedBuddyOptions } from './config.js';
import * as constants from './constants.js';
import { BuddyError } from './errors.js';
import { Node } from './node.js';
import { OomKiller } from './oom-kill.js';
import * as pageMap from './page-map.js';
import { PageMap } from './page-map.js';
import { PerCpuPages } from './pcp.js';
import type { IrqLocalLock, LlistPort, LockingPort, TrylockMutex } from './ports.js';
import { RateLimitState } from './ratelimit.js';
import type { Shrinker } from './shrinker.js';
import { Slowpath } from './slowpath.js';
import { VmEvents } from './vm-events.js';
import { Vmscan } from './vmscan.js';
import {
  calculateMinFreeKbytes,
  computeLowmemReserve,
  computeWatermarks,
  pcpHighBounds,
  zoneBatchsize,
} from './watermarks.js';
import type { Workload } from './workload.js';
import * as zoneMod from './zone.js';
import { Zone, type ZoneLock } from './zone.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const {
  __GFP_ACCOUNT,
  __GFP_BITS_MASK,
  __GFP_COMP,
  __GFP_KSWAPD_RECLAIM,
  __GFP_NO_LOCKS,
  __GFP_NOMEMALLOC,
  __GFP_NOWARN,
  __GFP_THISNODE,
  __GFP_ZERO,
  gfpMigratetype,
  gfpZone,
} = gfpMod;
const {
  ALLOC_HIGHATOMIC,
  ALLOC_KSWAPD,
  ALLOC_NO_WATERMARKS,
  ALLOC_NOFRAGMENT,
  ALLOC_TRYLOCK,
  ALLOC_WMARK_LOW,
  ALLOC_WMARK_MIN,
} = allocFlagsMod;
const {
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MAX_RECLAIM_RETRIES,
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  NR_PCP_LISTS,
  orderToPindex,
  PAGEBLOCK_ORDER,
  pcpAllowedOrder,
  pindexToOrder,
  ZoneIndex,
} = constants;
const { LIST_HEAD_SIZE, PAGE_LLIST_OFFSET, PageFlag, PageState, STRUCT_PAGE_SIZE } = pageMap;
const { ZONE_BELOW_HIGH, ZONE_BOOSTED_WATERMARK } = zoneMod;

const cores = new WeakMap<object, BuddyCore>();

/** Associate a public allocator object with its core. @internal */
export function registerCore(owner: object, core: BuddyCore): void {
  cores.set(owner, core);
}

/** The core behind a public allocator object. @internal */
export function coreOf(owner: object): BuddyCore {
  const c = cores.get(owner);
  if (c === undefined) throw new TypeError('not a BuddyAllocator created by createPageAllocator()');
  return c;
}

/** Free-path flag: only trylock `zone->lock` (`FPI_TRYLOCK`, renamed FPI_NOLOCK in 7.x). @internal */
export const FPI_TRYLOCK = 1;
/** Free-path flag: put the block at the list tail (`FPI_TO_TAIL`). @internal */
export const FPI_TO_TAIL = 2;
// Module-local copies for the free paths (the JIT folds these; exports are cells).
const TRYLOCK = FPI_TRYLOCK;
const TO_TAIL = FPI_TO_TAIL;

/** Pages below 1 MiB, never handed to the buddy allocator. */
const LOW_RESERVED_PAGES = 256;

/** Nesting depth of 'full'-mode per-CPU list sections per CPU (task, softirq, hardirq, NMI and then some). */
const IRQ_STACK = 16;

/** Map `gfp_zone()` (which counts HIGHMEM) to an x86_64 zone slot. */
const GFP_ZONE_TO_SLOT = [
  ZoneIndex.DMA,
  ZoneIndex.DMA32,
  ZoneIndex.NORMAL,
  ZoneIndex.NORMAL,
  ZoneIndex.MOVABLE,
];

/** Zone configuration as `gfp_zone()` sees this machine. */
interface GfpZoneConfig {
  readonly dma: boolean;
  readonly dma32: boolean;
  readonly highmem: boolean;
}

/**
 * The state and algorithms of the page allocator (mm/page_alloc.c): memory
 * layout, zones and zonelists, the fast path through the per-CPU lists, the
 * buddy, the slow path with kswapd, direct reclaim and the OOM killer,
 * `alloc_pages_nolock()` and the free paths. The public face is
 * {@link BuddyAllocator}, which validates arguments and delegates here.
 * @internal
 */
export class BuddyCore {
  readonly m: Machine;
  readonly locking: LockingPort;
  readonly opts: ResolvedBuddyOptions;
  readonly rt: boolean;
  /** 2020 locking: per-CPU lists under local_irq_save(), zone->lock always taken fully. */
  readonly lock2020: boolean;
  /** Per-CPU lists hold the THP order. */
  readonly thp: boolean;
  readonly nrPages: number;
  readonly pm: PageMap;
  readonly nodes: Node[] = [];
  /** Every zone, populated or not, node by node in slot order. */
  readonly zones: Zone[] = [];
  /** `zonelists[nid][highestSlot]`: fallback zones (`ZONELIST_FALLBACK`). */
  readonly zonelists: Zone[][][] = [];
  /** `__GFP_THISNODE` zonelists (`ZONELIST_NOFALLBACK`). */
  readonly thisnodeZonelists: Zone[][][] = [];
  /** `cpu_to_node()`. */
  readonly cpuNode: Int32Array;
  /** `zone->trylock_free_pages` per zone id. */
  readonly trylockFree: LlistPort[] = [];
  readonly events = new VmEvents();
  /**
   * `current->reclaim_state->reclaimed`: pages the slab allocator handed back
   * through `mm_account_reclaimed_pages()`. Reclaim counts these, not every
   * page freed while shrinkers run.
   */
  reclaimedSlabPages = 0;
  readonly vmscan: Vmscan;
  readonly oom: OomKiller;
  readonly slowpath: Slowpath;
  readonly oomLock: TrylockMutex;
  readonly shrinkers: Shrinker[] = [];
  /** Live memory consumers, by id (index 0 unused). */
  readonly workloads: (Workload | null)[] = [null];
  /** Task -> workload it runs (its `mm`). */
  readonly mmSlot: TaskSlot<Workload | null>;
  /** `mm` page lists: next/prev pfn of each page of a workload, -1 at the ends. */
  readonly mmNext: Int32Array;
  readonly mmPrev: Int32Array;
  /** `min_free_kbytes` in effect. */
  minFreeKbytes = 0;
  /** Pages never handed to the buddy allocator (memblock, vmemmap, slack). */
  reservedPages = 0;
  /** First pfn of the boot-time reserved region. */
  readonly reservedStartPfn: number;
  /** Swap space in pages, and pages in use. */
  readonly swapPages: number;
  swapUsed = 0;
  /** Which optional zones exist, for `gfp_zone()`. */
  readonly gfpZoneConfig: GfpZoneConfig;
  /** `warn_alloc()`'s `nopage_rs`: one report per 10 s. */
  readonly nopageRs: RateLimitState;
  /** `oom_kill_process()`'s `oom_rs`: 10 per 5 s. */
  readonly oomRs: RateLimitState;
  badPagesShown = 0;
  private readonly warnedOnce = new Set<string>();

  readonly probeAlloc: number;
  readonly probeFree: number;
  readonly probeZoneLocked: number;
  readonly probePcpuDrain: number;
  /** Inside a per-CPU list section (pcp->lock held, irqs on): where an interrupt re-enters. */
  readonly probePcpLocked: number;
  readonly fnAllocPages: number;
  readonly fnFreePages: number;
  readonly fnRmqueueBulk: number;
  readonly fnRmqueueBuddy: number;
  readonly fnFreePcppagesBulk: number;
  readonly fnFreeOnePage: number;
  readonly fnSlowpath: number;
  readonly fnNolock: number;
  readonly fnFreeNolock: number;

  constructor(machine: Machine, locking: LockingPort, opts: ResolvedBuddyOptions) {
    const m = machine;
    this.m = m;
    this.locking = locking;
    this.opts = opts;
    this.rt = m.config.preempt === 'rt';
    this.lock2020 = opts.zoneLock === 'full';
    this.thp = opts.thp;
    const mem = m.memory;
    const nrPages = Math.floor(mem.sizeBytes / 4096);
    this.nrPages = nrPages;
    const nrCpus = m.nrCpus;
    const nNodes = opts.nodes;
    const blockPages = 1 << MAX_PAGE_ORDER;
    if (nrPages < nNodes * blockPages) {
      throw new BuddyError(
        'BAD_CONFIG',
        'nodes',
        `nodes = ${nNodes} needs at least ${nNodes * 4} MiB of memory (one MAX_PAGE_ORDER block per node); the machine has ${mem.sizeBytes} bytes`,
      );
    }
    this.swapPages = Math.floor(opts.swapBytes / 4096);

    // Zone spans per node.
    let layout = opts.zoneLayout;
    if (layout === 'auto') layout = mem.sizeBytes > 4 * 2 ** 30 ? 'dma32+normal' : 'normal';
    const dmaPfn = layout === 'dma+dma32+normal' ? Math.floor(opts.dmaLimitBytes / 4096) : 0;
    const dma32Pfn = layout === 'normal' ? 0 : Math.floor(opts.dma32LimitBytes / 4096);
    const nodeSpan = Math.floor(nrPages / nNodes / blockPages) * blockPages;
    const headsPerZone = 11 * 4 + nrCpus * NR_PCP_LISTS;
    const nrHeads = nNodes * (MAX_NR_ZONES * headsPerZone + 4);
    const pm = new PageMap(nrPages, nrHeads);
    this.pm = pm;
    for (let n = 0; n < nNodes; n++) {
      const ns = n * nodeSpan;
      const ne = n === nNodes - 1 ? nrPages : ns + nodeSpan;
      const node = new Node(n, pm, ns, ne);
      this.nodes.push(node);
      const bounds = [
        [ns, Math.min(ne, dmaPfn)],
        [Math.max(ns, dmaPfn), Math.min(ne, dma32Pfn)],
        [Math.max(ns, dma32Pfn), ne],
        [ne, ne],
      ];
      for (let slot = 0; slot < MAX_NR_ZONES; slot++) {
        let [s, e] = bounds[slot]!;
        if (s! >= e!) s = e = ne;
        const z = new Zone(pm, this.zones.length, n, slot, s!, e!);
        this.zones.push(z);
        node.zones.push(z);
        for (let p = s!; p < e!; p++) pm.zone[p] = z.id + 1;
      }
    }
    let hasDma = false;
    let hasDma32 = false;
    for (const z of this.zones) {
      if (z.slot === ZoneIndex.DMA && z.populated) hasDma = true;
      if (z.slot === ZoneIndex.DMA32 && z.populated) hasDma32 = true;
    }
    this.gfpZoneConfig = { dma: hasDma, dma32: hasDma32, highmem: false };
    pm.blockMt.fill(MIGRATE_MOVABLE);

    this.listsLock =
      this.lock2020 && this.rt && locking.localLock !== undefined
        ? locking.localLock('pa_lock.l')
        : {
            lockIrqsave: () => m.localIrqSave(),
            unlockIrqrestore: (flags: number) => m.localIrqRestore(flags),
          };
    this.irqStack = new Float64Array(nrCpus * IRQ_STACK);
    this.irqDepth = new Int32Array(nrCpus);
    this.cpuNode = new Int32Array(nrCpus);
    for (let c = 0; c < nrCpus; c++) {
      const n = Math.min(nNodes - 1, Math.floor((c * nNodes) / nrCpus));
      this.cpuNode[c] = n;
      this.nodes[n]!.cpus.push(c);
    }

    // Locks and lists live in memblock memory: create them before the buddy
    // takes everything below the reserved region.
    for (const z of this.zones) {
      for (let c = 0; c < nrCpus; c++) {
        z.perCpuPageset.push(new PerCpuPages(pm, locking.spinLock('&pcp->lock'), c));
      }
    }
    this.zoneLocks = this.zones.map(() => locking.spinLock('&zone->lock'));
    for (const z of this.zones)
      this.trylockFree.push(locking.llistHead(`zone${z.id}.trylock_free_pages`));
    for (const node of this.nodes) {
      node.kswapdWait = new WaitQueueHead(m);
      node.kswapdWaitLock = locking.spinLock('&pgdat->kswapd_wait');
    }
    this.oomLock = locking.mutex('oom_lock');
    this.mmSlot = m.defineTaskSlot<Workload | null>(() => null);
    this.mmNext = new Int32Array(nrPages).fill(-1);
    this.mmPrev = new Int32Array(nrPages).fill(-1);

    // struct page array (vmemmap) and list heads.
    const vmemmapBytes = nrPages * STRUCT_PAGE_SIZE;
    const vmemmap = mem.memblockAlloc(vmemmapBytes + nrHeads * LIST_HEAD_SIZE, 4096);
    const reservedStart = mem.memblockReserved().start;
    const freeLimit = Math.max(0, Math.floor((reservedStart - opts.memblockSlackBytes) / 4096));
    this.reservedStartPfn = freeLimit;

    // memblock_free_all(): every page below the reserved region goes to the
    // buddy in the largest aligned blocks, to the list tails.
    for (const z of this.zones) {
      const end = Math.min(z.endPfn, freeLimit);
      // x86 keeps the first 1 MiB reserved (BIOS data, real-mode trampoline),
      // so no page ever has address 0, which stands for NULL.
      let pfn = Math.max(z.startPfn, LOW_RESERVED_PAGES);
      while (pfn < end) {
        let order = MAX_PAGE_ORDER;
        while (order > 0 && ((pfn & ((1 << order) - 1)) !== 0 || pfn + (1 << order) > end)) order--;
        for (let p = pfn + 1; p < pfn + (1 << order); p++) pm.state[p] = PageState.TAIL;
        pm.state[pfn] = PageState.ALLOC;
        z.freeSplitLarge(pfn, order, true);
        z.managed += 1 << order;
        pfn += 1 << order;
      }
    }
    let managed = 0;
    for (const z of this.zones) managed += z.managed;
    this.reservedPages = nrPages - managed;
    // Write the boot-time struct pages of free blocks raw, then attach the
    // charged mirror.
    for (let p = 0; p < nrPages; p++) {
      if (pm.state[p] === PageState.BUDDY) mem.write(vmemmap + p * STRUCT_PAGE_SIZE, pm.word(p));
    }
    pm.attachMirror(
      m,
      vmemmap,
      vmemmap + vmemmapBytes,
      m.siteId('mm.struct_page'),
      opts.vmemmapCost,
    );

    // Watermarks, lowmem reserves and per-CPU list limits.
    let lowmemKb = 0;
    for (const z of this.zones) if (z.slot !== ZoneIndex.MOVABLE) lowmemKb += z.managed * 4;
    this.minFreeKbytes = opts.minFreeKbytes ?? calculateMinFreeKbytes(lowmemKb);
    this.setupWatermarks();

    // Zonelists: the local node first, then the others in order (uniform distances).
    for (let n = 0; n < nNodes; n++) {
      const order: number[] = [n];
      for (let k = n + 1; k < nNodes; k++) order.push(k);
      for (let k = 0; k < n; k++) order.push(k);
      const lists: Zone[][] = [];
      const thisnode: Zone[][] = [];
      for (let h = 0; h < MAX_NR_ZONES; h++) {
        const l: Zone[] = [];
        for (const nid of order) {
          for (let s = h; s >= 0; s--) {
            const z = this.nodes[nid]!.zones[s]!;
            if (z.managed > 0) l.push(z);
          }
        }
        lists.push(l);
        thisnode.push(l.filter((z) => z.nid === n));
      }
      this.zonelists.push(lists);
      this.thisnodeZonelists.push(thisnode);
    }
    this.nofragFlags = new Int32Array(nNodes * MAX_NR_ZONES);
    for (let n = 0; n < nNodes; n++) {
      for (let h = 0; h < MAX_NR_ZONES; h++) {
        const l = this.zonelists[n]![h]!;
        this.nofragFlags[n * MAX_NR_ZONES + h] = l.length > 0 ? this.nofragment(l[0]!) : 0;
      }
    }
    for (let bits = 0; bits < 16; bits++) {
      try {
        this.slotTable[bits] = GFP_ZONE_TO_SLOT[gfpZone(bits, this.gfpZoneConfig)]!;
      } catch {
        this.slotTable[bits] = -1;
      }
    }

    this.nopageRs = new RateLimitState(10 * m.hz, 1);
    this.oomRs = new RateLimitState(5 * m.hz, 10);
    this.probeAlloc = m.defineProbe('mm_page_alloc');
    this.probeFree = m.defineProbe('mm_page_free');
    this.probeZoneLocked = m.defineProbe('mm_page_alloc_zone_locked');
    this.probePcpuDrain = m.defineProbe('mm_page_pcpu_drain');
    this.probePcpLocked = m.defineProbe('mm.pcp_locked');
    this.fnAllocPages = m.fnId('__alloc_pages_noprof');
    this.fnFreePages = m.fnId('__free_pages');
    this.fnRmqueueBulk = m.fnId('rmqueue_bulk');
    this.fnRmqueueBuddy = m.fnId('rmqueue_buddy');
    this.fnFreePcppagesBulk = m.fnId('free_pcppages_bulk');
    this.fnFreeOnePage = m.fnId('free_one_page');
    this.fnSlowpath = m.fnId('__alloc_pages_slowpath');
    this.fnNolock = m.fnId('alloc_pages_nolock_noprof');
    this.fnFreeNolock = m.fnId('free_pages_nolock');

    this.vmscan = new Vmscan(this);
    this.oom = new OomKiller(this);
    this.slowpath = new Slowpath(this);
    if (opts.kswapd) for (const node of this.nodes) this.vmscan.startKswapd(node);
  }

  /** `zone->lock` per zone id. */
  readonly zoneLocks: ZoneLock[];
  /** `alloc_flags_nofragment()` of each (node, highest slot) zonelist. */
  private readonly nofragFlags: Int32Array;
  /** Zone slot for each value of the four zone-modifier bits (-1: invalid combination). */
  private readonly slotTable = new Int8Array(16);

  // ==== setup ==========================================================================

  /** `setup_per_zone_wmarks()` + lowmem reserves + per-CPU list limits. */
  setupWatermarks(): void {
    const wm = computeWatermarks(
      this.zones.map((z) => ({ managed: z.managed, movable: z.slot === ZoneIndex.MOVABLE })),
      this.minFreeKbytes,
      this.opts.watermarkScaleFactor,
    );
    for (let i = 0; i < this.zones.length; i++) {
      const z = this.zones[i]!;
      const w = wm[i]!;
      z.wmarkMin = w.min;
      z.wmarkLow = w.low;
      z.wmarkHigh = w.high;
      z.wmarkPromo = w.promo;
      z.watermarkBoost = 0;
    }
    for (const node of this.nodes) {
      const reserve = computeLowmemReserve(
        node.zones.map((z) => z.managed),
        this.opts.lowmemReserveRatio,
      );
      for (const z of node.zones)
        for (let j = 0; j < MAX_NR_ZONES; j++) z.lowmemReserve[j] = reserve[z.slot]![j]!;
    }
    for (const z of this.zones) {
      const node = this.nodes[z.nid]!;
      const batch = Math.max(1, zoneBatchsize(z.managed));
      const { highMin, highMax } = pcpHighBounds(
        z.managed,
        z.wmarkLow,
        batch,
        node.cpus.length,
        this.opts.percpuPagelistHighFraction,
      );
      z.pagesetBatch = batch;
      z.pagesetHighMin = highMin;
      z.pagesetHighMax = highMax;
      for (const p of z.perCpuPageset) {
        if (this.opts.pcp && z.managed > 0) p.setLimits(highMin, highMax, batch);
        else p.setLimits(0, 0, 1);
      }
    }
  }

  /** `vm.min_free_kbytes` write: recompute the watermarks. */
  setMinFreeKbytes(kb: number): void {
    this.minFreeKbytes = kb;
    this.setupWatermarks();
  }

  // ==== per-task state =================================================================

  /** `current->flags & PF_MEMALLOC*` scope of `task`. */
  memallocOf(task: Task): MemallocScope {
    return task.memalloc;
  }

  /** The workload (mm) the current task belongs to. */
  currentMm(): Workload | null {
    return this.mmSlot.get(this.m.current);
  }

  /** `tsk_is_oom_victim(current)`. */
  currentIsOomVictim(): boolean {
    const w = this.currentMm();
    return w?.oomVictim === true;
  }

  // ==== helpers ========================================================================

  /** The zone holding `pfn`, or null for pfns outside every zone. */
  zoneOf(pfn: number): Zone | null {
    const id = this.pm.zone[pfn]!;
    return id === 0 ? null : this.zones[id - 1]!;
  }

  /** `gfp_zone()` as a zone slot of this machine. */
  highestSlot(gfp: number): number {
    const s = this.slotTable[gfp & 0xf]!;
    // An invalid combination: let gfp_zone() throw its GfpError (VM_BUG_ON).
    return s >= 0 ? s : GFP_ZONE_TO_SLOT[gfpZone(gfp, this.gfpZoneConfig)]!;
  }

  /** WARN_ON_ONCE at `site`/`fn` keyed by `key`. */
  warnOnce(key: string, fn: string, message: string, details: Record<string, unknown> = {}): void {
    if (this.warnedOnce.has(key)) return;
    this.warnedOnce.add(key);
    this.m.warn({ kind: 'page-alloc-warn', site: 'mm/page_alloc.c', fn, message, details });
  }

  // ==== zone->lock =====================================================================

  /**
   * Take `zone->lock` with irqs saved: a trylock when `trylockOnly`, else a
   * trylock first in 'trylock-first' mode (v6.15) or a full acquisition in
   * 'full' mode (2020). Returns the flags, or -1 when a trylock-only caller
   * could not get it.
   */
  lockZone(zone: Zone, trylockOnly: boolean): number {
    const lock = this.zoneLocks[zone.id]!;
    if (trylockOnly || !this.lock2020) {
      const f = lock.trylockIrqsave();
      if (f >= 0 || trylockOnly) return f;
    }
    return lock.lockIrqsave();
  }

  unlockZone(zone: Zone, flags: number): void {
    this.zoneLocks[zone.id]!.unlockIrqrestore(flags);
  }

  // ==== per-CPU list protection ========================================================

  /**
   * `pcp_spin_trylock()`: pin to the CPU (preempt_disable, migrate_disable on
   * RT) and trylock this CPU's `pcp->lock`; null (unpinned) when it fails.
   * In 'full' (2020) mode the lists are protected by `local_irq_save()` (on
   * PREEMPT_RT the `pa_lock` local lock) and this cannot fail; the flags are
   * kept in `irqStack`.
   */
  pcpLock(zone: Zone): PerCpuPages | null {
    // The 2020 model is out of line: V8 compiles this function as a unit of its
    // own (its inlined lock path is over the inlining budget), holding only v6.15.
    if (this.lock2020) return this.pcpLockIrq(zone);
    const p = zone.perCpuPageset[this.m.cpu]!;
    return p.lock.pinTrylock() ? p : null;
  }

  /** `pcp_spin_unlock()`, or the irq restore of the 2020 model. */
  pcpUnlock(p: PerCpuPages): void {
    if (this.lock2020) {
      this.pcpUnlockIrq();
      return;
    }
    p.lock.unlockUnpin();
  }

  /** {@link BuddyCore.pcpLock} in the 2020 model: `local_irq_save()` (or `pa_lock`) guards the lists. */
  private pcpLockIrq(zone: Zone): PerCpuPages {
    const c = this.m.cpu;
    const d = this.irqDepth[c]!;
    this.irqStack[c * IRQ_STACK + d] = this.listsLock.lockIrqsave();
    this.irqDepth[c] = d + 1;
    return zone.perCpuPageset[c]!;
  }

  /** {@link BuddyCore.pcpUnlock} in the 2020 model. */
  private pcpUnlockIrq(): void {
    const c = this.m.cpu;
    const d = this.irqDepth[c]! - 1;
    this.irqDepth[c] = d;
    this.listsLock.unlockIrqrestore(this.irqStack[c * IRQ_STACK + d]!);
  }

  /**
   * What guards the per-CPU lists in the 2020 model: `local_irq_save()` as in
   * mainline, or on PREEMPT_RT the RT patchset's `pa_lock` local lock (a
   * per-CPU sleeping lock) when the locking port provides local locks. Only
   * the 2020 model uses it (a `pa_lock` is created for that model alone).
   */
  private readonly listsLock: IrqLocalLock;

  /** Saved irq flags of nested 'full'-mode per-CPU list sections (NMI re-entry nests). */
  private readonly irqStack: Float64Array;
  private readonly irqDepth: Int32Array;

  // ==== allocation: fast path ==========================================================

  /**
   * `__alloc_frozen_pages_noprof()`: validate the order, apply the task's
   * scope, `might_alloc()`, then one pass over the zonelist at the low
   * watermark and, failing that, the slow path. Returns a pfn or -1.
   */
  allocPages(gfpIn: number, order: number, preferredNid: number, thisnodeOnly: boolean): number {
    const m = this.m;
    if (order > MAX_PAGE_ORDER) return this.orderTooLarge(gfpIn, order);
    let gfp = gfpIn & (__GFP_BITS_MASK | __GFP_NO_LOCKS);
    const scope = this.memallocOf(m.current);
    if (scope.flags !== 0) gfp = scope.gfpContext(gfp);
    const highest = this.highestSlot(gfp);
    const nid = preferredNid < 0 ? this.cpuNode[m.cpu]! : preferredNid;
    const thisnode = thisnodeOnly || (gfp & __GFP_THISNODE) !== 0;
    const zonelist = thisnode
      ? this.thisnodeZonelists[nid]![highest]!
      : this.zonelists[nid]![highest]!;
    let mt = (gfp >>> 3) & 3;
    if (mt >= MIGRATE_PCPTYPES) mt = this.badMigratetype();
    m.fnEnter(this.fnAllocPages);
    this.locking.mightAlloc(gfp);
    const allocFlags =
      ALLOC_WMARK_LOW |
      (gfp & __GFP_KSWAPD_RECLAIM) |
      this.nofragFlags[nid * MAX_NR_ZONES + highest]!;
    let pfn = this.getPageFirstZone(gfp, order, allocFlags, zonelist, highest, mt, nid);
    if (pfn < 0) pfn = this.slowpath.alloc(gfp, order, zonelist, highest, mt, nid);
    m.fnExit();
    if (pfn < 0) this.events.allocFail++;
    m.probe(this.probeAlloc);
    return pfn;
  }

  /** An order above MAX_PAGE_ORDER: `WARN_ON_ONCE_GFP()` and fail. */
  private orderTooLarge(gfp: number, order: number): number {
    if ((gfp & __GFP_NOWARN) === 0) {
      this.warnOnce(
        'order',
        '__alloc_frozen_pages_noprof',
        `WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER): order ${order}`,
        { order },
      );
    }
    this.events.allocFail++;
    return -1;
  }

  /** `gfp_migratetype()` of a mask with both mobility bits: warn, use MOVABLE. */
  private badMigratetype(): number {
    this.warnOnce(
      'mt',
      'gfp_migratetype',
      'VM_WARN_ON((gfp_flags & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK)',
    );
    return MIGRATE_MOVABLE;
  }

  /** `alloc_flags_nofragment()`: avoid fragmenting the Normal zone while DMA32 can serve. */
  private nofragment(preferred: Zone): number {
    if (preferred.slot !== ZoneIndex.NORMAL) return 0;
    const dma32 = this.nodes[preferred.nid]!.zones[ZoneIndex.DMA32]!;
    if (this.nodes.length > 1 && !dma32.populated) return 0;
    return ALLOC_NOFRAGMENT;
  }

  /**
   * {@link BuddyCore.getPageFromFreelist} when the first zone of the zonelist
   * is above its high watermark and its lists or buddy serve the request: the
   * usual case, without the walk. Anything else continues with the walk,
   * which then gives the same result as a walk from the start.
   */
  private getPageFirstZone(
    gfp: number,
    order: number,
    allocFlags: number,
    zonelist: readonly Zone[],
    highest: number,
    mt: number,
    nid: number,
  ): number {
    const zone = zonelist[0];
    if (
      zone === undefined ||
      (zone.flags & ZONE_BELOW_HIGH) !== 0 ||
      !zone.watermarkFast(order, zone.wmarkHigh + zone.watermarkBoost, highest, allocFlags)
    ) {
      return this.getPageFromFreelist(gfp, order, allocFlags, zonelist, highest, mt, nid, 0);
    }
    const pfn = this.rmqueue(zone, order, gfp, allocFlags, mt);
    if (pfn < 0) {
      return this.getPageFromFreelist(gfp, order, allocFlags, zonelist, highest, mt, nid, 1);
    }
    this.prepNewPage(zone, pfn, order, gfp, allocFlags);
    if ((allocFlags & ALLOC_HIGHATOMIC) !== 0) this.reserveHighatomic(zone, pfn, order);
    return pfn;
  }

  /**
   * `get_page_from_freelist()`: the first zone of the zonelist whose
   * watermark allows the request, then `rmqueue()`. Returns a pfn or -1.
   * The first pass starts at zone `first` (the zones before it were tried).
   */
  getPageFromFreelist(
    gfp: number,
    order: number,
    allocFlagsIn: number,
    zonelist: readonly Zone[],
    highest: number,
    mt: number,
    nid: number,
    first = 0,
  ): number {
    let allocFlags = allocFlagsIn;
    let start = first;
    for (;;) {
      const noFallback = (allocFlags & ALLOC_NOFRAGMENT) !== 0;
      let restart = false;
      for (let i = start; i < zonelist.length; i++) {
        const zone = zonelist[i]!;
        if (noFallback && this.nodes.length > 1 && i > 0 && zone.nid !== nid) {
          // Moving to a remote node: locality beats fragmentation avoidance.
          allocFlags &= ~ALLOC_NOFRAGMENT;
          restart = true;
          break;
        }
        let ok = false;
        if ((zone.flags & ZONE_BELOW_HIGH) === 0) {
          if (zone.watermarkFast(order, zone.wmarkHigh + zone.watermarkBoost, highest, allocFlags))
            ok = true;
          else zone.flags |= ZONE_BELOW_HIGH;
        }
        if (!ok) {
          const mark = zone.wmark(allocFlags);
          if (!zone.watermarkFast(order, mark, highest, allocFlags)) {
            if ((allocFlags & ALLOC_NO_WATERMARKS) === 0) continue;
          }
        }
        const pfn = this.rmqueue(zone, order, gfp, allocFlags, mt);
        if (pfn >= 0) {
          this.prepNewPage(zone, pfn, order, gfp, allocFlags);
          if ((allocFlags & ALLOC_HIGHATOMIC) !== 0) this.reserveHighatomic(zone, pfn, order);
          return pfn;
        }
      }
      start = 0;
      if (restart) continue;
      if (noFallback) {
        allocFlags &= ~ALLOC_NOFRAGMENT;
        continue;
      }
      return -1;
    }
  }

  /** `rmqueue()`: the per-CPU lists for small orders, else (or on failure) the buddy. */
  private rmqueue(zone: Zone, order: number, gfp: number, allocFlags: number, mt: number): number {
    let pfn = -1;
    if (pcpAllowedOrder(order, this.thp)) {
      pfn = this.rmqueuePcplist(zone, order, mt, allocFlags, gfp);
    }
    if (pfn < 0) {
      // The 2020 RFC: return NULL rather than take zone->lock.
      if ((gfp & __GFP_NO_LOCKS) !== 0) return -1;
      pfn = this.rmqueueBuddy(zone, order, allocFlags, mt);
    }
    if ((allocFlags & ALLOC_KSWAPD) !== 0 && (zone.flags & ZONE_BOOSTED_WATERMARK) !== 0) {
      zone.flags &= ~ZONE_BOOSTED_WATERMARK;
      this.vmscan.wakeupKswapd(zone, 0, 0, zone.slot);
    }
    return pfn;
  }

  /** `rmqueue_pcplist()` + `__rmqueue_pcplist()`. */
  private rmqueuePcplist(
    zone: Zone,
    order: number,
    mt: number,
    allocFlags: number,
    gfp: number,
  ): number {
    const p = this.pcpLock(zone);
    if (p === null) return -1;
    this.m.probe(this.probePcpLocked);
    const pm = this.pm;
    p.freeCount >>= 1;
    const list = p.listBase + orderToPindex(mt, order);
    if (pm.next[list] === list && !this.pcpRefill(zone, p, order, list, mt, allocFlags, gfp)) {
      this.pcpUnlock(p);
      return -1;
    }
    const pfn = pm.next[list]!;
    pm.del(pfn);
    p.count -= 1 << order;
    this.pcpUnlock(p);
    return pfn;
  }

  /**
   * `__rmqueue_pcplist()` on an empty list: refill it with a batch from the
   * buddy. Returns whether the list now has a page.
   */
  private pcpRefill(
    zone: Zone,
    p: PerCpuPages,
    order: number,
    list: number,
    mt: number,
    allocFlags: number,
    gfp: number,
  ): boolean {
    // The 2020 RFC: return NULL rather than take zone->lock.
    if ((gfp & __GFP_NO_LOCKS) !== 0) return false;
    const batch = p.nrAlloc(zone, order);
    const got = this.rmqueueBulk(zone, order, batch, list, mt, allocFlags);
    p.count += got << order;
    return this.pm.next[list] !== list;
  }

  /** `rmqueue_bulk()`: refill a per-CPU list with `count` blocks under one hold of `zone->lock`. */
  private rmqueueBulk(
    zone: Zone,
    order: number,
    count: number,
    list: number,
    mt: number,
    allocFlags: number,
  ): number {
    const m = this.m;
    m.fnEnter(this.fnRmqueueBulk);
    const flags = this.lockZone(zone, (allocFlags & ALLOC_TRYLOCK) !== 0);
    if (flags < 0) {
      m.fnExit();
      return 0;
    }
    const pm = this.pm;
    let i = 0;
    for (; i < count; i++) {
      const pfn = zone.rmqueue(order, mt, allocFlags);
      if (pfn < 0) break;
      pm.state[pfn] = PageState.PCP;
      pm.order[pfn] = order;
      pm.addTail(pfn, list);
      pm.touch(pfn);
      m.probe(this.probeZoneLocked);
    }
    this.unlockZone(zone, flags);
    m.fnExit();
    return i;
  }

  /** `rmqueue_buddy()`: one block straight from the buddy, under `zone->lock`. */
  private rmqueueBuddy(zone: Zone, order: number, allocFlags: number, mt: number): number {
    const m = this.m;
    m.fnEnter(this.fnRmqueueBuddy);
    const flags = this.lockZone(zone, (allocFlags & ALLOC_TRYLOCK) !== 0);
    if (flags < 0) {
      m.fnExit();
      return -1;
    }
    const pfn = zone.rmqueueLocked(order, mt, allocFlags);
    if (pfn >= 0) m.probe(this.probeZoneLocked);
    this.unlockZone(zone, flags);
    m.fnExit();
    return pfn;
  }

  /** `prep_new_page()`: mark the block allocated, zero it for `__GFP_ZERO`, count it. */
  private prepNewPage(
    zone: Zone,
    pfn: number,
    order: number,
    gfp: number,
    allocFlags: number,
  ): void {
    const pm = this.pm;
    pm.state[pfn] = PageState.ALLOC;
    pm.order[pfn] = order;
    let f = 0;
    if (order > 0 && (gfp & __GFP_COMP) !== 0) f |= PageFlag.HEAD;
    if ((allocFlags & ALLOC_NO_WATERMARKS) !== 0) f |= PageFlag.PFMEMALLOC;
    pm.flags[pfn] = f;
    pm.touchAs(pfn, PageState.ALLOC, order, f);
    this.events.pgalloc[zone.slot]! += 1 << order;
    zone.pgalloc += 1 << order;
    if ((gfp & __GFP_ZERO) !== 0) {
      this.m.memory.zeroRange(pfn * 4096, 4096 << order);
      this.m.charge(this.opts.reclaimCosts.clearPage * (1 << order));
    }
  }

  /** `reserve_highatomic_pageblock()`. */
  private reserveHighatomic(zone: Zone, pfn: number, order: number): void {
    if (Math.floor(zone.managed / 100) < 1 << PAGEBLOCK_ORDER) return;
    // reserve_highatomic_pageblock() always takes the lock fully.
    const flags = this.zoneLocks[zone.id]!.lockIrqsave();
    zone.reserveHighatomicLocked(pfn, order);
    this.unlockZone(zone, flags);
  }

  /** `%*pbl` of the nodes with memory, e.g. `0` or `0-1`. */
  memsAllowed(): string {
    const n = this.nodes.length;
    return n === 1 ? '0' : `0-${n - 1}`;
  }

  /** `unreserve_highatomic_pageblock()`. */
  unreserveHighatomic(zonelist: readonly Zone[], mt: number, force: boolean): boolean {
    for (const zone of zonelist) {
      if (!force && zone.nrReservedHighatomic <= 1 << PAGEBLOCK_ORDER) continue;
      const flags = this.zoneLocks[zone.id]!.lockIrqsave();
      const moved = zone.unreserveHighatomicLocked(mt, force);
      this.unlockZone(zone, flags);
      if (moved > 0) return true;
    }
    return false;
  }

  // ==== alloc_pages_nolock =============================================================

  /**
   * `alloc_frozen_pages_nolock_noprof()`: one trylock-only pass over the
   * zonelist at the min watermark with `__GFP_NOWARN|__GFP_ZERO|
   * __GFP_NOMEMALLOC|__GFP_COMP`; NULL on PREEMPT_RT in NMI or hardirq and
   * for orders the per-CPU lists do not hold. Returns a pfn or -1.
   */
  allocPagesNolock(gfpIn: number, nidIn: number, order: number): number {
    const m = this.m;
    if ((gfpIn & ~__GFP_ACCOUNT) !== 0) {
      this.warnOnce(
        'nolock-gfp',
        'alloc_frozen_pages_nolock_noprof',
        'VM_WARN_ON_ONCE(gfp_flags & ~__GFP_ACCOUNT)',
        { gfp: gfpIn },
      );
    }
    const gfp =
      (__GFP_NOWARN | __GFP_ZERO | __GFP_NOMEMALLOC | __GFP_COMP | gfpIn) &
      (__GFP_BITS_MASK | __GFP_NO_LOCKS);
    if (this.rt && (m.inNmi() || m.inHardirq())) {
      this.events.nolockFail++;
      return -1;
    }
    if (!pcpAllowedOrder(order, this.thp)) {
      this.events.nolockFail++;
      return -1;
    }
    const nid = nidIn < 0 ? this.cpuNode[m.cpu]! : nidIn;
    m.fnEnter(this.fnNolock);
    // prepare_alloc_pages()'s might_alloc() does nothing without reclaim bits.
    const highest = this.highestSlot(gfp);
    let mt: number = gfpMigratetype(gfp);
    if (mt >= MIGRATE_PCPTYPES) mt = MIGRATE_MOVABLE;
    const pfn = this.getPageFromFreelist(
      gfp,
      order,
      ALLOC_TRYLOCK | ALLOC_WMARK_MIN,
      this.zonelists[nid]![highest]!,
      highest,
      mt,
      nid,
    );
    m.fnExit();
    if (pfn < 0) this.events.nolockFail++;
    m.probe(this.probeAlloc);
    return pfn;
  }

  // ==== free paths =====================================================================

  /**
   * `free_pages_prepare()`'s checks: the pfn must be the head of an
   * allocation of this order. Otherwise report "BUG: Bad page state" as
   * `bad_page()` does, and refuse the free. Returns whether to proceed.
   */
  freeCheck(pfn: number, order: number): boolean {
    const pm = this.pm;
    const s = pm.state[pfn];
    let reason: string | null = null;
    if (s === PageState.ALLOC) {
      if ((pm.flags[pfn]! & PageFlag.LRU) !== 0) reason = 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set';
      else if (pm.order[pfn] !== order) {
        reason = `freeing an order-${pm.order[pfn]} allocation as order ${order}`;
      }
    } else if (s === PageState.BUDDY || s === PageState.PCP || s === PageState.DEFERRED) {
      reason = 'nonzero mapcount';
    } else if (s === PageState.TAIL) {
      reason = 'freeing a tail page (not the head of an allocation)';
    } else {
      reason = 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set';
    }
    if (reason === null) return true;
    this.badPage(pfn, reason);
    return false;
  }

  /** `bad_page()`. */
  badPage(pfn: number, reason: string): void {
    const m = this.m;
    if (this.badPagesShown === 60) {
      m.printk('alert', 'BUG: Bad page state: further reports suppressed');
    }
    if (this.badPagesShown++ >= 60) return;
    const pm = this.pm;
    const flags = pm.flags[pfn]!;
    const names: string[] = [];
    if (pm.state[pfn] === PageState.RESERVED) names.push('reserved');
    if ((flags & PageFlag.LRU) !== 0) names.push('lru');
    if ((flags & PageFlag.ACTIVE) !== 0) names.push('active');
    if ((flags & PageFlag.HEAD) !== 0) names.push('head');
    const zone = this.zoneOf(pfn);
    const zoneBits = zone === null ? 0 : zone.slot;
    const word = (zoneBits * 2 ** 62) / 2 ** 48 + flags;
    m.report({
      kind: 'bad-page',
      lines: [
        `BUG: Bad page state in process ${m.current.comm}  pfn:${pfn.toString(16).padStart(5, '0')}`,
        `page: refcount:0 mapcount:${pm.state[pfn] === PageState.BUDDY ? -128 : 0} mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`,
        `flags: 0x${Math.floor(word).toString(16)}(${[zone?.name ?? 'none', ...names].join('|')})`,
        `page dumped because: ${reason}`,
        'Modules linked in:',
      ],
      details: { pfn, reason, state: pm.state[pfn], order: pm.order[pfn] },
      taint: 'B',
      withStack: true,
      frames: ['bad_page'],
      level: 'alert',
    });
  }

  /**
   * `__free_frozen_pages()`: small orders to this CPU's list (trylock; on
   * failure straight to the buddy), larger ones to the buddy. With
   * FPI_TRYLOCK on PREEMPT_RT in NMI or hardirq the block is parked on
   * `zone->trylock_free_pages` at once.
   */
  freeFrozenPages(pfn: number, order: number, fpi: number): void {
    const m = this.m;
    const zone = this.zones[this.pm.zone[pfn]! - 1]!;
    this.pm.flags[pfn] = 0;
    m.probe(this.probeFree);
    if (!pcpAllowedOrder(order, this.thp)) {
      this.freeOnePage(zone, pfn, order, fpi);
      return;
    }
    let mt = zone.blockMt(pfn);
    if (mt >= MIGRATE_PCPTYPES) mt = MIGRATE_MOVABLE;
    if ((fpi & TRYLOCK) !== 0 && this.rt && (m.inNmi() || m.inHardirq())) {
      this.addToZoneLlist(zone, pfn, order);
      return;
    }
    const p = this.pcpLock(zone);
    if (p !== null) {
      this.freeFrozenPageCommit(zone, p, pfn, mt, order, fpi);
      this.pcpUnlock(p);
    } else {
      this.freeOnePage(zone, pfn, order, fpi);
    }
  }

  /** `free_frozen_page_commit()`: add to the list, drain a batch when above `high`. */
  private freeFrozenPageCommit(
    zone: Zone,
    p: PerCpuPages,
    pfn: number,
    mt: number,
    order: number,
    fpi: number,
  ): void {
    const pm = this.pm;
    this.events.pgfree += 1 << order;
    const pindex = orderToPindex(mt, order);
    pm.state[pfn] = PageState.PCP;
    pm.order[pfn] = order;
    pm.add(pfn, p.listBase + pindex);
    // freeFrozenPages() cleared the flags.
    pm.touchAs(pfn, PageState.PCP, order, 0);
    p.count += 1 << order;
    this.m.probe(this.probePcpLocked);
    const freeHigh = p.noteFree(order);
    // Trylock callers do not drain: pcp->count may exceed high for a while.
    if ((fpi & TRYLOCK) !== 0) return;
    const high = p.nrHigh(zone, freeHigh);
    if (p.count >= high) this.pcpDrain(zone, p, high, freeHigh, pindex);
  }

  /** `free_frozen_page_commit()` above `high`: drain a batch, maybe clear ZONE_BELOW_HIGH. */
  private pcpDrain(
    zone: Zone,
    p: PerCpuPages,
    high: number,
    freeHigh: boolean,
    pindex: number,
  ): void {
    this.freePcppagesBulk(zone, p.nrFree(high, freeHigh), p, pindex);
    if (
      (zone.flags & ZONE_BELOW_HIGH) !== 0 &&
      zone.watermarkOk(0, zone.wmarkHigh + zone.watermarkBoost, ZoneIndex.MOVABLE, 0)
    ) {
      zone.flags &= ~ZONE_BELOW_HIGH;
      const node = this.nodes[zone.nid]!;
      if (node.kswapdFailures >= MAX_RECLAIM_RETRIES && this.nodes.length > 1)
        node.kswapdFailures = 0;
    }
  }

  /** `free_pcppages_bulk()`: return `count` pages from a per-CPU list to the buddy, round-robin over lists. */
  freePcppagesBulk(zone: Zone, countIn: number, p: PerCpuPages, pindexIn: number): void {
    const m = this.m;
    const pm = this.pm;
    let count = Math.min(p.count, countIn);
    if (count <= 0) return;
    let pindex = pindexIn - 1;
    m.fnEnter(this.fnFreePcppagesBulk);
    const flags = this.zoneLocks[zone.id]!.lockIrqsave();
    while (count > 0) {
      let list = -1;
      // Round-robin to the next non-empty list; stop if every list is empty
      // (a count out of step with the lists must not hang the simulation).
      for (let tries = 0; tries < NR_PCP_LISTS; tries++) {
        if (++pindex > NR_PCP_LISTS - 1) pindex = 0;
        if (pm.next[p.listBase + pindex] !== p.listBase + pindex) {
          list = p.listBase + pindex;
          break;
        }
      }
      if (list < 0) break;
      const order = pindexToOrder(pindex);
      do {
        const pfn = pm.prev[list]!;
        pm.del(pfn);
        count -= 1 << order;
        p.count -= 1 << order;
        zone.freeOnePage(pfn, order, zone.blockMt(pfn), false);
        m.probe(this.probePcpuDrain);
      } while (count > 0 && pm.next[list] !== list);
    }
    this.zoneLocks[zone.id]!.unlockIrqrestore(flags);
    m.fnExit();
  }

  /** `add_page_to_zone_llist()`: park a block on `zone->trylock_free_pages`. */
  private addToZoneLlist(zone: Zone, pfn: number, order: number): void {
    const pm = this.pm;
    pm.state[pfn] = PageState.DEFERRED;
    pm.order[pfn] = order;
    pm.touch(pfn);
    this.trylockFree[zone.id]!.add(pm.nodeAddr(pfn));
    this.events.deferredFrees += 1 << order;
  }

  /** pfn of an llist node address in a `struct page`. */
  private llistPfn(addr: number): number {
    return (addr - this.pm.vmemmap - PAGE_LLIST_OFFSET) / STRUCT_PAGE_SIZE;
  }

  /**
   * `free_one_page()`: free to the buddy under `zone->lock`; a trylock-only
   * caller that cannot get the lock parks the block instead, and the next
   * caller that takes the lock normally frees the parked blocks first.
   */
  freeOnePage(zone: Zone, pfn: number, order: number, fpi: number): void {
    const m = this.m;
    m.fnEnter(this.fnFreeOnePage);
    const trylock = (fpi & TRYLOCK) !== 0;
    const flags = this.lockZone(zone, trylock);
    if (flags < 0) {
      this.addToZoneLlist(zone, pfn, order);
      m.fnExit();
      return;
    }
    const ll = this.trylockFree[zone.id]!;
    if (!trylock && !ll.empty()) {
      let node = ll.delAll();
      while (node !== 0) {
        const next = ll.next(node);
        const p = this.llistPfn(node);
        const o = this.pm.order[p]!;
        zone.freeSplitLarge(p, o, (fpi & TO_TAIL) !== 0);
        this.events.pgfree += 1 << o;
        node = next;
      }
    }
    zone.freeSplitLarge(pfn, order, (fpi & TO_TAIL) !== 0);
    this.unlockZone(zone, flags);
    this.events.pgfree += 1 << order;
    m.fnExit();
  }

  /** `drain_pages_zone()` for one CPU. */
  drainPagesZone(cpu: number, zone: Zone): void {
    const p = zone.perCpuPageset[cpu]!;
    if (p.count === 0) return;
    if (this.lock2020) {
      const f = this.listsLock.lockIrqsave();
      while (p.count > 0) this.freePcppagesBulk(zone, p.count, p, 0);
      this.listsLock.unlockIrqrestore(f);
      return;
    }
    p.lock.lock();
    while (p.count > 0) this.freePcppagesBulk(zone, p.count, p, 0);
    p.lock.unlock();
  }

  /** `drain_all_pages(NULL)`: every CPU's lists of every zone back to the buddy. */
  drainAllPages(): void {
    for (const z of this.zones) {
      if (z.managed === 0) continue;
      for (let c = 0; c < this.m.nrCpus; c++) this.drainPagesZone(c, z);
    }
  }

  // ==== counters =======================================================================

  /** Pages on every per-CPU list of a zone. */
  pcpCount(zone: Zone): number {
    let n = 0;
    for (const p of zone.perCpuPageset) n += p.count;
    return n;
  }

  /** `totalram_pages()`. */
  totalramPages(): number {
    let n = 0;
    for (const z of this.zones) n += z.managed;
    return n;
  }

  /** NR_FREE_PAGES over all zones. */
  freePagesTotal(): number {
    let n = 0;
    for (const z of this.zones) n += z.freePages;
    return n;
  }
}
