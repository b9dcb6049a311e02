import { SlabError } from './errors.js';
import {
  SLAB_DEBUG_FLAGS,
  SLAB_HWCACHE_ALIGN,
  SLAB_KMALLOC,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
} from './flags.js';
import { PAGE_SIZE, WORD } from './internal/constants.js';
import { __OBJECT_POISON } from './internal/internal-flags.js';
import { show } from './internal/show.js';
import { getOrder, kmallocSizeRoundup } from './kmalloc-index.js';
/** `cache_line_size()` on x86_64. @public */
export const CACHE_LINE_SIZE = 64;
/** Most objects a slab may hold (`MAX_OBJS_PER_PAGE`: slab.objects is 15 bits). @public */
export const MAX_OBJS_PER_PAGE = 32767;
/** Largest page order (`MAX_PAGE_ORDER`). @public */
export const MAX_PAGE_ORDER = 10;
/** Fewest empty-or-partial slabs kept per node (`MIN_PARTIAL`). @public */
export const MIN_PARTIAL = 5;
/** Most partial slabs kept per node before shrinking sorts them (`MAX_PARTIAL`). @public */
export const MAX_PARTIAL = 10;
/** `sizeof(struct track)` with CONFIG_STACKDEPOT: addr, handle, cpu, pid, when. @public */
export const TRACK_SIZE = 32;
/** `struct_size(struct slab_sheaf, objects, 0)`: the sheaf header. @public */
export const SHEAF_HEADER_SIZE = 32;

/** Boot parameters that shape slab orders (`slab_min_order=`, `slab_max_order=`, `slab_min_objects=`). @public */
export interface SlabOrderParams {
  /** `slab_min_order=`; default 0. */
  readonly minOrder?: number;
  /** `slab_max_order=`; default 3 (`PAGE_ALLOC_COSTLY_ORDER`). */
  readonly maxOrder?: number;
  /** `slab_min_objects=`; default 0 (derived from the CPU count). */
  readonly minObjects?: number;
}

/** What {@link calculateLayout} needs to know about a cache. @public */
export interface LayoutInput {
  /** The object size the user asked for (`object_size`). */
  readonly objectSize: number;
  /** Alignment after `calculate_alignment()`. */
  readonly align: number;
  /** Cache flags, debug flags included. */
  readonly flags: number;
  /** Whether the cache has a constructor. */
  readonly hasCtor: boolean;
  /** `kmem_cache_args.freeptr_offset` for SLAB_TYPESAFE_BY_RCU caches, or -1. */
  readonly freeptrOffset: number;
  /** Number of CPUs (`num_present_cpus()`). */
  readonly nrCpus: number;
  /** Order boot parameters. */
  readonly params?: SlabOrderParams;
}

