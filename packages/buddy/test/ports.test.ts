import { GFP_KERNEL } from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { type BuddyAllocator, NO_PAGE, type PageAllocator } from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

// The ports the upper layers declare (copied from their contracts, since
// @sim/buddy must not depend on them): the allocator fits them structurally.
interface SlabPagePort {
  allocPages(gfp: number, order: number): number;
  freePages(pfn: number, order: number): void;
  allocPagesNolock(gfp: number, nid: number, order: number): number;
  freePagesNolock(pfn: number, order: number): void;
  pageAddress(pfn: number): number;
  virtToPfn(addr: number): number;
}
interface RcuPagePort {
  getFreePage(gfp: number): number;
  freePage(addr: number): void;
}
interface RcuShrinkerPort {
  registerShrinker(spec: {
    readonly name: string;
    countObjects(sc: { nrToScan: number }): number;
    scanObjects(sc: { nrToScan: number }): number;
  }): unknown;
}

describe('ports', () => {
  it('BuddyAllocator is a PageAllocator and fits the slab and RCU ports', () => {
    const { m, a } = boot({}, { kswapd: false });
    const pa: PageAllocator = a;
    const slab: SlabPagePort = a;
    const rcu: RcuPagePort = a;
    const shrinkers: RcuShrinkerPort = a;
    const p = m.runOn(0, () => slab.allocPages(GFP_KERNEL, 1));
    expect(p).toBeGreaterThan(0);
    expect(slab.virtToPfn(slab.pageAddress(p) + 4097)).toBe(p + 1);
    m.runOn(0, () => pa.freePages(p, 1));
    const addr = m.runOn(0, () => rcu.getFreePage(GFP_KERNEL));
    expect(addr % 4096).toBe(0);
    m.runOn(0, () => rcu.freePage(addr));
    const handle = shrinkers.registerShrinker({
      name: 'kvfree_rcu',
      countObjects: () => 0,
      scanObjects: () => 0,
    });
    expect((a as BuddyAllocator).shrinkers().map((s) => s.name)).toEqual(['kvfree_rcu']);
    expect(handle).toBeDefined();
    expect(m.runOn(0, () => slab.allocPagesNolock(0, 0, 5))).toBe(NO_PAGE);
  });
});
