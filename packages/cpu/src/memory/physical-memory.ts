import { MemoryError } from './memory-error.js';

/** log2 of the page size, as `PAGE_SHIFT` on x86_64 (arch/x86/include/asm/page_types.h). @public */
export const PAGE_SHIFT = 12;
/** Bytes per page frame, as `PAGE_SIZE` (4 KiB). @public */
export const PAGE_SIZE = 4096;
/** Bytes per memory word: memory is accessed as 64-bit words. @public */
export const WORD_SIZE = 8;
/** Largest simulated physical memory: 2^46 bytes, x86_64's `MAX_PHYSMEM_BITS` with 4-level paging. @public */
export const MAX_PHYS_BYTES = 2 ** 46;
/**
 * Default `memblockAlloc()` alignment: a cache line, as the kernel's
 * `SMP_CACHE_BYTES`, so boot-time lock words do not share a line by accident.
 * @public
 */
export const SMP_CACHE_BYTES = 64;

const WORDS_PER_PAGE = PAGE_SIZE / WORD_SIZE; // 512
const PAGE_WORD_SHIFT = 9;
const PAGE_WORD_MASK = WORDS_PER_PAGE - 1;
// Two-level page table (like a radix tree): a directory of leaves, each leaf an
// array of 2^16 page slots. A flat pfn-indexed array cannot reach 2^34 frames.
const LEAF_PAGE_BITS = 16;
const LEAF_PAGES = 1 << LEAF_PAGE_BITS;
const LEAF_WORDS = LEAF_PAGES * WORDS_PER_PAGE; // 2^25 words, 256 MiB per leaf

type PageSlot = Float64Array | null;
const TLB_SIZE = 256;
// Exact: scaling by a power of two never rounds.
const INV_PAGE_SIZE = 1 / PAGE_SIZE;

/** The range reserved by boot-time allocations, `[start, end)` in bytes. @public */
export interface MemblockRange {
  /** Lowest reserved byte address (equals `end` when nothing is reserved). */
  readonly start: number;
  /** One past the highest reserved byte address (the end of memory). */
  readonly end: number;
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : `${typeof value} ${String(value)}`;
}

/**
 * Sparse simulated physical memory of 64-bit words addressed by byte address:
 * the RAM behind `phys_to_virt()`. Pages materialise on first write, so a
 * machine with gigabytes of "RAM" only pays for the pages its kernel touches.
 * Also hosts the boot-time bump allocator modelled on `memblock_alloc()`
 * (mm/memblock.c), which carves static kernel data from the top of memory.
 * @public
 */
export class PhysicalMemory {
  /** Size of memory in bytes (a multiple of {@link PAGE_SIZE}). */
  readonly sizeBytes: number;
  /** Number of page frames: pfns are `0 .. nrPages - 1`. */
  readonly nrPages: number;

  // directory[pfn >> 16][pfn & 0xffff] is the page's words, or null if untouched.
  private readonly directory: (PageSlot[] | null)[];
  private readonly leafPages: number;
  private touched = 0;
  private memblockBottom: number;
  // The last materialised page read or written, as a one-entry TLB: its byte
  // address (far out of range while empty) and its words. Behind it a
  // direct-mapped TLB of TLB_SIZE pages by pfn (NaN, equal to nothing, when empty), so code that
  // alternates between a few pages (a lock word, struct pages, an object)
  // skips the directory walk.
  private tlbBase = -(2 ** 60);
  private tlbPage: Float64Array = new Float64Array(WORDS_PER_PAGE);
  private readonly tlbPfn = new Float64Array(TLB_SIZE).fill(Number.NaN);
  private readonly tlbPages: Float64Array[] = [];

  constructor(sizeBytes: number) {
    if (
      typeof sizeBytes !== 'number' ||
      !Number.isSafeInteger(sizeBytes) ||
      sizeBytes <= 0 ||
      sizeBytes > MAX_PHYS_BYTES ||
      sizeBytes % PAGE_SIZE !== 0
    ) {
      throw new MemoryError(
        'BAD_SIZE',
        `physical memory size ${describe(sizeBytes)} is invalid: accepted a positive multiple of ${PAGE_SIZE} bytes up to 2^46 (${MAX_PHYS_BYTES})`,
      );
    }
    this.sizeBytes = sizeBytes;
    this.nrPages = sizeBytes / PAGE_SIZE;
    this.leafPages = Math.min(this.nrPages, LEAF_PAGES);
    const leaves = Math.ceil(this.nrPages / LEAF_PAGES);
    // Built by push so V8 keeps the array packed (fast indexed access).
    const directory: (PageSlot[] | null)[] = [];
    for (let i = 0; i < leaves; i++) directory.push(null);
    this.directory = directory;
    this.memblockBottom = sizeBytes;
    for (let i = 0; i < TLB_SIZE; i++) this.tlbPages.push(this.tlbPage);
  }

