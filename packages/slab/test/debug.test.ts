import { GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import {
  DEBUG_DEFAULT_FLAGS,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TRACE,
} from '../src/index.js';
import { bootChecked, checkAfterEach, DESIGNS, kinds, onCpu } from './helpers.js';

checkAfterEach();

const ADDR = 'ffff888[0-9a-f]{9}';

describe.each(DESIGNS)('SLUB debugging on %s (slab_debug=FZPU)', (design) => {
  it('reports a double free as "Object already free", taints B and does not free it again (checklist 22)', () => {
    const b = bootChecked(design, { slab: { slabDebug: 'FZPU,kmalloc-64' } });
    const { m, slab } = b;
    let o = 0;
    onCpu(b, 0, () => {
      m.fnEnter(m.fnId('test_alloc'));
      o = slab.kmalloc(64, GFP_KERNEL);
      m.fnExit();
      m.fnEnter(m.fnId('test_free'));
      slab.kfree(o);
      slab.kfree(o);
      m.fnExit();
    });
    const r = m.reports({ kind: 'slub-double-free' });
    expect(r).toHaveLength(1);
    const text = r[0]!.text;
    const lines = text.split('\n');
    expect(lines[0]).toBe('='.repeat(77));
    expect(lines[1]).toBe('BUG kmalloc-64 (Not tainted): Object already free');
    expect(lines[2]).toBe('-'.repeat(77));
    expect(text).toMatch(/Allocated in test_alloc age=0 cpu=0 pid=\d+/);
    expect(text).toMatch(/Freed in test_free age=0 cpu=0 pid=\d+/);
    expect(text).toMatch(new RegExp(`Slab 0x${ADDR} objects=\\d+ used=\\d+ fp=0x${ADDR} flags=`));
    expect(text).toMatch(new RegExp(`Object 0x${ADDR} @offset=\\d+ fp=0x`));
    expect(text).toMatch(
      new RegExp(
        `Object   ${ADDR}: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk`,
      ),
    );
    expect(text).toMatch(new RegExp(`Redzone  ${ADDR}: bb bb bb bb bb bb bb bb`));
    expect(text).toMatch(new RegExp(`FIX kmalloc-64: Object at 0x${ADDR} not freed`));
    expect(m.tainted()).toMatch(/B/);
    expect(slab.objectState(o)).toBe('free');
  });

  it('reports a use-after-free write as "Poison overwritten" on the next allocation and restores the poison (checklist 23)', () => {
    const b = bootChecked(design, { slab: { slabDebug: 'FZPU,kmalloc-64' } });
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const o = slab.kmalloc(64, GFP_KERNEL);
      slab.kfree(o);
      m.store(o + 8, 42);
      const again = slab.kmalloc(64, GFP_KERNEL);
      expect(again).not.toBe(0);
      expect(again).not.toBe(o);
      slab.kfree(again);
    });
    const r = m.reports({ kind: 'slub-poison' });
    expect(r).toHaveLength(1);
    const text = r[0]!.text;
    expect(text).toMatch(
      new RegExp(
        `^\\[Poison overwritten\\] 0x${ADDR}-0x${ADDR} @offset=\\d+\\. First byte 0x2a instead of 0x6b`,
      ),
    );
    expect(text).toMatch(/BUG kmalloc-64 \(Not tainted\): Object corrupt/);
    expect(text).toMatch(new RegExp(`FIX kmalloc-64: Restoring Poison 0x${ADDR}-0x${ADDR}=0x6b`));
    expect(text).toMatch(/FIX kmalloc-64: Marking all objects used/);
  });

  it('reports a write past the object as "Right Redzone overwritten" and keeps the object allocated', () => {
    const b = bootChecked(design, { slab: { slabDebug: 'FZPU,kmalloc-64' } });
    const { m, slab } = b;
    let o = 0;
    onCpu(b, 0, () => {
      o = slab.kmalloc(64, GFP_KERNEL);
      m.store(o + 64, 0x1234);
      slab.kfree(o);
    });
    const r = m.reports({ kind: 'slub-redzone' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(
      new RegExp(
        `^\\[Right Redzone overwritten\\] 0x${ADDR}-0x${ADDR} @offset=\\d+\\. First byte 0x34 instead of 0xcc`,
      ),
    );
    expect(r[0]!.text).toMatch(/FIX kmalloc-64: Restoring Right Redzone/);
    expect(r[0]!.text).toMatch(/not freed/);
    expect(slab.objectState(o)).toBe('allocated');
  });

  it('checks the kmalloc red zone between the requested size and the cache size', () => {
    const b = bootChecked(design, { slab: { slabDebug: 'FZPU,kmalloc-64' } });
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const o = slab.kmalloc(40, GFP_KERNEL);
      m.store(o + 48, 7);
      slab.kfree(o);
    });
    const r = m.reports({ kind: 'slub-redzone' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(
      /^\[kmalloc Redzone overwritten\] .* First byte 0x7 instead of 0xcc/,
    );
  });

  it('refuses to free a pointer that is not the start of an object', () => {
    const b = bootChecked(design, { slab: { slabDebug: 'FZPU,kmalloc-64' } });
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const o = slab.kmalloc(64, GFP_KERNEL);
      slab.kfree(o + 8);
      slab.kfree(o);
    });
    const r = m.reports({ kind: 'slub-bad-free' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(
      new RegExp(`BUG kmalloc-64 \\(Not tainted\\): Invalid object pointer 0x${ADDR}`),
    );
  });

  it('tracks alloc and free sites in the store-user metadata', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    onCpu(b, 1, () => {
      const s = slab.kmemCacheCreate('tracked', 100, {
        flags: SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS,
      });
      m.fnEnter(m.fnId('alloc_site'));
      const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
      m.fnExit();
      m.fnEnter(m.fnId('free_site'));
      slab.kmemCacheFree(s, o);
      slab.kmemCacheFree(s, o);
      m.fnExit();
    });
    const text = m.reports({ kind: 'slub-double-free' })[0]!.text;
    expect(text).toMatch(/Allocated in alloc_site age=0 cpu=1 pid=\d+/);
    expect(text).toMatch(/Freed in free_site age=0 cpu=1 pid=\d+/);
  });

  it('prints TRACE lines for SLAB_TRACE caches', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('traced', 32, { flags: SLAB_TRACE });
      slab.kmemCacheFree(s, slab.kmemCacheAlloc(s, GFP_KERNEL));
    });
    expect(m.dmesg()).toMatch(new RegExp(`TRACE traced alloc 0x${ADDR} inuse=1 fp=0x`));
    expect(m.dmesg()).toMatch(/TRACE traced free/);
  });

  it('lays out debug caches as the kernel does and gives them no per-CPU layer', () => {
    const b = bootChecked(design, { slab: { slabDebug: '' } });
    const s = b.slab.kmallocCache(64)!;
    expect(s.flags & DEBUG_DEFAULT_FLAGS).toBe(DEBUG_DEFAULT_FLAGS);
    expect(s.size).toBe(256);
    expect(s.redLeftPad).toBe(64);
    expect(s.sheafCapacity).toBe(0);
    expect(s.cpuPartial).toBe(0);
    onCpu(b, 0, () => {
      const objs: number[] = [];
      for (let i = 0; i < 100; i++) objs.push(b.slab.kmalloc(60, GFP_KERNEL));
      for (const o of objs) b.slab.kfree(o);
    });
    expect(kinds(b.m)).toEqual([]);
  });

  it('reports a non-debug double free the way SLAB_FREELIST_HARDENED does, and does not corrupt the freelist', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const o = slab.kmalloc(64, GFP_KERNEL);
      slab.kfree(o);
      slab.kfree(o);
      const x = slab.kmalloc(64, GFP_KERNEL);
      const y = slab.kmalloc(64, GFP_KERNEL);
      expect(x).not.toBe(y);
      slab.kfree(x);
      slab.kfree(y);
    });
    const r = m.reports({ kind: 'slub-double-free' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(/kernel BUG at mm\/slub\.c:\d+!/);
  });

  it('catches poison and red zones only with the flags that enable them', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    onCpu(b, 0, () => {
      const s = slab.kmemCacheCreate('rz', 64, {
        flags: SLAB_RED_ZONE | SLAB_POISON | SLAB_CONSISTENCY_CHECKS,
      });
      const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
      // Allocated objects carry the poison pattern until written.
      expect(m.load(o) % 2 ** 48).toBe(0x6b6b6b6b6b6b);
      m.store(o - 8, 1);
      slab.kmemCacheFree(s, o);
    });
    expect(m.reports({ kind: 'slub-redzone' })[0]!.text).toMatch(/^\[Left Redzone overwritten\]/);
  });
});
