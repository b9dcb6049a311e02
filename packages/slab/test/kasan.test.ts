import { GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { bootChecked, checkAfterEach, DESIGNS, kinds, onCpu } from './helpers.js';

checkAfterEach();

const ADDR = 'ffff888[0-9a-f]{9}';

describe.each(DESIGNS)('KASAN-like checks on %s', (design) => {
  it('reports a read of a freed object as slab-use-after-free with the alloc and free sites', () => {
    const b = bootChecked(design, { slab: { kasan: true } });
    const { m, slab } = b;
    let v = -1;
    onCpu(b, 0, () => {
      m.fnEnter(m.fnId('make_widget'));
      const o = slab.kmalloc(64, GFP_KERNEL);
      m.fnExit();
      m.fnEnter(m.fnId('drop_widget'));
      slab.kfree(o);
      m.fnExit();
      m.fnEnter(m.fnId('use_widget'));
      v = slab.checkedLoad(o + 8);
      m.fnExit();
    });
    expect(v).toBeGreaterThanOrEqual(0);
    const r = m.reports({ kind: 'kasan-use-after-free' });
    expect(r).toHaveLength(1);
    const text = r[0]!.text;
    const lines = text.split('\n');
    expect(lines[0]).toBe('='.repeat(66));
    expect(lines[1]).toBe('BUG: KASAN: slab-use-after-free in use_widget');
    expect(lines[2]).toMatch(new RegExp(`^Read of size 8 at addr ${ADDR} by task driver/0/\\d+$`));
    expect(text).toMatch(/Allocated by task \d+ on cpu 0 at 0\.\d{6}s:\n make_widget/);
    expect(text).toMatch(/Freed by task \d+ on cpu 0 at 0\.\d{6}s:\n drop_widget/);
    expect(text).toMatch(
      new RegExp(
        `The buggy address belongs to the object at ${ADDR}\\n which belongs to the cache kmalloc-64 of size 64`,
      ),
    );
    expect(text).toMatch(
      new RegExp(
        `The buggy address is located 8 bytes inside of\\n freed 64-byte region \\[${ADDR}, ${ADDR}\\)`,
      ),
    );
    expect(r[0]!.details.bugType).toBe('slab-use-after-free');
  });

  it('reports an access past the requested size as slab-out-of-bounds and does not perform the store', () => {
    const b = bootChecked(design, { slab: { kasan: true } });
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const o = slab.kmalloc(40, GFP_KERNEL);
      slab.checkedStore(o + 32, 5);
      expect(slab.checkedLoad(o + 32)).toBe(5);
      const next = m.load(o + 40);
      slab.checkedStore(o + 40, 99);
      expect(m.load(o + 40)).toBe(next);
      slab.kfree(o);
    });
    const r = m.reports({ kind: 'kasan-out-of-bounds' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(/BUG: KASAN: slab-out-of-bounds in /);
    expect(r[0]!.text).toMatch(/Write of size 8 at addr/);
    expect(r[0]!.text).toMatch(
      /The buggy address is located 0 bytes to the right of\n allocated 40-byte region/,
    );
  });

  it('reports double and invalid frees in KASAN format', () => {
    const b = bootChecked(design, { slab: { kasan: true } });
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const o = slab.kmalloc(64, GFP_KERNEL);
      slab.kfree(o + 16);
      slab.kfree(o);
      slab.kfree(o);
    });
    expect(kinds(m)).toEqual(['kasan-invalid-free', 'kasan-double-free']);
    expect(m.reports({ kind: 'kasan-double-free' })[0]!.text).toMatch(
      /BUG: KASAN: double-free in .*\nFree of addr /,
    );
  });

  it('holds freed objects in a quarantine, so a use-after-free is still caught after reallocations', () => {
    const b = bootChecked(design, { slab: { kasan: { quarantineBytes: 64 * 64 } } });
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const o = slab.kmalloc(64, GFP_KERNEL);
      slab.kfree(o);
      expect(slab.objectState(o)).toBe('quarantined');
      const others: number[] = [];
      for (let i = 0; i < 20; i++) others.push(slab.kmalloc(64, GFP_KERNEL));
      expect(others).not.toContain(o);
      slab.checkedLoad(o);
      expect(slab.stats().kasan.quarantinedObjects).toBe(1);
      for (const x of others) slab.kfree(x);
      // Past the budget the oldest objects go back to the allocator.
      const many: number[] = [];
      for (let i = 0; i < 200; i++) many.push(slab.kmalloc(64, GFP_KERNEL));
      for (const x of many) slab.kfree(x);
      expect(slab.objectState(o)).not.toBe('quarantined');
      expect(slab.stats().kasan.quarantinedBytes).toBeLessThanOrEqual(64 * 64);
    });
    expect(kinds(m)).toEqual(['kasan-use-after-free']);
  });

  it('does nothing extra without KASAN: checked accesses are plain accesses', () => {
    const b = bootChecked(design);
    onCpu(b, 0, () => {
      const o = b.slab.kmalloc(8, GFP_KERNEL);
      b.slab.kfree(o);
      b.slab.checkedLoad(o);
    });
    expect(kinds(b.m)).toEqual([]);
    expect(b.slab.stats().kasan.enabled).toBe(false);
  });
});
