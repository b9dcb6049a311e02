import { GFP_ATOMIC, GFP_KERNEL } from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_PAGE } from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

const normal = (a: ReturnType<typeof boot>['a']) => a.zones().find((z) => z.managed > 0)!;

describe('per-CPU page lists (struct per_cpu_pages)', () => {
  it('the first order-0 allocation refills this CPU list with one batch from the buddy', () => {
    const { m, a } = boot({ memBytes: 256 * 2 ** 20 }, { kswapd: false });
    const z = normal(a);
    expect(z.pcpBatch).toBe(15);
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(normal(a).pcpCount).toBe(z.pcpBatch - 1);
    // The rest of the batch is served from the list without touching the zone.
    const freeBefore = a.nrFreePages();
    const q = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(a.nrFreePages()).toBe(freeBefore);
    expect(normal(a).pcpCount).toBe(z.pcpBatch - 2);
    m.runOn(0, () => {
      a.freePages(p, 0);
      a.freePages(q, 0);
    });
  });

  it('lists are per CPU: CPU 1 refills its own list', () => {
    const { m, a } = boot({ memBytes: 256 * 2 ** 20 }, { kswapd: false });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    const q = m.runOn(1, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(normal(a).pcpCount).toBe(2 * (normal(a).pcpBatch - 1));
    expect(a.zoneinfo()).toMatch(/cpu: 1\n {14}count: {4}14\n/);
    m.runOn(0, () => a.freePages(p, 0));
    m.runOn(1, () => a.freePages(q, 0));
  });

  it('frees stay on the list until it reaches high, then a batch drains to the buddy', () => {
    const { m, a } = boot({ memBytes: 256 * 2 ** 20 }, { kswapd: false });
    const n = 3 * normal(a).pcpHighMax;
    const free0 = a.nrFreePages();
    const pages = m.runOn(0, () => Array.from({ length: n }, () => a.allocPages(GFP_KERNEL, 0)!));
    m.runOn(0, () => {
      for (const p of pages) a.freePages(p, 0);
    });
    const z = normal(a);
    // high auto-tunes between high_min and high_max; the excess went back.
    expect(z.pcpCount).toBeGreaterThan(0);
    expect(z.pcpCount).toBeLessThanOrEqual(z.pcpHighMax);
    expect(a.nrFreePages() + z.pcpCount).toBe(free0);
    const free = a.nrFreePages();
    m.runOn(0, () => a.drainAllPages());
    expect(normal(a).pcpCount).toBe(0);
    expect(a.nrFreePages()).toBe(free + z.pcpCount);
  });

  it('with per-CPU lists off every allocation and free goes through zone->lock', () => {
    const { m, a } = boot({}, { kswapd: false, pcp: false });
    const z = normal(a);
    expect([z.pcpBatch, z.pcpHighMin, z.pcpHighMax]).toEqual([1, 0, 0]);
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(normal(a).pcpCount).toBe(0);
    m.runOn(0, () => a.freePages(p, 0));
    expect(normal(a).pcpCount).toBe(0);
  });

  it('orders 1-3 and the THP order use the lists; others go to the buddy', () => {
    const { m, a } = boot({ memBytes: 256 * 2 ** 20 }, { kswapd: false });
    const p3 = m.runOn(0, () => a.allocPages(GFP_KERNEL, 3))!;
    m.runOn(0, () => a.freePages(p3, 3));
    expect(a.pageInfo(p3).state).toBe('pcp');
    const p4 = m.runOn(0, () => a.allocPages(GFP_KERNEL, 4))!;
    m.runOn(0, () => a.freePages(p4, 4));
    expect(a.pageInfo(p4).state).toBe('buddy');
    const p9 = m.runOn(0, () => a.allocPages(GFP_KERNEL, 9))!;
    m.runOn(0, () => a.freePages(p9, 9));
    expect(a.pageInfo(p9).state).toBe('pcp');
    const k2 = boot({ memBytes: 256 * 2 ** 20 }, { kswapd: false, thp: false });
    const q9 = k2.m.runOn(0, () => k2.a.allocPages(GFP_KERNEL, 9))!;
    k2.m.runOn(0, () => k2.a.freePages(q9, 9));
    expect(k2.a.pageInfo(q9).state).toBe('buddy');
  });

  it('a failed pcp trylock (re-entry while the list is locked) falls back to the buddy', () => {
    const { m, a } = boot({ memBytes: 256 * 2 ** 20 }, { kswapd: false });
    const warm = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    let inner = NO_PAGE;
    let listBefore = -1;
    let listAfter = -1;
    // A program on the per-CPU section re-enters the allocator, as an
    // interrupt arriving while pcp->lock is held would.
    const inj = m.attachProgram('mm.pcp_locked', { nth: 1 }, () => {
      listBefore = normal(a).pcpCount;
      inner = a.allocPages(GFP_ATOMIC, 0);
      listAfter = normal(a).pcpCount;
    });
    const outer = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(inj.fires).toBe(1);
    expect(inner).not.toBe(NO_PAGE);
    expect(listBefore).toBeGreaterThan(0);
    // The inner page did not come from the (locked) list but from the buddy.
    expect(listAfter).toBe(listBefore);
    expect(a.pageInfo(inner!).state).toBe('allocated');
    expect(inner).not.toBe(outer);
    m.runOn(0, () => {
      a.freePages(inner!, 0);
      a.freePages(outer, 0);
      a.freePages(warm, 0);
    });
  });
});
