import type { CacheModel, Machine, PhysicalMemory } from '@sim/cpu';
import { PAGEBLOCK_ORDER } from './constants.js';

/**
 * `struct page` for every page frame, kept in typed arrays indexed by pfn
 * (the free-list links, buddy order, state, flags, owning zone, LRU owner)
 * and mirrored into a vmemmap region of simulated memory, so that touching a
 * page's metadata is a charged cache access as it is on a real machine.
 * Lists are intrusive and circular over the `next`/`prev` arrays; their heads
 * are extra indices after the last pfn, the way `struct list_head` heads sit
 * inside `struct zone` and `struct per_cpu_pages`.
 */

/** What a page frame is doing. @internal */
export const PageState = {
  /** Never given to the buddy allocator (memblock, holes). */
  RESERVED: 0,
  /** Head of a free block on a zone free list (`PageBuddy`). */
  BUDDY: 1,
  /** Free on a per-CPU list. */
  PCP: 2,
  /** Head of an allocated block. */
  ALLOC: 3,
  /** Free, parked on `zone->trylock_free_pages`. */
  DEFERRED: 4,
  /** Any page of a block other than its head. */
  TAIL: 5,
} as const;

/** Per-page flag bits (a subset of `enum pageflags`). @internal */
export const PageFlag = {
  /** On an LRU list (`PG_lru`). */
  LRU: 1,
  /** On the active LRU (`PG_active`). */
  ACTIVE: 2,
  /** Recently accessed (`PG_referenced`). */
  REFERENCED: 4,
  /** Anonymous / swap-backed (`PG_swapbacked`). */
  ANON: 8,
  /** Allocated from the reserves with ALLOC_NO_WATERMARKS (`page->pfmemalloc`). */
  PFMEMALLOC: 16,
  /** Compound head (`PG_head`, `__GFP_COMP`). */
  HEAD: 32,
} as const;

// The methods below read these module-local consts, which the JIT folds; an
// exported binding is read through its module cell at every use.
const PAGE_BYTES = 64;
const HEAD_BYTES = 16;
const LLIST_OFFSET = 8;

/** Bytes of one `struct page` (64 on x86_64). @public */
export const STRUCT_PAGE_SIZE = PAGE_BYTES;
/** Bytes of one `struct list_head` (two pointers). @internal */
export const LIST_HEAD_SIZE = HEAD_BYTES;
/** Offset of `pcp_llist` (shared with `lru`) in `struct page`. @internal */
export const PAGE_LLIST_OFFSET = LLIST_OFFSET;

/** How much of `struct page` traffic goes through the cache model. @public */
export type VmemmapCost = 'page' | 'lists' | 'none';

/** The mirrored `struct page` word: state, order, flags and zone id + 1. */
function packWord(state: number, order: number, flags: number, zone: number): number {
  return state | (order << 3) | (flags << 10) | (zone << 18);
}

/** @internal */
export class PageMap {
  readonly nrPages: number;
  /** Index of the first list head. */
  readonly headBase: number;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly order: Uint8Array;
  readonly state: Uint8Array;
  readonly flags: Uint8Array;
  /** Global zone id + 1 (0 = no zone). */
  readonly zone: Uint8Array;
  /** LRU owner id (workload), 0 for none. */
  readonly owner: Int32Array;
  /** Migratetype of each pageblock. */
  readonly blockMt: Uint8Array;
  /** Physical address of `struct page` 0. */
  vmemmap = 0;
  /** Physical address of the first list head. */
  headsAddr = 0;
  private nextHead: number;
  private m: Machine | null = null;
  // Every page allocated or freed is touched: storeWord() writes the word and
  // charges the line itself (what machine.store() does) through these.
  private memory: PhysicalMemory | null = null;
  private cache: CacheModel | null = null;
  private clock: Float64Array | null = null;
  private site = 0;
  private chargePages = false;
  private chargeLinks = false;

  constructor(nrPages: number, nrHeads: number) {
    this.nrPages = nrPages;
    this.headBase = nrPages;
    const n = nrPages + nrHeads;
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.order = new Uint8Array(nrPages);
    this.state = new Uint8Array(nrPages);
    this.flags = new Uint8Array(nrPages);
    this.zone = new Uint8Array(nrPages);
    this.owner = new Int32Array(nrPages);
    this.blockMt = new Uint8Array(Math.ceil(nrPages / (1 << PAGEBLOCK_ORDER)));
    this.nextHead = nrPages;
    for (let i = nrPages; i < n; i++) {
      this.next[i] = i;
      this.prev[i] = i;
    }
  }

