import {
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_KSWAPD_RECLAIM,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  GFP_ATOMIC,
  GFP_KERNEL,
} from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { createSlub, type PageAllocator, type SlabCache } from '../src/index.js';
import { boot, bootChecked, checkAfterEach, expectSound, kinds, onCpu } from './helpers.js';

checkAfterEach();

function events(b: ReturnType<typeof boot>, s: SlabCache) {
  return b.slab.cacheStats(s).events;
}

describe('SLUB per-CPU slab (slab=slub)', () => {
  it('keeps the freelist inside the free objects, at the cache offset', () => {
    const b = bootChecked('slub');
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('fp', 64);
      expect(s.offset).toBe(32);
      const x = slab.kmemCacheAlloc(s, GFP_KERNEL);
      const y = slab.kmemCacheAlloc(s, GFP_KERNEL);
      const z = slab.kmemCacheAlloc(s, GFP_KERNEL);
      // The next free object is linked from z's free-pointer word.
      expect(m.load(z + s.offset)).toBe(z + s.size);
      slab.kmemCacheFree(s, x);
      slab.kmemCacheFree(s, y);
      // LIFO: y is the head, its word points at x, x's at the rest of the slab.
      expect(m.load(y + s.offset)).toBe(x);
      expect(m.load(x + s.offset)).toBe(z + s.size);
      expect(slab.kmemCacheAlloc(s, GFP_KERNEL)).toBe(y);
      expect(slab.kmemCacheAlloc(s, GFP_KERNEL)).toBe(x);
      for (const o of [x, y, z]) slab.kmemCacheFree(s, o);
    });
  });

  it('allocates on the lockless fast path after the first slow-path refill', () => {
    const b = bootChecked('slub');
    const { slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('fast', 64);
      const objs: number[] = [];
      for (let i = 0; i < 10; i++) objs.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      for (const o of objs) slab.kmemCacheFree(s, o);
      const e = events(b, s);
      expect(e.alloc_slowpath).toBe(1);
      expect(e.alloc_slab).toBe(1);
      expect(e.alloc_fastpath).toBe(9);
      expect(e.free_fastpath).toBe(10);
      expect(e.free_slowpath).toBe(0);
    });
  });

  it('puts a full slab that gets a free on the CPU partial list, and allocates from it later', () => {
    const b = bootChecked('slub');
    const { slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('cpart', 256);
      const n = s.objectsPerSlab;
      const first: number[] = [];
      for (let i = 0; i < n; i++) first.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      const second = slab.kmemCacheAlloc(s, GFP_KERNEL);
      slab.kmemCacheFree(s, first[3]!);
      expect(events(b, s).cpu_partial_free).toBe(1);
      const rest: number[] = [];
      for (let i = 1; i < n; i++) rest.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      expect(slab.kmemCacheAlloc(s, GFP_KERNEL)).toBe(first[3]);
      expect(events(b, s).cpu_partial_alloc).toBe(1);
      for (const o of [...first, second, ...rest]) slab.kmemCacheFree(s, o);
    });
  });

  it('keeps min_partial empty slabs on the node list and gives the others back (remote frees)', () => {
    const b = bootChecked('slub');
    const { slab, pages } = b;
    const s = onCpu(b, 0, () => slab.kmemCacheCreate('policy', 64));
    expect(s.minPartial).toBe(5);
    const objs = onCpu(b, 0, () => {
      const out: number[] = [];
      for (let i = 0; i < 20 * s.objectsPerSlab; i++) out.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      return out;
    });
    expect(slab.cacheStats(s).slabs).toBe(20);
    onCpu(b, 1, () => {
      for (const o of objs) slab.kmemCacheFree(s, o);
    });
    const e = events(b, s);
    // 19 slabs pass through CPU 1's partial list four at a time: the first five
    // empties fill the node list up to min_partial, eleven are discarded, three
    // stay on CPU 1; CPU 0's frozen slab only took remote frees.
    expect(e.free_slab).toBe(11);
    expect(e.cpu_partial_drain).toBe(4);
    expect(e.free_frozen).toBe(s.objectsPerSlab);
    expect(slab.cacheStats(s).slabs).toBe(9);
    const before = pages.stats().allocated;
    expect(onCpu(b, 0, () => slab.kmemCacheShrink(s))).toBe(0);
    expect(slab.cacheStats(s).slabs).toBe(0);
    expect(before - pages.stats().allocated).toBe(9);
  });

  it('asks the page allocator with the caller mask as allocate_slab() shapes it, then falls back to the minimum order', () => {
    const b = boot('slub');
    const calls: [number, number][] = [];
    let failFirst = true;
    const port: PageAllocator = {
      allocPages: (gfp, order) => {
        calls.push([gfp, order]);
        if (order === 3 && failFirst) {
          failFirst = false;
          return -1;
        }
        return b.pages.allocPages(gfp, order);
      },
      freePages: (pfn, order) => b.pages.freePages(pfn, order),
      allocPagesNolock: (gfp, nid, order) => b.pages.allocPagesNolock(gfp, nid, order),
      freePagesNolock: (pfn, order) => b.pages.freePagesNolock(pfn, order),
      pageAddress: (pfn) => b.pages.pageAddress(pfn),
      virtToPfn: (addr) => b.pages.virtToPfn(addr),
    };
    const slab = createSlub({ machine: b.m, locking: b.locking, pages: port });
    const s = slab.kmallocCache(8192)!;
    expect(s.order).toBe(3);
    calls.length = 0;
    b.m.runOn(0, () => {
      const o = slab.kmalloc(8192, GFP_KERNEL);
      expect(o).toBeGreaterThan(0);
      slab.kfree(o);
    });
    const [first, second] = calls.filter(([, order]) => order > 0);
    // First try: the preferred order, no warning, no retry, no reclaim.
    expect(first![1]).toBe(3);
    const g = first![0];
    expect(g & (__GFP_COMP | __GFP_NOWARN | __GFP_NORETRY | __GFP_NOMEMALLOC)).toBe(
      __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY | __GFP_NOMEMALLOC,
    );
    expect(g & (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)).toBe(0);
    // Fallback: s->min with the caller's mask.
    expect(second).toEqual([GFP_KERNEL | __GFP_COMP, 1]);
    expect(slab.cacheStats(s).events.order_fallback).toBe(1);
    expect(slab.checkInvariants()).toEqual([]);
  });

  it('prints "SLUB: Unable to allocate memory" when the page allocator has nothing, unless __GFP_NOWARN', () => {
    const b = bootChecked('slub', { pages: 600 });
    const { slab, pages } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('oom', 1024);
      const held: number[] = [];
      for (;;) {
        const o = slab.kmemCacheAlloc(s, GFP_ATOMIC | __GFP_NOWARN);
        if (o === 0) break;
        held.push(o);
      }
      expect(kinds(b.m)).toEqual([]);
      expect(slab.kmemCacheAlloc(s, GFP_ATOMIC)).toBe(0);
      for (const o of held) slab.kmemCacheFree(s, o);
      slab.kmemCacheShrink(s);
      expect(pages.stats().failures).toBeGreaterThan(0);
    });
    const r = b.m.reports({ kind: 'slub-oom' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(
      /^SLUB: Unable to allocate memory on CPU 0 \(of node 0\) on node -1, gfp=0x820\(GFP_ATOMIC\)\n {2}cache: oom, object size: 1024, buffer size: 1024, default order: 2, min order: 0\n {2}node 0: slabs: \d+, objs: \d+, free: 0/,
    );
  });

  it('accounts every slab page it frees as reclaimed (mm_account_reclaimed_pages), and no others', () => {
    const b = bootChecked('slub', { pages: 600 });
    const { slab, pages } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('shrinkable', 1024);
      const held: number[] = [];
      for (let i = 0; i < 64; i++) held.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      const big = slab.kmalloc(64 * 1024, GFP_KERNEL);
      const before = pages.stats();
      for (const o of held) slab.kmemCacheFree(s, o);
      slab.kmemCacheShrink(s);
      const shrunk = pages.stats();
      const slabPagesFreed = before.allocated - shrunk.allocated;
      expect(slabPagesFreed).toBeGreaterThan(0);
      expect(shrunk.reclaimedSlabPages - before.reclaimedSlabPages).toBe(slabPagesFreed);
      // A large kmalloc goes back through free_large_kmalloc(), not __free_slab().
      slab.kfree(big);
      const last = pages.stats();
      expect(last.allocated).toBe(shrunk.allocated - 16);
      expect(last.reclaimedSlabPages).toBe(shrunk.reclaimedSlabPages);
    });
  });

  it('retries the fast path when an NMI used the same CPU freelist between its read and its cmpxchg', () => {
    const b = bootChecked('slub');
    const { m, slab } = b;
    let nmiObj = 0;
    onCpu(b, 0, () => {
      slab.kfree(slab.kmalloc(64, GFP_KERNEL));
      m.injectNmi('slab.alloc.fastpath', { nth: 1 }, () => {
        nmiObj = slab.kmallocNolock(64, 0);
      });
      const a = slab.kmalloc(64, GFP_KERNEL);
      expect(nmiObj).toBeGreaterThan(0);
      expect(a).not.toBe(nmiObj);
      expect(slab.cacheStats(slab.kmallocCache(64)!).events.cmpxchg_double_cpu_fail).toBe(1);
      slab.kfree(a);
      slab.kfreeNolock(nmiObj);
    });
    expect(kinds(m)).toEqual([]);
  });

  it('makes cross-CPU frees bounce the object lines between CPUs', () => {
    const b = bootChecked('slub');
    const { m, slab } = b;
    const objs = onCpu(b, 0, () => {
      const out: number[] = [];
      for (let i = 0; i < 200; i++) {
        const o = slab.kmalloc(64, GFP_KERNEL);
        m.store(o, i);
        out.push(o);
      }
      return out;
    });
    m.cache.resetStats();
    onCpu(b, 1, () => {
      for (const o of objs) slab.kfree(o);
    });
    const site = m.cache.siteStats().find((x) => x.label === 'slab.freelist')!;
    expect(site.transfers).toBeGreaterThan(100);
  });

  it('on PREEMPT_RT takes the local lock on every operation, so kmalloc under a raw spinlock is a sleeping-in-atomic BUG', () => {
    const b = bootChecked('slub', { preempt: 'rt' });
    const { m, slab, locking } = b;
    const raw = locking.rawSpinLock('&raw');
    onCpu(b, 0, () => {
      slab.kfree(slab.kmalloc(64, GFP_ATOMIC));
      const e = slab.cacheStats(slab.kmallocCache(64)!).events;
      expect(e.alloc_fastpath).toBe(0);
      expect(e.alloc_slowpath).toBe(1);
      expect(e.free_fastpath).toBe(1);
      raw.lock();
      slab.kfree(slab.kmalloc(64, GFP_ATOMIC));
      raw.unlock();
    });
    expect(kinds(m)).toContain('might-sleep');
    expect(m.reports({ kind: 'might-sleep' })[0]!.text).toMatch(/spinlock_rt\.c/);
  });

  it('reports no lockdep splat for ordinary use with lockdep on', () => {
    const b = boot('slub', { nrCpus: 4 });
    for (let cpu = 0; cpu < 4; cpu++) {
      onCpu(b, cpu, () => {
        const objs: number[] = [];
        for (let i = 0; i < 300; i++)
          objs.push(b.slab.kmalloc(8 + ((i * 37) % 4000), i % 2 ? GFP_KERNEL : GFP_ATOMIC));
        for (const o of objs) b.slab.kfree(o);
      });
    }
    expect(kinds(b.m)).toEqual([]);
    expectSound(b);
  });
});
