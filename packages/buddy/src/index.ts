/**
 * The zoned buddy page allocator of the simulated kernel: zones and free
 * areas, watermarks, per-CPU page lists, kswapd, direct reclaim, shrinkers,
 * the OOM killer and `alloc_pages_nolock()`, with /proc views and an
 * invariant checker.
 *
 * @packageDocumentation
 */
export * from './alloc-flags.js';
export * from './buddy-allocator.js';
export * from './config.js';
export {
  DEF_PRIORITY,
  HPAGE_PMD_ORDER,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MAX_RECLAIM_RETRIES,
  MIGRATE_HIGHATOMIC,
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE,
  MIGRATE_TYPES,
  MIGRATE_UNMOVABLE,
  MIGRATETYPE_NAMES,
  NR_PAGE_ORDERS,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
  SWAP_CLUSTER_MAX,
  ZONE_SLOT_NAMES,
  ZoneIndex,
} from './constants.js';
export { BuddyError, type BuddyErrorCode } from './errors.js';
export {
  type BuddyInvariantReport,
  type BuddyPageCounts,
  checkBuddyInvariants,
} from './invariants.js';
export type { NodeStatItem } from './node.js';
export type { OomKillRecord } from './oom-kill.js';
export { STRUCT_PAGE_SIZE, type VmemmapCost } from './page-map.js';
export * from './ports.js';
export {
  DEFAULT_SEEKS,
  SHRINK_BATCH,
  SHRINK_EMPTY,
  SHRINK_STOP,
  type ShrinkControl,
  Shrinker,
  type ShrinkerSpec,
} from './shrinker.js';
export type { VmEventCounts } from './vm-events.js';
export {
  calculateMinFreeKbytes,
  computeLowmemReserve,
  computeWatermarks,
  DEFAULT_LOWMEM_RESERVE_RATIO,
  pcpHighBounds,
  type WatermarkInput,
  type ZoneWatermarks,
  zoneBatchsize,
  zoneHighsize,
} from './watermarks.js';
export * from './workload.js';
export type { ZoneLock } from './zone.js';
