import { IRQF_NO_THREAD } from '@sim/cpu';
import { __GFP_ZERO, GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { KMALLOC_MAX_CACHE_SIZE, type SlabAllocatorName, ZERO_SIZE_PTR } from '../src/index.js';
import {
  boot,
  bootChecked,
  checkAfterEach,
  DESIGNS,
  expectSound,
  kinds,
  onCpu,
} from './helpers.js';

checkAfterEach();

describe('kmalloc_nolock() on slub: re-entry into the same bucket (seed 001)', () => {
  it('retries in kmalloc-96 when an NMI lands in the kmalloc-64 slow path (checklist 15)', () => {
    const b = bootChecked('slub');
    const { m, slab } = b;
    let got = 0;
    let locked = false;
    m.injectNmi('slab.cpu_lock.unlock', { nth: 1 }, () => {
      locked = slab.kmallocCache(64) !== null;
      got = slab.kmallocNolock(64, 0, -1);
    });
    const a = onCpu(b, 0, () => slab.kmalloc(64, GFP_KERNEL));
    expect(locked).toBe(true);
    expect(got).toBeGreaterThan(0);
    expect(slab.ksize(got)).toBe(96);
    const nl = slab.stats().nolock;
    expect(nl.retries).toBe(1);
    expect(nl.allocSucceeded).toBe(1);
    expect(slab.cacheStats(slab.kmallocCache(64)!).events.nolock_retry).toBe(1);
    onCpu(b, 0, () => {
      slab.kfree(a);
      slab.kfreeNolock(got);
    });
    expect(kinds(m)).toEqual([]);
  });

  it("an NMI's kmalloc_nolock() through kmalloc-8's fast path leaves the interrupted kmalloc(64) its own object", () => {
    const b = bootChecked('slub');
    const { m, slab } = b;
    // Warm kmalloc-8 on CPU 0, so the NMI's allocation takes its lockless fast
    // path while kmalloc(64) is in its slow path (a slab of another geometry).
    onCpu(b, 0, () => slab.kfree(slab.kmalloc(8, GFP_KERNEL)));
    const fast8 = slab.cacheStats(slab.kmallocCache(8)!).events.alloc_fastpath;
    let got = 0;
    m.injectNmi('slab.cpu_lock.unlock', { nth: 1 }, () => {
      got = slab.kmallocNolock(8, 0, -1);
    });
    const a = onCpu(b, 0, () => slab.kmalloc(64, GFP_KERNEL));
    expect(slab.cacheStats(slab.kmallocCache(8)!).events.alloc_fastpath).toBe(fast8 + 1);
    expect(slab.ksize(a)).toBe(64);
    expect(slab.ksize(got)).toBe(8);
    onCpu(b, 0, () => {
      slab.kfree(a);
      slab.kfreeNolock(got);
    });
    expect(kinds(m)).toEqual([]);
  });

  it('returns NULL when the next bucket is locked too, counting the reason', () => {
    const b = bootChecked('slub');
    const { m, slab } = b;
    let inner = -1;
    let outer = 0;
    // A tracing program in kmalloc-64's locked section calls kmalloc_nolock(96);
    // an NMI lands in kmalloc-96's locked section and asks for 64 bytes.
    m.injectNmi('slab.cpu_lock.unlock', { nth: 2 }, () => {
      inner = slab.kmallocNolock(64, 0);
    });
    m.attachProgram('slab.cpu_lock.unlock', { nth: 1 }, () => {
      outer = slab.kmallocNolock(96, 0);
    });
    const a = onCpu(b, 0, () => slab.kmalloc(64, GFP_KERNEL));
    expect(outer).toBeGreaterThan(0);
    expect(inner).toBe(0);
    const nl = slab.stats().nolock;
    expect(nl.failures.busy).toBe(1);
    expect(nl.allocCalls).toBe(2);
    expect(nl.allocSucceeded).toBe(1);
    onCpu(b, 0, () => {
      slab.kfree(a);
      slab.kfreeNolock(outer);
    });
  });

  it('on PREEMPT_RT uses local_lock_is_locked() of the current task: a program re-entering retries the next bucket', () => {
    const b = bootChecked('slub', { preempt: 'rt' });
    const { m, slab } = b;
    let got = 0;
    m.attachProgram('slab.cpu_lock.unlock', { nth: 1 }, () => {
      got = slab.kmallocNolock(64, 0);
    });
    const a = onCpu(b, 0, () => slab.kmalloc(64, GFP_KERNEL));
    expect(slab.ksize(got)).toBe(96);
    expect(slab.stats().nolock.retries).toBe(1);
    onCpu(b, 0, () => {
      slab.kfree(a);
      slab.kfreeNolock(got);
    });
  });
});

describe.each(DESIGNS)('kmalloc_nolock()/kfree_nolock() on %s', (design) => {
  it('refuses what it cannot serve: too large, RT hardirq, bad gfp warns once (checklist 16)', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      expect(slab.kmallocNolock(KMALLOC_MAX_CACHE_SIZE + 1, 0)).toBe(0);
      expect(slab.kmallocNolock(0, 0)).toBe(ZERO_SIZE_PTR);
      const a = slab.kmallocNolock(16, GFP_KERNEL);
      const c = slab.kmallocNolock(16, GFP_KERNEL);
      slab.kfreeNolock(a);
      slab.kfreeNolock(c);
      const z = slab.kmallocNolock(40, __GFP_ZERO);
      expect(b.m.load(z)).toBe(0);
      slab.kfreeNolock(z);
    });
    expect(kinds(b.m)).toEqual(['kmalloc-nolock-bad-gfp']);
    expect(slab.stats().nolock.failures.tooLarge).toBe(1);

    const rt = bootChecked(design, { preempt: 'rt' });
    let inIrq = -1;
    const irq = rt.m.requestIrq(
      'hard',
      () => {
        inIrq = rt.slab.kmallocNolock(64, 0);
      },
      IRQF_NO_THREAD,
    );
    onCpu(rt, 0, () => rt.m.raiseIrq(0, irq));
    rt.m.runUntilIdle();
    expect(inIrq).toBe(0);
    expect(rt.slab.stats().nolock.failures.rtIrq).toBe(1);
  });

  it('defers a kfree_nolock() from NMI in the locked section to an irq_work queued once (checklist 17)', () => {
    const b = bootChecked(design);
    const { m, slab } = b;
    let during: string[] = [];
    const objs = onCpu(b, 0, () => {
      const out: number[] = [];
      for (let i = 0; i < 2; i++) out.push(slab.kmallocNolock(64, 0));
      return out;
    });
    const probe = design === 'slub' ? 'slab.cpu_lock.unlock' : 'slab.sheaf';
    m.injectNmi(probe, { nth: 1 }, () => {
      slab.kfreeNolock(objs[0]!);
      slab.kfreeNolock(objs[1]!);
      during = objs.map((o) => slab.objectState(o));
    });
    const held = onCpu(b, 0, () => {
      // Use up the CPU freelist (or main sheaf) so the next allocation takes the locked path.
      const out: number[] = [];
      for (let i = 0; i < 80; i++) out.push(slab.kmalloc(64, GFP_KERNEL));
      return out;
    });
    expect(during).toEqual(['deferred', 'deferred']);
    const d = slab.stats().defer;
    expect(d.queued).toBe(2);
    expect(d.irqWorks).toBe(1);
    // The irq_work ran when irqs came back on.
    expect(d.drained).toBe(2);
    expect(d.pending).toBe(0);
    // Freed by the irq_work; the allocation loop may have taken them again.
    for (const o of objs) expect(slab.objectState(o)).not.toBe('deferred');
    expect(slab.stats().nolock.deferred).toBe(2);
    onCpu(b, 0, () => {
      for (const o of held) slab.kfree(o);
    });
    expect(kinds(m)).toEqual([]);
  });

  it('warns once that large kmalloc is not supported and leaves it allocated (checklist 18)', () => {
    const b = bootChecked(design);
    const { slab } = b;
    onCpu(b, 0, () => {
      const big = slab.kmalloc(20000, GFP_KERNEL);
      slab.kfreeNolock(big);
      slab.kfreeNolock(big);
      expect(slab.objectState(big)).toBe('large-kmalloc');
      slab.kfree(big);
    });
    const r = b.m.reports({ kind: 'kfree-nolock-large' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toMatch(/large_kmalloc is not supported by kfree_nolock\(\)/);
    expect(slab.stats().nolock.rejected).toBe(2);
  });

  it('with per-cache lists drains deferred frees on the next ordinary free that misses the CPU layer', () => {
    const b = bootChecked(design, { slab: { deferPlacement: 'per-cache' } });
    const { m, slab } = b;
    const objs = onCpu(b, 0, () => {
      const out: number[] = [];
      for (let i = 0; i < 300; i++) out.push(slab.kmalloc(64, GFP_KERNEL));
      return out;
    });
    m.injectNmi(design === 'slub' ? 'slab.free.slowpath' : 'slab.sheaf', { nth: 1 }, () =>
      slab.kfreeNolock(objs[0]!),
    );
    onCpu(b, 1, () => {
      for (let i = 1; i < 300; i++) slab.kfree(objs[i]!);
    });
    expect(slab.stats().defer.queued).toBe(1);
    expect(slab.stats().defer.pending).toBe(0);
    expect(slab.objectState(objs[0]!)).not.toBe('allocated');
  });
});

