import {
  __GFP_DMA32,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  GFP_ATOMIC,
  GFP_DMA32,
  GFP_KERNEL,
  GFP_NOWAIT,
} from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { BuddyError, MAX_PAGE_ORDER, NO_PAGE, NR_PAGE_ORDERS } from '../src/index.js';
import { coreOf } from '../src/page-alloc.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

describe('alloc_pages() / __free_pages() through the buddy', () => {
  it('an unmovable order-0 page claims and splits a MAX_PAGE_ORDER block; freeing merges it back', () => {
    const { m, a } = boot({}, { pcp: false, kswapd: false });
    const before = a.freeBlocksPerOrder();
    const free0 = a.nrFreePages();
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    const after = a.freeBlocksPerOrder();
    const delta = after.map((n, o) => n - before[o]!);
    expect(delta).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1]);
    expect(a.nrFreePages()).toBe(free0 - 1);
    expect(a.pageInfo(p)).toMatchObject({ state: 'allocated', order: 0, migratetype: 'Unmovable' });
    m.runOn(0, () => a.freePages(p, 0));
    expect(a.freeBlocksPerOrder()).toEqual(before);
    expect(a.nrFreePages()).toBe(free0);
  });

  it.each(Array.from({ length: NR_PAGE_ORDERS }, (_, o) => o))(
    'an order-%i block is aligned and marked',
    (order) => {
      const { m, a } = boot({}, { kswapd: false });
      const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, order))!;
      expect(p % 2 ** order).toBe(0);
      expect(a.pageInfo(p)).toMatchObject({ state: 'allocated', order });
      for (let t = p + 1; t < p + 2 ** order; t++) expect(a.pageInfo(t).state).toBe('tail');
      m.runOn(0, () => a.freePages(p, order));
      expect(a.pageInfo(p).state).not.toBe('allocated');
    },
  );

  it('different mobility goes to different pageblocks', () => {
    const { m, a } = boot({}, { kswapd: false });
    const u = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    const r = m.runOn(0, () => a.allocPages(GFP_KERNEL | __GFP_RECLAIMABLE, 0))!;
    expect(a.pageInfo(u).migratetype).toBe('Unmovable');
    expect(a.pageInfo(r).migratetype).toBe('Reclaimable');
    expect(u >> 9).not.toBe(r >> 9);
    m.runOn(0, () => {
      a.freePages(u, 0);
      a.freePages(r, 0);
    });
  });

  it('__GFP_ZERO zeroes the words of the pages', () => {
    const { m, a } = boot({}, { kswapd: false });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 1))!;
    const addr = a.pageAddress(p);
    m.memory.write(addr + 8, 1234);
    m.memory.write(addr + 4096 + 4088, 99);
    m.runOn(0, () => a.freePages(p, 1));
    const q = m.runOn(0, () => a.allocPages(GFP_KERNEL | __GFP_ZERO, 1))!;
    expect(q).toBe(p); // the per-CPU list is LIFO: the same block comes back
    expect(m.memory.read(addr + 8)).toBe(0);
    expect(m.memory.read(addr + 4096 + 4088)).toBe(0);
    m.runOn(0, () => a.freePages(q, 1));
  });

  it('pageAddress, virtToPage, __get_free_pages, get_zeroed_page and free_pages agree', () => {
    const { m, a } = boot({}, { kswapd: false });
    const addr = m.runOn(0, () => a.getFreePages(GFP_KERNEL, 2));
    expect(addr % (4 * 4096)).toBe(0);
    const p = a.virtToPage(addr + 5000);
    expect(p).toBe(addr / 4096 + 1);
    expect(a.pageAddress(p - 1)).toBe(addr);
    const z = m.runOn(0, () => a.getZeroedPage(GFP_KERNEL));
    expect(m.memory.read(z)).toBe(0);
    m.runOn(0, () => {
      a.freePagesAddr(addr, 2);
      a.freePagesAddr(z, 0);
      a.freePagesAddr(0, 0);
    });
    expect(a.pageInfo(p - 1).state).not.toBe('allocated');
  });

  it('an order above MAX_PAGE_ORDER warns once and fails; with __GFP_NOWARN silently', () => {
    const { m, a } = boot({}, { kswapd: false });
    expect(m.runOn(0, () => a.allocPages(GFP_KERNEL | __GFP_NOWARN, MAX_PAGE_ORDER + 1))).toBe(
      NO_PAGE,
    );
    expect(m.reports({ kind: 'page-alloc-warn' })).toHaveLength(0);
    expect(m.runOn(0, () => a.allocPages(GFP_KERNEL, MAX_PAGE_ORDER + 1))).toBe(NO_PAGE);
    expect(m.runOn(0, () => a.allocPages(GFP_KERNEL, MAX_PAGE_ORDER + 2))).toBe(NO_PAGE);
    const w = m.reports({ kind: 'page-alloc-warn' });
    expect(w).toHaveLength(1);
    expect(w[0]!.text).toContain('WARNING: CPU: 0 PID:');
    expect(w[0]!.text).toContain('__alloc_frozen_pages_noprof');
    expect(a.events().allocFail).toBe(3);
  });

  it('GFP_DMA32 allocates from ZONE_DMA32; GFP_KERNEL prefers Normal and falls back to DMA32', () => {
    const { m, a } = boot(
      { memBytes: 64 * 2 ** 20 },
      { zoneLayout: 'dma32+normal', dma32LimitBytes: 16 * 2 ** 20, kswapd: false, pcp: false },
    );
    const d = m.runOn(0, () => a.allocPages(GFP_DMA32, 0))!;
    expect(a.pageInfo(d).zone).toBe('DMA32');
    const n = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(a.pageInfo(n).zone).toBe('Normal');
    // Exhaust Normal down to its watermark: the next GFP_KERNEL page comes from DMA32.
    const held: number[] = [];
    m.runOn(0, () => {
      for (;;) {
        const p = a.allocPages(GFP_KERNEL | __GFP_NOWARN, 0)!;
        held.push(p);
        if (a.pageInfo(p).zone === 'DMA32') break;
      }
    });
    expect(a.pageInfo(held.at(-1)!).zone).toBe('DMA32');
    m.runOn(0, () => {
      for (const p of held) a.freePages(p, 0);
      a.freePages(d, 0);
      a.freePages(n, 0);
    });
    expect(a.pageInfo(d).state).toBe('buddy');
  });

  it('GFP_DMA32 | __GFP_DMA32 is fine, two zone modifiers are a host error (VM_BUG_ON)', () => {
    const { m, a } = boot({}, { kswapd: false });
    const p = m.runOn(0, () => a.allocPages(GFP_DMA32 | __GFP_DMA32, 0))!;
    m.runOn(0, () => a.freePages(p, 0));
    expect(() => m.runOn(0, () => a.allocPages(0x1 | 0x4, 0))).toThrow(/at most one of __GFP_DMA/);
  });
});

