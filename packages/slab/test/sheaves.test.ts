import { GFP_ATOMIC, GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { createSheaves, SLAB_RED_ZONE, type SlabCache } from '../src/index.js';
import { boot, bootChecked, checkAfterEach, kinds, onCpu } from './helpers.js';

checkAfterEach();

function ev(b: ReturnType<typeof boot>, s: SlabCache) {
  return b.slab.cacheStats(s).events;
}

describe('sheaves (slab=sheaves)', () => {
  it('gives every non-debug cache a capacity and refills the main sheaf in one bulk from slabs', () => {
    const b = bootChecked('sheaves');
    const { slab } = b;
    expect(slab.kmallocCache(64)!.sheafCapacity).toBe(60);
    expect(slab.kmallocCache(1024)!.sheafCapacity).toBe(12);
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('objs', 64);
      expect(s.sheafCapacity).toBe(60);
      const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
      const st = slab.cacheStats(s);
      expect(st.events.sheaf_refill).toBe(60);
      expect(st.events.alloc_pcs).toBe(1);
      expect(st.inSheaves).toBe(59);
      expect(slab.objectState(o)).toBe('allocated');
      slab.kmemCacheFree(s, o);
      expect(slab.objectState(o)).toBe('sheaf');
      expect(ev(b, s).free_pcs).toBe(1);
      // A debug cache has no sheaves.
      expect(slab.kmemCacheCreate('dbg', 64, { flags: SLAB_RED_ZONE }).sheafCapacity).toBe(0);
    });
  });

  it('moves full sheaves to the barn and, with MAX_FULL_SHEAVES there, flushes the spare to slabs (-E2BIG, checklist 19)', () => {
    const b = bootChecked('sheaves', { slab: { sheafCapacity: 4 } });
    const { slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('e2big', 64);
      expect(s.sheafCapacity).toBe(4);
      const objs: number[] = [];
      for (let i = 0; i < 60; i++) objs.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      // Empty the per-CPU sheaves and the barn.
      slab.kmemCacheShrink(s);
      const base = { ...ev(b, s) };
      for (let i = 0; i < 48; i++) slab.kmemCacheFree(s, objs[i]!);
      let e = ev(b, s);
      expect(e.barn_put - base.barn_put).toBe(10);
      expect(e.barn_put_fail - base.barn_put_fail).toBe(0);
      slab.kmemCacheFree(s, objs[48]!);
      e = ev(b, s);
      expect(e.barn_put_fail - base.barn_put_fail).toBe(1);
      expect(e.sheaf_flush - base.sheaf_flush).toBe(4);
      for (let i = 49; i < 60; i++) slab.kmemCacheFree(s, objs[i]!);
    });
  });

  it('takes full sheaves back from the barn on allocation (barn_get)', () => {
    const b = bootChecked('sheaves', { slab: { sheafCapacity: 4 } });
    const { slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('get', 64);
      const objs: number[] = [];
      for (let i = 0; i < 40; i++) objs.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      for (const o of objs) slab.kmemCacheFree(s, o);
      const before = ev(b, s).barn_get;
      for (let i = 0; i < 40; i++) objs[i] = slab.kmemCacheAlloc(s, GFP_KERNEL);
      expect(ev(b, s).barn_get).toBeGreaterThan(before);
      for (const o of objs) slab.kmemCacheFree(s, o);
    });
  });

  it('falls back to the slab path when the per-CPU trylock fails on re-entry (checklist 20)', () => {
    const b = bootChecked('sheaves');
    const { m, slab } = b;
    const got: number[] = [];
    onCpu(b, 0, () => {
      slab.kfree(slab.kmalloc(64, GFP_KERNEL));
      m.injectNmi('slab.sheaf', { nth: 1 }, () => {
        got.push(slab.kmallocNolock(64, 0));
      });
      m.attachProgram('slab.sheaf', { nth: 2 }, () => {
        got.push(slab.kmalloc(64, GFP_ATOMIC));
      });
      const a = slab.kmalloc(64, GFP_KERNEL);
      const c = slab.kmalloc(64, GFP_KERNEL);
      expect(got).toHaveLength(2);
      expect(got.every((x) => x > 0)).toBe(true);
      expect(new Set([a, c, ...got]).size).toBe(4);
      const e = slab.cacheStats(slab.kmallocCache(64)!).events;
      expect(e.alloc_slowpath).toBeGreaterThanOrEqual(2);
      for (const x of [a, c]) slab.kfree(x);
      slab.kfreeNolock(got[0]!);
      slab.kfree(got[1]!);
    });
    expect(kinds(m)).toEqual([]);
  });

  it('batches kfree_rcu() objects in the rcu_free sheaf, submits it full to call_rcu, and reuses it from the barn', () => {
    const b = bootChecked('sheaves');
    const { slab, rcu } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('rcuobj', 512);
      const cap = s.sheafCapacity;
      expect(cap).toBe(28);
      const objs: number[] = [];
      for (let i = 0; i < cap + 3; i++) objs.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      for (let i = 0; i < cap - 1; i++) expect(slab.kfreeRcuSheaf(objs[i]!)).toBe(true);
      expect(rcu.pending).toBe(0);
      expect(slab.objectState(objs[0]!)).toBe('rcu-sheaf');
      expect(slab.kfreeRcuSheaf(objs[cap - 1]!)).toBe(true);
      expect(rcu.pending).toBe(1);
      expect(ev(b, s).free_rcu_sheaf).toBe(cap);
      // After the grace period the objects are free again, in a full barn sheaf.
      rcu.gracePeriod();
      expect(slab.objectState(objs[0]!)).toBe('sheaf');
      const barnGets = ev(b, s).barn_get;
      // Partly filled rcu_free sheaves wait for flushRcuSheaves().
      expect(slab.kfreeRcuSheaf(objs[cap]!)).toBe(true);
      slab.flushRcuSheaves();
      expect(rcu.pending).toBe(1);
      rcu.gracePeriod();
      expect(slab.objectState(objs[cap]!)).toBe('free');
      // Allocation drains main, then takes the full sheaf from the barn.
      const again: number[] = [];
      for (let i = 0; i < cap * 2; i++) again.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      expect(ev(b, s).barn_get).toBeGreaterThan(barnGets);
      for (const o of [...again, objs[cap + 1]!, objs[cap + 2]!]) slab.kmemCacheFree(s, o);
    });
  });

  it('refuses the rcu sheaf without RCU, for caches without sheaves and for large kmalloc', () => {
    const b = bootChecked('sheaves');
    const { slab } = b;
    onCpu(b, 0, () => {
      const dbg = slab.kmemCacheCreate('nosheaf', 64, { flags: SLAB_RED_ZONE });
      const o = slab.kmemCacheAlloc(dbg, GFP_KERNEL);
      expect(slab.kfreeRcuSheaf(o)).toBe(false);
      const big = slab.kmalloc(10000, GFP_KERNEL);
      expect(slab.kfreeRcuSheaf(big)).toBe(false);
      slab.setRcu(null);
      const k = slab.kmalloc(64, GFP_KERNEL);
      expect(slab.kfreeRcuSheaf(k)).toBe(false);
      for (const x of [o, big, k]) slab.kfree(x);
    });
    expect(kinds(b.m)).toEqual([]);
  });

  it('never takes the slab path for kmalloc(64) while main or the barn has objects', () => {
    const b = bootChecked('sheaves');
    const { slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmallocCache(64)!;
      slab.kfree(slab.kmalloc(64, GFP_KERNEL));
      const before = ev(b, s);
      for (let i = 0; i < 1000; i++) slab.kfree(slab.kmalloc(64, GFP_KERNEL));
      const e = ev(b, s);
      expect(e.alloc_pcs - before.alloc_pcs).toBe(1000);
      expect(e.free_pcs - before.free_pcs).toBe(1000);
      expect(e.alloc_slowpath - before.alloc_slowpath).toBe(0);
    });
  });

  it('flushes main, spare and the barn back to slabs on shrink and destroy', () => {
    const b = bootChecked('sheaves', { slab: { sheafCapacity: 8 } });
    const { slab, pages } = b;
    onCpu(b, 0, () => {
      const before = pages.stats().allocated;
      const s = slab.kmemCacheCreate('flush', 128);
      const objs: number[] = [];
      for (let i = 0; i < 100; i++) objs.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      for (const o of objs) slab.kmemCacheFree(s, o);
      expect(slab.cacheStats(s).inSheaves).toBeGreaterThan(8);
      expect(slab.kmemCacheShrink(s)).toBe(0);
      expect(slab.cacheStats(s).slabs).toBe(0);
      expect(slab.kmemCacheDestroy(s)).toBe(true);
      expect(pages.stats().allocated).toBeLessThanOrEqual(before + 1);
    });
  });

  it('boots through the factory with its own options', () => {
    const b = boot('sheaves');
    const slab = createSheaves(
      { machine: b.m, locking: b.locking, pages: b.pages },
      { sheafCapacity: 16 },
    );
    expect(slab.name).toBe('sheaves');
    expect(slab.capabilities.sheaves).toBe(true);
    expect(slab.kmallocCache(64)!.sheafCapacity).toBe(16);
  });
});
