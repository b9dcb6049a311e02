import {
  __GFP_ACCOUNT,
  __GFP_DMA,
  __GFP_HIGHMEM,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  GFP_ATOMIC,
  GFP_KERNEL,
} from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { KMALLOC_MAX_SIZE, SLAB_HWCACHE_ALIGN, SlabError, ZERO_SIZE_PTR } from '../src/index.js';
import { bootChecked, checkAfterEach, DESIGNS, kinds, onCpu } from './helpers.js';

checkAfterEach();

describe.each(DESIGNS)('kmalloc on %s', (design) => {
  it('serves kmalloc(200) from kmalloc-256, kmalloc(96) from kmalloc-96 (checklist 13)', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      const a = slab.kmalloc(200, GFP_KERNEL);
      const c = slab.kmalloc(96, GFP_KERNEL);
      expect(slab.ksize(a)).toBe(256);
      expect(slab.ksize(c)).toBe(96);
      expect(slab.kmallocCache(200)!.name).toBe('kmalloc-256');
      expect(slab.kmallocCache(96)!.name).toBe('kmalloc-96');
      expect(slab.cacheStats(slab.kmallocCache(200)!).inUse).toBeGreaterThanOrEqual(1);
      slab.kfree(a);
      slab.kfree(c);
    });
    expect(kinds(b.m)).toEqual([]);
  });

  it('uses kmalloc-cg-* for __GFP_ACCOUNT, kmalloc-rcl-* for __GFP_RECLAIMABLE, dma-kmalloc-* for __GFP_DMA (checklist 14)', () => {
    const b = bootChecked(design);
    const { slab } = b;
    expect(slab.kmallocCache(100, GFP_KERNEL | __GFP_ACCOUNT)!.name).toBe('kmalloc-cg-128');
    expect(slab.kmallocCache(100, GFP_KERNEL | __GFP_RECLAIMABLE)!.name).toBe('kmalloc-rcl-128');
    expect(slab.kmallocCache(8, __GFP_DMA)!.name).toBe('dma-kmalloc-8');
    onCpu(b, 0, () => {
      const a = slab.kmalloc(1000, GFP_KERNEL | __GFP_ACCOUNT);
      expect(slab.cacheStats(slab.findCache('kmalloc-cg-1k')!).inUse).toBe(1);
      slab.kfree(a);
    });
  });

  it('returns ZERO_SIZE_PTR for kmalloc(0), and kfree(NULL) / kfree(ZERO_SIZE_PTR) do nothing', () => {
    const b = bootChecked(design);
    onCpu(b, 0, () => {
      expect(b.slab.kmalloc(0, GFP_KERNEL)).toBe(ZERO_SIZE_PTR);
      b.slab.kfree(0);
      b.slab.kfree(ZERO_SIZE_PTR);
      expect(b.slab.ksize(ZERO_SIZE_PTR)).toBe(0);
    });
    expect(kinds(b.m)).toEqual([]);
  });

  it('passes kmalloc(8193) to the page allocator as an order-2 compound page', () => {
    const b = bootChecked(design);
    const { slab, pages } = b;
    onCpu(b, 0, () => {
      const before = pages.stats().allocated;
      const a = slab.kmalloc(8193, GFP_KERNEL);
      expect(a % 4096).toBe(0);
      expect(pages.stats().allocated - before).toBe(4);
      expect(slab.ksize(a)).toBe(16384);
      expect(slab.objectState(a)).toBe('large-kmalloc');
      expect(slab.stats().pages.largeKmalloc).toBe(4);
      slab.kfree(a);
      expect(pages.stats().allocated).toBe(before);
    });
  });

  it('warns and fails above KMALLOC_MAX_SIZE (order above MAX_PAGE_ORDER), quietly with __GFP_NOWARN', () => {
    const b = bootChecked(design);
    onCpu(b, 0, () => {
      expect(b.slab.kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOWARN)).toBe(0);
      expect(b.slab.kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL)).toBe(0);
      const big = b.slab.kmalloc(KMALLOC_MAX_SIZE, GFP_KERNEL);
      expect(b.slab.ksize(big)).toBe(KMALLOC_MAX_SIZE);
      b.slab.kfree(big);
    });
    expect(kinds(b.m)).toEqual(['page-alloc-order']);
  });

  it('kzalloc() and __GFP_ZERO zero the object; plain kmalloc does not', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const a = slab.kmalloc(64, GFP_KERNEL);
      for (let off = 0; off < 64; off += 8) m.store(a + off, 0xabc);
      slab.kfree(a);
      const c = slab.kmalloc(64, GFP_KERNEL);
      expect(c).toBe(a);
      expect(m.load(c)).toBe(0xabc);
      slab.kfree(c);
      const z = slab.kzalloc(64, GFP_KERNEL);
      expect(z).toBe(a);
      for (let off = 0; off < 64; off += 8) expect(m.load(z + off)).toBe(0);
      slab.kfree(z);
    });
  });

  it('krealloc() keeps the object when it fits and moves the contents when it grows', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const a = slab.kmalloc(40, GFP_KERNEL);
      m.store(a, 11);
      m.store(a + 32, 22);
      expect(slab.krealloc(a, 60, GFP_KERNEL)).toBe(a);
      const c = slab.krealloc(a, 100, GFP_KERNEL);
      expect(c).not.toBe(a);
      expect(slab.ksize(c)).toBe(128);
      expect(m.load(c)).toBe(11);
      expect(m.load(c + 32)).toBe(22);
      expect(slab.objectState(a)).not.toBe('allocated');
      expect(slab.krealloc(c, 0, GFP_KERNEL)).toBe(ZERO_SIZE_PTR);
      expect(slab.objectState(c)).not.toBe('allocated');
      const d = slab.krealloc(0, 10, GFP_KERNEL);
      expect(slab.ksize(d)).toBe(16);
      slab.kfree(d);
    });
    expect(kinds(m)).toEqual([]);
  });

  it('fixes GFP_SLAB_BUG_MASK bits with the kernel warning', () => {
    const b = bootChecked(design);
    onCpu(b, 0, () => {
      const a = b.slab.kmalloc(32, GFP_KERNEL | __GFP_HIGHMEM);
      expect(a).toBeGreaterThan(0);
      b.slab.kfree(a);
    });
    const r = b.m.reports({ kind: 'slab-bad-gfp' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(
      /^Unexpected gfp: 0x2 \(__GFP_HIGHMEM\)\. Fixing up to gfp: 0xcc0 \(GFP_KERNEL\)\. Fix your code!/,
    );
  });

  it('reports a GFP_KERNEL kmalloc with preemption disabled (might_alloc)', () => {
    const b = bootChecked(design);
    onCpu(b, 0, () => {
      b.m.preemptDisable();
      b.slab.kfree(b.slab.kmalloc(32, GFP_KERNEL));
      b.slab.kfree(b.slab.kmalloc(32, GFP_ATOMIC));
      b.m.preemptEnable();
    });
    expect(kinds(b.m)).toEqual(['might-sleep']);
  });

  it('frees to the page allocator through kfree() only what kmalloc gave: others are "Not a kmalloc allocation"', () => {
    const b = bootChecked(design);
    const { slab, pages } = b;
    onCpu(b, 0, () => {
      const pfn = pages.allocPages(GFP_KERNEL, 0);
      slab.kfree(pages.pageAddress(pfn));
      pages.freePages(pfn, 0);
    });
    const r = b.m.reports({ kind: 'slub-bad-free' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(/page dumped because: Not a kmalloc allocation/);
  });

  it('rejects bad arguments with a SlabError before any state changes', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      expect(() => slab.kmalloc(-1, GFP_KERNEL)).toThrow(SlabError);
      expect(() => slab.kmalloc(1.5, GFP_KERNEL)).toThrow(/size 1.5/);
      expect(() => slab.kmalloc(8, -1)).toThrow(/gfp -1/);
      expect(() => slab.kmallocNode(8, GFP_KERNEL, 3)).toThrow(/node 3/);
      expect(() => slab.kfree(-8)).toThrow(/address -8/);
      expect(() => slab.kmemCacheCreate('bad name', 8)).toThrow(/without spaces/);
      expect(() => slab.kmemCacheCreate('x', 0)).toThrow(/size 0/);
      expect(() => slab.kmemCacheCreate('x', 8, { align: 3 })).toThrow(/align 3/);
      expect(() => slab.kmemCacheCreate('x', 8, { flags: 1 << 30 })).toThrow(/flags/);
      expect(() => slab.kmemCacheCreate('kmalloc-64', 8)).toThrow(/already exists/);
    });
    expect(slab.findCache('x')).toBeUndefined();
  });
});

