import type { CacheModel, Machine, PhysicalMemory } from '@sim/cpu';
import * as gfpMod from '@sim/gfp';
import type { Locking } from '@sim/locks';
import {
  calculateAlignment,
  calculateLayout,
  kmallocAlignment,
  MAX_PAGE_ORDER,
  type SlabOrderParams,
} from '../cache-layout.js';
import type {
  KmemCacheOptions,
  KmemCacheStats,
  ObjectState,
  SlabAllocator,
  SlabCache,
  SlabCapabilities,
  SlabPorts,
  SlabRcuPort,
  SlabStats,
} from '../contract.js';
import { SlabError } from '../errors.js';
import {
  parseSlabDebug,
  SLAB_ACCOUNT,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_FLAGS_PERMITTED,
  SLAB_KMALLOC,
  SLAB_NO_MERGE,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_TYPESAFE_BY_RCU,
  type SlabDebugSpec,
  slabDebugFlagsFor,
} from '../flags.js';
import * as kmallocIndexMod from '../kmalloc-index.js';
import { KmallocType } from '../kmalloc-index.js';
import type { SheavesOptions } from '../options.js';
import type { PageAllocator } from '../page-allocator.js';
import { SLUB_RED_ACTIVE } from '../poison.js';
import * as argChecks from './arg-checks.js';
import { fillBytes } from './byte-pattern.js';
import * as constants from './constants.js';
import { SlubDebug } from './debug.js';
import { DeferFree } from './defer-free.js';
import { checkInvariants } from './invariants.js';
import { Kasan } from './kasan.js';
import * as kmemCache from './kmem-cache.js';
import { KmemCache } from './kmem-cache.js';
import { MetaArena } from './meta-arena.js';
import * as objectArena from './object-arena.js';
import { ObjectArena } from './object-arena.js';
import { PfnMap } from './pfn-map.js';
import { type ResolvedSlabOptions, resolveSlabOptions } from './resolve-options.js';
import { show } from './show.js';
import * as slabTable from './slab-table.js';
import { SlabTable } from './slab-table.js';
import { cacheStatsOf, formatSlabinfo, slabStatsOf } from './slabinfo.js';
import * as statMod from './stat.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const {
  __GFP_ACCOUNT,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  formatGfp,
  GFP_CONSTRAINT_MASK,
  GFP_NOWAIT,
  GFP_RECLAIM_MASK,
  GFP_SLAB_BUG_MASK,
  gfpflagsAllowSpinning,
} = gfpMod;
const {
  getOrder,
  KMALLOC_CREATE_ORDER,
  KMALLOC_MAX_CACHE_SIZE,
  KMALLOC_MAX_SIZE,
  KMALLOC_SIZES,
  kmallocIndex,
  kmallocName,
  kmallocType,
  NR_KMALLOC_TYPES,
  ZERO_SIZE_PTR,
} = kmallocIndexMod;
const { checkAddr, checkGfp, checkNode, checkSize } = argChecks;
const { PAGE_SIZE } = constants;
const { K_OFFSET, N_NR_PARTIAL, N_NR_SLABS, N_PARTIAL } = kmemCache;
const { D_FLUSH, D_LINK, FROZEN, SlabFlag } = slabTable;
const { NR_STAT_ITEMS, Stat } = statMod;
const { OBJ_STATE_NAMES, ObjState } = objectArena;

/** kmalloc_nolock()'s internal "retry another bucket" signal (`ERR_PTR(-EBUSY)`). @internal */
export const EBUSY = -1;

/** Large kmalloc tail pages in the pfn map. @internal */
const LARGE_TAIL = -(1 << 20);

/** One run of build_detached_freelist(). @internal */
export interface DetachedFreelist {
  slab: number;
  s: KmemCache | null;
  head: number;
  tail: number;
  cnt: number;
}

/**
 * What both designs share: caches and kmalloc, struct slab and the node
 * partial lists, new_slab()/discard_slab(), the slab-level free path
 * (`__slab_free()`), debug caches, large kmalloc, bulk, the nolock front
 * ends, KASAN, deferred frees, reports and statistics. A design supplies the
 * per-CPU layer.
 * @internal
 */
export abstract class SlabCore implements SlabAllocator {
  abstract readonly name: string;
  abstract readonly capabilities: SlabCapabilities;
  readonly machine: Machine;
  readonly m: Machine;
  /** The machine's memory, for uncharged reads of words on a line just charged. */
  readonly mem: PhysicalMemory;
  /** The machine's cache model, charged for words kept in typed arrays. */
  readonly cacheModel: CacheModel;
  /** Extra cost of an atomic read-modify-write. */
  readonly atomicRmw: number;
  /** The machine's per-CPU clocks, which the fast paths charge directly. */
  readonly clock: Float64Array;
  readonly locking: Locking;
  readonly pages: PageAllocator;
  rcu: SlabRcuPort | null;
  readonly nrCpus: number;
  readonly rt: boolean;
  readonly opts: ResolvedSlabOptions;
  readonly orderParams: SlabOrderParams;
  readonly debugSpec: SlabDebugSpec;
  readonly arena: MetaArena;
  readonly slabs: SlabTable;
  readonly pfnMap = new PfnMap();
  readonly objs = new ObjectArena();
  readonly byId: KmemCache[] = [];
  readonly kmallocTable: (KmemCache | null)[][] = [];
  readonly kasan: Kasan;
  readonly dbg: SlubDebug;
  readonly defer: DeferFree;
  // Cache-model sites.
  readonly siteCache: number;
  readonly siteCpu: number;
  readonly siteFreelist: number;
  readonly sitePage: number;
  readonly siteNode: number;
  readonly siteObject: number;
  readonly siteUser: number;
  // Probe points where NMIs and programs can re-enter the allocator.
  readonly probeAllocFast: number;
  readonly probeAllocSlow: number;
  readonly probeFreeFast: number;
  readonly probeFreeSlow: number;
  readonly probeNewSlab: number;
  readonly probeCpuUnlock: number;
  /** Interned call sites for alloc/free tracking. */
  readonly siteNames: string[] = ['<unknown>'];
  private readonly siteIndex = new Map<string, number>();
  readonly largeOrder = new Map<number, number>();
  readonly largeSize = new Map<number, number>();
  slabPages = 0;
  largePages = 0;
  /**
   * The object the lockless fast path just returned (0 for none) and its slab
   * index: that path knows the slab, so `slab_post_alloc_hook()` need not look
   * it up again. Taken by `postAllocFresh()` and keyed by the object, so a
   * hint made by an allocation nested in a slow path (an NMI's) can never be
   * taken for another object.
   */
  fastObj = 0;
  fastSlab = -1;
  /** Pages taken and not given back, per pfn bookkeeping for the invariant checker. */
  readonly outstanding = new Map<number, number>();
  readonly nl = {
    allocCalls: 0,
    allocSucceeded: 0,
    retries: 0,
    rtIrq: 0,
    tooLarge: 0,
    busy: 0,
    noMemory: 0,
    freeCalls: 0,
    freedNow: 0,
    deferred: 0,
    rejected: 0,
  };
  private readonly once = new Set<string>();
  private oomTimes: number[] = [];
  private scratch = new Float64Array(64);

  constructor(ports: SlabPorts, options: SheavesOptions | undefined) {
    checkPorts(ports);
    this.opts = resolveSlabOptions(options);
    const m = ports.machine;
    this.machine = m;
    this.m = m;
    this.mem = m.memory;
    this.cacheModel = m.cache;
    this.atomicRmw = m.costs.atomicRmw;
    this.clock = m.clock;
    this.locking = ports.locking;
    this.pages = ports.pages;
    this.rcu = ports.rcu ?? null;
    this.nrCpus = m.nrCpus;
    this.rt = m.rt;
    this.orderParams = this.opts.orders;
    this.debugSpec =
      this.opts.slabDebug === null
        ? { global: 0, blocks: [] }
        : parseSlabDebug(this.opts.slabDebug);
    this.arena = new MetaArena(m, this.pages);
    this.slabs = new SlabTable(this.arena, this.cacheModel);
    for (let t = 0; t < NR_KMALLOC_TYPES; t++)
      this.kmallocTable.push(new Array<KmemCache | null>(14).fill(null));
    this.siteCache = m.siteId('slab.kmem_cache');
    this.siteCpu = m.siteId('slab.cpu');
    this.siteFreelist = m.siteId('slab.freelist');
    this.sitePage = m.siteId('slab.page');
    this.siteNode = m.siteId('slab.node');
    this.siteObject = m.siteId('slab.object');
    this.siteUser = m.siteId('slab.user');
    this.probeAllocFast = m.defineProbe('slab.alloc.fastpath');
    this.probeAllocSlow = m.defineProbe('slab.alloc.slowpath');
    this.probeFreeFast = m.defineProbe('slab.free.fastpath');
    this.probeFreeSlow = m.defineProbe('slab.free.slowpath');
    this.probeNewSlab = m.defineProbe('slab.new_slab');
    this.probeCpuUnlock = m.defineProbe('slab.cpu_lock.unlock');
    this.kasan = new Kasan(this, this.opts.kasan, this.opts.quarantineBytes);
    if (this.kasan.enabled) this.objs.enableTracking();
    this.dbg = new SlubDebug(this);
    this.defer = new DeferFree(this, this.opts.deferPlacement);
  }

  // ==== design hooks ===================================================================

