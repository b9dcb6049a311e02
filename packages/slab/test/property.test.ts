import type { Machine } from '@sim/cpu';
import { __GFP_ZERO, GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT } from '@sim/gfp';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SlabAllocatorName, SlabCache } from '../src/index.js';
import { boot, DESIGNS, expectSound } from './helpers.js';

type Op =
  | { k: 'kmalloc'; cpu: number; size: number; atomic: boolean }
  | { k: 'kfree'; cpu: number; pick: number }
  | { k: 'cacheAlloc'; cpu: number }
  | { k: 'cacheFree'; cpu: number; pick: number }
  | { k: 'bulkAlloc'; cpu: number; n: number }
  | { k: 'bulkFree'; cpu: number; n: number }
  | { k: 'kfreeBulk'; cpu: number; n: number }
  | { k: 'nolockAlloc'; cpu: number; size: number }
  | { k: 'nolockFree'; cpu: number; pick: number }
  | { k: 'rcuSheaf'; cpu: number; pick: number }
  | { k: 'gracePeriod' }
  | { k: 'shrink'; cpu: number }
  | { k: 'run' };

const cpu = fc.integer({ min: 0, max: 2 });
const pick = fc.nat();
const size = fc.oneof(
  fc.integer({ min: 1, max: 256 }),
  fc.integer({ min: 257, max: 9000 }),
  fc.constantFrom(8, 64, 96, 192, 4096, 8192),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ k: fc.constant('kmalloc' as const), cpu, size, atomic: fc.boolean() }),
    weight: 6,
  },
  { arbitrary: fc.record({ k: fc.constant('kfree' as const), cpu, pick }), weight: 5 },
  { arbitrary: fc.record({ k: fc.constant('cacheAlloc' as const), cpu }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('cacheFree' as const), cpu, pick }), weight: 3 },
  {
    arbitrary: fc.record({
      k: fc.constant('bulkAlloc' as const),
      cpu,
      n: fc.integer({ min: 1, max: 40 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('bulkFree' as const),
      cpu,
      n: fc.integer({ min: 1, max: 40 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('kfreeBulk' as const),
      cpu,
      n: fc.integer({ min: 1, max: 40 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('nolockAlloc' as const),
      cpu,
      size: fc.integer({ min: 1, max: 9000 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ k: fc.constant('nolockFree' as const), cpu, pick }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('rcuSheaf' as const), cpu, pick }), weight: 1 },
  { arbitrary: fc.constant({ k: 'gracePeriod' as const }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('shrink' as const), cpu }), weight: 1 },
  { arbitrary: fc.constant({ k: 'run' as const }), weight: 1 },
);

/** A live object the model knows: its tag word and how to free it. */
interface Live {
  tag: number;
  kind: 'kmalloc' | 'cache' | 'nolock';
}

const PROBES = [
  'slab.alloc.fastpath',
  'slab.free.fastpath',
  'slab.alloc.slowpath',
  'slab.free.slowpath',
  'slab.cpu_lock.unlock',
  'slab.new_slab',
  'slab.sheaf',
  'slab.barn',
  'llist.add',
];

function runProp(
  design: SlabAllocatorName,
  preempt: 'full' | 'rt',
  seed: number,
  ops: Op[],
  rate: number,
  verbose = false,
): void {
  const b = boot(design, {
    nrCpus: 3,
    preempt,
    seed,
    pages: 3000,
    lockdep: true,
    slab: { deferPlacement: seed % 2 === 0 ? 'per-cpu' : 'per-cache' },
  });
  const { m, slab, rcu } = b;
  const live = new Map<number, Live>();
  let tagSeq = 1;
  const tag = (a: number): number => {
    const t = tagSeq++;
    m.store(a, t);
    return t;
  };
  const s: SlabCache = m.runOn(0, () => slab.kmemCacheCreate('prop_obj', 56));
  const remove = (p: number, kinds: Live['kind'][]): [number, Live] | null => {
    const keys = [...live.entries()].filter(([, l]) => kinds.includes(l.kind));
    if (keys.length === 0) return null;
    const e = keys[p % keys.length]!;
    expect(m.load(e[0])).toBe(e[1].tag);
    live.delete(e[0]);
    return e;
  };
  // NMIs and probe programs re-enter the allocator through the nolock API.
  const nmiPool: number[] = [];
  const injected = (mm: Machine): void => {
    const r = mm.rng('prop-inject');
    if (nmiPool.length > 0 && r.int(2) === 0) {
      const a = nmiPool.splice(r.int(nmiPool.length), 1)[0]!;
      expect(mm.load(a)).toBe(a);
      slab.kfreeNolock(a);
    } else {
      const a = slab.kmallocNolock(
        [16, 64, 96, 512, 4000][r.int(5)]!,
        r.int(3) === 0 ? __GFP_ZERO : 0,
      );
      if (a > 16) {
        mm.store(a, a);
        nmiPool.push(a);
      }
    }
  };
  const injections = PROBES.flatMap((p) => [
    m.injectNmi(p, { rate }, injected),
    m.attachProgram(p, { rate: rate / 2 }, injected),
  ]);
  for (const o of ops) {
    if (o.k === 'gracePeriod') {
      // RCU callbacks run in a kernel context (softirq or rcuo), not from the host.
      m.runOn(0, () => rcu.gracePeriod());
      continue;
    }
    if (o.k === 'run') {
      m.runUntilIdle();
      continue;
    }
    m.runOn(o.cpu, () => {
      switch (o.k) {
        case 'kmalloc': {
          const a = slab.kmalloc(o.size, o.atomic ? GFP_ATOMIC : GFP_KERNEL);
          if (a !== 0) {
            expect(live.has(a)).toBe(false);
            expect(slab.ksize(a)).toBeGreaterThanOrEqual(o.size);
            live.set(a, { tag: tag(a), kind: 'kmalloc' });
          }
          break;
        }
        case 'kfree': {
          const e = remove(o.pick, ['kmalloc']);
          if (e !== null) slab.kfree(e[0]);
          break;
        }
        case 'cacheAlloc': {
          const a = slab.kmemCacheAlloc(s, GFP_KERNEL);
          if (a !== 0) {
            expect(live.has(a)).toBe(false);
            live.set(a, { tag: tag(a), kind: 'cache' });
          }
          break;
        }
        case 'cacheFree': {
          const e = remove(o.pick, ['cache']);
          if (e !== null) slab.kmemCacheFree(s, e[0]);
          break;
        }
        case 'bulkAlloc': {
          const out = new Float64Array(o.n);
          if (slab.kmemCacheAllocBulk(s, GFP_NOWAIT, o.n, out) === o.n) {
            for (const a of out) {
              expect(live.has(a)).toBe(false);
              live.set(a, { tag: tag(a), kind: 'cache' });
            }
          }
          break;
        }
        case 'bulkFree': {
          const arr: number[] = [];
          for (let i = 0; i < o.n; i++) {
            const e = remove(i * 7 + o.n, ['cache']);
            if (e !== null) arr.push(e[0]);
          }
          slab.kmemCacheFreeBulk(s, arr.length, arr);
          break;
        }
        case 'kfreeBulk': {
          const arr: number[] = [];
          for (let i = 0; i < o.n; i++) {
            const e = remove(i * 5 + o.n, ['kmalloc', 'cache']);
            if (e !== null) arr.push(e[0]);
          }
          slab.kfreeBulk(arr, arr.length);
          break;
        }
        case 'nolockAlloc': {
          const a = slab.kmallocNolock(o.size, 0);
          if (a > 16) {
            expect(live.has(a)).toBe(false);
            live.set(a, { tag: tag(a), kind: 'nolock' });
          }
          break;
        }
        case 'nolockFree': {
          const e = remove(o.pick, ['nolock']);
          if (e !== null) slab.kfreeNolock(e[0]);
          break;
        }
        case 'rcuSheaf': {
          const e = remove(o.pick, ['kmalloc']);
          if (e !== null && !slab.kfreeRcuSheaf(e[0])) slab.kfree(e[0]);
          break;
        }
        case 'shrink':
          slab.kmemCacheShrink(s);
          break;
      }
    });
  }
  for (const inj of injections) inj.detach();
  m.runUntilIdle();
  // Every live object kept its contents and is still allocated.
  for (const [a, l] of live) {
    expect(m.load(a)).toBe(l.tag);
    expect(slab.objectState(a)).toMatch(/allocated|large-kmalloc/);
  }
  expect(new Set(nmiPool).size).toBe(nmiPool.length);
  for (const a of nmiPool) expect(live.has(a)).toBe(false);
  // Every nolock call succeeded or returned NULL with its reason counted.
  const nl = slab.stats().nolock;
  const f = nl.failures;
  expect(nl.allocSucceeded + f.rtIrq + f.tooLarge + f.busy + f.noMemory).toBe(nl.allocCalls);
  expect(nl.freedNow + nl.deferred + nl.rejected).toBeLessThanOrEqual(nl.freeCalls);
  expectSound(b);
  // Free everything: nothing may be lost.
  m.runOn(0, () => {
    for (const a of nmiPool) slab.kfreeNolock(a);
    for (const [a, l] of live) {
      if (l.kind === 'cache') slab.kmemCacheFree(s, a);
      else if (l.kind === 'nolock') slab.kfreeNolock(a);
      else slab.kfree(a);
    }
    slab.deferFreeBarrier();
  });
  m.runOn(0, () => {
    rcu.barrier();
    slab.flushRcuSheaves();
    rcu.barrier();
  });
  m.runUntilIdle();
  expect(slab.cacheStats(s).inUse).toBe(0);
  for (const c of slab.stats().caches)
    if (
      c.name.startsWith('kmalloc-') &&
      !c.name.includes('512') &&
      !c.name.includes('256') &&
      !c.name.includes('128') &&
      !c.name.includes('64')
    )
      expect(c.inUse).toBe(0);
  expect(m.runOn(0, () => slab.kmemCacheDestroy(s))).toBe(true);
  const bad = m.reports().filter((r) => r.kind !== 'page-alloc-failure' && r.kind !== 'slub-oom');
  if (verbose && bad.length > 0)
    console.log(bad.map((r) => r.text).join('\n'), JSON.stringify(bad.map((r) => r.details)));
  expect(bad.map((r) => r.kind)).toEqual([]);
  expectSound(b);
}

describe.each(DESIGNS)(
  'random operation sequences with injected NMIs and probe programs on %s',
  (design) => {
    it('never corrupts, loses or duplicates an object', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 1_000_000 }),
          fc.array(op, { minLength: 20, maxLength: 160 }),
          fc.double({ min: 0, max: 0.15, noNaN: true }),
          (seed, ops, rate) => {
            runProp(design, 'full', seed, ops, rate);
          },
        ),
        { seed: 20250507, numRuns: 30 },
      );
    });

    it('does the same on PREEMPT_RT, where NMIs get nothing and irq_work runs in a thread', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 1_000_000 }),
          fc.array(op, { minLength: 20, maxLength: 120 }),
          fc.double({ min: 0, max: 0.15, noNaN: true }),
          (seed, ops, rate) => {
            runProp(design, 'rt', seed, ops, rate);
          },
        ),
        { seed: 7, numRuns: 15 },
      );
    });
  },
);