  /**
   * Load the 64-bit word at byte address `addr` (8-byte aligned). Untouched
   * memory reads as 0 and stays unmaterialised. Models a `READ_ONCE()` of a
   * `u64` through the direct map.
   */
  read(addr: number): number {
    // One-entry translation cache: `off` is a word-aligned offset inside the
    // cached page exactly when this mask leaves it unchanged (NaN, fractions,
    // negatives and misalignment all fail it and take the checked path).
    const off = addr - this.tlbBase;
    if ((off & 0xff8) === off) return this.tlbPage[off >>> 3]!;
    if (this.tlbRefill(addr)) return this.tlbPage[(addr - this.tlbBase) >>> 3]!;
    return this.readSlow(addr);
  }

  /**
   * Make the direct-mapped TLB entry of `addr`'s page the one-entry TLB and
   * return true, or return false when it holds another page (or `addr` is
   * not a word-aligned address: its pfn is then NaN or matches no entry).
   */
  private tlbRefill(addr: number): boolean {
    const pfn = Math.floor(addr * INV_PAGE_SIZE);
    const t = pfn & (TLB_SIZE - 1);
    const off = addr - pfn * PAGE_SIZE;
    if (this.tlbPfn[t] !== pfn || (off & 0xff8) !== off) return false;
    this.tlbBase = pfn * PAGE_SIZE;
    this.tlbPage = this.tlbPages[t]!;
    return true;
  }

  private readSlow(addr: number): number {
    const w = addr / WORD_SIZE;
    if (Math.floor(w) !== w || !(addr >= 0 && addr < this.sizeBytes)) this.badAddress(addr);
    const leafIdx = Math.floor(w / LEAF_WORDS);
    const rem = w - leafIdx * LEAF_WORDS;
    const leaf = this.directory[leafIdx];
    if (leaf === null || leaf === undefined) return 0;
    const page = leaf[rem >>> PAGE_WORD_SHIFT];
    if (page === null || page === undefined) return 0;
    this.cachePage(addr, page);
    return page[rem & PAGE_WORD_MASK]!;
  }

  /**
   * Store `value` (an integer `0 <= value < 2^53`) into the word at byte address
   * `addr` (8-byte aligned), materialising its page on first touch. Models a
   * `WRITE_ONCE()` of a `u64` through the direct map.
   */
  write(addr: number, value: number): void {
    if (Number.isSafeInteger(value) && value >= 0) {
      // `+ 0` turns -0 into +0 so every stored zero reads back identically.
      const off = addr - this.tlbBase;
      if ((off & 0xff8) === off || this.tlbRefill(addr)) {
        this.tlbPage[(addr - this.tlbBase) >>> 3] = value + 0;
        return;
      }
    }
    this.writeSlow(addr, value);
  }

  private writeSlow(addr: number, value: number): void {
    const w = addr / WORD_SIZE;
    if (Math.floor(w) !== w || !(addr >= 0 && addr < this.sizeBytes)) this.badAddress(addr);
    if (!(Number.isSafeInteger(value) && value >= 0)) this.badValue(addr, value);
    const page = this.pageAt(w);
    this.cachePage(addr, page);
    page[w & PAGE_WORD_MASK] = value + 0;
  }

  /**
   * The words of the page holding `addr` (8-byte aligned), materialised as a
   * store would. Pages are never released, so code that stores to one fixed
   * word on a hot path (a lock word) may keep the array and index it with
   * `(addr / 8) & 511` instead of translating the address every time.
   */
  pageWords(addr: number): Float64Array {
    const w = addr / WORD_SIZE;
    if (Math.floor(w) !== w || !(addr >= 0 && addr < this.sizeBytes)) this.badAddress(addr);
    return this.pageAt(w);
  }

  /** The page holding word `w`, an index already checked against the memory size. */
  private pageAt(w: number): Float64Array {
    const leafIdx = Math.floor(w / LEAF_WORDS);
    const rem = w - leafIdx * LEAF_WORDS;
    const leaf = this.directory[leafIdx] ?? this.materialiseLeaf(leafIdx);
    const slot = rem >>> PAGE_WORD_SHIFT;
    return leaf[slot] ?? this.materialisePage(leaf, slot);
  }

  /**
   * Zero `bytes` bytes starting at `addr` (both multiples of 8), as `memset(p, 0, n)`
   * or `clear_page()`. Untouched pages are already zero and stay unmaterialised;
   * touched pages keep their backing store.
   */
  zeroRange(addr: number, bytes: number): void {
    this.checkRange(addr, bytes);
    let w = addr / WORD_SIZE;
    const endW = w + bytes / WORD_SIZE;
    while (w < endW) {
      const leafIdx = Math.floor(w / LEAF_WORDS);
      const rem = w - leafIdx * LEAF_WORDS;
      const slot = rem >>> PAGE_WORD_SHIFT;
      const first = rem & PAGE_WORD_MASK;
      const count = Math.min(WORDS_PER_PAGE - first, endW - w);
      const page = this.directory[leafIdx]?.[slot];
      if (page) page.fill(0, first, first + count);
      w += count;
    }
  }

  /** Number of page frames that have materialised backing store (were ever written). */
  touchedPages(): number {
    return this.touched;
  }

