import { GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { bootChecked, checkAfterEach, DESIGNS, onCpu } from './helpers.js';

checkAfterEach();

describe.each(DESIGNS)('/proc/slabinfo and statistics on %s', (design) => {
  it('prints the version 2.1 header and one line per cache, newest first', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('dentry', 192);
      const objs: number[] = [];
      for (let i = 0; i < 30; i++) objs.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      const text = slab.slabinfo();
      const lines = text.trimEnd().split('\n');
      expect(lines[0]).toBe('slabinfo - version: 2.1');
      expect(lines[1]).toBe(
        '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>',
      );
      // The cache created last comes first.
      expect(lines[2]!.startsWith('dentry ')).toBe(true);
      const st = slab.cacheStats(s);
      const m =
        /^dentry {12}( +\d+) +(\d+) +192 +(\d+) +1 : tunables +0 +0 +0 : slabdata +(\d+) +(\d+) +0$/.exec(
          lines[2]!,
        );
      expect(m).not.toBeNull();
      // Active counts objects free in CPU slabs and sheaves too, as the kernel does.
      const active = Number(m![1]);
      expect(active).toBeGreaterThanOrEqual(30);
      expect(active).toBeLessThanOrEqual(st.totalObjects);
      expect(Number(m![2])).toBe(st.totalObjects);
      expect(Number(m![3])).toBe(s.objectsPerSlab);
      expect(Number(m![4])).toBe(st.slabs);
      expect(Number(m![5])).toBe(st.slabs);
      expect(text).toMatch(/\nkmalloc-8k +\d+ +\d+ +8192 +4 +8 : tunables/);
      expect(text).toMatch(/\nkmalloc-96 +\d+ +\d+ +96 +42 +1 : tunables/);
      for (const o of objs) slab.kmemCacheFree(s, o);
    });
  });

  it('counts objects in use, in sheaves or CPU freelists, and the pages held', () => {
    const b = bootChecked(design);
    const { slab, pages } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('counted', 128);
      const objs: number[] = [];
      for (let i = 0; i < 50; i++) objs.push(slab.kmemCacheAlloc(s, GFP_KERNEL));
      const st = slab.cacheStats(s);
      expect(st.inUse).toBe(50);
      expect(st.inUse + st.inSheaves + st.free + st.deferred + st.quarantined).toBe(
        st.totalObjects,
      );
      expect(
        st.events.alloc_pcs + st.events.alloc_fastpath + st.events.alloc_slowpath,
      ).toBeGreaterThanOrEqual(1);
      const all = slab.stats();
      expect(all.allocator).toBe(design);
      expect(all.pages.outstanding).toBe(pages.stats().allocated);
      expect(all.caches.find((c) => c.name === 'counted')!.inUse).toBe(50);
      for (const o of objs) slab.kmemCacheFree(s, o);
      expect(slab.cacheStats(s).inUse).toBe(0);
    });
  });
});
