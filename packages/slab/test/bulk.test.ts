import { __GFP_NOWARN, GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { SlabError } from '../src/index.js';
import { bootChecked, checkAfterEach, DESIGNS, kinds, onCpu } from './helpers.js';

checkAfterEach();

describe.each(DESIGNS)('bulk APIs on %s', (design) => {
  it('kmem_cache_alloc_bulk() fills the array with distinct objects, all or nothing', () => {
    const b = bootChecked(design, { pages: 400 });
    const { slab, pages } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('bulk', 512);
      const out = new Float64Array(100);
      expect(slab.kmemCacheAllocBulk(s, GFP_KERNEL, 100, out)).toBe(100);
      expect(new Set(out).size).toBe(100);
      for (const o of out) expect(slab.objectState(o)).toBe('allocated');
      slab.kmemCacheFreeBulk(s, 100, out);
      for (const o of out) expect(slab.objectState(o)).not.toBe('allocated');
      // Not enough memory for 10000 objects: nothing is handed out.
      const big: number[] = [];
      const inUse = slab.cacheStats(s).inUse;
      expect(
        slab.kmemCacheAllocBulk(
          s,
          GFP_KERNEL | __GFP_NOWARN,
          10000,
          big.concat(new Array(10000).fill(0)),
        ),
      ).toBe(0);
      expect(slab.cacheStats(s).inUse).toBe(inUse);
      slab.kmemCacheShrink(s);
      expect(pages.stats().failures).toBeGreaterThan(0);
    });
  });

  it('kfree_bulk() frees each run of one slab as one detached freelist and skips NULLs (checklist 21)', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('runs', 512);
      const objs: number[] = [];
      for (let i = 0; i < 4 * s.objectsPerSlab; i++) objs.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      const slabOf = (o: number) => Math.floor(o / (4096 * 2 ** s.order));
      const ids = [...new Set(objs.map(slabOf))].slice(0, 3);
      const runs = ids.map((id) => objs.filter((o) => slabOf(o) === id));
      // Three runs of three slabs, with NULLs between the runs.
      const arr = [...runs[0]!, 0, ...runs[1]!, 0, ...runs[2]!];
      const before = slab.cacheStats(s).events;
      slab.kfreeBulk(arr, arr.length);
      const e = slab.cacheStats(s).events;
      const lists =
        e.free_slowpath - before.free_slowpath + (e.free_fastpath > before.free_fastpath ? 1 : 0);
      expect(lists).toBe(3);
      for (const o of arr) if (o !== 0) expect(slab.objectState(o)).not.toBe('allocated');
      for (const o of objs) if (slab.objectState(o) === 'allocated') slab.kmemCacheFree(s, o);
    });
    expect(kinds(b.m)).toEqual([]);
  });

  it('kfree_bulk() frees large kmalloc memory and objects of different caches in one call', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      const objs = [
        slab.kmalloc(32, GFP_KERNEL),
        slab.kmalloc(20000, GFP_KERNEL),
        slab.kmalloc(700, GFP_KERNEL),
        0,
        slab.kmalloc(32, GFP_KERNEL),
      ];
      slab.kfreeBulk(objs, objs.length);
      for (const o of objs)
        if (o !== 0) expect(['free', 'sheaf', 'none']).toContain(slab.objectState(o));
      expect(slab.stats().pages.largeKmalloc).toBe(0);
    });
    expect(kinds(b.m)).toEqual([]);
  });

  it('reports and skips a double free inside a bulk free, freeing the rest', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      const a = slab.kmalloc(64, GFP_KERNEL);
      const c = slab.kmalloc(64, GFP_KERNEL);
      slab.kfree(a);
      slab.kfreeBulk([a, c], 2);
      expect(slab.objectState(c)).not.toBe('allocated');
    });
    expect(kinds(b.m)).toEqual(['slub-double-free']);
  });

  it('rejects a bad count or array before changing anything', () => {
    const b = bootChecked(design);
    const { slab } = b;
    const s = slab.kmallocCache(64)!;
    onCpu(b, 0, () => {
      expect(() => slab.kmemCacheAllocBulk(s, GFP_KERNEL, 4, new Float64Array(2))).toThrow(
        SlabError,
      );
      expect(() => slab.kmemCacheFreeBulk(s, -1, [])).toThrow(/count -1/);
      expect(() => slab.kfreeBulk([1.5], 1)).toThrow(/address 1.5/);
    });
  });
});

describe('kmem_cache_free_bulk() with sheaves', () => {
  it('frees to the main sheaf in batches, the rest to slabs when the barn is full', () => {
    const b = bootChecked('sheaves', { slab: { sheafCapacity: 8 } });
    const { slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('pcsbulk', 64);
      const out = new Float64Array(300);
      expect(slab.kmemCacheAllocBulk(s, GFP_KERNEL, 300, out)).toBe(300);
      slab.kmemCacheShrink(s);
      slab.kmemCacheFreeBulk(s, 300, out);
      const e = slab.cacheStats(s).events;
      expect(e.free_pcs).toBeGreaterThan(0);
      expect(e.free_slowpath).toBeGreaterThan(0);
      expect(slab.cacheStats(s).inUse).toBe(0);
    });
  });
});