describe.each(DESIGNS)('kmem_cache on %s', (design) => {
  it('creates a cache, aligns its objects, runs the constructor per object and destroys it', () => {
    const b = bootChecked(design);
    const { m, slab, pages } = b;
    const constructed: number[] = [];
    onCpu(b, 0, () => {
      const before = pages.stats().allocated;
      const s = slab.kmemCacheCreate('my_struct', 100, {
        flags: SLAB_HWCACHE_ALIGN,
        ctor: (addr) => {
          constructed.push(addr);
          m.store(addr, 0x5151);
        },
      });
      expect(s.align).toBe(64);
      expect(s.size).toBe(128);
      const objs = [slab.kmemCacheAlloc(s, GFP_KERNEL), slab.kmemCacheAlloc(s, GFP_KERNEL)];
      for (const o of objs) {
        expect(o % 64).toBe(0);
        expect(m.load(o)).toBe(0x5151);
      }
      // Constructors run when slabs are created, for every object of each.
      expect(constructed.length % s.objectsPerSlab).toBe(0);
      expect(constructed.length).toBeGreaterThanOrEqual(s.objectsPerSlab);
      for (const o of objs) slab.kmemCacheFree(s, o);
      expect(slab.kmemCacheDestroy(s)).toBe(true);
      expect(slab.findCache('my_struct')).toBeUndefined();
      expect(() => slab.kmemCacheAlloc(s, GFP_KERNEL)).toThrow(/destroyed/);
      // The slab went back, along with every per-CPU structure.
      expect(pages.stats().allocated).toBeLessThanOrEqual(before + 1);
    });
    expect(kinds(m)).toEqual([]);
  });

  it('reports the objects left when a cache is destroyed, and keeps them usable', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('leaky', 64);
      const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
      m.fnEnter(m.fnId('leaky_exit'));
      expect(slab.kmemCacheDestroy(s)).toBe(false);
      m.fnExit();
      slab.kmemCacheFree(s, o);
    });
    const r = m.reports({ kind: 'kmem-cache-destroy-leak' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(
      /BUG leaky \(Not tainted\): Objects remaining on __kmem_cache_shutdown\(\)/,
    );
    expect(r[0]!.text).toMatch(
      /kmem_cache_destroy leaky: Slab cache still has objects when called from leaky_exit/,
    );
    expect(r[0]!.details.objects).toBe(1);
  });

  it('refuses a cache handle from another allocator and kmalloc caches for destroy', () => {
    const b = bootChecked(design);
    const other = bootChecked(design);
    const foreign = other.slab.kmallocCache(64)!;
    onCpu(b, 0, () => {
      expect(() => b.slab.kmemCacheAlloc(foreign, GFP_KERNEL)).toThrow(/not a cache of this/);
      expect(() => b.slab.kmemCacheDestroy(b.slab.kmallocCache(64)!)).toThrow(
        /kmalloc caches cannot be destroyed/,
      );
    });
  });

  it('warns about a free to the wrong cache and frees to the right one', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      const a = slab.kmemCacheCreate('a', 64);
      const c = slab.kmemCacheCreate('c', 64);
      const o = slab.kmemCacheAlloc(a, GFP_KERNEL);
      slab.kmemCacheFree(c, o);
      expect(slab.objectState(o)).not.toBe('allocated');
    });
    const r = b.m.reports({ kind: 'slub-bad-free' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(/cache_from_obj: Wrong slab cache\. c but object is from a/);
  });

  it('zeroes __GFP_ZERO cache allocations', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('z', 24);
      const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
      m.store(o, 1);
      m.store(o + 16, 1);
      slab.kmemCacheFree(s, o);
      const p = slab.kmemCacheAlloc(s, GFP_KERNEL | __GFP_ZERO);
      expect(p).toBe(o);
      expect(m.load(p)).toBe(0);
      expect(m.load(p + 16)).toBe(0);
      slab.kmemCacheFree(s, p);
    });
  });
});
