import { afterEach, describe, expect, it } from 'vitest';
import {
  ALLOC_HIGHATOMIC,
  ALLOC_MIN_RESERVE,
  ALLOC_NON_BLOCK,
  ALLOC_WMARK_MIN,
  MIGRATE_HIGHATOMIC,
  MIGRATE_MOVABLE,
  MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE,
  PAGEBLOCK_NR_PAGES,
} from '../src/index.js';
import { PageMap, PageState } from '../src/page-map.js';
import { Zone } from '../src/zone.js';
import { checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

// A bare zone over a page map, without a machine: the operations the kernel
// performs with zone->lock held.
function bareZone(pages = 4096): { pm: PageMap; z: Zone } {
  const pm = new PageMap(pages, 64);
  const z = new Zone(pm, 0, 0, 2, 0, pages);
  pm.zone.fill(1);
  pm.blockMt.fill(MIGRATE_MOVABLE);
  z.managed = pages;
  return { pm, z };
}

/** Free a range page by page, as a caller returning order-0 pages would. */
function freeRange(z: Zone, pm: PageMap, start: number, n: number): void {
  for (let p = start; p < start + n; p++) {
    pm.state[p] = PageState.ALLOC;
    z.freeOnePage(p, 0, z.blockMt(p), false);
  }
}

describe('__free_one_page(): buddies merge up to MAX_PAGE_ORDER', () => {
  it('eight order-0 frees of an aligned range become one order-3 block', () => {
    const { pm, z } = bareZone();
    freeRange(z, pm, 8, 8);
    expect(Array.from(z.nrFree)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(z.freePages).toBe(8);
    expect(pm.state[8]).toBe(PageState.BUDDY);
    for (let p = 9; p < 16; p++) expect(pm.state[p]).toBe(PageState.TAIL);
  });

  it('a block merges only with its own buddy (pfn ^ 2^order), not a misaligned neighbour', () => {
    const { pm, z } = bareZone();
    freeRange(z, pm, 1, 2); // pfns 1 and 2 are neighbours but not buddies
    expect(Array.from(z.nrFree.slice(0, 3))).toEqual([2, 0, 0]);
    freeRange(z, pm, 0, 1); // 0 merges with 1 -> order 1 at 0
    freeRange(z, pm, 3, 1); // 3 merges with 2 -> order 1 at 2, then with 0 -> order 2
    expect(Array.from(z.nrFree.slice(0, 3))).toEqual([0, 0, 1]);
  });

  it('a whole 4 MiB range ends as one MAX_PAGE_ORDER block', () => {
    const { pm, z } = bareZone();
    freeRange(z, pm, 1024, 1024);
    expect(z.nrFree[10]).toBe(1);
    expect(z.freePages).toBe(1024);
  });

  it('pageblocks of incompatible types (HIGHATOMIC) do not merge at pageblock order', () => {
    const { pm, z } = bareZone();
    pm.blockMt[1] = MIGRATE_HIGHATOMIC; // pfns 512..1023
    freeRange(z, pm, 0, 1024);
    expect(z.nrFree[10]).toBe(0);
    expect(z.nrFree[9]).toBe(2);
    expect(z.nrFreeHighatomic).toBe(PAGEBLOCK_NR_PAGES);
  });
});

describe('expand() / __rmqueue_smallest(): splitting', () => {
  it('an order-0 request from an order-3 block keeps the lowest page and frees the halves', () => {
    const { pm, z } = bareZone();
    freeRange(z, pm, 0, 8);
    const pfn = z.rmqueueSmallest(0, MIGRATE_MOVABLE);
    expect(pfn).toBe(0);
    expect(Array.from(z.nrFree.slice(0, 4))).toEqual([1, 1, 1, 0]);
    expect(pm.state[4]).toBe(PageState.BUDDY);
    expect(pm.order[4]).toBe(2);
    expect(pm.state[2]).toBe(PageState.BUDDY);
    expect(pm.order[2]).toBe(1);
    expect(pm.state[1]).toBe(PageState.BUDDY);
    expect(z.freePages).toBe(7);
  });

  it('takes the smallest sufficient block first', () => {
    const { pm, z } = bareZone();
    freeRange(z, pm, 0, 8); // order 3 at 0
    freeRange(z, pm, 17, 1); // order 0 at 17
    expect(z.rmqueueSmallest(0, MIGRATE_MOVABLE)).toBe(17);
  });
});

describe('migratetype fallback (fallbacks[], __rmqueue_claim, __rmqueue_steal)', () => {
  it('UNMOVABLE falls back to RECLAIMABLE before MOVABLE at the same order', () => {
    const { pm, z } = bareZone();
    pm.blockMt[0] = MIGRATE_MOVABLE;
    pm.blockMt[2] = MIGRATE_RECLAIMABLE;
    // One order-9 block of each type, not buddies of each other.
    freeRange(z, pm, 0, 512);
    freeRange(z, pm, 1024, 512);
    expect(z.nrFree[9]).toBe(2);
    const pfn = z.rmqueue(0, MIGRATE_UNMOVABLE, 0);
    expect(pfn >> 9).toBe(2);
    // Claiming a whole pageblock changes its type.
    expect(pm.blockMt[2]).toBe(MIGRATE_UNMOVABLE);
    expect(pm.blockMt[0]).toBe(MIGRATE_MOVABLE);
  });

  it('MOVABLE requests steal a single small block without converting a mostly-used pageblock', () => {
    const { pm, z } = bareZone();
    pm.blockMt[0] = MIGRATE_UNMOVABLE;
    freeRange(z, pm, 0, 4); // only 4 free pages in an unmovable pageblock
    const pfn = z.rmqueue(0, MIGRATE_MOVABLE, 0);
    expect(pfn).toBeGreaterThanOrEqual(0);
    expect(pfn).toBeLessThan(4);
    expect(pm.blockMt[0]).toBe(MIGRATE_UNMOVABLE);
  });

  it('the high-atomic reserve is reserved by ALLOC_HIGHATOMIC and used by it first', () => {
    const { pm, z } = bareZone(1 << 16);
    pm.blockMt.fill(MIGRATE_MOVABLE);
    freeRange(z, pm, 0, 1 << 16);
    const flags = ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC;
    const pfn = z.rmqueueLocked(1, MIGRATE_UNMOVABLE, flags);
    pm.state[pfn] = PageState.ALLOC;
    z.reserveHighatomicLocked(pfn, 1);
    expect(z.nrReservedHighatomic).toBe(PAGEBLOCK_NR_PAGES);
    expect(z.blockMt(pfn)).toBe(MIGRATE_HIGHATOMIC);
    const next = z.rmqueueLocked(1, MIGRATE_UNMOVABLE, flags);
    expect(next >> 9).toBe(pfn >> 9);
    // Ordinary callers cannot count the reserve as free.
    expect(z.watermarkOk(0, z.freePages - 10, 2, ALLOC_WMARK_MIN)).toBe(false);
    expect(z.watermarkOk(0, z.freePages - 10, 2, flags)).toBe(true);
    // Given back before an OOM kill.
    expect(z.unreserveHighatomicLocked(MIGRATE_UNMOVABLE, true)).toBeGreaterThan(0);
    expect(z.nrReservedHighatomic).toBe(0);
  });
});

describe('__zone_watermark_ok()', () => {
  it('order 0 passes above mark + lowmem reserve; high orders also need a block', () => {
    const { pm, z } = bareZone();
    freeRange(z, pm, 0, 16); // one order-4 block
    expect(z.watermarkOk(0, 15, 2, ALLOC_WMARK_MIN)).toBe(true);
    expect(z.watermarkOk(0, 16, 2, ALLOC_WMARK_MIN)).toBe(false);
    expect(z.watermarkOk(4, 0, 2, ALLOC_WMARK_MIN)).toBe(true);
    expect(z.watermarkOk(5, 0, 2, ALLOC_WMARK_MIN)).toBe(false);
    z.lowmemReserve[3] = 10;
    expect(z.watermarkOk(0, 10, 3, ALLOC_WMARK_MIN)).toBe(false);
  });
  it('GFP_ATOMIC may go down to 3/8 of the mark', () => {
    const { pm, z } = bareZone();
    freeRange(z, pm, 0, 400);
    const atomic = ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK;
    expect(z.watermarkOk(0, 1000, 2, atomic, 376)).toBe(true);
    expect(z.watermarkOk(0, 1000, 2, atomic, 375)).toBe(false);
    expect(z.watermarkOk(0, 1000, 2, ALLOC_WMARK_MIN, 999)).toBe(false);
  });
});
