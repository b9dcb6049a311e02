import { createMachine } from '@sim/cpu';
import { GFP_KERNEL } from '@sim/gfp';
import { createLocking } from '@sim/locks';
import { describe, expect, it } from 'vitest';
import { createSimplePageAllocator, createSlabAllocator } from '../src/index.js';

describe('the README example', () => {
  it('runs as documented', () => {
    const machine = createMachine({ nrCpus: 2, preempt: 'full', seed: 1 });
    const locking = createLocking(machine);
    const pages = createSimplePageAllocator(machine, { pages: 4096, locking });
    const slab = machine.runOn(0, () =>
      createSlabAllocator('slub', { machine, locking, pages }, { slabDebug: 'FZPU,kmalloc-128' }),
    );
    const sizes: number[] = [];
    machine.runOn(0, () => {
      const p = slab.kmalloc(200, GFP_KERNEL);
      sizes.push(slab.ksize(p));
      machine.injectNmi('slab.cpu_lock.unlock', { nth: 1 }, () => {
        const q = slab.kmallocNolock(64, 0);
        sizes.push(slab.ksize(q));
        slab.kfreeNolock(q);
      });
      const r = slab.kmalloc(64, GFP_KERNEL);
      slab.kfree(r);
      const d = slab.kmalloc(100, GFP_KERNEL);
      slab.kfree(d);
      slab.kfree(d);
      slab.kfree(p);
    });
    expect(sizes).toEqual([256, 96]);
    expect(machine.reports().map((x) => x.kind)).toEqual(['slub-double-free']);
    expect(machine.dmesg({}).includes('BUG kmalloc-128 (Not tainted): Object already free')).toBe(
      true,
    );
    expect([slab.stats().nolock.retries, slab.stats().nolock.freedNow]).toEqual([1, 1]);
    expect(slab.slabinfo().split('\n')[0]).toBe('slabinfo - version: 2.1');
    expect(slab.checkInvariants()).toEqual([]);
  });
});
