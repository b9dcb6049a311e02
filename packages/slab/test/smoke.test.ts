import { GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { boot, DESIGNS, expectSound, kinds } from './helpers.js';

describe.each(DESIGNS)('%s smoke', (design) => {
  it('kmalloc and kfree round trip', () => {
    const b = boot(design);
    const { m, slab } = b;
    m.runOn(0, () => {
      const objs: number[] = [];
      for (let i = 0; i < 500; i++) objs.push(slab.kmalloc(64, GFP_KERNEL));
      expect(new Set(objs).size).toBe(500);
      for (const o of objs) slab.kfree(o);
    });
    expect(kinds(m)).toEqual([]);
    expectSound(b);
  });
});