  /** Whether page frame `pfn` has materialised backing store. */
  isPageTouched(pfn: number): boolean {
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= this.nrPages) {
      throw new MemoryError(
        'OUT_OF_RANGE',
        `pfn ${describe(pfn)} is out of range: accepted an integer in [0, ${this.nrPages})`,
      );
    }
    const leaf = this.directory[Math.floor(pfn / LEAF_PAGES)];
    return leaf?.[pfn % LEAF_PAGES] != null;
  }

  /**
   * Boot-time allocation of `bytes` bytes aligned to `align` (a power of two,
   * at least 8; default {@link SMP_CACHE_BYTES}), carved top-down below earlier
   * allocations and returned zeroed. Models `memblock_alloc()` (mm/memblock.c)
   * with the default top-down policy. Returns the physical byte address.
   * Throws `NO_MEMORY` when the request does not fit above address 0.
   */
  memblockAlloc(bytes: number, align: number = SMP_CACHE_BYTES): number {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) {
      throw new MemoryError(
        'BAD_SIZE',
        `memblockAlloc size ${describe(bytes)} is invalid: accepted a positive integer byte count`,
      );
    }
    if (
      !Number.isSafeInteger(align) ||
      align < WORD_SIZE ||
      align > MAX_PHYS_BYTES ||
      2 ** Math.round(Math.log2(align)) !== align
    ) {
      throw new MemoryError(
        'BAD_ALIGN',
        `memblockAlloc alignment ${describe(align)} is invalid: accepted a power of two from ${WORD_SIZE} to 2^46`,
      );
    }
    // Round the size up to whole words so the next allocation stays word aligned.
    const size = Math.ceil(bytes / WORD_SIZE) * WORD_SIZE;
    const start = Math.floor((this.memblockBottom - size) / align) * align;
    if (start < 0) {
      const free = this.memblockBottom;
      throw new MemoryError(
        'NO_MEMORY',
        `memblockAlloc of ${bytes} bytes aligned to ${align} failed: only ${free} bytes remain below the reserved region`,
      );
    }
    this.memblockBottom = start;
    this.zeroRange(start, size);
    return start;
  }

  /**
   * The byte range `[start, end)` reserved by {@link PhysicalMemory.memblockAlloc}
   * so far (`start === end` when nothing is reserved). A page allocator frees
   * every pfn below `floor(start / PAGE_SIZE)` into its free lists and keeps the
   * rest, as `memblock_free_all()` releases only unreserved memory.
   */
  memblockReserved(): MemblockRange {
    return { start: this.memblockBottom, end: this.sizeBytes };
  }

  /** Make `page`, which holds byte `addr`, the most recent TLB entry. */
  private cachePage(addr: number, page: Float64Array): void {
    const pfn = Math.floor(addr * INV_PAGE_SIZE);
    const t = pfn & (TLB_SIZE - 1);
    this.tlbPfn[t] = pfn;
    this.tlbPages[t] = page;
    this.tlbBase = pfn * PAGE_SIZE;
    this.tlbPage = page;
  }

  private materialiseLeaf(leafIdx: number): PageSlot[] {
    const leaf: PageSlot[] = [];
    for (let i = 0; i < this.leafPages; i++) leaf.push(null);
    this.directory[leafIdx] = leaf;
    return leaf;
  }

  private materialisePage(leaf: PageSlot[], slot: number): Float64Array {
    const page = new Float64Array(WORDS_PER_PAGE);
    leaf[slot] = page;
    this.touched++;
    return page;
  }

  private checkRange(addr: number, bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes % WORD_SIZE !== 0) {
      throw new MemoryError(
        'BAD_SIZE',
        `range length ${describe(bytes)} is invalid: accepted a non-negative multiple of ${WORD_SIZE} bytes`,
      );
    }
    const w = addr / WORD_SIZE;
    if (Math.floor(w) !== w || !(addr >= 0 && addr <= this.sizeBytes)) this.badAddress(addr);
    if (addr + bytes > this.sizeBytes) {
      throw new MemoryError(
        'OUT_OF_RANGE',
        `range [${addr}, ${addr + bytes}) is out of range: accepted ranges within [0, ${this.sizeBytes})`,
      );
    }
  }

  private badAddress(addr: number): never {
    if (typeof addr !== 'number' || !Number.isFinite(addr) || addr < 0 || addr >= this.sizeBytes) {
      throw new MemoryError(
        'OUT_OF_RANGE',
        `physical address ${describe(addr)} is out of range: accepted 8-byte aligned integers in [0, ${this.sizeBytes})`,
      );
    }
    throw new MemoryError(
      'MISALIGNED',
      `physical address ${describe(addr)} is misaligned: accepted integer multiples of ${WORD_SIZE}`,
    );
  }

  private badValue(addr: number, value: number): never {
    throw new MemoryError(
      'BAD_VALUE',
      `value ${describe(value)} written at ${addr} is invalid: accepted integers in [0, 2^53)`,
    );
  }
}
