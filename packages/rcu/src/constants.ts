/**
 * Constants of Tree RCU and kvfree_rcu with the kernel's names and default
 * values (kernel/rcu/tree.h, kernel/rcu/tree.c, include/linux/rcu_segcblist.h,
 * mm/slab_common.c).
 */

/** Segment of callbacks ready to invoke (`RCU_DONE_TAIL`). @public */
export const RCU_DONE_TAIL = 0;
/** Segment waiting for the current grace period (`RCU_WAIT_TAIL`). @public */
export const RCU_WAIT_TAIL = 1;
/** Segment waiting for the next grace period (`RCU_NEXT_READY_TAIL`). @public */
export const RCU_NEXT_READY_TAIL = 2;
/** Newly queued callbacks, no grace period assigned yet (`RCU_NEXT_TAIL`). @public */
export const RCU_NEXT_TAIL = 3;
/** Number of segments (`RCU_CBLIST_NSEGS`). @public */
export const RCU_CBLIST_NSEGS = 4;

/** Grace-period kthread states (`RCU_GP_*` in kernel/rcu/tree.h), by value. @public */
export const RcuGpState = {
  /** No grace period in progress. */
  IDLE: 0,
  /** Waiting for a grace-period start request. */
  WAIT_GPS: 1,
  /** Woken to start a grace period. */
  DONE_GPS: 2,
  /** Handling CPU-hotplug changes. */
  ONOFF: 3,
  /** Initialising the rcu_node tree. */
  INIT: 4,
  /** Waiting for quiescent states or the force-quiescent-state time. */
  WAIT_FQS: 5,
  /** Forcing quiescent states. */
  DOING_FQS: 6,
  /** Cleaning up after the grace period. */
  CLEANUP: 7,
  /** Cleanup finished. */
  CLEANED: 8,
} as const;

/** Names printed for {@link RcuGpState} values (`gp_state_names[]`). @public */
export const RCU_GP_STATE_NAMES: readonly string[] = Object.freeze([
  'RCU_GP_IDLE',
  'RCU_GP_WAIT_GPS',
  'RCU_GP_DONE_GPS',
  'RCU_GP_ONOFF',
  'RCU_GP_INIT',
  'RCU_GP_WAIT_FQS',
  'RCU_GP_DOING_FQS',
  'RCU_GP_CLEANUP',
  'RCU_GP_CLEANED',
]);

/** `RCU_GP_FLAG_INIT`: a grace period is requested. @public */
export const RCU_GP_FLAG_INIT = 0x1;
/** `RCU_GP_FLAG_FQS`: force quiescent states now (or the grace period may end). @public */
export const RCU_GP_FLAG_FQS = 0x2;
/** `RCU_GP_FLAG_OVLD`: a CPU is overloaded with callbacks. @public */
export const RCU_GP_FLAG_OVLD = 0x4;

/** `DEFAULT_RCU_BLIMIT`: callbacks per `rcu_do_batch()` pass. @public */
export const DEFAULT_RCU_BLIMIT = 10;
/** `DEFAULT_MAX_RCU_BLIMIT`: the batch limit during callback floods. @public */
export const DEFAULT_MAX_RCU_BLIMIT = 10000;
/** `DEFAULT_RCU_QHIMARK`: queue growth that lifts the batch limit and forces quiescent states. @public */
export const DEFAULT_RCU_QHIMARK = 10000;
/** `DEFAULT_RCU_QLOMARK`: queue length at which the batch limit is restored. @public */
export const DEFAULT_RCU_QLOMARK = 100;
/** `DEFAULT_RCU_QOVLD_MULT`: `qovld` = this times `qhimark`. @public */
export const DEFAULT_RCU_QOVLD_MULT = 2;
/** `rcu_divisor` default: the batch limit is at least `pending >> rcu_divisor`. @public */
export const DEFAULT_RCU_DIVISOR = 7;
/** `rcu_resched_ns` default: softirq callback invocation is also limited to 3 ms. @public */
export const DEFAULT_RCU_RESCHED_NS = 3_000_000;
/** `RCU_JIFFIES_FQS_DIV`: CPUs per extra jiffy of force-quiescent-state delay. @public */
export const RCU_JIFFIES_FQS_DIV = 256;
/** `CONFIG_RCU_CPU_STALL_TIMEOUT` default, in seconds. @public */
export const DEFAULT_RCU_CPU_STALL_TIMEOUT = 21;
/** `RCU_STALL_RAT_DELAY`: jiffies another CPU waits before reporting a stall. @public */
export const RCU_STALL_RAT_DELAY = 2;
/** Default `CONFIG_RCU_FANOUT`. @public */
export const DEFAULT_RCU_FANOUT = 64;
/** Default `CONFIG_RCU_FANOUT_LEAF`. @public */
export const DEFAULT_RCU_FANOUT_LEAF = 16;
/** Flood threshold of NOCB enqueues per jiffy before the bypass list is used (`nocb_nobypass_lim_per_jiffy` at HZ=1000). @public */
export const NOCB_NOBYPASS_LIM_PER_JIFFY_MS = 16;

/** Bytes of a `struct rcu_head` (`next` then `func`). @public */
export const RCU_HEAD_SIZE = 16;
/** Offset of `rcu_head.next`. @public */
export const RCU_HEAD_NEXT = 0;
/** Offset of `rcu_head.func`. @public */
export const RCU_HEAD_FUNC = 8;

/** Kernel text never lives below this address, so smaller `->func` values can encode offsets (`__is_kvfree_rcu_offset()`). @public */
export const KVFREE_RCU_OFFSET_LIMIT = 4096;

/** `KFREE_N_BATCHES`: in-flight batches per CPU. @public */
export const KFREE_N_BATCHES = 2;
/** `FREE_N_CHANNELS`: pointer-array channels (slab, vmalloc). @public */
export const FREE_N_CHANNELS = 2;
/** `rcu_min_cached_objs` default: pages cached per CPU. @public */
export const DEFAULT_RCU_MIN_CACHED_OBJS = 5;
/** `rcu_delay_page_cache_fill_msec` default. @public */
export const DEFAULT_RCU_DELAY_PAGE_CACHE_FILL_MSEC = 5000;
/** Largest `rcu_delay_page_cache_fill_msec` (100 s). @public */
export const MAX_RCU_DELAY_PAGE_CACHE_FILL_MSEC = 100_000;
/** Bytes of a `struct kvfree_rcu_bulk_data` header: list_head, rcu_gp_oldstate, nr_records. @public */
export const KVFREE_BULK_HEADER_SIZE = 40;
/** Bytes of a page (`PAGE_SIZE`). @public */
export const KVFREE_PAGE_SIZE = 4096;
/** `KVFREE_BULK_MAX_ENTR`: pointers per page: (PAGE_SIZE − header) / sizeof(void *). @public */
export const KVFREE_BULK_MAX_ENTR = (KVFREE_PAGE_SIZE - KVFREE_BULK_HEADER_SIZE) / 8;
/** Name of the kvfree_rcu shrinker (`shrinker_alloc(0, "slab-kvfree-rcu")`). @public */
export const KVFREE_RCU_SHRINKER_NAME = 'slab-kvfree-rcu';
