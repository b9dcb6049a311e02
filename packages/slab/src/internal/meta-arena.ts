import type { Machine } from '@sim/cpu';
import { GFP_KERNEL } from '@sim/gfp';
import type { PageAllocator } from '../page-allocator.js';

/** Bytes of one metadata line: a cache line. @internal */
export const LINE = 64;
const LINES_PER_PAGE = 4096 / LINE;

/**
 * Cache-line sized pieces of simulated memory for the allocator's own
 * structures (`struct kmem_cache`, `kmem_cache_cpu`, `kmem_cache_node`,
 * `node_barn`, `struct slab`), carved from pages of the page allocator as the
 * kernel's come from the percpu allocator, kmem_cache caches and the memmap.
 * @internal
 */
export class MetaArena {
  /** Pages taken from the page allocator, with their pfns. */
  readonly pfns: number[] = [];
  private readonly freeLines: number[] = [];

  constructor(
    private readonly m: Machine,
    private readonly pages: PageAllocator,
  ) {}

  /** Pages held. */
  get pageCount(): number {
    return this.pfns.length;
  }

  /**
   * A zeroed line, or 0 when no page can be had. `nolock` takes pages with
   * `allocPagesNolock()`.
   */
  line(gfp: number = GFP_KERNEL, nolock = false): number {
    if (this.freeLines.length === 0 && !this.grow(gfp, nolock)) return 0;
    const a = this.freeLines.pop()!;
    this.m.memory.zeroRange(a, LINE);
    return a;
  }

  /** Give a line back for reuse. */
  release(addr: number): void {
    this.freeLines.push(addr);
  }

  private grow(gfp: number, nolock: boolean): boolean {
    const pfn = nolock ? this.pages.allocPagesNolock(0, -1, 0) : this.pages.allocPages(gfp, 0);
    if (pfn < 0) return false;
    this.pfns.push(pfn);
    const base = this.pages.pageAddress(pfn);
    // Hand lines out in ascending address order.
    for (let i = LINES_PER_PAGE - 1; i >= 0; i--) this.freeLines.push(base + i * LINE);
    return true;
  }
}
