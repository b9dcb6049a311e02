const LEAF_BITS = 16;
const LEAF = 1 << LEAF_BITS;

/**
 * What each page frame is to the slab allocator, as `page->slab_cache` /
 * `folio_test_large_kmalloc()` tell the kernel: a two-level table of Int32
 * (0 none, id + 1 for a slab page, negative for large kmalloc pages).
 * @internal
 */
export class PfnMap {
  private readonly dir: (Int32Array | undefined)[] = [];

  get(pfn: number): number {
    const leaf = this.dir[pfn >>> LEAF_BITS];
    return leaf === undefined ? 0 : leaf[pfn & (LEAF - 1)]!;
  }

  set(pfn: number, value: number): void {
    const i = pfn >>> LEAF_BITS;
    let leaf = this.dir[i];
    if (leaf === undefined) {
      while (this.dir.length <= i) this.dir.push(undefined);
      leaf = new Int32Array(LEAF);
      this.dir[i] = leaf;
    }
    leaf[pfn & (LEAF - 1)] = value;
  }
}
