import type { Machine } from '@sim/cpu';
import type { Locking } from '@sim/locks';
import type { PageAllocator } from './page-allocator.js';
import type { SlabStatName } from './stat-items.js';

/**
 * What an implementation of {@link SlabAllocator} supports beyond the core
 * kmalloc/kmem_cache API; the conformance suite gates its optional tests on
 * these.
 * @public
 */
export interface SlabCapabilities {
  /** A per-CPU slab with a lockless freelist (SLUB up to v6.19). */
  readonly perCpuSlab: boolean;
  /** Per-CPU partial slabs. */
  readonly cpuPartial: boolean;
  /** Per-CPU sheaves and a per-node barn (v6.18 opt-in, v7.0 for all caches). */
  readonly sheaves: boolean;
  /** The `rcu_free` sheaf behind {@link RcuSheafProvider.kfreeRcuSheaf}. */
  readonly rcuSheaf: boolean;
  /** kmalloc_nolock()/kfree_nolock() with re-entrancy detection and deferred frees. */
  readonly nolock: boolean;
  /** kmem_cache_alloc_bulk()/kmem_cache_free_bulk()/kfree_bulk(). */
  readonly bulk: boolean;
  /** SLUB debugging: red zones, poisoning, user tracking, consistency checks. */
  readonly debug: boolean;
  /** KASAN-like checked loads and stores. */
  readonly kasan: boolean;
  /** SLAB_TYPESAFE_BY_RCU caches. */
  readonly typesafeByRcu: boolean;
  /** {@link SlabAllocator.checkInvariants} checks the allocator's own structures. */
  readonly invariants: boolean;
}

/**
 * A cache handle (`struct kmem_cache *`) with its geometry, as
 * /sys/kernel/slab/<name>/ shows it.
 * @public
 */
export interface SlabCache {
  /** Cache name, e.g. "kmalloc-64" or "dentry". */
  readonly name: string;
  /** `object_size`: the size asked for. */
  readonly objectSize: number;
  /** `size`: stride between objects, metadata included (`slab_size`). */
  readonly size: number;
  /** `inuse`: object plus right red zone. */
  readonly inuse: number;
  /** `offset`: where a free object keeps its free pointer. */
  readonly offset: number;
  /** `align`. */
  readonly align: number;
  /** `red_left_pad`. */
  readonly redLeftPad: number;
  /** Cache flags (SLAB_*), debug flags included. */
  readonly flags: number;
  /** Pages per slab as an order. */
  readonly order: number;
  /** Objects per slab (`objs_per_slab`). */
  readonly objectsPerSlab: number;
  /** `min_partial`. */
  readonly minPartial: number;
  /** `cpu_partial` (objects), 0 without per-CPU partial slabs. */
  readonly cpuPartial: number;
  /** `sheaf_capacity`, 0 without sheaves. */
  readonly sheafCapacity: number;
}

/** Options of {@link SlabAllocator.kmemCacheCreate}, `struct kmem_cache_args` plus flags. @public */
export interface KmemCacheOptions {
  /** Required alignment (a power of two); default 0 (word). */
  readonly align?: number;
  /** SLAB_* flags. */
  readonly flags?: number;
  /** Constructor run on every object when its slab is created (`ctor`). */
  readonly ctor?: (addr: number) => void;
  /** SLAB_TYPESAFE_BY_RCU only: keep the free pointer at this offset inside the object. */
  readonly freeptrOffset?: number;
  /** Requested sheaf capacity (sheaves design; at least this many). */
  readonly sheafCapacity?: number;
}

/**
 * What the slab allocator needs from RCU: `call_rcu()` with the callback's
 * `rcu_head` in simulated memory. `@sim/rcu` satisfies it; tests can use
 * {@link createManualRcuPort}.
 * @public
 */
export interface SlabRcuPort {
  /** Queue `fn(head)` to run after a grace period. Models `call_rcu()`. */
  callRcu(head: number, fn: (head: number) => void): void;
}