  /** Set up the per-CPU layer of a new cache. */
  protected abstract initCache(s: KmemCache, gfp: number, sheafCapacity: number): void;
  /** Allocate one object (`slab_alloc_node()` below the hooks); 0 on failure. */
  abstract allocObject(s: KmemCache, gfp: number, node: number, origSize: number): number;
  /** Free one validated object (arena index `i`) whose state is already FREE. */
  abstract freeObject(s: KmemCache, slab: number, obj: number, i: number): void;
  /** kmalloc_nolock()'s allocation: an object, 0, or {@link EBUSY}. */
  abstract nolockAllocObject(s: KmemCache, gfp: number, node: number, origSize: number): number;
  /** kfree_nolock()'s free of a validated object (state FREE): true if done now, false if deferred. */
  abstract nolockFreeObject(s: KmemCache, slab: number, obj: number): boolean;
  /** Fill `out[start..start+count)` from the slabs (`__kmem_cache_alloc_bulk()`); false on failure. */
  abstract allocBulkSlab(
    s: KmemCache,
    gfp: number,
    count: number,
    out: Float64Array,
    start: number,
  ): boolean;
  /** kmem_cache_alloc_bulk() from the per-CPU layer first; returns how many were taken. */
  abstract allocBulkPerCpu(s: KmemCache, count: number, out: Float64Array): number;
  /** Free a detached freelist of one slab (`do_slab_free(head, tail, cnt)`). */
  abstract freeDetached(s: KmemCache, slab: number, head: number, tail: number, cnt: number): void;
  /** kmem_cache_free_bulk() of a sheaf-capable cache; false to use detached freelists. */
  abstract freeBulkPerCpu(s: KmemCache, count: number, p: Float64Array): boolean;
  /** Flush the per-CPU state of `cpu` for `s` (`__flush_cpu_slab()` / `pcs_flush_all()`). */
  abstract flushCpu(s: KmemCache, cpu: number): void;
  /** Design-specific shrinking (the barn). */
  abstract shrinkPerCpu(s: KmemCache): void;
  /** Objects the per-CPU layer holds, for the invariant checker: calls `visit(obj, expectedState, where)`. */
  abstract visitPerCpu(
    s: KmemCache,
    visit: (obj: number, state: number, where: string) => void,
  ): void;
  /** Whether slab `slab` is some CPU's slab (frozen for a CPU). */
  abstract isCpuSlab(s: KmemCache, slab: number): boolean;

  /** Create the kmalloc caches; designs call it at the end of their constructor. */
  protected boot(): void {
    for (let type = 0; type < NR_KMALLOC_TYPES; type++) {
      for (const idx of KMALLOC_CREATE_ORDER) {
        let flags = SLAB_KMALLOC;
        if (type === KmallocType.RECLAIM) flags |= SLAB_RECLAIM_ACCOUNT;
        else if (type === KmallocType.CGROUP) flags |= SLAB_ACCOUNT;
        else if (type === KmallocType.DMA) flags |= SLAB_CACHE_DMA;
        else flags |= SLAB_NO_MERGE;
        const s = this.createCache(
          kmallocName(type as KmallocType, idx),
          KMALLOC_SIZES[idx]!,
          0,
          flags,
          null,
          -1,
          0,
          idx,
          GFP_NOWAIT,
        );
        this.kmallocTable[type]![idx] = s;
      }
    }
  }

  // ==== caches ========================================================================

