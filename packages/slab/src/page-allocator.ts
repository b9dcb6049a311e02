/**
 * What the slab allocator needs from the page allocator: the port `@sim/slab`
 * declares so that any page allocator (the reference kernel plugs in
 * `@sim/buddy`; tests use {@link createSimplePageAllocator}) fits it by
 * structural typing. Pages are identified by their page frame number.
 * @public
 */
export interface PageAllocator {
  /**
   * Allocate 2^order contiguous pages (a compound page when `__GFP_COMP` is
   * set). Returns the first pfn, or -1 on failure. May sleep when `gfp`
   * allows direct reclaim. Models `alloc_pages()`.
   */
  allocPages(gfp: number, order: number): number;
  /** Free pages from {@link PageAllocator.allocPages}. Models `__free_pages()`. */
  freePages(pfn: number, order: number): void;
  /**
   * Opportunistic allocation from any context (NMI included) that never
   * spins on a lock: -1 when a lock is contended, in RT hardirq/NMI context,
   * or for orders above 3. Only `__GFP_ACCOUNT` is meaningful in `gfp`.
   * Models `alloc_pages_nolock()`.
   */
  allocPagesNolock(gfp: number, nid: number, order: number): number;
  /** Free pages from any context without spinning. Models `free_pages_nolock()`. */
  freePagesNolock(pfn: number, order: number): void;
  /** Physical address of the first byte of page `pfn`. Models `page_address()`. */
  pageAddress(pfn: number): number;
  /** The pfn of the page holding physical address `addr`. Models `virt_to_pfn()`. */
  virtToPfn(addr: number): number;
  /**
   * Optional: count `nr` slab pages just freed as reclaimed, so memory reclaim
   * sees a shrinker that emptied slabs make progress. Models
   * `mm_account_reclaimed_pages()` as `__free_slab()` calls it.
   */
  accountReclaimedPages?(nr: number): void;
}
