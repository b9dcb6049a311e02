/**
 * The conformance suite every {@link SlabAllocator} implementation must
 * pass, for vitest: `describeSlabAllocator('my-slab', createMySlab, { … })`.
 * The built-in SLUB and sheaves allocators run it; an allocator published in
 * its own package runs it unchanged.
 *
 * @packageDocumentation
 */
import { createMachine, type Machine, type PreemptModel } from '@sim/cpu';
import { __GFP_ZERO, GFP_ATOMIC, GFP_KERNEL } from '@sim/gfp';
import { createLocking } from '@sim/locks';
import { afterEach, describe, expect, it } from 'vitest';
import type { SlabAllocator, SlabCapabilities, SlabFactory } from './contract.js';
import {
  SLAB_CONSISTENCY_CHECKS,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
} from './flags.js';
import { ZERO_SIZE_PTR } from './kmalloc-index.js';
import { createManualRcuPort, type ManualRcuPort } from './manual-rcu.js';
import { createSimplePageAllocator, type SimplePageAllocator } from './simple-page-allocator.js';

/** Options of {@link describeSlabAllocator}. @public */
export interface ConformanceOptions<O> {
  /** Options passed to the factory for every test. */
  readonly options?: O;
  /** Options that turn KASAN-like checks on, for the `kasan` tests. */
  readonly kasanOptions?: O;
  /** Which optional behaviours to test; defaults to the allocator's own `capabilities`. */
  readonly capabilities?: Partial<SlabCapabilities>;
  /** CPUs of the test machines (default 2). */
  readonly nrCpus?: number;
  /** Preemption model of the test machines (default 'full'). */
  readonly preempt?: PreemptModel;
  /** Pages in the test page pool (default 4096). */
  readonly pages?: number;
  /** Operations of the seeded random model test (default 3000). */
  readonly randomOps?: number;
}

/** What one conformance test runs against. @public */
export interface ConformanceRig {
  readonly machine: Machine;
  readonly pages: SimplePageAllocator;
  readonly rcu: ManualRcuPort;
  readonly slab: SlabAllocator;
}

/**
 * Register the conformance tests for `factory` under `describe(name)`:
 * kmalloc/kfree round trips, no double handout of a live object, contents
 * kept, alignment, zeroing, krealloc, large allocations, cache destroy with
 * live objects, cross-CPU frees, and — gated by capabilities — bulk,
 * kmalloc_nolock from NMI, debug reports, KASAN, SLAB_TYPESAFE_BY_RCU, the
 * rcu_free sheaf and the invariant checker; then a seeded random model test
 * comparing the allocator with a map of live objects.
 * @public
 */
