import * as gfpMod from '@sim/gfp';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const { __GFP_ACCOUNT, __GFP_DMA, __GFP_RECLAIMABLE } = gfpMod;

/** Smallest kmalloc object, `KMALLOC_MIN_SIZE` (x86_64). @public */
export const KMALLOC_MIN_SIZE = 8;
/** log2 of the smallest kmalloc cache, `KMALLOC_SHIFT_LOW`. @public */
export const KMALLOC_SHIFT_LOW = 3;
/** log2 of the largest kmalloc cache, `KMALLOC_SHIFT_HIGH` (`PAGE_SHIFT + 1`). @public */
export const KMALLOC_SHIFT_HIGH = 13;
/** Largest size served by a kmalloc cache, `KMALLOC_MAX_CACHE_SIZE` (8 KiB). @public */
export const KMALLOC_MAX_CACHE_SIZE = 1 << KMALLOC_SHIFT_HIGH;
/** Largest kmalloc(), `KMALLOC_MAX_SIZE` = 2^(MAX_PAGE_ORDER + PAGE_SHIFT) (4 MiB). @public */
export const KMALLOC_MAX_SIZE = 2 ** (10 + 12);
/** What kmalloc(0) returns, `ZERO_SIZE_PTR` ((void *)16). @public */
export const ZERO_SIZE_PTR = 16;

/** `ZERO_OR_NULL_PTR()`: NULL or ZERO_SIZE_PTR. @public */
export function zeroOrNullPtr(addr: number): boolean {
  return addr <= ZERO_SIZE_PTR;
}

/**
 * The kmalloc cache families, `enum kmalloc_cache_type` without the random
 * caches (CONFIG_RANDOM_KMALLOC_CACHES off).
 * @public
 */
export const KmallocType = {
  /** "kmalloc-%s" */
  NORMAL: 0,
  /** "kmalloc-rcl-%s", `__GFP_RECLAIMABLE` */
  RECLAIM: 1,
  /** "dma-kmalloc-%s", `__GFP_DMA` */
  DMA: 2,
  /** "kmalloc-cg-%s", `__GFP_ACCOUNT` */
  CGROUP: 3,
} as const;

/** One of {@link (KmallocType:variable)}. @public */
export type KmallocType = (typeof KmallocType)[keyof typeof KmallocType];

/** Number of kmalloc cache families. @public */
export const NR_KMALLOC_TYPES = 4;

const TYPE_PREFIX: readonly string[] = ['kmalloc-', 'kmalloc-rcl-', 'dma-kmalloc-', 'kmalloc-cg-'];

/** The GFP bits that move a request off the normal kmalloc caches (`KMALLOC_NOT_NORMAL_BITS`). @public */
export const KMALLOC_NOT_NORMAL_BITS = __GFP_RECLAIMABLE | __GFP_DMA | __GFP_ACCOUNT;

// kmallocType() is inlined into every kmalloc(): it reads module-local copies,
// which the JIT folds, where an exported binding is read through its module cell.
const NOT_NORMAL_BITS = KMALLOC_NOT_NORMAL_BITS;
const { NORMAL: T_NORMAL, RECLAIM: T_RECLAIM, DMA: T_DMA, CGROUP: T_CGROUP } = KmallocType;

/**
 * The kmalloc family a GFP mask selects. Models `kmalloc_type()`
 * (include/linux/slab.h) with CONFIG_ZONE_DMA and CONFIG_MEMCG.
 * @public
 */
export function kmallocType(gfp: number): KmallocType {
  if ((gfp & NOT_NORMAL_BITS) === 0) return T_NORMAL;
  if ((gfp & __GFP_DMA) !== 0) return T_DMA;
  if ((gfp & __GFP_RECLAIMABLE) !== 0) return T_RECLAIM;
  return T_CGROUP;
}

// kmalloc_size_index[]: sizes up to 192 in 8-byte steps (mm/slab_common.c).
const SIZE_INDEX = new Uint8Array([
  3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2,
]);

/** Object size of each kmalloc index (`kmalloc_info[i].size`), 0 where none. @public */
export const KMALLOC_SIZES: readonly number[] = Object.freeze([
  0, 96, 192, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
]);

const SHORT_NAMES: readonly string[] = [
  '0',
  '96',
  '192',
  '8',
  '16',
  '32',
  '64',
  '128',
  '256',
  '512',
  '1k',
  '2k',
  '4k',
  '8k',
];

/**
 * Index of the kmalloc cache serving `size` (1 ≤ size ≤ 8192): the table for
 * sizes up to 192, `fls(size - 1)` above. Models `kmalloc_index()` /
 * `kmalloc_slab()` (mm/slab_common.c).
 * @public
 */
export function kmallocIndex(size: number): number {
  if (size <= 192) return SIZE_INDEX[(size - 1) >>> 3]!;
  return 32 - Math.clz32(size - 1);
}

/** Name of the kmalloc cache of `type` at `index`, e.g. "kmalloc-cg-1k". @public */
export function kmallocName(type: KmallocType, index: number): string {
  return `${TYPE_PREFIX[type]}${SHORT_NAMES[index]}`;
}

/** kmalloc indices in the order the kernel creates them (96, 192, then 8 … 8k). @public */
export const KMALLOC_CREATE_ORDER: readonly number[] = Object.freeze([
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
]);

/**
 * Size a kmalloc of `size` really gets: the cache size up to 8 KiB, whole
 * pages of the page-allocator order above. Models `kmalloc_size_roundup()`.
 * @public
 */
export function kmallocSizeRoundup(size: number): number {
  if (size > 0 && size <= KMALLOC_MAX_CACHE_SIZE) return KMALLOC_SIZES[kmallocIndex(size)]!;
  if (size > 0 && size <= KMALLOC_MAX_SIZE) return 4096 * 2 ** getOrder(size);
  return size;
}

/** `get_order()`: the page order holding `size` bytes (size ≥ 1). @public */
export function getOrder(size: number): number {
  let order = 0;
  let span = 4096;
  while (span < size) {
    span *= 2;
    order++;
  }
  return order;
}
