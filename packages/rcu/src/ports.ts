/**
 * The ports `@sim/rcu` needs from the allocators below it. The slab allocator
 * and the page allocator implement them structurally; the reference kernel
 * wires the real ones in, tests use the small implementations in
 * `testing/`. Each mirrors only the calls kvfree_rcu makes in
 * mm/slab_common.c.
 */

/**
 * Frees objects for kvfree_rcu: what `kfree()`, `kfree_bulk()` and `kvfree()`
 * do in mm/slub.c and mm/util.c. Implemented by `@sim/slab`.
 * @public
 */
export interface ObjectFreer {
  /** `kfree(addr)`. */
  kfree(addr: number): void;
  /** `kfree_bulk(count, addrs)`: free the first `count` entries (zero entries are skipped). */
  kfreeBulk(addrs: Float64Array | number[], count: number): void;
  /** `kvfree(addr)`: free a kmalloc'd or vmalloc'd object. Defaults to `kfree`. */
  kvfree?(addr: number): void;
  /**
   * `is_vmalloc_addr(addr)`: whether the object came from vmalloc, which sends
   * it to the second pointer-array channel of kvfree_rcu. Defaults to false.
   */
  isVmallocAddr?(addr: number): boolean;
  /** `ksize(addr)`: bytes usable in the object, for memory-held statistics. */
  ksize?(addr: number): number;
}

/**
 * Pages for kvfree_rcu's pointer arrays: `__get_free_page()` and
 * `free_page()` of mm/page_alloc.c. Implemented by `@sim/buddy`. The page is a
 * physical byte address in the machine's memory, 4096-aligned.
 * @public
 */
export interface RcuPageAllocator {
  /** `__get_free_page(gfp)`: address of a page, or 0 on failure. */
  getFreePage(gfp: number): number;
  /** `free_page(addr)`. */
  freePage(addr: number): void;
  /** `alloc_pages_nolock(gfp, nid, order)`: address or 0, never spinning. */
  allocPagesNolock?(gfp: number, nid: number, order: number): number;
}

/**
 * The slab's `rcu_free` sheaf: `__kfree_rcu_sheaf()` of mm/slub.c puts the
 * object in a per-CPU sheaf that is handed to `call_rcu()` as a whole once
 * full. Implemented by the `@sim/slab` sheaves allocator.
 * @public
 */
export interface RcuSheafProvider {
  /** Queue `addr` in this CPU's `rcu_free` sheaf; false when not possible (the caller uses the batched path). */
  kfreeRcuSheaf(addr: number): boolean;
  /** `flush_all_rcu_sheaves()`: submit every partially filled `rcu_free` sheaf to `call_rcu()`. */
  flushAllRcuSheaves?(): void;
}

/**
 * What reclaim passes to a shrinker (`struct shrink_control`), reduced to the
 * fields kvfree_rcu's shrinker reads and writes.
 * @public
 */
export interface RcuShrinkControl {
  /** Objects to scan in this call (`nr_to_scan`); the scan callback lowers it. */
  nrToScan: number;
}

/** `SHRINK_STOP` (~0UL): the scan can make no progress now. @public */
export const RCU_SHRINK_STOP = -1;
/** `SHRINK_EMPTY` (~0UL - 1): the count found nothing at all. @public */
export const RCU_SHRINK_EMPTY = -2;

/**
 * A shrinker's callbacks as registered with `shrinker_alloc()` +
 * `shrinker_register()`. The method names follow the `ShrinkerSpec` of `@sim/buddy`
 * (`countObjects`/`scanObjects`, the kernel's `count_objects`/`scan_objects`)
 * so that its registry fits this port without an adapter.
 * @public
 */
export interface RcuShrinkerSpec {
  /** Shrinker name, e.g. `'slab-kvfree-rcu'`. */
  readonly name: string;
  /** `count_objects`: freeable objects now, or {@link RCU_SHRINK_EMPTY}. */
  countObjects(sc: RcuShrinkControl): number;
  /** `scan_objects`: free up to `sc.nrToScan`; freed count or {@link RCU_SHRINK_STOP}. */
  scanObjects(sc: RcuShrinkControl): number;
}

/**
 * Where kvfree_rcu registers its shrinker. Implemented by the shrinker
 * registry of `@sim/buddy`.
 * @public
 */
export interface ShrinkerRegistry {
  /** `shrinker_register()`; the returned handle is not used. */
  registerShrinker(spec: RcuShrinkerSpec): unknown;
}
