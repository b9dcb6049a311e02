/**
 * Per-cache event counters, named as the files under /sys/kernel/slab/<cache>/
 * with CONFIG_SLUB_STATS (`enum stat_item`, mm/slub.c), plus the
 * kmalloc_nolock()/kfree_nolock() and KASAN counters the simulator adds.
 * @public
 */
export const SLAB_STAT_NAMES = [
  'alloc_pcs',
  'alloc_fastpath',
  'alloc_slowpath',
  'free_pcs',
  'free_rcu_sheaf',
  'free_rcu_sheaf_fail',
  'free_fastpath',
  'free_slowpath',
  'free_frozen',
  'free_add_partial',
  'free_remove_partial',
  'alloc_from_partial',
  'alloc_slab',
  'alloc_refill',
  'alloc_node_mismatch',
  'free_slab',
  'cpuslab_flush',
  'deactivate_full',
  'deactivate_empty',
  'deactivate_to_head',
  'deactivate_to_tail',
  'deactivate_remote_frees',
  'deactivate_bypass',
  'order_fallback',
  'cmpxchg_double_cpu_fail',
  'cmpxchg_double_fail',
  'cpu_partial_alloc',
  'cpu_partial_free',
  'cpu_partial_node',
  'cpu_partial_drain',
  'sheaf_flush',
  'sheaf_refill',
  'sheaf_alloc',
  'sheaf_free',
  'barn_get',
  'barn_get_fail',
  'barn_put',
  'barn_put_fail',
  'nolock_alloc',
  'nolock_retry',
  'nolock_free',
  'nolock_defer',
  'defer_drain',
  'kasan_quarantine',
] as const;

/** One of {@link SLAB_STAT_NAMES}. @public */
export type SlabStatName = (typeof SLAB_STAT_NAMES)[number];