  /** Attach the vmemmap mirror: `struct page` at `vmemmap + pfn * 64`, list heads at `headsAddr`. */
  attachMirror(
    m: Machine,
    vmemmap: number,
    headsAddr: number,
    site: number,
    cost: VmemmapCost,
  ): void {
    this.m = m;
    this.memory = m.memory;
    this.cache = m.cache;
    this.clock = m.clock;
    this.vmemmap = vmemmap;
    this.headsAddr = headsAddr;
    this.site = site;
    this.chargePages = cost !== 'none';
    this.chargeLinks = cost === 'lists';
  }

  /** Allocate a list head index (initially empty). */
  takeHead(): number {
    const h = this.nextHead++;
    if (h >= this.next.length) throw new RangeError('page map: out of list heads');
    return h;
  }

  /** Address of a node (a page's `lru` or a list head) in simulated memory. */
  nodeAddr(idx: number): number {
    return idx < this.nrPages
      ? this.vmemmap + idx * PAGE_BYTES + LLIST_OFFSET
      : this.headsAddr + (idx - this.nrPages) * HEAD_BYTES;
  }

  /**
   * The `struct page` word of `pfn` as stored in the mirror: state, order,
   * flags and zone. (The pageblock migratetype lives in a separate bitmap,
   * as `pageblock_flags` does, so it is not part of the word.)
   */
  word(pfn: number): number {
    return packWord(this.state[pfn]!, this.order[pfn]!, this.flags[pfn]!, this.zone[pfn]!);
  }

  /** Write `pfn`'s metadata through the cache model (a store to its `struct page`). */
  touch(pfn: number): void {
    if (this.chargePages === false) return;
    this.storeWord(pfn, this.word(pfn));
  }

  /**
   * {@link PageMap.touch} for a caller that has just set `pfn`'s state, order
   * and flags to these values: only the zone is read back to build the word.
   */
  touchAs(pfn: number, state: number, order: number, flags: number): void {
    if (this.chargePages === false) return;
    this.storeWord(pfn, packWord(state, order, flags, this.zone[pfn]!));
  }

  private storeWord(pfn: number, word: number): void {
    const cpu = this.m!.cpu;
    const addr = this.vmemmap + pfn * PAGE_BYTES;
    this.memory!.write(addr, word);
    this.clock![cpu]! += this.cache!.accessAddr(cpu, addr, true, this.site);
  }

  /** Read `pfn`'s metadata through the cache model (a load of its `struct page`). */
  inspect(pfn: number): void {
    if (this.chargePages) this.m!.load(this.vmemmap + pfn * PAGE_BYTES, this.site);
  }

  private touchNode(idx: number, value: number): void {
    this.m!.store(this.nodeAddr(idx), value < 0 ? 0 : this.nodeAddr(value), this.site);
  }

  // ---- intrusive circular lists ---------------------------------------------------

  isEmpty(head: number): boolean {
    return this.next[head] === head;
  }

  /** `list_add()`: insert `idx` right after `head`. */
  add(idx: number, head: number): void {
    const first = this.next[head]!;
    this.next[idx] = first;
    this.prev[idx] = head;
    this.prev[first] = idx;
    this.next[head] = idx;
    if (this.chargeLinks) {
      this.touchNode(head, idx);
      if (first !== head) this.touchNode(first, idx);
    }
  }

  /** `list_add_tail()`: insert `idx` right before `head`. */
  addTail(idx: number, head: number): void {
    const last = this.prev[head]!;
    this.prev[idx] = last;
    this.next[idx] = head;
    this.next[last] = idx;
    this.prev[head] = idx;
    if (this.chargeLinks) {
      this.touchNode(head, idx);
      if (last !== head) this.touchNode(last, idx);
    }
  }

  /** `list_del()`. */
  del(idx: number): void {
    const n = this.next[idx]!;
    const p = this.prev[idx]!;
    this.next[p] = n;
    this.prev[n] = p;
    this.next[idx] = idx;
    this.prev[idx] = idx;
    if (this.chargeLinks) {
      this.touchNode(p, n);
      if (n !== p) this.touchNode(n, p);
    }
  }

  /** Number of nodes on a list (walks it; for reports and checks only). */
  count(head: number): number {
    let n = 0;
    for (let i = this.next[head]!; i !== head; i = this.next[i]!) n++;
    return n;
  }
}