describe('free_pages_prepare(): bad frees are reported, not performed', () => {
  it('a double free prints "BUG: Bad page state", taints B and leaves the page free once', () => {
    const { m, a } = boot({}, { kswapd: false, pcp: false });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    m.runOn(0, () => a.freePages(p, 0));
    const free = a.nrFreePages();
    m.runOn(0, () => a.freePages(p, 0));
    expect(a.nrFreePages()).toBe(free);
    const r = m.reports({ kind: 'bad-page' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(
      new RegExp(`^BUG: Bad page state in process \\S+  pfn:${p.toString(16).padStart(5, '0')}\\n`),
    );
    expect(r[0]!.text).toContain('page dumped because: nonzero mapcount');
    expect(m.tainted()).toContain('B');
  });

  it('freeing a tail page or with the wrong order is reported', () => {
    const { m, a } = boot({}, { kswapd: false });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 2))!;
    m.runOn(0, () => a.freePages(p + 1, 0));
    m.runOn(0, () => a.freePages(p, 1));
    const r = m.reports({ kind: 'bad-page' });
    expect(r.map((x) => x.details.reason)).toEqual([
      'freeing a tail page (not the head of an allocation)',
      'freeing an order-2 allocation as order 1',
    ]);
    m.runOn(0, () => a.freePages(p, 2));
  });
});