  kmemCacheCreate(name: string, size: number, options: KmemCacheOptions = {}): SlabCache {
    if (typeof name !== 'string' || name.length === 0 || /\s/.test(name)) {
      throw new SlabError(
        'BAD_NAME',
        `kmem_cache_create name ${show(name)} is invalid: accepted a non-empty name without spaces`,
      );
    }
    if (this.findCache(name) !== undefined) {
      throw new SlabError(
        'BAD_NAME',
        `kmem_cache_create(${name}): a cache of that name already exists: accepted a new name`,
      );
    }
    if (!Number.isSafeInteger(size) || size < 1 || size > KMALLOC_MAX_SIZE) {
      throw new SlabError(
        'BAD_SIZE',
        `kmem_cache_create(${name}) size ${show(size)} is invalid: accepted an integer in [1, ${KMALLOC_MAX_SIZE}]`,
      );
    }
    if (typeof options !== 'object' || options === null) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `kmem_cache_create(${name}) options ${show(options)}: accepted { align?, flags?, ctor?, freeptrOffset?, sheafCapacity? }`,
      );
    }
    for (const k of Object.keys(options)) {
      if (!['align', 'flags', 'ctor', 'freeptrOffset', 'sheafCapacity'].includes(k)) {
        throw new SlabError(
          'BAD_ARGUMENT',
          `kmem_cache_create(${name}) option ${show(k)} is unknown: accepted align, flags, ctor, freeptrOffset, sheafCapacity`,
        );
      }
    }
    const align = options.align ?? 0;
    if (!Number.isInteger(align) || align < 0 || align > PAGE_SIZE || (align & (align - 1)) !== 0) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `kmem_cache_create(${name}) align ${show(align)} is invalid: accepted 0 or a power of two up to ${PAGE_SIZE}`,
      );
    }
    const flags = options.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0 || (flags & ~SLAB_FLAGS_PERMITTED) !== 0) {
      throw new SlabError(
        'BAD_FLAGS',
        `kmem_cache_create(${name}) flags ${show(flags)} are invalid: accepted SLAB_* flags of SLAB_FLAGS_PERMITTED (0x${SLAB_FLAGS_PERMITTED.toString(16)})`,
      );
    }
    const ctor = options.ctor ?? null;
    if (ctor !== null && typeof ctor !== 'function') {
      throw new SlabError(
        'BAD_ARGUMENT',
        `kmem_cache_create(${name}) ctor ${show(ctor)} is invalid: accepted a function`,
      );
    }
    let freeptrOffset = -1;
    if (options.freeptrOffset !== undefined) {
      const f = options.freeptrOffset;
      if (
        (flags & SLAB_TYPESAFE_BY_RCU) === 0 ||
        !Number.isInteger(f) ||
        f < 0 ||
        f >= size ||
        f % 8 !== 0
      ) {
        throw new SlabError(
          'BAD_ARGUMENT',
          `kmem_cache_create(${name}) freeptrOffset ${show(f)} is invalid: accepted a multiple of 8 below the object size, with SLAB_TYPESAFE_BY_RCU`,
        );
      }
      freeptrOffset = f;
    }
    const cap = options.sheafCapacity ?? 0;
    if (!Number.isInteger(cap) || cap < 0 || cap > 4096) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `kmem_cache_create(${name}) sheafCapacity ${show(cap)} is invalid: accepted an integer in [0, 4096]`,
      );
    }
    if ((flags & SLAB_TYPESAFE_BY_RCU) !== 0 && this.rcu === null) {
      throw new SlabError(
        'NO_RCU',
        `kmem_cache_create(${name}) with SLAB_TYPESAFE_BY_RCU needs an RCU port: pass ports.rcu or call setRcu() first`,
      );
    }
    this.m.mightSleep('mm/slab_common.c');
    return this.createCache(name, size, align, flags, ctor, freeptrOffset, cap, -1, GFP_NOWAIT);
  }

  /** Build a cache (no argument checks). */
  createCache(
    name: string,
    size: number,
    align: number,
    flags0: number,
    ctor: ((addr: number) => void) | null,
    freeptrOffset: number,
    sheafCapacity: number,
    kidx: number,
    gfp: number,
  ): KmemCache {
    const flags = slabDebugFlagsFor(this.debugSpec, name, flags0);
    const al = kidx >= 0 ? kmallocAlignment(flags, size) : calculateAlignment(flags, align, size);
    const layout = calculateLayout({
      objectSize: size,
      align: al,
      flags,
      hasCtor: ctor !== null,
      freeptrOffset,
      nrCpus: this.nrCpus,
      params: this.orderParams,
    });
    let allocflags = __GFP_COMP;
    if ((flags & SLAB_CACHE_DMA) !== 0) allocflags |= __GFP_DMA;
    if ((flags & SLAB_CACHE_DMA32) !== 0) allocflags |= __GFP_DMA32;
    if ((flags & SLAB_RECLAIM_ACCOUNT) !== 0) allocflags |= __GFP_RECLAIMABLE;
    const s = new KmemCache(this.byId.length, name, layout, ctor, allocflags, kidx, this.nrCpus);
    s.track = s.storeUser || this.kasan.enabled;
    if (s.track) this.objs.enableTracking();
    s.hotLine = this.metaLine(gfp);
    s.nodeLine = this.metaLine(gfp);
    const mem = this.m.memory;
    mem.write(s.hotLine + K_OFFSET, s.offset);
    mem.write(s.hotLine + 8, s.size);
    s.listLock = this.locking.spinLock('&n->list_lock');
    if (this.defer.placement === 'per-cache') s.deferList = this.defer.cacheList(s);
    this.initCache(s, gfp, sheafCapacity);
    this.byId.push(s);
    return s;
  }

  /** A metadata line, or a NO_MEMORY host error (cache creation). */
  metaLine(gfp: number): number {
    const a = this.arena.line(gfp);
    if (a === 0)
      throw new SlabError(
        'NO_MEMORY',
        'kmem_cache_create: no page for the cache structures: accepted after freeing memory',
      );
    return a;
  }

  /** Validate a cache handle of this allocator. */
  own(cache: SlabCache, what: string, allowLeaked = false): KmemCache {
    if (!(cache instanceof KmemCache) || this.byId[cache.id] !== cache) {
      throw new SlabError(
        'BAD_CACHE',
        `${what}: ${show(cache && (cache as SlabCache).name)} is not a cache of this ${this.name} allocator: accepted a handle from its kmemCacheCreate() or kmallocCache()`,
      );
    }
    if (cache.life === 'destroyed' || (cache.life === 'leaked' && !allowLeaked)) {
      throw new SlabError(
        'BAD_CACHE',
        `${what}: cache ${cache.name} was destroyed: accepted a live cache`,
      );
    }
    return cache;
  }

  caches(): readonly SlabCache[] {
    const out: SlabCache[] = [];
    for (let i = this.byId.length - 1; i >= 0; i--)
      if (this.byId[i]!.life === 'live') out.push(this.byId[i]!);
    return out;
  }

  findCache(name: string): SlabCache | undefined {
    for (const s of this.byId) if (s.life === 'live' && s.name === name) return s;
    return undefined;
  }

  kmallocCache(size: number, gfp = 0): SlabCache | null {
    checkSize(size, 'kmallocCache');
    checkGfp(gfp, 'kmallocCache');
    if (size === 0 || size > KMALLOC_MAX_CACHE_SIZE) return null;
    return this.kmallocSlab(size, gfp);
  }

  /** `kmalloc_slab()`. */
  kmallocSlab(size: number, gfp: number): KmemCache {
    return this.kmallocTable[kmallocType(gfp)]![kmallocIndex(size)]!;
  }

  setRcu(port: SlabRcuPort | null): void {
    if (port !== null && (typeof port !== 'object' || typeof port.callRcu !== 'function')) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `setRcu(${show(port)}): accepted { callRcu(head, fn) } or null`,
      );
    }
    this.rcu = port;
  }

  // ==== kmem_cache_alloc / kmalloc ========================================================

  kmemCacheAlloc(cache: SlabCache, gfp: number): number {
    const s = this.own(cache, 'kmem_cache_alloc');
    checkGfp(gfp, 'kmem_cache_alloc');
    return this.slabAllocNode(s, this.fixGfp(gfp), -1, s.objectSize);
  }

  kmemCacheAllocNode(cache: SlabCache, gfp: number, node: number): number {
    const s = this.own(cache, 'kmem_cache_alloc_node');
    checkGfp(gfp, 'kmem_cache_alloc_node');
    checkNode(node, 'kmem_cache_alloc_node');
    return this.slabAllocNode(s, this.fixGfp(gfp), node, s.objectSize);
  }

  kmalloc(size: number, gfp: number): number {
    return this.doKmalloc(size, gfp, -1);
  }

  kmallocNode(size: number, gfp: number, node: number): number {
    checkNode(node, 'kmalloc_node');
    return this.doKmalloc(size, gfp, node);
  }

  kzalloc(size: number, gfp: number): number {
    checkGfp(gfp, 'kzalloc');
    return this.doKmalloc(size, gfp | __GFP_ZERO, -1);
  }

  /** `__do_kmalloc_node()`. */
  private doKmalloc(size: number, gfp0: number, node: number): number {
    checkSize(size, 'kmalloc');
    checkGfp(gfp0, 'kmalloc');
    const gfp = this.fixGfp(gfp0);
    if (size > KMALLOC_MAX_CACHE_SIZE) return this.kmallocLarge(size, gfp);
    if (size === 0) return ZERO_SIZE_PTR;
    const s = this.kmallocTable[kmallocType(gfp)]![kmallocIndex(size)]!;
    // slab_pre_alloc_hook()'s might_alloc() runs here rather than in
    // slabAllocNode(): the JIT then spends its inlining budget for
    // slabAllocAfterHook() on the fast path and the cache model.
    this.locking.mightAlloc(gfp);
    return this.slabAllocAfterHook(s, gfp, node, size);
  }

  /** `slab_alloc_node()`: pre-alloc hook, the design's paths, post-alloc hook. */
  slabAllocNode(s: KmemCache, gfp: number, node: number, origSize: number): number {
    this.locking.mightAlloc(gfp);
    return this.slabAllocAfterHook(s, gfp, node, origSize);
  }

  /** {@link SlabCore.slabAllocNode} after `slab_pre_alloc_hook()`'s `might_alloc()`. */
  private slabAllocAfterHook(s: KmemCache, gfp: number, node: number, origSize: number): number {
    const obj = this.allocObject(s, gfp, node, origSize);
    if (obj === 0) return 0;
    this.postAllocFresh(s, obj, gfp, origSize);
    return obj;
  }

  /** `slab_post_alloc_hook()`: state, size, tracking, zeroing. */
  postAlloc(s: KmemCache, obj: number, gfp: number, origSize: number): void {
    this.postAllocIn(s, this.slabOf(obj), obj, gfp, origSize);
  }

  /**
   * {@link SlabCore.postAlloc} of an object allocObject() just returned:
   * takes (and so clears) the fast path's slab hint when it is for `obj`.
   * Every caller of allocObject() that got an object comes through here, so
   * no hint outlives the allocation it was made for.
   */
  private postAllocFresh(s: KmemCache, obj: number, gfp: number, origSize: number): void {
    if (this.fastObj === obj) {
      this.fastObj = 0;
      this.postAllocIn(s, this.fastSlab, obj, gfp, origSize);
    } else {
      this.postAlloc(s, obj, gfp, origSize);
    }
  }

  /** {@link SlabCore.postAlloc} of an object whose slab index is known. */
  postAllocIn(s: KmemCache, slab: number, obj: number, gfp: number, origSize: number): void {
    const slabs = this.slabs;
    const i = slabs.objBase[slab]! + (obj - slabs.base[slab]! - s.redLeftPad) / s.size;
    const objs = this.objs;
    objs.state[i] = ObjState.ALLOCATED;
    objs.origSize[i] = origSize;
    if (s.track) this.trackAlloc(i);
    if ((gfp & __GFP_ZERO) !== 0) this.zeroObject(s, obj, origSize);
    if (s.trace) this.dbg.traceOp(s, slab, obj, true);
  }

  /** `__GFP_ZERO`: clear the object; kmalloc caches with red zones keep the kmalloc red zone. */
  private zeroObject(s: KmemCache, obj: number, origSize: number): void {
    const zeroSize =
      s.origSizeTracked || (s.redZone && s.kmallocIndex >= 0) ? origSize : s.objectSize;
    this.zeroBytes(obj, zeroSize);
  }

  /** Record the alloc call site of object index `i`. */
  trackAlloc(i: number): void {
    const m = this.m;
    const o = this.objs;
    o.allocSite![i] = this.internSite(m.callSite());
    o.allocCpu![i] = m.cpu;
    o.allocPid![i] = m.current.pid;
    o.allocWhen![i] = m.jiffies;
  }

  /** Record the free call site of object index `i`. */
  trackFree(i: number): void {
    const m = this.m;
    const o = this.objs;
    o.freeSite![i] = this.internSite(m.callSite());
    o.freeCpu![i] = m.cpu;
    o.freePid![i] = m.current.pid;
    o.freeWhen![i] = m.jiffies;
  }

  internSite(name: string): number {
    if (name === '') return 0;
    let id = this.siteIndex.get(name);
    if (id === undefined) {
      id = this.siteNames.length;
      this.siteNames.push(name);
      this.siteIndex.set(name, id);
    }
    return id;
  }

  /** memset(addr, 0, bytes), charged per cache line. */
  zeroBytes(addr: number, bytes: number): void {
    const whole = bytes - (bytes % 8);
    const m = this.m;
    if (whole > 0) {
      m.memory.zeroRange(addr, whole);
      for (let a = addr; a < addr + whole; a += 64) m.store(a - (a % 8), 0, this.siteObject);
    }
    if (whole < bytes) fillBytes(m, addr + whole, bytes - whole, 0, this.siteObject);
  }

  /** `kmalloc_fix_flags()`: strip GFP_SLAB_BUG_MASK bits with a warning. */
  fixGfp(gfp: number): number {
    return (gfp & GFP_SLAB_BUG_MASK) === 0 ? gfp : this.fixGfpReport(gfp);
  }

  /** The report half of `kmalloc_fix_flags()`, out of line so fixGfp() stays small. */
  private fixGfpReport(gfp: number): number {
    const invalid = (gfp & GFP_SLAB_BUG_MASK) >>> 0;
    const fixed = (gfp & ~GFP_SLAB_BUG_MASK) >>> 0;
    this.m.report({
      kind: 'slab-bad-gfp',
      lines: [
        `Unexpected gfp: 0x${invalid.toString(16)} (${formatGfp(invalid)}). Fixing up to gfp: 0x${fixed.toString(16)} (${formatGfp(fixed)}). Fix your code!`,
      ],
      details: { gfp, invalid, fixed },
      withStack: true,
      frames: ['kmalloc_fix_flags'],
      level: 'warning',
    });
    return fixed;
  }

  // ==== large kmalloc ========================================================================

  /** `___kmalloc_large_node()`: whole pages from the page allocator. */
  kmallocLarge(size: number, gfp: number): number {
    const order = getOrder(size);
    if (order > MAX_PAGE_ORDER) {
      if ((gfp & __GFP_NOWARN) === 0) {
        this.warnOnce('order', {
          kind: 'page-alloc-order',
          site: 'mm/page_alloc.c',
          fn: '__alloc_frozen_pages_noprof',
          message: `order ${order} > MAX_PAGE_ORDER (${MAX_PAGE_ORDER}) for a ${size}-byte kmalloc`,
          details: { size, order },
        });
      }
      return 0;
    }
    this.locking.mightAlloc(gfp);
    const pfn = this.pages.allocPages(gfp | __GFP_COMP, order);
    if (pfn < 0) return 0;
    this.pfnMap.set(pfn, -(order + 1));
    for (let k = 1; k < 2 ** order; k++) this.pfnMap.set(pfn + k, LARGE_TAIL);
    this.largeOrder.set(pfn, order);
    this.largeSize.set(pfn, size);
    this.largePages += 2 ** order;
    this.outstanding.set(pfn, order);
    const addr = this.pages.pageAddress(pfn);
    if (this.kasan.enabled && (gfp & __GFP_ZERO) !== 0) this.zeroBytes(addr, size);
    return addr;
  }

  /** `free_large_kmalloc()`. */
  freeLarge(pfn: number, addr: number): void {
    const order = this.largeOrder.get(pfn)!;
    if (this.pages.pageAddress(pfn) !== addr) {
      this.badFree(null, addr, 'large-kmalloc-tail', [
        `kfree: 0x${addr.toString(16)} is inside a large kmalloc, not its start`,
      ]);
      return;
    }
    for (let k = 0; k < 2 ** order; k++) this.pfnMap.set(pfn + k, 0);
    this.largeOrder.delete(pfn);
    this.largeSize.delete(pfn);
    this.largePages -= 2 ** order;
    this.outstanding.delete(pfn);
    this.pages.freePages(pfn, order);
  }

  // ==== free ==================================================================================

  kfree(addr: number): void {
    checkAddr(addr, 'kfree');
    if (addr <= ZERO_SIZE_PTR) return;
    const pfn = this.pages.virtToPfn(addr);
    const v = this.pfnMap.get(pfn);
    if (v > 0) {
      const slab = v - 1;
      const s = this.cacheOfSlab(slab);
      this.slabFreeObject(s, slab, addr);
      return;
    }
    this.kfreeNotSlab(addr, pfn, v);
  }

  kvfree(addr: number): void {
    this.kfree(addr);
  }

  private kfreeNotSlab(addr: number, pfn: number, v: number): void {
    if (v < 0 && v !== LARGE_TAIL) {
      this.freeLarge(pfn, addr);
      return;
    }
    if (v === LARGE_TAIL) {
      this.badFree(null, addr, 'large-kmalloc-tail', [
        `kfree: 0x${addr.toString(16)} is inside a large kmalloc, not its start`,
      ]);
      return;
    }
    // free_large_kmalloc() of a folio that is not a large kmalloc.
    this.m.warn({
      kind: 'slub-bad-free',
      site: 'mm/slub.c',
      fn: 'free_large_kmalloc',
      message: `page:${pfn.toString(16)} refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}\npage dumped because: Not a kmalloc allocation`,
      details: { addr, reason: 'not-slab' },
    });
  }

  kmemCacheFree(cache: SlabCache, addr: number): void {
    const s0 = this.own(cache, 'kmem_cache_free', true);
    checkAddr(addr, 'kmem_cache_free');
    if (addr === 0) return;
    const pfn = this.pages.virtToPfn(addr);
    const v = this.pfnMap.get(pfn);
    if (v <= 0) {
      this.warnOnce('not-slab', {
        kind: 'slub-bad-free',
        site: 'mm/slub.c',
        fn: 'virt_to_cache',
        message: 'virt_to_cache: Object is not a Slab page!',
        details: { addr, reason: 'not-slab' },
      });
      return;
    }
    const slab = v - 1;
    const s = this.cacheOfSlab(slab);
    if (s !== s0) {
      // cache_from_obj(): warn and free to the cache the object belongs to.
      this.m.warn({
        kind: 'slub-bad-free',
        site: 'mm/slub.c',
        fn: 'cache_from_obj',
        message: `cache_from_obj: Wrong slab cache. ${s0.name} but object is from ${s.name}`,
        details: { addr, reason: 'wrong-cache', cache: s0.name, actual: s.name },
      });
    }
    this.slabFreeObject(s, slab, addr);
  }

  /** Object index of `obj` in `slab`, or -1 when `obj` is not the start of an object. */
  objIndex(s: KmemCache, slab: number, obj: number): number {
    const off = obj - this.slabs.base[slab]! - s.redLeftPad;
    const idx = off / s.size;
    if (idx < 0 || idx >= this.slabs.objects[slab]! || idx !== Math.floor(idx)) return -1;
    return this.slabs.objBase[slab]! + idx;
  }

  /** Slab id of the slab holding `addr`, or -1. */
  slabOf(addr: number): number {
    return this.pfnMap.get(this.pages.virtToPfn(addr)) - 1;
  }

  /**
   * `slab_free()` above the design: pointer and double-free checks, KASAN,
   * tracking; then the design frees it.
   */
  slabFreeObject(s: KmemCache, slab: number, obj: number): void {
    const i = this.preFree(s, slab, obj, true);
    if (i < 0) return;
    if (this.kasan.quarantineBytes > 0) {
      this.kasan.quarantinePut(s, obj, i);
      return;
    }
    this.freeObject(s, slab, obj, i);
  }

  /**
   * Checks and bookkeeping before an object is freed: returns its index with
   * state FREE, or -1 when the free was refused (reported).
   */
  preFree(s: KmemCache, slab: number, obj: number, track: boolean): number {
    const i = this.objIndex(s, slab, obj);
    if (i < 0) {
      this.invalidPointer(s, slab, obj);
      return -1;
    }
    const st = this.objs.state[i]!;
    if (st !== ObjState.ALLOCATED) {
      this.doubleFree(s, slab, obj, i);
      return -1;
    }
    // Debug caches record the free in free_debug_processing(), after the checks.
    if (s.track && track && !s.debug) this.trackFree(i);
    this.objs.state[i] = ObjState.FREE;
    if (s.trace) this.dbg.traceOp(s, slab, obj, false);
    return i;
  }

  /** A free the debug checks refused: the object stays allocated. */
  unfree(i: number): void {
    this.objs.state[i] = ObjState.ALLOCATED;
  }

  private invalidPointer(s: KmemCache, slab: number, obj: number): void {
    if (this.kasan.enabled) {
      this.kasan.reportBadFree('invalid-free', s, slab, obj);
      return;
    }
    this.dbg.invalidPointer(s, slab, obj);
  }

  private doubleFree(s: KmemCache, slab: number, obj: number, i: number): void {
    if (this.kasan.enabled) {
      this.kasan.reportBadFree('double-free', s, slab, obj);
      return;
    }
    this.dbg.doubleFree(s, slab, obj, i);
  }

  /** A refused free of something that is not an object. */
  badFree(s: KmemCache | null, addr: number, reason: string, lines: string[]): void {
    this.m.report({
      kind: 'slub-bad-free',
      lines,
      details: { addr, reason, cache: s?.name ?? null },
      withStack: true,
      frames: ['kfree'],
    });
  }

  // ==== ksize / krealloc ==============================================================================

  ksize(addr: number): number {
    checkAddr(addr, 'ksize');
    if (addr <= ZERO_SIZE_PTR) return 0;
    const pfn = this.pages.virtToPfn(addr);
    const v = this.pfnMap.get(pfn);
    if (v > 0) return this.byId[this.slabs.cache[v - 1]!]!.objectSize;
    if (v < 0 && v !== LARGE_TAIL) return PAGE_SIZE * 2 ** this.largeOrder.get(pfn)!;
    this.m.warn({
      kind: 'slub-bad-free',
      site: 'mm/slub.c',
      fn: '__ksize',
      message: `ksize: 0x${addr.toString(16)} is not a kmalloc allocation`,
      details: { addr, reason: 'not-slab' },
    });
    return 0;
  }

  krealloc(addr: number, newSize: number, gfp: number): number {
    checkAddr(addr, 'krealloc');
    checkSize(newSize, 'krealloc');
    checkGfp(gfp, 'krealloc');
    if (newSize === 0) {
      this.kfree(addr);
      return ZERO_SIZE_PTR;
    }
    if (addr <= ZERO_SIZE_PTR) return this.doKmalloc(newSize, gfp, -1);
    const pfn = this.pages.virtToPfn(addr);
    const v = this.pfnMap.get(pfn);
    let ks: number;
    let orig = 0;
    let s: KmemCache | null = null;
    let i = -1;
    if (v > 0) {
      s = this.byId[this.slabs.cache[v - 1]!]!;
      i = this.objIndex(s, v - 1, addr);
      if (i < 0 || this.objs.state[i] !== ObjState.ALLOCATED) {
        // kasan_check_byte() fails on freed memory: report and give up.
        if (i < 0) this.invalidPointer(s, v - 1, addr);
        else this.doubleFree(s, v - 1, addr, i);
        return 0;
      }
      ks = s.objectSize;
      if (s.origSizeTracked) orig = this.objs.origSize[i]!;
    } else if (v < 0 && v !== LARGE_TAIL) {
      ks = PAGE_SIZE * 2 ** this.largeOrder.get(pfn)!;
    } else {
      this.kfreeNotSlab(addr, pfn, v);
      return 0;
    }
    if (newSize <= ks) {
      if ((gfp & __GFP_ZERO) !== 0) {
        if (orig !== 0 && orig < newSize) this.zeroRange(addr + orig, newSize - orig);
        else this.zeroRange(addr + newSize, ks - newSize);
      }
      if (s !== null && i >= 0) {
        this.objs.origSize[i] = newSize;
        if (s.origSizeTracked && s.redZone && newSize < ks)
          fillBytes(this.m, addr + newSize, ks - newSize, SLUB_RED_ACTIVE, this.siteObject);
      } else if (v < 0) {
        this.largeSize.set(pfn, newSize);
      }
      return addr;
    }
    const ret = this.doKmalloc(newSize, gfp, -1);
    if (ret !== 0) {
      const bytes = orig !== 0 ? orig : ks;
      const m = this.m;
      for (let off = 0; off < bytes; off += 8)
        m.store(ret + off, m.load(addr + off, this.siteUser), this.siteUser);
      this.kfree(addr);
    }
    return ret;
  }

  private zeroRange(addr: number, bytes: number): void {
    if (bytes <= 0) return;
    const head = Math.min(bytes, (8 - (addr % 8)) % 8);
    if (head > 0) fillBytes(this.m, addr, head, 0, this.siteObject);
    if (bytes > head) this.zeroBytes(addr + head, bytes - head);
  }

  // ==== bulk ========================================================================================

  kmemCacheAllocBulk(
    cache: SlabCache,
    gfp: number,
    count: number,
    out: Float64Array | number[],
  ): number {
    const s = this.own(cache, 'kmem_cache_alloc_bulk');
    checkGfp(gfp, 'kmem_cache_alloc_bulk');
    if (!Number.isInteger(count) || count < 0) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `kmem_cache_alloc_bulk count ${show(count)}: accepted an integer >= 0`,
      );
    }
    if (!(out instanceof Float64Array || Array.isArray(out)) || out.length < count) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `kmem_cache_alloc_bulk out array of length ${show((out as { length?: number })?.length)}: accepted a Float64Array or number[] with room for ${count}`,
      );
    }
    if (count === 0) return 0;
    const g = this.fixGfp(gfp);
    this.locking.mightAlloc(g);
    const p = this.scratchOf(count);
    let got = this.allocBulkPerCpu(s, count, p);
    if (got < count && !this.allocBulkSlab(s, g, count - got, p, got)) {
      if (got > 0) this.freeDetachedArray(s, got, p);
      return 0;
    }
    got = count;
    for (let k = 0; k < count; k++) {
      this.postAlloc(s, p[k]!, g, s.objectSize);
      out[k] = p[k]!;
    }
    return count;
  }

  kmemCacheFreeBulk(cache: SlabCache, count: number, ptrs: ArrayLike<number>): void {
    const s = this.own(cache, 'kmem_cache_free_bulk', true);
    const p = this.copyPtrs(count, ptrs, 'kmem_cache_free_bulk');
    if (count === 0) return;
    if (s.sheafCapacity > 0 && this.kasan.quarantineBytes === 0 && this.freeBulkPerCpu(s, count, p))
      return;
    this.freeBulkDetached(s, count, p);
  }

  kfreeBulk(ptrs: ArrayLike<number>, count: number): void {
    const p = this.copyPtrs(count, ptrs, 'kfree_bulk');
    if (count === 0) return;
    this.freeBulkDetached(null, count, p);
  }

  private copyPtrs(count: number, ptrs: ArrayLike<number>, what: string): Float64Array {
    if (!Number.isInteger(count) || count < 0) {
      throw new SlabError('BAD_ARGUMENT', `${what} count ${show(count)}: accepted an integer >= 0`);
    }
    if (
      ptrs === null ||
      typeof ptrs !== 'object' ||
      typeof ptrs.length !== 'number' ||
      ptrs.length < count
    ) {
      throw new SlabError(
        'BAD_ARGUMENT',
        `${what} pointer array ${show(ptrs)}: accepted an array of at least ${count} addresses`,
      );
    }
    const p = this.scratchOf(count);
    for (let k = 0; k < count; k++) {
      const a = ptrs[k]!;
      checkAddr(a, what);
      p[k] = a;
    }
    return p;
  }

  /** A scratch array of at least `n` entries (reused: no per-call allocation). */
  scratchOf(n: number): Float64Array {
    if (this.scratch.length < n) {
      let len = this.scratch.length;
      while (len < n) len *= 2;
      this.scratch = new Float64Array(len);
    }
    return this.scratch;
  }

  /** kmem_cache_free_bulk()/kfree_bulk() through detached freelists. */
  freeBulkDetached(s: KmemCache | null, count: number, p: Float64Array): void {
    if (this.kasan.quarantineBytes > 0) {
      // slab_free_freelist_hook() would drop quarantined objects from the list.
      for (let k = 0; k < count; k++) {
        const a = p[k]!;
        if (a > ZERO_SIZE_PTR) {
          if (s === null) this.kfree(a);
          else this.kmemCacheFree(s, a);
        }
      }
      return;
    }
    const df: DetachedFreelist = { slab: -1, s: null, head: 0, tail: 0, cnt: 0 };
    let size = count;
    while (size > 0) {
      size = this.buildDetachedFreelist(s, size, p, df, true);
      if (df.slab < 0) continue;
      this.freeDetached(df.s!, df.slab, df.head, df.tail, df.cnt);
    }
  }

  /** Bulk free of objects that never reached users (error unwinding, sheaf flushes). */
  freeDetachedArray(s: KmemCache, count: number, p: Float64Array, base = 0): void {
    const df: DetachedFreelist = { slab: -1, s: null, head: 0, tail: 0, cnt: 0 };
    let size = count;
    while (size > 0) {
      size = this.buildDetachedFreelist(s, size, p, df, false, base);
      if (df.slab < 0) continue;
      this.slabFreeSlow(df.s!, df.slab, df.head, df.tail, df.cnt);
    }
  }

  /**
   * `build_detached_freelist()`: take the last pointer, link every object of
   * the same slab found scanning backwards (three misses end the scan) into a
   * private freelist, and return how many entries remain to process.
   * `hooks` runs the per-object free checks (user frees).
   */
  buildDetachedFreelist(
    s: KmemCache | null,
    size0: number,
    p: Float64Array,
    df: DetachedFreelist,
    hooks: boolean,
    base = 0,
  ): number {
    let size = size0;
    let lookahead = 3;
    const obj = p[base + --size]!;
    df.slab = -1;
    if (obj <= ZERO_SIZE_PTR) return size;
    const pfn = this.pages.virtToPfn(obj);
    const v = this.pfnMap.get(pfn);
    if (v <= 0) {
      if (s === null || !hooks) this.kfreeNotSlab(obj, pfn, v);
      else this.kmemCacheFree(s, obj);
      return size;
    }
    const slab = v - 1;
    const cs = this.cacheOfSlab(slab);
    if (s !== null && cs !== s && hooks) {
      this.m.warn({
        kind: 'slub-bad-free',
        site: 'mm/slub.c',
        fn: 'cache_from_obj',
        message: `cache_from_obj: Wrong slab cache. ${s.name} but object is from ${cs.name}`,
        details: { addr: obj, reason: 'wrong-cache', cache: s.name, actual: cs.name },
      });
    }
    if (hooks && this.preFree(cs, slab, obj, true) < 0) return size;
    df.slab = slab;
    df.s = cs;
    df.head = obj;
    df.tail = obj;
    df.cnt = 1;
    this.setFreepointer(cs, obj, 0);
    let same = size;
    while (size > 0) {
      const o = p[base + --size]!;
      if (o > ZERO_SIZE_PTR && this.slabOf(o) === slab) {
        if (hooks && this.preFree(cs, slab, o, true) < 0) {
          // Refused (reported): drop it from the array.
          p[base + size] = 0;
          continue;
        }
        this.setFreepointer(cs, o, df.head);
        df.head = o;
        df.cnt++;
        same--;
        if (size !== same) {
          const t = p[base + size]!;
          p[base + size] = p[base + same]!;
          p[base + same] = t;
        }
        continue;
      }
      if (--lookahead === 0) break;
    }
    return same;
  }

  // ==== kmalloc_nolock / kfree_nolock ======================================================================

  kmallocNolock(size0: number, gfp: number, node = -1): number {
    checkSize(size0, 'kmalloc_nolock');
    checkGfp(gfp, 'kmalloc_nolock');
    checkNode(node, 'kmalloc_nolock');
    const nl = this.nl;
    nl.allocCalls++;
    if ((gfp & ~(__GFP_ACCOUNT | __GFP_ZERO)) !== 0) {
      this.warnOnce('nolock-gfp', {
        kind: 'kmalloc-nolock-bad-gfp',
        site: 'mm/slub.c',
        fn: 'kmalloc_nolock_noprof',
        message: `VM_WARN_ON_ONCE(gfp_flags & ~(__GFP_ACCOUNT | __GFP_ZERO)): gfp 0x${gfp.toString(16)}(${formatGfp(gfp)})`,
        details: { gfp },
      });
    }
    if (size0 === 0) {
      nl.allocSucceeded++;
      return ZERO_SIZE_PTR;
    }
    if (!this.canSpinTrylock()) {
      nl.rtIrq++;
      return 0;
    }
    const allocGfp = __GFP_NOWARN | __GFP_NOMEMALLOC | gfp;
    let size = size0;
    let canRetry = true;
    for (;;) {
      if (size > KMALLOC_MAX_CACHE_SIZE) {
        if (canRetry) nl.tooLarge++;
        else nl.busy++;
        return 0;
      }
      const s = this.kmallocSlab(size, allocGfp);
      const ret = this.nolockAllocObject(s, allocGfp, node, size0);
      if (ret === EBUSY) {
        if (canRetry) {
          // Pick the next kmalloc bucket; its per-CPU lock is most likely free.
          size = s.objectSize + 1;
          canRetry = false;
          nl.retries++;
          this.stat(s, Stat.NOLOCK_RETRY);
          continue;
        }
        nl.busy++;
        return 0;
      }
      if (ret === 0) {
        nl.noMemory++;
        return 0;
      }
      this.postAllocFresh(s, ret, allocGfp, size0);
      nl.allocSucceeded++;
      this.stat(s, Stat.NOLOCK_ALLOC);
      return ret;
    }
  }

  /** `can_spin_trylock()`: not on PREEMPT_RT from hardirq or NMI. */
  canSpinTrylock(): boolean {
    const m = this.m;
    return !(this.rt && (m.inNmi() || m.inHardirq()));
  }

  kfreeNolock(addr: number): void {
    checkAddr(addr, 'kfree_nolock');
    const nl = this.nl;
    nl.freeCalls++;
    if (addr <= ZERO_SIZE_PTR) return;
    const pfn = this.pages.virtToPfn(addr);
    const v = this.pfnMap.get(pfn);
    if (v <= 0) {
      nl.rejected++;
      this.warnOnce('nolock-large', {
        kind: 'kfree-nolock-large',
        site: 'mm/slub.c',
        fn: 'kfree_nolock',
        message: 'large_kmalloc is not supported by kfree_nolock()',
        details: { addr },
      });
      return;
    }
    const slab = v - 1;
    const s = this.cacheOfSlab(slab);
    if (this.preFree(s, slab, addr, true) < 0) return;
    this.stat(s, Stat.NOLOCK_FREE);
    // No quarantine: it takes locks that are not NMI-safe.
    if (this.nolockFreeObject(s, slab, addr)) nl.freedNow++;
    else nl.deferred++;
  }

  deferFreeBarrier(): void {
    this.defer.barrier();
  }

  // ==== rcu sheaf (sheaves design overrides) =============================================================

  kfreeRcuSheaf(_addr: number): boolean {
    return false;
  }

  flushRcuSheaves(): void {}

  // ==== KASAN ============================================================================================

  checkedLoad(addr: number, site = this.siteUser): number {
    if (this.kasan.enabled && !this.kasan.checkAccess(addr, 8, false))
      return this.m.load(addr, site);
    return this.m.load(addr, site);
  }

  checkedStore(addr: number, value: number, site = this.siteUser): void {
    if (this.kasan.enabled && !this.kasan.checkAccess(addr, 8, true)) return;
    this.m.store(addr, value, site);
  }

  // ==== slab level: struct slab, partial lists, new_slab, __slab_free ========================================

  stat(s: KmemCache, item: number): void {
    s.stat[this.m.cpu * NR_STAT_ITEMS + item]! += 1;
  }

  statAdd(s: KmemCache, item: number, n: number): void {
    s.stat[this.m.cpu * NR_STAT_ITEMS + item]! += n;
  }

  /**
   * `get_freepointer()`: what `machine.load()` does for the word (read it,
   * charge the access), without its wrapper and with only the address
   * checked, so the fast paths that inline it have budget left for the
   * cache model.
   */
  getFreepointer(s: KmemCache, obj: number): number {
    const cpu = this.m.cpu;
    const addr = obj + s.offset;
    const v = this.mem.read(addr);
    this.clock[cpu]! += this.cacheModel.accessAddr(cpu, addr, false, this.siteFreelist);
    return v;
  }

  /** `set_freepointer()`: `machine.store()` of the word, as {@link SlabCore.getFreepointer}. */
  setFreepointer(s: KmemCache, obj: number, fp: number): void {
    const cpu = this.m.cpu;
    const addr = obj + s.offset;
    this.mem.write(addr, fp);
    this.clock[cpu]! += this.cacheModel.accessAddr(cpu, addr, true, this.siteFreelist);
  }

  /** Whether `fp` is NULL or an object of `slab` (`check_valid_pointer()`). */
  validPointer(s: KmemCache, slab: number, fp: number): boolean {
    if (fp === 0) return true;
    const off = fp - this.slabs.base[slab]! - s.redLeftPad;
    const idx = off / s.size;
    return idx >= 0 && idx < this.slabs.objects[slab]! && idx === Math.floor(idx);
  }

  /** Charge an access to the cache line holding `addr` (a word kept in a typed array). */
  touch(addr: number, write: boolean, site: number): void {
    const m = this.m;
    m.charge(this.cacheModel.access(m.cpu, addr, write, site));
  }

  /** Charge an access to cache line number `line` (a per-CPU or slab descriptor line). */
  touchLine(line: number, write: boolean, site: number): void {
    const cpu = this.m.cpu;
    this.clock[cpu]! += this.cacheModel.accessLine(cpu, line, write, site);
  }

  /** A read of `s`'s read-mostly kmem_cache line (`s->offset`, the deferred-free list head). */
  loadCacheLine(s: KmemCache): void {
    this.touch(s.hotLine + K_OFFSET, false, this.siteCache);
  }

  /** Give `s` a per-CPU line for CPU `cpu`. */
  setupCpuLine(s: KmemCache, cpu: number, gfp: number): void {
    const line = this.metaLine(gfp);
    s.cpuLines[cpu] = line;
    s.cpuLineNo[cpu] = this.cacheModel.lineNumber(line);
  }

  /** `slab->slab_cache`, read through the slab's descriptor line. */
  cacheOfSlab(slab: number): KmemCache {
    const t = this.slabs;
    this.touchLine(t.cacheLine[slab]!, false, this.sitePage);
    return this.byId[t.cache[slab]!]!;
  }

  /**
   * `slab_update_freelist()`: the cmpxchg-double on (freelist, counters);
   * false when either word changed since it was read.
   */
  updateFreelist(
    slab: number,
    oldFl: number,
    oldCnt: number,
    newFl: number,
    newCnt: number,
  ): boolean {
    const t = this.slabs;
    const m = this.m;
    m.charge(
      this.cacheModel.accessLine(m.cpu, t.descLine[slab]!, true, this.sitePage) + this.atomicRmw,
    );
    if (t.freelist[slab] !== oldFl || t.counters[slab] !== oldCnt) return false;
    t.freelist[slab] = newFl;
    t.counters[slab] = newCnt;
    return true;
  }

  readFreelist(slab: number): number {
    this.touchLine(this.slabs.descLine[slab]!, false, this.sitePage);
    return this.slabs.freelist[slab]!;
  }

  readCounters(slab: number): number {
    this.touchLine(this.slabs.descLine[slab]!, false, this.sitePage);
    return this.slabs.counters[slab]!;
  }

  writeSlab(slab: number, freelist: number, counters: number): void {
    const t = this.slabs;
    this.touchLine(t.descLine[slab]!, true, this.sitePage);
    t.freelist[slab] = freelist;
    t.counters[slab] = counters;
  }

  /** `add_partial()` (list_lock held). */
  addPartial(s: KmemCache, slab: number, tail: boolean): void {
    const t = this.slabs;
    s.nrPartial++;
    if (tail) {
      t.prev[slab] = s.partialTail;
      t.next[slab] = -1;
      if (s.partialTail >= 0) t.next[s.partialTail] = slab;
      else s.partialHead = slab;
      s.partialTail = slab;
    } else {
      t.next[slab] = s.partialHead;
      t.prev[slab] = -1;
      if (s.partialHead >= 0) t.prev[s.partialHead] = slab;
      else s.partialTail = slab;
      s.partialHead = slab;
    }
    t.flags[slab] = (t.flags[slab]! | SlabFlag.PARTIAL) & ~SlabFlag.FULL;
    const m = this.m;
    m.store(s.nodeLine + N_NR_PARTIAL, s.nrPartial, this.siteNode);
    m.store(t.desc[slab]! + D_LINK, s.partialHead + 1, this.sitePage);
  }

  /** `remove_partial()` (list_lock held). */
  removePartial(s: KmemCache, slab: number): void {
    const t = this.slabs;
    const n = t.next[slab]!;
    const p = t.prev[slab]!;
    if (p >= 0) t.next[p] = n;
    else s.partialHead = n;
    if (n >= 0) t.prev[n] = p;
    else s.partialTail = p;
    t.next[slab] = -1;
    t.prev[slab] = -1;
    t.flags[slab] = t.flags[slab]! & ~SlabFlag.PARTIAL;
    s.nrPartial--;
    const m = this.m;
    m.store(s.nodeLine + N_NR_PARTIAL, s.nrPartial, this.siteNode);
    m.store(s.nodeLine + N_PARTIAL, s.partialHead + 1, this.siteNode);
  }

  /** `add_full()`: only SLAB_STORE_USER caches track full slabs. */
  addFull(s: KmemCache, slab: number): void {
    if (s.storeUser) this.slabs.flags[slab] = this.slabs.flags[slab]! | SlabFlag.FULL;
  }

  removeFull(s: KmemCache, slab: number): void {
    if (s.storeUser) this.slabs.flags[slab] = this.slabs.flags[slab]! & ~SlabFlag.FULL;
  }

  /**
   * `allocate_slab()`: pages with the caller's GFP mask as SLUB shapes it
   * (first the preferred order without reclaim, then the minimum order), the
   * objects' free pointers written into them, debug patterns, constructors.
   * Returns the slab id or -1. Uses alloc_pages_nolock() when `gfp` does not
   * allow spinning.
   */
  allocateSlab(s: KmemCache, gfp0: number): number {
    const allowSpin = gfpflagsAllowSpinning(gfp0);
    if (s.ctor !== null && (gfp0 & __GFP_ZERO) !== 0) {
      this.warnOnce(`ctor-zero:${s.name}`, {
        kind: 'slab-bad-gfp',
        site: 'mm/slub.c',
        fn: 'new_slab',
        message: `WARN_ON_ONCE(s->ctor && (flags & __GFP_ZERO)) in ${s.name}`,
      });
    }
    const flags = ((gfp0 & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK)) | s.allocflags) >>> 0;
    let allocGfp = ((flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL) >>> 0;
    if ((allocGfp & __GFP_DIRECT_RECLAIM) !== 0 && s.order > s.minOrder) {
      allocGfp = ((allocGfp | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM) >>> 0;
    }
    this.m.probe(this.probeNewSlab);
    let order = s.order;
    let pfn = allowSpin
      ? this.pages.allocPages(allocGfp, order)
      : this.pages.allocPagesNolock(0, -1, order);
    if (pfn < 0 && s.minOrder !== s.order) {
      order = s.minOrder;
      pfn = allowSpin
        ? this.pages.allocPages(flags, order)
        : this.pages.allocPagesNolock(0, -1, order);
      if (pfn >= 0) this.stat(s, Stat.ORDER_FALLBACK);
    }
    if (pfn < 0) return -1;
    const slab = this.slabs.alloc(allowSpin ? GFP_NOWAIT : 0, !allowSpin);
    if (slab < 0) {
      if (allowSpin) this.pages.freePages(pfn, order);
      else this.pages.freePagesNolock(pfn, order);
      return -1;
    }
    const objects = order === s.order ? s.objectsPerSlab : s.minObjects;
    const t = this.slabs;
    const base = this.pages.pageAddress(pfn);
    t.cache[slab] = s.id;
    t.pfn[slab] = pfn;
    t.order[slab] = order;
    t.objects[slab] = objects;
    t.base[slab] = base;
    t.objBase[slab] = this.objs.alloc(objects);
    for (let k = 0; k < 2 ** order; k++) this.pfnMap.set(pfn + k, slab + 1);
    this.outstanding.set(pfn, order);
    this.slabPages += 2 ** order;
    // Link into the cache's list of slabs.
    t.allPrev[slab] = -1;
    t.allNext[slab] = s.allHead;
    if (s.allHead >= 0) t.allPrev[s.allHead] = slab;
    s.allHead = slab;
    s.nrSlabs++;
    s.totalObjects += objects;
    const m = this.m;
    m.store(s.nodeLine + N_NR_SLABS, s.nrSlabs, this.siteNode);
    const d = t.desc[slab]!;
    m.memory.write(d + D_LINK, 0);
    m.memory.write(d + D_FLUSH, 0);
    if (s.poison) this.dbg.setupSlabDebug(s, base, PAGE_SIZE * 2 ** order);
    const states = this.objs.state;
    const ob = t.objBase[slab]!;
    const first = base + s.redLeftPad;
    let p = first;
    for (let idx = 0; idx < objects; idx++) {
      states[ob + idx] = ObjState.FREE;
      this.setupObject(s, p);
      const next = idx + 1 < objects ? p + s.size : 0;
      this.setFreepointer(s, p, next);
      p += s.size;
    }
    this.writeSlab(slab, first, 0);
    return slab;
  }

  /** `setup_object()`: debug patterns and the constructor. */
  private setupObject(s: KmemCache, obj: number): void {
    if (s.redZone || s.objectPoison || s.storeUser) this.dbg.initObject(s, obj, 0xbb);
    if (s.ctor !== null) s.ctor(obj);
  }

  /** `discard_slab()`: off the node counters, then freed (after a grace period for SLAB_TYPESAFE_BY_RCU). */
  discardSlab(s: KmemCache, slab: number): void {
    const t = this.slabs;
    s.nrSlabs--;
    s.totalObjects -= t.objects[slab]!;
    this.m.store(s.nodeLine + N_NR_SLABS, s.nrSlabs, this.siteNode);
    const n = t.allNext[slab]!;
    const p = t.allPrev[slab]!;
    if (p >= 0) t.allNext[p] = n;
    else s.allHead = n;
    if (n >= 0) t.allPrev[n] = p;
    t.allNext[slab] = -1;
    t.allPrev[slab] = -1;
    if (s.consistency) {
      this.dbg.slabPadCheck(s, slab);
      this.dbg.checkAllObjectsInactive(s, slab);
    }
    if (s.typesafe && this.rcu !== null) {
      t.flags[slab] = t.flags[slab]! | SlabFlag.RCU;
      s.rcuSlabs++;
      this.rcu.callRcu(t.desc[slab]! + D_LINK, () => this.rcuFreeSlab(s, slab));
      return;
    }
    this.freeSlabPages(s, slab);
  }

  /** `rcu_free_slab()`. */
  private rcuFreeSlab(s: KmemCache, slab: number): void {
    s.rcuSlabs--;
    this.freeSlabPages(s, slab);
    if (s.life === 'destroyed') this.releaseCacheMemory(s);
  }

  /** `__free_slab()`: the pages go back to the page allocator. */
  freeSlabPages(_s: KmemCache, slab: number): void {
    const t = this.slabs;
    const pfn = t.pfn[slab]!;
    const order = t.order[slab]!;
    for (let k = 0; k < 2 ** order; k++) this.pfnMap.set(pfn + k, 0);
    this.objs.release(t.objBase[slab]!, t.objects[slab]!);
    t.flags[slab] = 0;
    t.release(slab);
    this.outstanding.delete(pfn);
    this.slabPages -= 2 ** order;
    this.pages.freePages(pfn, order);
    this.pages.accountReclaimedPages?.(2 ** order);
  }

  /**
   * `__slab_free()`: put the detached list head..tail (cnt objects) back on
   * the slab's freelist with a cmpxchg-double, and fix up the slab's list
   * membership: a full slab becomes partial, an empty one is discarded when
   * the node keeps enough partial slabs. Debug caches go through
   * `free_to_partial_list()`.
   */
  slabFreeSlow(s: KmemCache, slab: number, head: number, tail: number, cnt: number): void {
    this.stat(s, Stat.FREE_SLOWPATH);
    if (s.debug) {
      this.freeToPartialList(s, slab, head, tail, cnt);
      return;
    }
    const m = this.m;
    const t = this.slabs;
    let locked = false;
    let flags = 0;
    let prior = 0;
    let counters = 0;
    let newCounters = 0;
    let wasFrozen = false;
    let onNodePartial = false;
    for (;;) {
      if (locked) {
        s.listLock.unlockIrqrestore(flags);
        locked = false;
      }
      prior = this.readFreelist(slab);
      counters = this.readCounters(slab);
      this.setFreepointer(s, tail, prior);
      wasFrozen = counters >= FROZEN;
      newCounters = counters - cnt;
      const newInuse = newCounters % FROZEN;
      if ((newInuse === 0 || prior === 0) && !wasFrozen) {
        if (!s.hasCpuPartial || prior !== 0) {
          // Speculatively take list_lock; dropped if the cmpxchg fails.
          flags = s.listLock.lockIrqsave();
          locked = true;
          onNodePartial = (t.flags[slab]! & SlabFlag.PARTIAL) !== 0;
        }
      }
      m.probe(this.probeFreeSlow);
      if (this.updateFreelist(slab, prior, counters, head, newCounters)) break;
      this.stat(s, Stat.CMPXCHG_DOUBLE_FAIL);
    }
    if (!locked) {
      if (wasFrozen) {
        this.stat(s, Stat.FREE_FROZEN);
      } else if (s.hasCpuPartial && prior === 0) {
        // A full slab got a free object: onto this CPU's partial list.
        this.putCpuPartial(s, slab, true);
        this.stat(s, Stat.CPU_PARTIAL_FREE);
      }
      return;
    }
    if (prior !== 0 && !onNodePartial) {
      // Partly empty but not on the node list (a CPU partial slab): leave it.
      s.listLock.unlockIrqrestore(flags);
      return;
    }
    if (newCounters % FROZEN === 0 && s.nrPartial >= s.minPartial) {
      if (prior !== 0) {
        this.removePartial(s, slab);
        this.stat(s, Stat.FREE_REMOVE_PARTIAL);
      }
      s.listLock.unlockIrqrestore(flags);
      this.stat(s, Stat.FREE_SLAB);
      this.discardSlab(s, slab);
      return;
    }
    if (!s.hasCpuPartial && prior === 0) {
      this.addPartial(s, slab, true);
      this.stat(s, Stat.FREE_ADD_PARTIAL);
    }
    s.listLock.unlockIrqrestore(flags);
  }

  /** `put_cpu_partial()`; SLUB overrides it (the sheaves design has no CPU partial slabs). */
  putCpuPartial(_s: KmemCache, _slab: number, _drain: boolean): void {}

  /**
   * `free_to_partial_list()`: debug caches free under list_lock after
   * `free_debug_processing()`.
   */
  freeToPartialList(s: KmemCache, slab: number, head: number, tail: number, cnt: number): void {
    const flags = s.listLock.lockIrqsave();
    let slabFree = -1;
    if (this.dbg.freeDebugProcessing(s, slab, head, tail, cnt)) {
      const prior = this.readFreelist(slab);
      const counters = this.readCounters(slab);
      this.setFreepointer(s, tail, prior);
      const newCounters = counters - cnt;
      this.writeSlab(slab, head, newCounters);
      if (newCounters % FROZEN === 0 && s.nrPartial >= s.minPartial) slabFree = slab;
      if (prior === 0) {
        this.removeFull(s, slab);
        if (slabFree < 0) {
          this.addPartial(s, slab, true);
          this.stat(s, Stat.FREE_ADD_PARTIAL);
        }
      } else if (slabFree >= 0) {
        this.removePartial(s, slab);
        this.stat(s, Stat.FREE_REMOVE_PARTIAL);
      }
    } else {
      // Refused: every object of the list stays allocated.
      let o = head;
      for (let k = 0; k < cnt && o !== 0; k++) {
        const i = this.objIndex(s, slab, o);
        const next = k + 1 < cnt ? this.getFreepointer(s, o) : 0;
        if (i >= 0) this.unfree(i);
        o = next;
      }
    }
    s.listLock.unlockIrqrestore(flags);
    if (slabFree >= 0) {
      this.stat(s, Stat.FREE_SLAB);
      this.discardSlab(s, slabFree);
    }
  }

  /**
   * `alloc_single_from_partial()` (list_lock held): one object off a partial
   * slab, with debug processing; the slab moves to the full list when used up.
   */
  allocSingleFromPartial(s: KmemCache, slab: number, origSize: number): number {
    const obj = this.readFreelist(slab);
    const next = this.getFreepointer(s, obj);
    const counters = this.readCounters(slab) + 1;
    this.writeSlab(slab, next, counters);
    if (s.debug && !this.dbg.allocDebugProcessing(s, slab, obj, origSize)) {
      this.removePartial(s, slab);
      return 0;
    }
    if (counters % FROZEN === this.slabs.objects[slab]) {
      this.removePartial(s, slab);
      this.addFull(s, slab);
    }
    return obj;
  }

  /**
   * `get_partial_node()` for caches that take single objects off partial
   * slabs (debug caches, and every cache of the sheaves design).
   */
  getPartialSingle(s: KmemCache, gfp: number, origSize: number): number {
    if (s.nrPartial === 0) return 0;
    let flags: number;
    if (gfpflagsAllowSpinning(gfp)) flags = s.listLock.lockIrqsave();
    else {
      flags = s.listLock.trylockIrqsave();
      if (flags === -1) return 0;
    }
    let obj = 0;
    let slab = s.partialHead;
    while (slab >= 0) {
      const next = this.slabs.next[slab]!;
      obj = this.allocSingleFromPartial(s, slab, origSize);
      if (obj !== 0) break;
      slab = next;
    }
    s.listLock.unlockIrqrestore(flags);
    return obj;
  }

  /**
   * `alloc_single_from_new_slab()`: one object from a fresh slab, which goes
   * on the partial list. Without spinning, a contended list_lock makes the
   * slab go to deferred deactivation instead.
   */
  allocSingleFromNewSlab(s: KmemCache, slab: number, origSize: number, gfp: number): number {
    const allowSpin = gfpflagsAllowSpinning(gfp);
    let flags = 0;
    if (!allowSpin) {
      flags = s.listLock.trylockIrqsave();
      if (flags === -1) {
        this.writeSlab(slab, this.readFreelist(slab), this.readCounters(slab) + FROZEN);
        this.defer.deferDeactivateSlab(s, slab, 0);
        return 0;
      }
    }
    const obj = this.readFreelist(slab);
    const next = this.getFreepointer(s, obj);
    this.writeSlab(slab, next, 1);
    if (s.debug && !this.dbg.allocDebugProcessing(s, slab, obj, origSize)) {
      if (!allowSpin) s.listLock.unlockIrqrestore(flags);
      return 0;
    }
    if (allowSpin) flags = s.listLock.lockIrqsave();
    if (this.slabs.objects[slab] === 1) this.addFull(s, slab);
    else this.addPartial(s, slab, false);
    s.listLock.unlockIrqrestore(flags);
    return obj;
  }

  /**
   * The slab path of a cache without a per-CPU slab: a partial slab, else a
   * new slab (`___slab_alloc()` for debug caches; the v7.0 slab path).
   */
  allocSingle(s: KmemCache, gfp: number, origSize: number): number {
    this.stat(s, Stat.ALLOC_SLOWPATH);
    for (let pass = 0; pass < 2; pass++) {
      const obj = this.getPartialSingle(s, gfp, origSize);
      if (obj !== 0) {
        this.stat(s, Stat.ALLOC_FROM_PARTIAL);
        return obj;
      }
      const slab = this.allocateSlab(s, gfp);
      if (slab < 0) {
        this.slabOutOfMemory(s, gfp);
        return 0;
      }
      this.stat(s, Stat.ALLOC_SLAB);
      const o = this.allocSingleFromNewSlab(s, slab, origSize, gfp);
      if (o !== 0) return o;
    }
    return 0;
  }

  /**
   * `deactivate_slab()`: splice a CPU's freelist back into the slab,
   * unfreeze it, and put it on the node partial list or discard it.
   */
  deactivateSlab(s: KmemCache, slab: number, freelist: number): void {
    let tail = false;
    if (this.readFreelist(slab) !== 0) {
      this.stat(s, Stat.DEACTIVATE_REMOTE_FREES);
      tail = true;
    }
    let freeDelta = 0;
    let flTail = 0;
    let iter = freelist;
    while (iter !== 0) {
      const next = this.getFreepointer(s, iter);
      if (!this.validPointer(s, slab, next)) {
        this.dbg.freelistCorrupted(s, slab, iter);
        break;
      }
      flTail = iter;
      freeDelta++;
      iter = next;
    }
    let newFl = 0;
    let newCounters = 0;
    for (;;) {
      const oldFl = this.readFreelist(slab);
      const oldCnt = this.readCounters(slab);
      newCounters = oldCnt % FROZEN;
      if (flTail !== 0) {
        newCounters -= freeDelta;
        this.setFreepointer(s, flTail, oldFl);
        newFl = freelist;
      } else {
        newFl = oldFl;
      }
      if (this.updateFreelist(slab, oldFl, oldCnt, newFl, newCounters)) break;
      this.stat(s, Stat.CMPXCHG_DOUBLE_FAIL);
    }
    if (newCounters === 0 && s.nrPartial >= s.minPartial) {
      this.stat(s, Stat.DEACTIVATE_EMPTY);
      this.discardSlab(s, slab);
      this.stat(s, Stat.FREE_SLAB);
    } else if (newFl !== 0) {
      const f = s.listLock.lockIrqsave();
      this.addPartial(s, slab, tail);
      s.listLock.unlockIrqrestore(f);
      this.stat(s, tail ? Stat.DEACTIVATE_TO_TAIL : Stat.DEACTIVATE_TO_HEAD);
    } else {
      this.stat(s, Stat.DEACTIVATE_FULL);
      this.addFull(s, slab);
    }
  }

  /** `slab_out_of_memory()`: rate-limited warning unless __GFP_NOWARN. */
  slabOutOfMemory(s: KmemCache, gfp: number): void {
    if ((gfp & __GFP_NOWARN) !== 0) return;
    const m = this.m;
    const now = m.now();
    // DEFAULT_RATELIMIT_INTERVAL 5 s, DEFAULT_RATELIMIT_BURST 10.
    this.oomTimes = this.oomTimes.filter((t) => now - t < 5e9);
    if (this.oomTimes.length >= 10) return;
    this.oomTimes.push(now);
    let free = 0;
    for (let sl = s.partialHead; sl >= 0; sl = this.slabs.next[sl]!)
      free += this.slabs.objects[sl]! - (this.readCounters(sl) % FROZEN);
    m.report({
      kind: 'slub-oom',
      lines: [
        `SLUB: Unable to allocate memory on CPU ${m.cpu} (of node 0) on node -1, gfp=0x${gfp.toString(16)}(${formatGfp(gfp)})`,
        `  cache: ${s.name}, object size: ${s.objectSize}, buffer size: ${s.size}, default order: ${s.order}, min order: ${s.minOrder}`,
        `  node 0: slabs: ${s.nrSlabs}, objs: ${s.totalObjects}, free: ${free}`,
      ],
      details: { cache: s.name, gfp },
      level: 'warning',
    });
  }

  // ==== destroy / shrink ==================================================================================

  /** Flush every CPU's per-CPU state of `s` (`flush_all()`). */
  flushAll(s: KmemCache): void {
    for (let c = 0; c < this.nrCpus; c++) this.flushCpu(s, c);
  }

  kmemCacheShrink(cache: SlabCache): number {
    const s = this.own(cache, 'kmem_cache_shrink', true);
    this.m.mightSleep('mm/slab_common.c');
    this.kasan.drainCache(s);
    this.flushAll(s);
    return this.doShrink(s);
  }

  /** `__kmem_cache_do_shrink()`: discard empty partial slabs, fullest first. */
  private doShrink(s: KmemCache): number {
    this.shrinkPerCpu(s);
    const flags = s.listLock.lockIrqsave();
    const discard: number[] = [];
    const keep: [number, number][] = [];
    for (let slab = s.partialHead; slab >= 0; ) {
      const next = this.slabs.next[slab]!;
      const inuse = this.readCounters(slab) % FROZEN;
      this.removePartial(s, slab);
      if (inuse === 0) discard.push(slab);
      else keep.push([slab, this.slabs.objects[slab]! - inuse]);
      slab = next;
    }
    // Promote the fullest slabs to the head (stable for equal free counts).
    keep.sort((a, b) => a[1] - b[1]);
    for (const [slab] of keep) this.addPartial(s, slab, true);
    s.listLock.unlockIrqrestore(flags);
    for (const slab of discard) this.discardSlab(s, slab);
    return s.nrSlabs > 0 ? 1 : 0;
  }

  kmemCacheDestroy(cache: SlabCache): boolean {
    const s = this.own(cache, 'kmem_cache_destroy', true);
    if (s.kmallocIndex >= 0) {
      throw new SlabError(
        'BAD_CACHE',
        `kmem_cache_destroy(${s.name}): kmalloc caches cannot be destroyed: accepted a cache from kmemCacheCreate()`,
      );
    }
    const m = this.m;
    m.mightSleep('mm/slab_common.c');
    this.defer.barrier();
    this.kasan.drainCache(s);
    this.flushAll(s);
    this.shrinkPerCpu(s);
    // free_partial(): empty slabs go, slabs with objects are listed.
    const flags = s.listLock.lockIrqsave();
    const discard: number[] = [];
    for (let slab = s.partialHead; slab >= 0; ) {
      const next = this.slabs.next[slab]!;
      if (this.readCounters(slab) % FROZEN === 0) {
        this.removePartial(s, slab);
        discard.push(slab);
      }
      slab = next;
    }
    s.listLock.unlockIrqrestore(flags);
    for (const slab of discard) this.discardSlab(s, slab);
    if (s.nrSlabs > 0 || s.rcuSheaves > 0) {
      this.dbg.reportLeak(s);
      s.life = 'leaked';
      return false;
    }
    s.life = 'destroyed';
    if (s.rcuSlabs === 0) this.releaseCacheMemory(s);
    return true;
  }

  /** Give a destroyed cache's metadata lines back. */
  releaseCacheMemory(s: KmemCache): void {
    if (s.hotLine === 0) return;
    const a = this.arena;
    a.release(s.hotLine);
    a.release(s.nodeLine);
    if (s.barnLine !== 0) a.release(s.barnLine);
    for (let c = 0; c < this.nrCpus; c++) if (s.cpuLines[c] !== 0) a.release(s.cpuLines[c]!);
    s.hotLine = 0;
  }

  // ==== reports, stats, invariants =====================================================================

  /** A WARN once per `key`. */
  warnOnce(
    key: string,
    input: {
      kind: string;
      site: string;
      fn: string;
      message: string;
      details?: Record<string, unknown>;
    },
  ): void {
    if (this.once.has(key)) return;
    this.once.add(key);
    this.m.warn(input);
  }

  objectState(addr: number): ObjectState {
    checkAddr(addr, 'objectState');
    const pfn = this.pages.virtToPfn(addr);
    const v = this.pfnMap.get(pfn);
    if (v < 0) return 'large-kmalloc';
    if (v === 0) return 'none';
    const s = this.byId[this.slabs.cache[v - 1]!]!;
    const i = this.objIndex(s, v - 1, addr);
    if (i < 0) return 'none';
    return OBJ_STATE_NAMES[this.objs.state[i]!] ?? 'free';
  }

  slabinfo(): string {
    return formatSlabinfo(this);
  }

  stats(): SlabStats {
    return slabStatsOf(this);
  }

  cacheStats(cache: SlabCache): KmemCacheStats {
    return cacheStatsOf(this, this.own(cache, 'cacheStats', true));
  }

  checkInvariants(): string[] {
    return checkInvariants(this);
  }
}