/**
 * The hook `@sim/rcu` calls for kfree_rcu() batching through sheaves. Models
 * `__kfree_rcu_sheaf()` and `flush_all_rcu_sheaves()` (mm/slub.c).
 * @public
 */
export interface RcuSheafProvider {
  /**
   * Put `addr` (a slab object to free after a grace period) in this CPU's
   * `rcu_free` sheaf of its cache; a full sheaf is handed to `call_rcu()`.
   * False when the cache has no sheaves, no RCU port is attached, or a
   * trylock or sheaf allocation fails: the caller then uses its own batching.
   */
  kfreeRcuSheaf(addr: number): boolean;
  /**
   * Submit every partly filled `rcu_free` sheaf to `call_rcu()` (what
   * `kvfree_rcu_barrier()` does before its `rcu_barrier()`).
   */
  flushRcuSheaves(): void;
}

/** Where a slab object is, as the invariant checker sees it. @public */
export type ObjectState =
  | 'allocated'
  | 'free'
  | 'sheaf'
  | 'deferred'
  | 'quarantined'
  | 'rcu-sheaf'
  | 'large-kmalloc'
  | 'none';

/** Counters and occupancy of one cache. @public */
export interface KmemCacheStats {
  /** Cache name. */
  readonly name: string;
  /** `object_size`. */
  readonly objectSize: number;
  /** `size`: the stride. */
  readonly size: number;
  /** Objects per slab. */
  readonly objectsPerSlab: number;
  /** Slab order. */
  readonly order: number;
  /** Slabs held. */
  readonly slabs: number;
  /** Objects in those slabs. */
  readonly totalObjects: number;
  /** Objects handed to users. */
  readonly inUse: number;
  /** Objects parked in sheaves (rcu_free sheaves included). */
  readonly inSheaves: number;
  /** Objects on deferred-free lists. */
  readonly deferred: number;
  /** Objects held by the KASAN quarantine. */
  readonly quarantined: number;
  /** Free objects in slabs. */
  readonly free: number;
  /** Event counters summed over CPUs. */
  readonly events: Readonly<Record<SlabStatName, number>>;
}

/** Why kmalloc_nolock() returned NULL, counted. @public */
export interface NolockFailures {
  /** PREEMPT_RT in hardirq or NMI context. */
  readonly rtIrq: number;
  /** Larger than KMALLOC_MAX_CACHE_SIZE (including the retry bucket). */
  readonly tooLarge: number;
  /** Both buckets' per-CPU locks held by the interrupted context. */
  readonly busy: number;
  /** No object and no page could be had without spinning. */
  readonly noMemory: number;
}

/** kmalloc_nolock()/kfree_nolock() counters. @public */
export interface NolockStats {
  /** kmalloc_nolock() calls. */
  readonly allocCalls: number;
  /** kmalloc_nolock() calls that returned memory (ZERO_SIZE_PTR included). */
  readonly allocSucceeded: number;
  /** Retries in the next bucket after finding the bucket's lock held. */
  readonly retries: number;
  /** Why the others returned NULL. */
  readonly failures: NolockFailures;
  /** kfree_nolock() calls. */
  readonly freeCalls: number;
  /** Frees done at once. */
  readonly freedNow: number;
  /** Frees put on a deferred list. */
  readonly deferred: number;
  /** kfree_nolock() of large kmalloc memory, refused with a warning. */
  readonly rejected: number;
}

/** Where kfree_nolock() parks frees it cannot do at once. @public */
export type DeferPlacement = 'per-cpu' | 'per-cache';

