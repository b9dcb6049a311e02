import { GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { createSlub, SLAB_TYPESAFE_BY_RCU, SlabError } from '../src/index.js';
import { boot, bootChecked, checkAfterEach, DESIGNS, onCpu } from './helpers.js';

checkAfterEach();

describe.each(DESIGNS)('SLAB_TYPESAFE_BY_RCU on %s', (design) => {
  it('keeps freed objects readable and reuses them at once, but returns slab pages only after a grace period', () => {
    const b = bootChecked(design);
    const { m, slab, rcu, pages } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('sighand', 64, { flags: SLAB_TYPESAFE_BY_RCU });
      // The free pointer is outside the object, so a freed object keeps its fields.
      expect(s.offset).toBeGreaterThanOrEqual(64);
      const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
      for (let off = 0; off < 64; off += 8) m.store(o + off, 1000 + off);
      slab.kmemCacheFree(s, o);
      for (let off = 0; off < 64; off += 8) expect(m.load(o + off)).toBe(1000 + off);
      const again = slab.kmemCacheAlloc(s, GFP_KERNEL);
      expect(slab.objectState(again)).toBe('allocated');
      slab.kmemCacheFree(s, again);
      const before = pages.stats().allocated;
      const slabsBefore = slab.stats().pages.slab;
      slab.kmemCacheShrink(s);
      expect(slab.cacheStats(s).slabs).toBe(0);
      // The slab is off the cache but its pages wait for RCU.
      expect(pages.stats().allocated).toBe(before);
      expect(rcu.pending).toBeGreaterThan(0);
      rcu.barrier();
      expect(slab.stats().pages.slab).toBeLessThan(slabsBefore);
      expect(pages.stats().allocated).toBeLessThan(before);
      expect(slab.kmemCacheDestroy(s)).toBe(true);
    });
  });

  it('honours freeptr_offset inside the object', () => {
    const b = bootChecked(design);
    onCpu(b, 0, () => {
      const s = b.slab.kmemCacheCreate('files', 64, {
        flags: SLAB_TYPESAFE_BY_RCU,
        freeptrOffset: 24,
      });
      expect(s.offset).toBe(24);
      expect(s.size).toBe(64);
      b.slab.kmemCacheFree(s, b.slab.kmemCacheAlloc(s, GFP_KERNEL));
      expect(() => b.slab.kmemCacheCreate('bad', 64, { freeptrOffset: 24 })).toThrow(
        /freeptrOffset/,
      );
    });
  });

  it('needs an RCU port', () => {
    const b = boot(design);
    const slab = createSlub({ machine: b.m, locking: b.locking, pages: b.pages });
    b.m.runOn(0, () => {
      expect(() => slab.kmemCacheCreate('x', 64, { flags: SLAB_TYPESAFE_BY_RCU })).toThrow(
        SlabError,
      );
      slab.setRcu(b.rcu);
      expect(slab.kmemCacheCreate('x', 64, { flags: SLAB_TYPESAFE_BY_RCU }).name).toBe('x');
    });
  });
});