describe('bad arguments are host errors, thrown before anything changes', () => {
  it.each([
    ['gfp', () => ({ gfp: -1, order: 0 }), 'BAD_GFP'],
    ['gfp', () => ({ gfp: 1.5, order: 0 }), 'BAD_GFP'],
    ['order', () => ({ gfp: GFP_KERNEL, order: -1 }), 'BAD_ORDER'],
    ['order', () => ({ gfp: GFP_KERNEL, order: 0.5 }), 'BAD_ORDER'],
  ])('allocPages with a bad %s', (_f, args, code) => {
    const { m, a } = boot({}, { kswapd: false });
    const { gfp, order } = args();
    const free = a.nrFreePages();
    let err: unknown;
    try {
      m.runOn(0, () => a.allocPages(gfp, order));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BuddyError);
    expect((err as BuddyError).code).toBe(code);
    expect(a.nrFreePages()).toBe(free);
  });

  it('pages, addresses and nodes out of range name the bad value and the accepted range', () => {
    const { a } = boot({}, { kswapd: false });
    expect(() => a.freePages(a.nrPages, 0)).toThrow(
      /page 16384 is invalid: accepted a pfn in \[0, 16384\)/,
    );
    expect(() => a.virtToPage(-8)).toThrow(BuddyError);
    expect(() => a.allocPagesNode(3, GFP_KERNEL, 0)).toThrow(
      /node 3 is invalid: accepted NUMA_NO_NODE \(-1\) or 0..0/,
    );
    expect(() => a.allocPagesNolock(0, 0, -1)).toThrow(BuddyError);
  });
});

describe('struct page lives in simulated memory', () => {
  it('allocations touch the vmemmap through the cache model; lists mode more, none not at all', () => {
    const site = (k: ReturnType<typeof boot>): number =>
      k.m.cache.siteStats().find((s) => s.label === 'mm.struct_page')?.accesses ?? 0;
    const k1 = boot({}, { kswapd: false });
    const before = site(k1);
    const p = k1.m.runOn(0, () => k1.a.allocPages(GFP_ATOMIC, 0))!;
    expect(site(k1)).toBeGreaterThan(before);
    k1.m.runOn(0, () => k1.a.freePages(p, 0));
    const k3 = boot({}, { kswapd: false, vmemmapCost: 'lists' });
    const before3 = site(k3);
    const r = k3.m.runOn(0, () => k3.a.allocPages(GFP_ATOMIC, 0))!;
    expect(site(k3) - before3).toBeGreaterThan(site(k1) - before);
    k3.m.runOn(0, () => k3.a.freePages(r, 0));
    const k2 = boot({}, { kswapd: false, vmemmapCost: 'none' });
    const q = k2.m.runOn(0, () => k2.a.allocPages(GFP_NOWAIT, 0))!;
    expect(site(k2)).toBe(0);
    k2.m.runOn(0, () => k2.a.freePages(q, 0));
  });

  it("an allocation and a free store the page's new state into its struct page", () => {
    const k = boot({}, { kswapd: false });
    const pm = coreOf(k.a).pm;
    const structPage = (pfn: number): number => k.m.memory.read(pm.vmemmap + pfn * 64);
    const p = k.m.runOn(0, () => k.a.allocPages(GFP_KERNEL, 0));
    expect(structPage(p)).toBe(pm.word(p));
    expect(pm.word(p) & 7).toBe(3); // PageState.ALLOC
    k.m.runOn(0, () => k.a.freePages(p, 0));
    expect(structPage(p)).toBe(pm.word(p));
    expect(pm.word(p) & 7).toBe(2); // PageState.PCP: on this CPU's list
  });

  it('the struct page array is reserved memory, counted in "pages reserved"', () => {
    const { a } = boot({ memBytes: 256 * 2 ** 20 }, { kswapd: false });
    const z = a.zones().find((x) => x.managed > 0)!;
    // 64 bytes per 4 KiB page: 1/64 of memory, plus the slack.
    expect(z.present - z.managed).toBeGreaterThanOrEqual(65536 / 64);
    expect(a.showMem()).toContain(`${z.present - z.managed} pages reserved`);
  });
});