/** Deferred-free list counters. @public */
export interface DeferStats {
  /** The placement in force. */
  readonly placement: DeferPlacement;
  /** Objects put on a deferred list. */
  readonly queued: number;
  /** Objects taken off and freed. */
  readonly drained: number;
  /** Objects on the lists now. */
  readonly pending: number;
  /** irq_work items queued to drain them. */
  readonly irqWorks: number;
  /**
   * Cache-line transfers (a line Modified in another CPU's cache) on the
   * lists' lines: the per-CPU lists' own lines, or for per-cache lists the
   * `struct kmem_cache` lines that hold them.
   */
  readonly cacheLineTransfers: number;
}

/** Pages the slab allocator holds. @public */
export interface SlabPageStats {
  /** Pages of slabs. */
  readonly slab: number;
  /** Pages of large kmalloc allocations. */
  readonly largeKmalloc: number;
  /** Pages of the allocator's own metadata. */
  readonly metadata: number;
  /** Pages taken from the page allocator and not given back. */
  readonly outstanding: number;
}

/** KASAN counters. @public */
export interface KasanStats {
  /** Whether checked accesses are checked. */
  readonly enabled: boolean;
  /** KASAN reports printed. */
  readonly reports: number;
  /** Objects held in the quarantine. */
  readonly quarantinedObjects: number;
  /** Bytes held in the quarantine. */
  readonly quarantinedBytes: number;
}

/** A snapshot of the allocator for reports. @public */
export interface SlabStats {
  /** Implementation name ("slub", "sheaves", …). */
  readonly allocator: string;
  /** Every cache, newest first (destroyed ones left out). */
  readonly caches: readonly KmemCacheStats[];
  /** Pages held. */
  readonly pages: SlabPageStats;
  /** kmalloc_nolock()/kfree_nolock() counters. */
  readonly nolock: NolockStats;
  /** Deferred-free counters. */
  readonly defer: DeferStats;
  /** KASAN counters. */
  readonly kasan: KasanStats;
}

/**
 * The slab allocator contract: kmem_cache and kmalloc APIs, bulk and
 * re-entrant variants, debugging and the reports tools read. `addr` values
 * are physical addresses in the machine's memory; 0 is NULL. Two
 * implementations ship ({@link createSlub}, {@link createSheaves}); any
 * other passes `describeSlabAllocator` from `@sim/slab/conformance`.
 * @public
 */
export interface SlabAllocator extends RcuSheafProvider {
  /** Implementation name. */
  readonly name: string;
  /** What it supports beyond the core API. */
  readonly capabilities: SlabCapabilities;
  /** The machine it runs on. */
  readonly machine: Machine;

  /** Create a cache. Models `kmem_cache_create()`. */
  kmemCacheCreate(name: string, size: number, options?: KmemCacheOptions): SlabCache;
  /**
   * Destroy a cache: flush per-CPU state and free its slabs. With objects
   * still allocated it reports the leak and returns false, leaving the cache
   * usable for frees only. Models `kmem_cache_destroy()`.
   */
  kmemCacheDestroy(cache: SlabCache): boolean;
  /** Release empty slabs; 0 when every slab went back. Models `kmem_cache_shrink()`. */
  kmemCacheShrink(cache: SlabCache): number;
  /** Allocate an object; 0 on failure. Models `kmem_cache_alloc()`. */
  kmemCacheAlloc(cache: SlabCache, gfp: number): number;
  /** Allocate on node `node` (-1 for any). Models `kmem_cache_alloc_node()`. */
  kmemCacheAllocNode(cache: SlabCache, gfp: number, node: number): number;
  /** Free an object of `cache`. Models `kmem_cache_free()`. */
  kmemCacheFree(cache: SlabCache, addr: number): void;
  /**
   * Allocate `count` objects into `out[0..count)`, all or nothing; returns
   * `count` or 0. Models `kmem_cache_alloc_bulk()`.
   */
  kmemCacheAllocBulk(
    cache: SlabCache,
    gfp: number,
    count: number,
    out: Float64Array | number[],
  ): number;
  /** Free `ptrs[0..count)` of `cache`. Models `kmem_cache_free_bulk()`. */
  kmemCacheFreeBulk(cache: SlabCache, count: number, ptrs: ArrayLike<number>): void;