export function describeSlabAllocator<O>(
  name: string,
  factory: SlabFactory<O>,
  conf: ConformanceOptions<O> = {},
): void {
  const rigs: ConformanceRig[] = [];
  const boot = (options?: O): ConformanceRig => {
    const machine = createMachine({
      nrCpus: conf.nrCpus ?? 2,
      preempt: conf.preempt ?? 'full',
      seed: 7,
    });
    const locking = createLocking(machine);
    const pages = createSimplePageAllocator(machine, { pages: conf.pages ?? 4096, locking });
    const rcu = createManualRcuPort();
    // Boot in task context, as a kernel initialises its allocators.
    const slab = machine.runOn(0, () =>
      factory({ machine, locking, pages, rcu }, (options ?? conf.options) as O),
    );
    const rig = { machine, pages, rcu, slab };
    rigs.push(rig);
    return rig;
  };
  const caps = (rig: ConformanceRig): SlabCapabilities => ({
    ...rig.slab.capabilities,
    ...conf.capabilities,
  });
  const on = <T>(rig: ConformanceRig, cpu: number, fn: () => T): T => rig.machine.runOn(cpu, fn);

  describe(`SlabAllocator conformance: ${name}`, () => {
    afterEach(() => {
      for (const rig of rigs.splice(0)) {
        if (caps(rig).invariants) expect(rig.slab.checkInvariants()).toEqual([]);
      }
    });

    it('has a name and declares its capabilities', () => {
      const rig = boot();
      expect(typeof rig.slab.name).toBe('string');
      expect(rig.slab.name.length).toBeGreaterThan(0);
      expect(rig.slab.machine).toBe(rig.machine);
      for (const k of [
        'perCpuSlab',
        'cpuPartial',
        'sheaves',
        'rcuSheaf',
        'nolock',
        'bulk',
        'debug',
        'kasan',
        'typesafeByRcu',
        'invariants',
      ]) {
        expect(typeof (rig.slab.capabilities as unknown as Record<string, unknown>)[k]).toBe(
          'boolean',
        );
      }
    });

    it('hands out distinct, non-overlapping objects of at least the requested size', () => {
      const rig = boot();
      const { slab } = rig;
      on(rig, 0, () => {
        const live: [number, number][] = [];
        for (let i = 0; i < 400; i++) {
          const size = 1 + ((i * 97) % 3000);
          const a = slab.kmalloc(size, GFP_KERNEL);
          expect(a).toBeGreaterThan(ZERO_SIZE_PTR);
          expect(slab.ksize(a)).toBeGreaterThanOrEqual(size);
          live.push([a, slab.ksize(a)]);
        }
        live.sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < live.length; i++)
          expect(live[i]![0]).toBeGreaterThanOrEqual(live[i - 1]![0] + live[i - 1]![1]);
        for (const [a] of live) slab.kfree(a);
      });
      expect(rig.machine.reports()).toEqual([]);
    });

    it('keeps an object contents until it is freed', () => {
      const rig = boot();
      const { slab, machine: m } = rig;
      on(rig, 0, () => {
        const objs: number[] = [];
        for (let i = 0; i < 200; i++) {
          const a = slab.kmalloc(64, GFP_KERNEL);
          for (let off = 0; off < 64; off += 8) m.store(a + off, i * 1000 + off);
          objs.push(a);
        }
        for (let i = 0; i < 200; i += 2) slab.kfree(objs[i]!);
        for (let i = 0; i < 100; i++) slab.kfree(slab.kmalloc(64, GFP_KERNEL));
        for (let i = 1; i < 200; i += 2) {
          for (let off = 0; off < 64; off += 8) expect(m.load(objs[i]! + off)).toBe(i * 1000 + off);
          slab.kfree(objs[i]!);
        }
      });
    });

    it('returns ZERO_SIZE_PTR for size 0 and ignores NULL and ZERO_SIZE_PTR frees', () => {
      const rig = boot();
      on(rig, 0, () => {
        expect(rig.slab.kmalloc(0, GFP_KERNEL)).toBe(ZERO_SIZE_PTR);
        rig.slab.kfree(0);
        rig.slab.kfree(ZERO_SIZE_PTR);
      });
      expect(rig.machine.reports()).toEqual([]);
    });

    it('aligns objects: power-of-two kmalloc sizes naturally, caches to their alignment', () => {
      const rig = boot();
      const { slab } = rig;
      on(rig, 0, () => {
        for (let size = 8; size <= 4096; size *= 2) {
          const a = slab.kmalloc(size, GFP_KERNEL);
          expect(a % size).toBe(0);
          slab.kfree(a);
        }
        const s = slab.kmemCacheCreate('conf_aligned', 72, { align: 128 });
        const objs = [slab.kmemCacheAlloc(s, GFP_KERNEL), slab.kmemCacheAlloc(s, GFP_KERNEL)];
        for (const o of objs) expect(o % 128).toBe(0);
        for (const o of objs) slab.kmemCacheFree(s, o);
        expect(slab.kmemCacheDestroy(s)).toBe(true);
      });
    });

    it('zeroes kzalloc() and __GFP_ZERO, and krealloc() keeps the contents', () => {
      const rig = boot();
      const { slab, machine: m } = rig;
      on(rig, 0, () => {
        const a = slab.kmalloc(128, GFP_KERNEL);
        for (let off = 0; off < 128; off += 8) m.store(a + off, 77);
        slab.kfree(a);
        const z = slab.kzalloc(128, GFP_KERNEL);
        for (let off = 0; off < 128; off += 8) expect(m.load(z + off)).toBe(0);
        m.store(z, 5);
        const r = slab.krealloc(z, 3000, GFP_KERNEL);
        expect(m.load(r)).toBe(5);
        expect(slab.ksize(r)).toBeGreaterThanOrEqual(3000);
        const y = slab.kmalloc(24, GFP_KERNEL | __GFP_ZERO);
        expect(m.load(y + 16)).toBe(0);
        slab.kfree(r);
        slab.kfree(y);
      });
    });

    it('serves allocations above 8 KiB from whole pages and gives them back', () => {
      const rig = boot();
      on(rig, 0, () => {
        const before = rig.pages.stats().allocated;
        const a = rig.slab.kmalloc(100_000, GFP_KERNEL);
        expect(a % 4096).toBe(0);
        expect(rig.slab.ksize(a)).toBe(131072);
        rig.slab.kfree(a);
        expect(rig.pages.stats().allocated).toBe(before);
      });
    });

    it('frees objects on another CPU than the one that allocated them', () => {
      const rig = boot();
      const { slab } = rig;
      const objs = on(rig, 0, () => {
        const out: number[] = [];
        for (let i = 0; i < 500; i++) out.push(slab.kmalloc(256, GFP_ATOMIC));
        return out;
      });
      on(rig, 1, () => {
        for (const o of objs) slab.kfree(o);
      });
      const again = on(rig, 1, () => slab.kmalloc(256, GFP_KERNEL));
      on(rig, 0, () => slab.kfree(again));
      expect(rig.machine.reports()).toEqual([]);
    });

    it('reports objects left at kmem_cache_destroy() and refuses the destroy', () => {
      const rig = boot();
      const { slab } = rig;
      on(rig, 0, () => {
        const s = slab.kmemCacheCreate('conf_leak', 48);
        const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
        expect(slab.kmemCacheDestroy(s)).toBe(false);
        slab.kmemCacheFree(s, o);
      });
      expect(rig.machine.reports({ kind: 'kmem-cache-destroy-leak' })).toHaveLength(1);
    });

    it('reports a slabinfo line per cache and statistics', () => {
      const rig = boot();
      on(rig, 0, () => {
        const s = rig.slab.kmemCacheCreate('conf_info', 200);
        const o = rig.slab.kmemCacheAlloc(s, GFP_KERNEL);
        expect(rig.slab.slabinfo()).toMatch(/^slabinfo - version: 2\.1\n/);
        expect(rig.slab.slabinfo()).toMatch(/\nconf_info +\d+ +\d+ +\d+ +\d+ +\d+ : tunables/);
        expect(rig.slab.cacheStats(s).inUse).toBe(1);
        expect(rig.slab.stats().allocator).toBe(rig.slab.name);
        rig.slab.kmemCacheFree(s, o);
      });
    });

    it('bulk: allocates all or nothing and frees arrays (if bulk)', () => {
      const rig = boot();
      if (!caps(rig).bulk) return;
      const { slab } = rig;
      on(rig, 0, () => {
        const s = slab.kmemCacheCreate('conf_bulk', 96);
        const out = new Float64Array(64);
        expect(slab.kmemCacheAllocBulk(s, GFP_KERNEL, 64, out)).toBe(64);
        expect(new Set(out).size).toBe(64);
        slab.kmemCacheFreeBulk(s, 64, out);
        const k = [
          slab.kmalloc(16, GFP_KERNEL),
          0,
          slab.kmalloc(3000, GFP_KERNEL),
          slab.kmalloc(20000, GFP_KERNEL),
        ];
        slab.kfreeBulk(k, k.length);
        expect(slab.cacheStats(s).inUse).toBe(0);
      });
      expect(rig.machine.reports()).toEqual([]);
    });

    it('nolock: allocates and frees from NMI context (if nolock)', () => {
      const rig = boot();
      if (!caps(rig).nolock) return;
      const { slab, machine: m } = rig;
      const got: number[] = [];
      on(rig, 0, () => {
        for (let i = 0; i < 4; i++) {
          m.raiseNmi(0, () => {
            got.push(slab.kmallocNolock(64, 0));
            if (got.length > 1) slab.kfreeNolock(got[got.length - 2]!);
          });
          slab.kfree(slab.kmalloc(64, GFP_KERNEL));
        }
      });
      expect(got.length).toBe(4);
      const nl0 = rig.slab.stats().nolock;
      if (m.rt) {
        // PREEMPT_RT: nothing from NMI, and the reason is counted.
        expect(got.every((g) => g === 0)).toBe(true);
        expect(nl0.failures.rtIrq).toBe(4);
        return;
      }
      expect(got.every((g) => g > ZERO_SIZE_PTR)).toBe(true);
      on(rig, 0, () => {
        slab.kfreeNolock(got[3]!);
        slab.deferFreeBarrier();
      });
      const nl = rig.slab.stats().nolock;
      expect(nl.allocSucceeded).toBe(nl.allocCalls);
    });

    it('debug: reports a double free on a cache with consistency checks (if debug)', () => {
      const rig = boot();
      if (!caps(rig).debug) return;
      const { slab } = rig;
      on(rig, 0, () => {
        const s = slab.kmemCacheCreate('conf_dbg', 64, {
          flags: SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER,
        });
        const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
        slab.kmemCacheFree(s, o);
        slab.kmemCacheFree(s, o);
      });
      const r = rig.machine.reports({ kind: 'slub-double-free' });
      expect(r).toHaveLength(1);
      expect(r[0]!.text).toMatch(/BUG conf_dbg \(.*\): Object already free/);
    });

    it('kasan: reports slab-use-after-free with the alloc and free sites (if kasan)', () => {
      const probe = boot();
      if (!caps(probe).kasan || conf.kasanOptions === undefined) return;
      const rig = boot(conf.kasanOptions);
      const { slab } = rig;
      on(rig, 0, () => {
        const o = slab.kmalloc(32, GFP_KERNEL);
        slab.kfree(o);
        slab.checkedLoad(o);
      });
      const r = rig.machine.reports({ kind: 'kasan-use-after-free' });
      expect(r).toHaveLength(1);
      expect(r[0]!.text).toMatch(/BUG: KASAN: slab-use-after-free in /);
    });

    it('SLAB_TYPESAFE_BY_RCU: keeps slab pages until a grace period (if typesafeByRcu)', () => {
      const rig = boot();
      if (!caps(rig).typesafeByRcu) return;
      const { slab, machine: m, rcu, pages } = rig;
      on(rig, 0, () => {
        const s = slab.kmemCacheCreate('conf_rcu', 64, { flags: SLAB_TYPESAFE_BY_RCU });
        const o = slab.kmemCacheAlloc(s, GFP_KERNEL);
        m.store(o, 31);
        slab.kmemCacheFree(s, o);
        expect(m.load(o)).toBe(31);
        const before = pages.stats().allocated;
        slab.kmemCacheShrink(s);
        expect(pages.stats().allocated).toBe(before);
        rcu.barrier();
        expect(pages.stats().allocated).toBeLessThan(before);
        expect(slab.kmemCacheDestroy(s)).toBe(true);
      });
    });

    it('rcu_free sheaf: frees after a grace period (if rcuSheaf)', () => {
      const rig = boot();
      if (!caps(rig).rcuSheaf) return;
      const { slab, rcu } = rig;
      on(rig, 0, () => {
        const o = slab.kmalloc(64, GFP_KERNEL);
        expect(slab.kfreeRcuSheaf(o)).toBe(true);
        expect(slab.objectState(o)).toBe('rcu-sheaf');
        slab.flushRcuSheaves();
        rcu.barrier();
        expect(slab.objectState(o)).not.toBe('allocated');
        expect(slab.objectState(o)).not.toBe('rcu-sheaf');
      });
    });

    it('matches a model of live objects over a seeded random sequence of operations', () => {
      const rig = boot();
      const { slab, machine: m } = rig;
      const c = caps(rig);
      const rng = m.rng('conformance');
      const live = new Map<number, [number, number]>();
      const s = on(rig, 0, () => slab.kmemCacheCreate('conf_model', 40));
      const ops = conf.randomOps ?? 3000;
      for (let step = 0; step < ops; step++) {
        const cpu = rng.int(m.nrCpus);
        on(rig, cpu, () => {
          const r = rng.int(100);
          if (r < 45 || live.size === 0) {
            const fromCache = rng.int(4) === 0;
            const size = fromCache ? 40 : 1 + rng.int(r < 5 ? 20000 : 1000);
            const a = fromCache
              ? slab.kmemCacheAlloc(s, GFP_KERNEL)
              : slab.kmalloc(size, GFP_KERNEL);
            expect(a).toBeGreaterThan(ZERO_SIZE_PTR);
            expect(live.has(a)).toBe(false);
            m.store(a, step);
            live.set(a, [step, fromCache ? -1 : size]);
          } else {
            const keys = [...live.keys()];
            const a = keys[rng.int(keys.length)]!;
            const [tag, size] = live.get(a)!;
            expect(m.load(a)).toBe(tag);
            live.delete(a);
            if (size < 0) slab.kmemCacheFree(s, a);
            else if (c.nolock && size <= 8192 && rng.int(4) === 0) slab.kfreeNolock(a);
            else slab.kfree(a);
          }
        });
      }
      on(rig, 0, () => {
        for (const [a, [tag, size]] of live) {
          expect(m.load(a)).toBe(tag);
          if (size < 0) slab.kmemCacheFree(s, a);
          else slab.kfree(a);
        }
        slab.deferFreeBarrier();
        expect(slab.cacheStats(s).inUse).toBe(0);
        expect(slab.kmemCacheDestroy(s)).toBe(true);
      });
      expect(m.reports()).toEqual([]);
    });
  });
}