function checkPorts(ports: SlabPorts): void {
  if (typeof ports !== 'object' || ports === null) {
    throw new SlabError(
      'BAD_ARGUMENT',
      `slab ports ${show(ports)}: accepted { machine, locking, pages, rcu? }`,
    );
  }
  if (
    typeof ports.machine !== 'object' ||
    ports.machine === null ||
    typeof ports.machine.load !== 'function'
  ) {
    throw new SlabError(
      'BAD_ARGUMENT',
      'slab ports.machine: accepted a Machine from createMachine()',
    );
  }
  if (
    typeof ports.locking !== 'object' ||
    ports.locking === null ||
    typeof ports.locking.localLock !== 'function'
  ) {
    throw new SlabError(
      'BAD_ARGUMENT',
      'slab ports.locking: accepted the Locking of createLocking(machine)',
    );
  }
  const p = ports.pages as Partial<PageAllocator> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.allocPages !== 'function' ||
    typeof p.freePages !== 'function' ||
    typeof p.allocPagesNolock !== 'function' ||
    typeof p.freePagesNolock !== 'function' ||
    typeof p.pageAddress !== 'function' ||
    typeof p.virtToPfn !== 'function'
  ) {
    throw new SlabError(
      'BAD_ARGUMENT',
      'slab ports.pages: accepted a PageAllocator (allocPages, freePages, allocPagesNolock, freePagesNolock, pageAddress, virtToPfn)',
    );
  }
  if (
    ports.rcu !== undefined &&
    (typeof ports.rcu !== 'object' || ports.rcu === null || typeof ports.rcu.callRcu !== 'function')
  ) {
    throw new SlabError('BAD_ARGUMENT', 'slab ports.rcu: accepted { callRcu(head, fn) }');
  }
}
