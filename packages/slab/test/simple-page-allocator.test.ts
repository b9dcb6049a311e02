import { createMachine, IRQF_NO_THREAD } from '@sim/cpu';
import { __GFP_NOWARN, __GFP_ZERO, GFP_ATOMIC, GFP_KERNEL } from '@sim/gfp';
import { createLocking } from '@sim/locks';
import { describe, expect, it } from 'vitest';
import { createSimplePageAllocator, SlabError } from '../src/index.js';

function pool(pages = 64, preempt: 'full' | 'rt' = 'full') {
  const m = createMachine({ nrCpus: 2, preempt, seed: 3 });
  const locking = createLocking(m);
  const p = createSimplePageAllocator(m, { pages, locking });
  return { m, p };
}

describe('createSimplePageAllocator', () => {
  it('hands out naturally aligned blocks of 2^order pages and takes them back', () => {
    const { m, p } = pool(64);
    m.runOn(0, () => {
      const a = p.allocPages(GFP_KERNEL, 0);
      const b = p.allocPages(GFP_KERNEL, 3);
      expect(a).toBeGreaterThanOrEqual(p.basePfn);
      expect((b - p.basePfn) % 8).toBe(0);
      expect(p.stats().allocated).toBe(9);
      expect(p.isAllocated(b + 7)).toBe(true);
      p.freePages(b, 3);
      p.freePages(a, 0);
      expect(p.stats().allocated).toBe(0);
      expect(p.pageAddress(a)).toBe(a * 4096);
      expect(p.virtToPfn(a * 4096 + 100)).toBe(a);
    });
    expect(m.reports()).toEqual([]);
  });

  it('fails when exhausted and prints warn_alloc() unless __GFP_NOWARN', () => {
    const { m, p } = pool(4);
    m.runOn(0, () => {
      expect(p.allocPages(GFP_KERNEL, 2)).toBeGreaterThanOrEqual(0);
      expect(p.allocPages(GFP_ATOMIC | __GFP_NOWARN, 0)).toBe(-1);
      expect(p.allocPages(GFP_ATOMIC, 0)).toBe(-1);
    });
    const r = m.reports({ kind: 'page-alloc-failure' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(
      /page allocation failure: order:0, mode:0x820\(GFP_ATOMIC\), nodemask=\(null\)/,
    );
  });

  it('injects failures: the next N, or at a seeded rate', () => {
    const { m, p } = pool(64);
    m.runOn(0, () => {
      p.failNext(2);
      expect(p.allocPages(GFP_KERNEL | __GFP_NOWARN, 0)).toBe(-1);
      expect(p.allocPages(GFP_KERNEL | __GFP_NOWARN, 0)).toBe(-1);
      expect(p.allocPages(GFP_KERNEL | __GFP_NOWARN, 0)).toBeGreaterThanOrEqual(0);
      p.failRate(1);
      expect(p.allocPages(GFP_KERNEL | __GFP_NOWARN, 0)).toBe(-1);
    });
    expect(p.stats().injected).toBe(3);
  });

  it('follows alloc_pages_nolock(): zeroed, pcp orders only, nothing from RT hardirq, trylock only', () => {
    const { m, p } = pool(64, 'rt');
    m.runOn(0, () => {
      const a = p.allocPagesNolock(0, -1, 0);
      expect(a).toBeGreaterThanOrEqual(0);
      m.store(a * 4096, 42);
      p.freePagesNolock(a, 0);
      const b = p.allocPagesNolock(0, -1, 0);
      expect(m.load(b * 4096)).toBe(0);
      expect(p.allocPagesNolock(0, -1, 4)).toBe(-1);
      p.freePagesNolock(b, 0);
    });
    let inIrq = 0;
    const irq = m.requestIrq(
      't',
      () => {
        inIrq = p.allocPagesNolock(0, -1, 0);
      },
      IRQF_NO_THREAD,
    );
    m.runOn(0, () => m.raiseIrq(0, irq));
    m.runUntilIdle();
    expect(inIrq).toBe(-1);
    expect(m.reports()).toEqual([]);
  });

  it('zeroes __GFP_ZERO allocations and reports a bad free', () => {
    const { m, p } = pool(8);
    m.runOn(0, () => {
      const a = p.allocPages(GFP_KERNEL, 0);
      m.store(a * 4096 + 8, 7);
      p.freePages(a, 0);
      const b = p.allocPages(GFP_KERNEL | __GFP_ZERO, 0);
      expect(m.load(b * 4096 + 8)).toBe(0);
      p.freePages(b, 1);
    });
    expect(m.reports({ kind: 'bad-page' })).toHaveLength(1);
  });

  it('rejects bad arguments before touching state', () => {
    const m = createMachine();
    expect(() => createSimplePageAllocator(m, { pages: 0 })).toThrow(SlabError);
    const p = createSimplePageAllocator(m, { pages: 4 });
    expect(() => p.allocPages(0, 11)).toThrow(/order 11/);
    expect(() => p.failRate(2)).toThrow(SlabError);
    expect(() => p.accountReclaimedPages(-1)).toThrow(/accountReclaimedPages\(-1\)/);
    expect(p.stats().reclaimedSlabPages).toBe(0);
  });
});
