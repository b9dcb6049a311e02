import type { CacheModel } from '@sim/cpu';
import type { MetaArena } from './meta-arena.js';
import { LINE } from './meta-arena.js';

/*
 * `struct slab` (mm/slab.h). Each slab has a descriptor line in simulated
 * memory, like its struct page in the memmap: accesses to the freelist,
 * counters and cache pointer are charged to that line, and its link word is
 * the rcu_head/llist node. The scalar fields themselves (freelist head,
 * counters, cache) and the bookkeeping only the simulator needs (pfn, order,
 * list links, side-table base) are kept in typed arrays.
 */

/** `slab->freelist`. @internal */
export const D_FREELIST = 0;
/** `slab->counters`: inuse + frozen * 2^16. @internal */
export const D_COUNTERS = 8;
/** `slab->slab_list` / `rcu_head` / `llnode` word. @internal */
export const D_LINK = 16;
/** `slab->flush_freelist` (deferred deactivation). @internal */
export const D_FLUSH = 24;
/** `slab->slab_cache`: the cache id. @internal */
export const D_CACHE = 32;

/** Frozen bit in the counters word. @internal */
export const FROZEN = 65536;

/** `slab->flags` bits the simulator keeps. @internal */
export const SlabFlag = {
  /** On the node partial list (`SL_partial`). */
  PARTIAL: 1,
  /** On a CPU's partial list. */
  CPU_PARTIAL: 2,
  /** On the node full list (SLAB_STORE_USER caches). */
  FULL: 4,
  /** Failed a consistency check: all objects marked used. */
  DISABLED: 8,
  /** Waiting for an RCU grace period before its pages go back. */
  RCU: 16,
  /** Queued for deferred deactivation. */
  DEFERRED: 32,
} as const;

const INITIAL = 256;

/**
 * The table of slabs: ids recycled, each with a descriptor line.
 * @internal
 */
export class SlabTable {
  cache: Int32Array = new Int32Array(INITIAL);
  /** `slab->freelist`. */
  freelist: Float64Array = new Float64Array(INITIAL);
  /** `slab->counters`: inuse + frozen * 2^16. */
  counters: Float64Array = new Float64Array(INITIAL);
  pfn: Float64Array = new Float64Array(INITIAL);
  base: Float64Array = new Float64Array(INITIAL);
  desc: Float64Array = new Float64Array(INITIAL);
  /** Cache line number of `desc` (freelist and counters), for `CacheModel.accessLine()`. */
  descLine: Float64Array = new Float64Array(INITIAL);
  /** Cache line number of `desc + D_CACHE` (`slab->slab_cache`). */
  cacheLine: Float64Array = new Float64Array(INITIAL);
  order: Int8Array = new Int8Array(INITIAL);
  objects: Int32Array = new Int32Array(INITIAL);
  objBase: Int32Array = new Int32Array(INITIAL);
  flags: Uint8Array = new Uint8Array(INITIAL);
  next: Int32Array = new Int32Array(INITIAL).fill(-1);
  prev: Int32Array = new Int32Array(INITIAL).fill(-1);
  slabs: Int32Array = new Int32Array(INITIAL);
  allNext: Int32Array = new Int32Array(INITIAL).fill(-1);
  allPrev: Int32Array = new Int32Array(INITIAL).fill(-1);
  /** Whether the id is in use. */
  live: Uint8Array = new Uint8Array(INITIAL);
  /** Descriptor line address to slab id (lines stay bound to their id). */
  readonly descToId = new Map<number, number>();
  private count = 0;
  private readonly freeIds: number[] = [];

  constructor(
    private readonly arena: MetaArena,
    private readonly cacheModel: CacheModel,
  ) {}

  /** Number of ids ever handed out. */
  get size(): number {
    return this.count;
  }

  /** A fresh id with a zeroed descriptor line, or -1 when no metadata page can be had. */
  alloc(gfp: number, nolock: boolean): number {
    let id: number;
    if (this.freeIds.length > 0) {
      id = this.freeIds.pop()!;
    } else {
      const line = this.arena.line(gfp, nolock);
      if (line === 0) return -1;
      id = this.count++;
      if (id >= this.cache.length) this.grow();
      this.desc[id] = line;
      this.descLine[id] = this.cacheModel.lineNumber(line);
      this.cacheLine[id] = this.cacheModel.lineNumber(line + D_CACHE);
      this.descToId.set(line, id);
    }
    this.live[id] = 1;
    this.flags[id] = 0;
    this.next[id] = -1;
    this.prev[id] = -1;
    this.slabs[id] = 0;
    return id;
  }

  /** Return an id; its descriptor line stays with it for reuse. */
  release(id: number): void {
    this.live[id] = 0;
    this.freeIds.push(id);
  }

  /** Bytes spanned by slab `id`. */
  bytes(id: number): number {
    return 4096 * 2 ** this.order[id]!;
  }

  private grow(): void {
    const n = this.cache.length * 2;
    this.cache = g32(this.cache, n, 0);
    this.freelist = g64(this.freelist, n);
    this.counters = g64(this.counters, n);
    this.pfn = g64(this.pfn, n);
    this.base = g64(this.base, n);
    this.desc = g64(this.desc, n);
    this.descLine = g64(this.descLine, n);
    this.cacheLine = g64(this.cacheLine, n);
    const o = new Int8Array(n);
    o.set(this.order);
    this.order = o;
    this.objects = g32(this.objects, n, 0);
    this.objBase = g32(this.objBase, n, 0);
    this.flags = g8(this.flags, n);
    this.next = g32(this.next, n, -1);
    this.prev = g32(this.prev, n, -1);
    this.slabs = g32(this.slabs, n, 0);
    this.allNext = g32(this.allNext, n, -1);
    this.allPrev = g32(this.allPrev, n, -1);
    this.live = g8(this.live, n);
  }
}

/** Descriptor line size. @internal */
export const DESC_SIZE = LINE;

function g32(a: Int32Array, n: number, fill: number): Int32Array {
  const b = new Int32Array(n).fill(fill);
  b.set(a);
  return b;
}
function g64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function g8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}
