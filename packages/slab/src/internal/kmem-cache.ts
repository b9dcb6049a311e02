import type { LocalLock, SpinLock } from '@sim/locks';
import type { CacheLayout } from '../cache-layout.js';
import type { SlabCache } from '../contract.js';
import {
  SLAB_CONSISTENCY_CHECKS,
  SLAB_DEBUG_FLAGS,
  SLAB_KMALLOC,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TRACE,
  SLAB_TYPESAFE_BY_RCU,
} from '../flags.js';
import type { DeferList } from './defer-free.js';
import { __CMPXCHG_DOUBLE, __OBJECT_POISON } from './internal-flags.js';
import { NR_STAT_ITEMS } from './stat.js';

/** `struct kmem_cache` hot line: read on every alloc and free. @internal */
export const K_OFFSET = 0;
/** Per-cache deferred-free llist head (the first kmalloc_nolock proposal). @internal */
export const K_DEFER = 16;

/** `kmem_cache_cpu` fields in its per-CPU line. @internal */
export const C_FREELIST = 0;
/** `kmem_cache_cpu.tid`. @internal */
export const C_TID = 8;
/** `kmem_cache_cpu.slab` (slab id + 1, 0 for NULL). @internal */
export const C_SLAB = 16;
/** `kmem_cache_cpu.partial` (slab id + 1, 0 for NULL). @internal */
export const C_PARTIAL = 24;

/** `slub_percpu_sheaves.main`. @internal */
export const PCS_MAIN = 0;
/** `slub_percpu_sheaves.spare`. @internal */
export const PCS_SPARE = 8;
/** `slub_percpu_sheaves.rcu_free`. @internal */
export const PCS_RCU_FREE = 16;

/** `kmem_cache_node.nr_partial`. @internal */
export const N_NR_PARTIAL = 0;
/** `kmem_cache_node.partial` list head (first slab id + 1). @internal */
export const N_PARTIAL = 8;
/** `kmem_cache_node.nr_slabs`. @internal */
export const N_NR_SLABS = 16;

/** Lifecycle of a cache. @internal */
export type CacheLife = 'live' | 'leaked' | 'destroyed';

/**
 * `struct kmem_cache`: geometry, flags, the per-CPU and per-node structures
 * (their hot words in simulated memory), locks and counters.
 * @internal
 */
export class KmemCache implements SlabCache {
  readonly id: number;
  readonly name: string;
  readonly objectSize: number;
  readonly size: number;
  readonly inuse: number;
  readonly offset: number;
  readonly align: number;
  readonly redLeftPad: number;
  readonly flags: number;
  readonly order: number;
  readonly objectsPerSlab: number;
  readonly minOrder: number;
  readonly minObjects: number;
  readonly minPartial: number;
  readonly cpuPartial: number;
  readonly cpuPartialSlabs: number;
  sheafCapacity = 0;
  readonly ctor: ((addr: number) => void) | null;
  /** `s->allocflags`: __GFP_COMP plus zone/reclaim bits. */
  readonly allocflags: number;
  /** kmalloc index, or -1 for other caches. */
  readonly kmallocIndex: number;
  /** `kmem_cache_debug()`: any SLAB_DEBUG_FLAGS bit. */
  readonly debug: boolean;
  readonly consistency: boolean;
  readonly redZone: boolean;
  readonly poison: boolean;
  readonly objectPoison: boolean;
  readonly storeUser: boolean;
  readonly trace: boolean;
  readonly typesafe: boolean;
  /** SLAB_STORE_USER on a kmalloc cache: the requested size is kept (`slub_debug_orig_size()`). */
  readonly origSizeTracked: boolean;
  /** Alloc/free sites are recorded (SLAB_STORE_USER or KASAN). */
  track: boolean;
  /** `kmem_cache_has_cpu_partial()`: SLUB caches without debug flags. */
  hasCpuPartial: boolean;
  /** `s->flags & __CMPXCHG_DOUBLE`. */
  readonly cmpxchgDouble: boolean;

