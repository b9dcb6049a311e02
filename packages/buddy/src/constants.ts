/**
 * Sizes and indices of the zoned buddy allocator, as in include/linux/mmzone.h,
 * include/linux/pageblock-flags.h and mm/internal.h for an x86_64 build with
 * 4 KiB pages and `CONFIG_TRANSPARENT_HUGEPAGE=y`.
 */

/** Largest buddy order (`MAX_PAGE_ORDER`, default `CONFIG_ARCH_FORCE_MAX_ORDER` 10). @public */
export const MAX_PAGE_ORDER = 10;
/** Number of orders 0..MAX_PAGE_ORDER (`NR_PAGE_ORDERS`). @public */
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
/** Order of a pageblock, the unit of migratetype grouping (`pageblock_order`, = HPAGE_PMD_ORDER). @public */
export const PAGEBLOCK_ORDER = 9;
/** Pages per pageblock (`pageblock_nr_pages`). @public */
export const PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;
/** Order of a PMD-mapped transparent huge page (`HPAGE_PMD_ORDER`). @public */
export const HPAGE_PMD_ORDER = 9;

/**
 * Unmovable kernel allocations (`MIGRATE_UNMOVABLE`). The free-list types are
 * those of `enum migratetype` without CMA and ISOLATE, which are not
 * configured here.
 * @public
 */
export const MIGRATE_UNMOVABLE = 0;
/** Movable pages: page cache and anonymous memory. @public */
export const MIGRATE_MOVABLE = 1;
/** Reclaimable kernel memory (`__GFP_RECLAIMABLE` slab caches). @public */
export const MIGRATE_RECLAIMABLE = 2;
/** Pageblocks reserved for high-order atomic allocations (`MIGRATE_HIGHATOMIC`). @public */
export const MIGRATE_HIGHATOMIC = 3;
/** Migrate types kept on per-CPU lists (`MIGRATE_PCPTYPES`). @public */
export const MIGRATE_PCPTYPES = 3;
/** Number of free-list migrate types (`MIGRATE_TYPES`). @public */
export const MIGRATE_TYPES = 4;
/** Migrate type names as /proc/pagetypeinfo prints them (`migratetype_names`). @public */
export const MIGRATETYPE_NAMES: readonly string[] = [
  'Unmovable',
  'Movable',
  'Reclaimable',
  'HighAtomic',
];

/** Per-CPU lists for orders 0..PAGE_ALLOC_COSTLY_ORDER (`NR_LOWORDER_PCP_LISTS`). @internal */
export const NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * 4;
/** Per-CPU lists, including the two THP lists (`NR_PCP_LISTS`). @internal */
export const NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS + 2;
/** `CONFIG_PCP_BATCH_SCALE_MAX`: how far batches may grow by doubling. @internal */
export const PCP_BATCH_SCALE_MAX = 5;
/** `MIN_PERCPU_PAGELIST_HIGH_FRACTION`: pcp `high_max` is at most managed/8. @internal */
export const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

/** Zone slots of an x86_64 node (`enum zone_type` without HIGHMEM and DEVICE). @public */
export const ZoneIndex = {
  DMA: 0,
  DMA32: 1,
  NORMAL: 2,
  MOVABLE: 3,
} as const;
/** A zone slot. @public */
export type ZoneIndex = (typeof ZoneIndex)[keyof typeof ZoneIndex];
/** Number of zone slots per node (`MAX_NR_ZONES`). @public */
export const MAX_NR_ZONES = 4;
/** Zone names indexed by `ZoneIndex`, as /proc prints them. @public */
export const ZONE_SLOT_NAMES: readonly string[] = ['DMA', 'DMA32', 'Normal', 'Movable'];

/** Pages reclaimed per reclaim batch (`SWAP_CLUSTER_MAX`). @public */
export const SWAP_CLUSTER_MAX = 32;
/** Starting scan priority of reclaim (`DEF_PRIORITY`): scan `lru_size >> priority`. @public */
export const DEF_PRIORITY = 12;
/** No-progress reclaim loops before giving up (`MAX_RECLAIM_RETRIES`). @public */
export const MAX_RECLAIM_RETRIES = 16;

// The helpers below are inlined into the allocator's fast paths; they read
// module-local copies, which the JIT folds, rather than the exported bindings.
const LOWORDER_LISTS = NR_LOWORDER_PCP_LISTS;
const MOVABLE = MIGRATE_MOVABLE;
const PCPTYPES = MIGRATE_PCPTYPES;
const PMD_ORDER = HPAGE_PMD_ORDER;

/** `order_to_pindex()`: the per-CPU list index of (migratetype, order). @internal */
export function orderToPindex(migratetype: number, order: number): number {
  if (order > 3) return LOWORDER_LISTS + (migratetype === MOVABLE ? 1 : 0);
  return PCPTYPES * order + migratetype;
}

/** `pindex_to_order()`. @internal */
export function pindexToOrder(pindex: number): number {
  if (pindex >= LOWORDER_LISTS) return PMD_ORDER;
  return Math.floor(pindex / PCPTYPES);
}

/**
 * `pcp_allowed_order()`: orders up to PAGE_ALLOC_COSTLY_ORDER, and the THP
 * order when THP is configured, go through the per-CPU lists.
 * @internal
 */
export function pcpAllowedOrder(order: number, thp: boolean): boolean {
  return order <= 3 || (thp && order === PMD_ORDER);
}

/** `PAGE_ALLOC_COSTLY_ORDER` (also in `@sim/gfp`), for the per-CPU list logic. @internal */
export const PAGE_ALLOC_COSTLY_ORDER_PCP = 3;
