import type { Task, WaitQueueHead } from '@sim/cpu';
import { MAX_NR_ZONES } from './constants.js';
import type { PageMap } from './page-map.js';
import type { Zone, ZoneLock } from './zone.js';

/** LRU list indices (`enum lru_list` without unevictable). @internal */
export const LRU_INACTIVE_ANON = 0;
/** @internal */
export const LRU_ACTIVE_ANON = 1;
/** @internal */
export const LRU_INACTIVE_FILE = 2;
/** @internal */
export const LRU_ACTIVE_FILE = 3;
/** @internal */
export const NR_LRU_LISTS = 4;

/** Node-wide page counters the allocator keeps for other subsystems (`enum node_stat_item` subset). @public */
export type NodeStatItem =
  | 'slab_reclaimable'
  | 'slab_unreclaimable'
  | 'kernel_stack'
  | 'pagetables';

/** @internal */
export const NODE_STAT_ITEMS: readonly NodeStatItem[] = [
  'slab_reclaimable',
  'slab_unreclaimable',
  'kernel_stack',
  'pagetables',
];

/**
 * A memory node (`pg_data_t`, include/linux/mmzone.h): its zones, its LRU
 * lists (one lruvec, no memcg), the kswapd thread with its wait queue and
 * request, and node page counters.
 * @internal
 */
export class Node {
  /** Zones by slot; empty slots have `present === 0`. */
  readonly zones: Zone[] = [];
  /** LRU list heads (in the page map). */
  readonly lruHead: Int32Array = new Int32Array(NR_LRU_LISTS);
  /** Pages on each LRU list. */
  readonly lruSize: Int32Array = new Int32Array(NR_LRU_LISTS);
  /** Node counters by {@link NODE_STAT_ITEMS} index, in pages (slab in pages too). */
  readonly stat: Float64Array = new Float64Array(NODE_STAT_ITEMS.length);
  /** The kswapd kthread, or null when kswapd is disabled. */
  kswapd: Task | null = null;
  /** `pgdat->kswapd_wait`. */
  kswapdWait: WaitQueueHead | null = null;
  /** The wait queue's lock (`wq_head->lock`), taken by `wake_up_interruptible()`. */
  kswapdWaitLock: ZoneLock | null = null;
  /** A wakeup is pending for kswapd. */
  kswapdWakeup = false;
  /** `kswapd_order`. */
  kswapdOrder = 0;
  /** `kswapd_highest_zoneidx`, MAX_NR_ZONES when unset. */
  kswapdHighestZoneidx = MAX_NR_ZONES;
  /** `kswapd_failures`: balancing runs that reclaimed nothing. */
  kswapdFailures = 0;
  /** Whether kswapd is inside `balance_pgdat()`. */
  kswapdRunning = false;
  /** CPUs of this node. */
  readonly cpus: number[] = [];

  constructor(
    readonly nid: number,
    pm: PageMap,
    /** First pfn of the node. */
    readonly startPfn: number,
    /** One past the node's last pfn. */
    readonly endPfn: number,
  ) {
    for (let i = 0; i < NR_LRU_LISTS; i++) this.lruHead[i] = pm.takeHead();
  }

  /** Managed pages of the node. */
  managed(): number {
    let n = 0;
    for (const z of this.zones) n += z.managed;
    return n;
  }

  /** File LRU pages. */
  filePages(): number {
    return this.lruSize[LRU_INACTIVE_FILE]! + this.lruSize[LRU_ACTIVE_FILE]!;
  }

  /** Anon LRU pages. */
  anonPages(): number {
    return this.lruSize[LRU_INACTIVE_ANON]! + this.lruSize[LRU_ACTIVE_ANON]!;
  }
}