/** kfree_nolock() from alternating CPUs next to ordinary frees, under a deferred-list placement. */
function bounceWorkload(
  design: SlabAllocatorName,
  deferPlacement: 'per-cpu' | 'per-cache',
): number {
  const b = boot(design, { slab: { deferPlacement }, pages: 8192 });
  const { m, slab } = b;
  const objs = onCpu(b, 0, () => {
    const out: number[] = [];
    for (let i = 0; i < 2000; i++) out.push(slab.kmalloc(64, GFP_KERNEL));
    return out;
  });
  m.cache.resetStats();
  for (let i = 0; i < 1000; i++) {
    const cpu = i % 2;
    onCpu(b, cpu, () => {
      // A probe program frees through kfree_nolock() while this CPU is in
      // kfree's slow path (bpf on a tracepoint), then the ordinary frees go on.
      m.attachProgram('slab.free.slowpath', { nth: 1 }, (mm) => {
        void mm;
        slab.kfreeNolock(objs[2 * i + 1]!);
      });
      slab.kfree(objs[2 * i]!);
    });
  }
  onCpu(b, 0, () => slab.deferFreeBarrier());
  expectSound(b);
  return slab.stats().defer.cacheLineTransfers;
}

describe('deferred-free list placement (seed 001: per-cache vs per-CPU)', () => {
  it('counts the cache-line transfers each placement causes: the per-cache list bounces, per-CPU lists do not', () => {
    const perCache = bounceWorkload('slub', 'per-cache');
    const perCpu = bounceWorkload('slub', 'per-cpu');
    expect(perCache).toBeGreaterThan(100);
    expect(perCpu).toBeLessThan(perCache / 10);
  });
});