  /** The hot `struct kmem_cache` line. */
  hotLine = 0;
  /** Per-CPU lines: `kmem_cache_cpu` (SLUB) or `slub_percpu_sheaves` (sheaves). */
  readonly cpuLines: Float64Array;
  /** Cache line numbers of `cpuLines`, for `CacheModel.accessLine()`. */
  readonly cpuLineNo: Float64Array;
  /** `kmem_cache_cpu.freelist` per CPU (accesses charged to `cpuLines`). */
  readonly cFreelist: Float64Array;
  /** `kmem_cache_cpu.tid` per CPU. */
  readonly cTid: Float64Array;
  /** `kmem_cache_cpu.slab` per CPU: slab id + 1, 0 for NULL. */
  readonly cSlab: Int32Array;
  /** `kmem_cache_cpu.partial` per CPU: slab id + 1, 0 for NULL. */
  readonly cPartial: Int32Array;
  /** `slub_percpu_sheaves.main` per CPU (sheaf address). */
  readonly pcsMain: Float64Array;
  /** `slub_percpu_sheaves.spare` per CPU. */
  readonly pcsSpare: Float64Array;
  /** `slub_percpu_sheaves.rcu_free` per CPU. */
  readonly pcsRcu: Float64Array;
  /** The `kmem_cache_node` line. */
  nodeLine = 0;
  /** The `node_barn` line (sheaves), 0 otherwise. */
  barnLine = 0;
  /** `cpu_slab->lock` (SLUB) or `cpu_sheaves->lock` (sheaves). */
  cpuLock!: LocalLock;
  /** `n->list_lock`. */
  listLock!: SpinLock;
  /** `barn->lock`. */
  barnLock: SpinLock | null = null;
  /** The per-cache deferred llist (per-cache placement). */
  deferList: DeferList | null = null;

  // kmem_cache_node: the partial list (slab ids) and counters.
  partialHead = -1;
  partialTail = -1;
  nrPartial = 0;
  nrSlabs = 0;
  totalObjects = 0;
  /** Head of the list of every slab of the cache. */
  allHead = -1;

  /** Event counters, `nrCpus * NR_STAT_ITEMS`. */
  readonly stat: Float64Array;
  inUse = 0;
  inSheaves = 0;
  deferred = 0;
  quarantined = 0;
  /** Slabs waiting for an RCU grace period. */
  rcuSlabs = 0;
  /** rcu_free sheaves handed to call_rcu and not back yet. */
  rcuSheaves = 0;
  life: CacheLife = 'live';

  constructor(
    id: number,
    name: string,
    layout: CacheLayout,
    ctor: ((addr: number) => void) | null,
    allocflags: number,
    kmallocIndex: number,
    nrCpus: number,
  ) {
    this.id = id;
    this.name = name;
    this.objectSize = layout.objectSize;
    this.size = layout.size;
    this.inuse = layout.inuse;
    this.offset = layout.offset;
    this.align = layout.align;
    this.redLeftPad = layout.redLeftPad;
    let flags = layout.flags;
    if ((flags & (SLAB_CONSISTENCY_CHECKS | SLAB_STORE_USER | SLAB_TRACE)) === 0)
      flags |= __CMPXCHG_DOUBLE;
    this.flags = flags;
    this.order = layout.order;
    this.objectsPerSlab = layout.objects;
    this.minOrder = layout.minOrder;
    this.minObjects = layout.minObjects;
    this.minPartial = layout.minPartial;
    this.cpuPartial = layout.cpuPartial;
    this.cpuPartialSlabs = layout.cpuPartialSlabs;
    this.ctor = ctor;
    this.allocflags = allocflags;
    this.kmallocIndex = kmallocIndex;
    this.debug = (flags & SLAB_DEBUG_FLAGS) !== 0;
    this.consistency = (flags & SLAB_CONSISTENCY_CHECKS) !== 0;
    this.redZone = (flags & SLAB_RED_ZONE) !== 0;
    this.poison = (flags & SLAB_POISON) !== 0;
    this.objectPoison = (flags & __OBJECT_POISON) !== 0;
    this.storeUser = (flags & SLAB_STORE_USER) !== 0;
    this.trace = (flags & SLAB_TRACE) !== 0;
    this.typesafe = (flags & SLAB_TYPESAFE_BY_RCU) !== 0;
    this.origSizeTracked = this.storeUser && (flags & SLAB_KMALLOC) !== 0;
    this.track = this.storeUser;
    this.hasCpuPartial = !this.debug;
    this.cmpxchgDouble = (flags & __CMPXCHG_DOUBLE) !== 0;
    this.cpuLines = new Float64Array(nrCpus);
    this.cpuLineNo = new Float64Array(nrCpus);
    this.cFreelist = new Float64Array(nrCpus);
    this.cTid = new Float64Array(nrCpus);
    this.cSlab = new Int32Array(nrCpus);
    this.cPartial = new Int32Array(nrCpus);
    this.pcsMain = new Float64Array(nrCpus);
    this.pcsSpare = new Float64Array(nrCpus);
    this.pcsRcu = new Float64Array(nrCpus);
    this.stat = new Float64Array(nrCpus * NR_STAT_ITEMS);
  }

  /** Address of the first object of a slab at `base`. */
  firstObject(base: number): number {
    return base + this.redLeftPad;
  }
}