  /** Allocate `size` bytes; 0 on failure, {@link ZERO_SIZE_PTR} for 0. Models `kmalloc()`. */
  kmalloc(size: number, gfp: number): number;
  /** kmalloc() on node `node` (-1 for any). Models `kmalloc_node()`. */
  kmallocNode(size: number, gfp: number, node: number): number;
  /** Zeroed kmalloc(). Models `kzalloc()`. */
  kzalloc(size: number, gfp: number): number;
  /** Free kmalloc or kmem_cache memory; NULL and ZERO_SIZE_PTR are no-ops. Models `kfree()`. */
  kfree(addr: number): void;
  /** kfree() (there is no vmalloc here). Models `kvfree()`. */
  kvfree(addr: number): void;
  /** Usable size of an allocation. Models `ksize()`. */
  ksize(addr: number): number;
  /** Resize, keeping the contents. Models `krealloc()`. */
  krealloc(addr: number, newSize: number, gfp: number): number;
  /**
   * Free `ptrs[0..count)` of any caches (NULLs skipped). Argument order as
   * `@sim/rcu`'s `ObjectFreer` port has it. Models `kfree_bulk()`.
   */
  kfreeBulk(ptrs: ArrayLike<number>, count: number): void;
  /**
   * Allocate from any context (NMI, under raw spinlocks, re-entrantly); NULL
   * means "no memory", never "busy". Only `__GFP_ZERO` and `__GFP_ACCOUNT`
   * may be in `gfp`. Models `kmalloc_nolock()`.
   */
  kmallocNolock(size: number, gfp: number, node?: number): number;
  /** Free kmalloc_nolock() memory from any context. Models `kfree_nolock()`. */
  kfreeNolock(addr: number): void;
  /** Perform every deferred free now (`defer_free_barrier()`). */
  deferFreeBarrier(): void;

  /** Attach (or detach with null) the RCU used for rcu_free sheaves and SLAB_TYPESAFE_BY_RCU. */
  setRcu(port: SlabRcuPort | null): void;

  /** A KASAN-checked 8-byte load of a user's object. */
  checkedLoad(addr: number, site?: number): number;
  /** A KASAN-checked 8-byte store; a faulting store is reported and not performed. */
  checkedStore(addr: number, value: number, site?: number): void;

  /** The kmalloc cache serving `size` with `gfp`, or null above 8 KiB. Models `kmalloc_slab()`. */
  kmallocCache(size: number, gfp?: number): SlabCache | null;
  /** Live caches, newest first (the order of /proc/slabinfo). */
  caches(): readonly SlabCache[];
  /** The live cache called `name`. */
  findCache(name: string): SlabCache | undefined;
  /** `/proc/slabinfo`. */
  slabinfo(): string;
  /** Counters and occupancy. */
  stats(): SlabStats;
  /** Counters and occupancy of one cache. */
  cacheStats(cache: SlabCache): KmemCacheStats;
  /** Where the object at `addr` is. */
  objectState(addr: number): ObjectState;
  /** Check the allocator's structures; returns the problems found (empty when sound). */
  checkInvariants(): string[];
}

/**
 * What an implementation is built from: the machine, its locking layer, the
 * page allocator, and optionally RCU.
 * @public
 */
export interface SlabPorts {
  /** The simulated machine. */
  readonly machine: Machine;
  /** Its locking layer (`createLocking(machine)`). */
  readonly locking: Locking;
  /** Where slabs and large kmalloc memory come from. */
  readonly pages: PageAllocator;
  /** RCU for SLAB_TYPESAFE_BY_RCU and the rcu_free sheaf (can also be attached later with `setRcu()`). */
  readonly rcu?: SlabRcuPort;
}

/** A slab allocator implementation: a factory over its ports. @public */
export type SlabFactory<O = unknown> = (ports: SlabPorts, options: O) => SlabAllocator;