/** The object layout and slab geometry SLUB computes for a cache. @public */
export interface CacheLayout {
  /** `object_size`: what the user asked for. */
  readonly objectSize: number;
  /** `size`: the stride between objects, metadata included. */
  readonly size: number;
  /** `inuse`: object plus right red zone, where metadata starts. */
  readonly inuse: number;
  /** `offset`: where the free pointer lives in a free object. */
  readonly offset: number;
  /** `align`. */
  readonly align: number;
  /** `red_left_pad`: left red zone before each object. */
  readonly redLeftPad: number;
  /** Flags, with the internal `__OBJECT_POISON` decided. */
  readonly flags: number;
  /** `oo_order(s->oo)`: pages per slab as an order. */
  readonly order: number;
  /** `oo_objects(s->oo)`: objects per slab. */
  readonly objects: number;
  /** `oo_order(s->min)`: the fallback order. */
  readonly minOrder: number;
  /** `oo_objects(s->min)`. */
  readonly minObjects: number;
  /** `min_partial`: empty slabs kept on the node partial list. */
  readonly minPartial: number;
  /** `cpu_partial`: objects on the per-CPU partial list (0 for debug caches). */
  readonly cpuPartial: number;
  /** `cpu_partial_slabs`: the same as a number of slabs. */
  readonly cpuPartialSlabs: number;
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/**
 * The alignment of a cache's objects. Models `calculate_alignment()`
 * (mm/slab_common.c): cache-line alignment for SLAB_HWCACHE_ALIGN when the
 * object is big enough, never less than the requested alignment or a word.
 * @public
 */
export function calculateAlignment(flags: number, align: number, size: number): number {
  let a = align;
  if ((flags & SLAB_HWCACHE_ALIGN) !== 0) {
    let ralign = CACHE_LINE_SIZE;
    while (size <= ralign / 2) ralign /= 2;
    a = Math.max(a, ralign);
  }
  a = Math.max(a, WORD);
  return alignUp(a, WORD);
}

/** Alignment of kmalloc cache `size`: the largest power of two dividing it. Models `create_boot_cache()`. @public */
export function kmallocAlignment(flags: number, size: number): number {
  let a = WORD;
  if ((flags & SLAB_KMALLOC) !== 0) a = Math.max(a, size & -size);
  return calculateAlignment(flags, a, size);
}

function orderObjects(order: number, size: number): number {
  return Math.floor((PAGE_SIZE * 2 ** order) / size);
}

function calcSlabOrder(size: number, minOrder: number, maxOrder: number, fract: number): number {
  let order = minOrder;
  for (; order <= maxOrder; order++) {
    const slabSize = PAGE_SIZE * 2 ** order;
    if (slabSize % size <= slabSize / fract) break;
  }
  return order;
}

function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * The slab order for objects of `size`: at least `4 * (fls(nr_cpus) + 1)`
 * objects per slab, waste at most 1/16 (then 1/8, 1/4, 1/2) of the slab, up
 * to `slab_max_order`. Models `calculate_order()` (mm/slub.c).
 * @public
 */
export function calculateOrder(size: number, nrCpus: number, params: SlabOrderParams = {}): number {
  const slubMinOrder = params.minOrder ?? 0;
  const slubMaxOrder = params.maxOrder ?? 3;
  let minObjects = params.minObjects ?? 0;
  if (minObjects === 0) minObjects = 4 * (fls(nrCpus) + 1);
  const maxObjects = Math.max(orderObjects(slubMaxOrder, size), 1);
  minObjects = Math.min(minObjects, maxObjects);
  const minOrder = Math.max(slubMinOrder, getOrder(minObjects * size));
  if (orderObjects(minOrder, size) > MAX_OBJS_PER_PAGE)
    return getOrder(size * MAX_OBJS_PER_PAGE) - 1;
  for (let fraction = 16; fraction > 1; fraction /= 2) {
    const order = calcSlabOrder(size, minOrder, slubMaxOrder, fraction);
    if (order <= slubMaxOrder) return order;
  }
  const order = getOrder(size);
  if (order <= MAX_PAGE_ORDER) return order;
  return -1;
}

/**
 * Lay out one object and size the slabs of a cache. Models
 * `calculate_sizes()`, `calculate_order()`, the `min_partial` rule of
 * `do_kmem_cache_create()` and `set_cpu_partial()` (mm/slub.c).
 * @throws {@link SlabError} `BAD_SIZE` when no slab of order ≤ MAX_PAGE_ORDER fits one object.
 * @public
 */
export function calculateLayout(input: LayoutInput): CacheLayout {
  let flags = input.flags;
  const objectSize = input.objectSize;
  const align = input.align;
  let size = alignUp(objectSize, WORD);
  if ((flags & SLAB_POISON) !== 0 && (flags & SLAB_TYPESAFE_BY_RCU) === 0 && !input.hasCtor) {
    flags |= __OBJECT_POISON;
  } else {
    flags &= ~__OBJECT_POISON;
  }
  if ((flags & SLAB_RED_ZONE) !== 0 && size === objectSize) size += WORD;
  const inuse = size;
  const origSizeTracked = (flags & SLAB_STORE_USER) !== 0 && (flags & SLAB_KMALLOC) !== 0;
  let offset: number;
  if (
    ((flags & SLAB_TYPESAFE_BY_RCU) !== 0 && input.freeptrOffset < 0) ||
    (flags & SLAB_POISON) !== 0 ||
    input.hasCtor ||
    ((flags & SLAB_RED_ZONE) !== 0 && (objectSize < WORD || origSizeTracked))
  ) {
    // The free pointer may not overwrite the object: put it after it.
    offset = size;
    size += WORD;
  } else if ((flags & SLAB_TYPESAFE_BY_RCU) !== 0) {
    offset = input.freeptrOffset;
  } else {
    // Mid-object, away from the edges small overflows hit.
    offset = Math.floor(objectSize / 2 / WORD) * WORD;
  }
  if ((flags & SLAB_STORE_USER) !== 0) {
    size += 2 * TRACK_SIZE;
    if ((flags & SLAB_KMALLOC) !== 0) size += 4;
  }
  let redLeftPad = 0;
  if ((flags & SLAB_RED_ZONE) !== 0) {
    size += WORD;
    redLeftPad = alignUp(WORD, align);
    size += redLeftPad;
  }
  size = alignUp(size, align);
  const order = calculateOrder(size, input.nrCpus, input.params);
  if (order < 0) {
    throw new SlabError(
      'BAD_SIZE',
      `object size ${show(objectSize)} (stride ${size}) does not fit a slab: accepted at most ${PAGE_SIZE * 2 ** MAX_PAGE_ORDER} bytes`,
    );
  }
  const objects = Math.min(orderObjects(order, size), MAX_OBJS_PER_PAGE);
  const minOrder = getOrder(size);
  const minObjects = Math.min(orderObjects(minOrder, size), MAX_OBJS_PER_PAGE);
  const minPartial = Math.max(
    MIN_PARTIAL,
    Math.min(MAX_PARTIAL, Math.floor(Math.floor(Math.log2(size)) / 2)),
  );
  let cpuPartial: number;
  if ((flags & SLAB_DEBUG_FLAGS) !== 0) cpuPartial = 0;
  else if (size >= PAGE_SIZE) cpuPartial = 6;
  else if (size >= 1024) cpuPartial = 24;
  else if (size >= 256) cpuPartial = 52;
  else cpuPartial = 120;
  const cpuPartialSlabs = Math.ceil((cpuPartial * 2) / objects);
  return {
    objectSize,
    size,
    inuse,
    offset,
    align,
    redLeftPad,
    flags,
    order,
    objects,
    minOrder,
    minObjects,
    minPartial,
    cpuPartial,
    cpuPartialSlabs,
  };
}

/**
 * Objects per sheaf for a cache of stride `size`: 4, 12, 26 or 60 by size,
 * rounded up so a sheaf fills its kmalloc bucket, never below an explicit
 * request; 0 for debug caches. Models `calculate_sheaf_capacity()` (v7.0).
 * @public
 */
export function calculateSheafCapacity(size: number, flags: number, requested = 0): number {
  if ((flags & SLAB_DEBUG_FLAGS) !== 0) return 0;
  let capacity: number;
  if (size >= PAGE_SIZE) capacity = 4;
  else if (size >= 1024) capacity = 12;
  else if (size >= 256) capacity = 26;
  else capacity = 60;
  const bytes = kmallocSizeRoundup(SHEAF_HEADER_SIZE + WORD * capacity);
  capacity = (bytes - SHEAF_HEADER_SIZE) / WORD;
  return Math.max(capacity, requested);
}
