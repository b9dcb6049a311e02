import {
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  GFP_ATOMIC,
  GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_NOWAIT,
} from '@sim/gfp';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type BuddyOptions, checkBuddyInvariants, NUMA_NO_NODE } from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

const MASKS = [
  GFP_KERNEL,
  GFP_ATOMIC,
  GFP_NOWAIT,
  GFP_KERNEL | __GFP_NORETRY,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL | __GFP_RECLAIMABLE,
  GFP_KERNEL | __GFP_ZERO,
  GFP_DMA32,
];

type Cmd =
  | { op: 'alloc'; cpu: number; order: number; mask: number; nowarn: boolean }
  | { op: 'nolock'; cpu: number; order: number }
  | { op: 'free'; cpu: number; pick: number; nolock: boolean }
  | { op: 'cache'; cpu: number; pages: number }
  | { op: 'uncache'; pages: number }
  | { op: 'run'; ns: number }
  | { op: 'drain' };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('alloc' as const),
      cpu: fc.integer({ min: 0, max: 1 }),
      order: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
        fc.integer({ min: 4, max: 10 }),
      ),
      mask: fc.constantFrom(...MASKS),
      nowarn: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('nolock' as const),
      cpu: fc.integer({ min: 0, max: 1 }),
      order: fc.integer({ min: 0, max: 4 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('free' as const),
      cpu: fc.integer({ min: 0, max: 1 }),
      pick: fc.nat(),
      nolock: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('cache' as const),
      cpu: fc.integer({ min: 0, max: 1 }),
      pages: fc.integer({ min: 1, max: 2000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('uncache' as const),
      pages: fc.integer({ min: 1, max: 400 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('run' as const),
      ns: fc.integer({ min: 1000, max: 20_000_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'drain' as const }) },
);

/** What the runs exercised, summed, so the properties are known not to be vacuous. */
const seen = { allocs: 0, nmis: 0, reclaimed: 0, deferred: 0, kswapd: 0, failures: 0 };

function scenario(seed: number, cmds: readonly Cmd[], opts: BuddyOptions, rt = false): void {
  const k = boot(
    { seed, nrCpus: 2, memBytes: 32 * 2 ** 20, preempt: rt ? 'rt' : 'voluntary' },
    opts,
  );
  const { m, a } = k;
  const managed = a.totalramPages();
  const cache = a.createWorkload({ kind: 'file', comm: 'reader' });
  const held: { page: number; order: number }[] = [];
  let heldPages = 0;
  // NMIs re-enter the allocator inside zone->lock at a seeded rate.
  const nmi = m.injectNmi('mm_page_alloc_zone_locked', { rate: 0.02 }, () => {
    const p = a.allocPagesNolock(0, NUMA_NO_NODE, 0);
    if (p >= 0) a.freePagesNolock(p, 0);
  });
  for (const c of cmds) {
    switch (c.op) {
      case 'alloc': {
        // Keep kernel allocations below what reclaim can make room for, so
        // that nothing needs the OOM killer (there is no task to kill here).
        if (heldPages + 2 ** c.order > managed * 0.7) break;
        const p = m.runOn(c.cpu, () =>
          a.allocPages(c.mask | (c.nowarn ? __GFP_NOWARN : 0), c.order),
        );
        if (p >= 0) {
          held.push({ page: p, order: c.order });
          heldPages += 2 ** c.order;
          seen.allocs++;
        }
        break;
      }
      case 'nolock': {
        const p = m.runOn(c.cpu, () => a.allocPagesNolock(0, NUMA_NO_NODE, c.order));
        if (p >= 0) {
          held.push({ page: p, order: c.order });
          heldPages += 2 ** c.order;
        }
        break;
      }
      case 'free': {
        if (held.length === 0) break;
        const [h] = held.splice(c.pick % held.length, 1);
        heldPages -= 2 ** h!.order;
        m.runOn(c.cpu, () =>
          c.nolock ? a.freePagesNolock(h!.page, h!.order) : a.freePages(h!.page, h!.order),
        );
        break;
      }
      case 'cache':
        m.runOn(c.cpu, () => cache.fault(c.pages));
        break;
      case 'uncache':
        m.runOn(0, () => cache.release(c.pages));
        break;
      case 'run':
        m.runFor(c.ns);
        break;
      case 'drain':
        m.runOn(0, () => a.drainAllPages());
        break;
    }
  }
  const e = a.events();
  seen.nmis += nmi.fires;
  seen.reclaimed += e.pgstealDirect + e.pgstealKswapd;
  seen.deferred += e.deferredFrees;
  seen.kswapd += e.pageoutrun;
  seen.failures += e.allocFail;
  const mid = checkBuddyInvariants(a);
  expect(mid.problems).toEqual([]);
  // Give everything back: nothing may be left allocated.
  m.runOn(0, () => {
    for (const h of held) a.freePages(h.page, h.order);
    cache.release();
  });
  m.runFor(50_000_000);
  m.runOn(0, () => a.drainAllPages());
  const end = checkBuddyInvariants(a);
  expect(end.problems).toEqual([]);
  expect(end.counts.allocated).toBe(0);
  expect(end.counts.buddy + end.counts.pcp + end.counts.deferred + end.counts.reserved).toBe(
    end.counts.total,
  );
  expect(
    m.reports().filter((r) => r.kind !== 'page-alloc-failure' && r.kind !== 'page-alloc-warn'),
  ).toEqual([]);
}

describe('random alloc/free sequences keep the buddy allocator consistent', () => {
  it('v6.15 locking, per-CPU lists, kswapd and reclaim running, NMIs re-entering', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.array(cmd, { minLength: 20, maxLength: 150, size: 'max' }),
        (seed, cmds) => {
          scenario(seed, cmds, {});
        },
      ),
      { numRuns: 20, seed: 20250714 },
    );
  }, 120_000);

  it('2020 locking without per-CPU lists', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.array(cmd, { minLength: 20, maxLength: 150, size: 'max' }),
        (seed, cmds) => {
          scenario(seed, cmds, { zoneLock: 'full', pcp: false });
        },
      ),
      { numRuns: 15, seed: 7 },
    );
  }, 120_000);

  it('two nodes with DMA32 and Normal zones and swap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.array(cmd, { minLength: 20, maxLength: 120, size: 'max' }),
        (seed, cmds) => {
          scenario(seed, cmds, {
            nodes: 2,
            zoneLayout: 'dma32+normal',
            dma32LimitBytes: 8 * 2 ** 20,
            swapBytes: 4 * 2 ** 20,
          });
        },
      ),
      { numRuns: 10, seed: 99 },
    );
  }, 120_000);

  it('PREEMPT_RT, where spinlock_t sleeps and nolock calls in NMI fail at once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.array(cmd, { minLength: 20, maxLength: 120, size: 'max' }),
        (seed, cmds) => {
          scenario(seed, cmds, {}, true);
        },
      ),
      { numRuns: 10, seed: 3 },
    );
  }, 120_000);

  it('exercised allocation, NMI re-entry, reclaim, kswapd, deferred frees and failures', () => {
    expect(seen.allocs).toBeGreaterThan(500);
    expect(seen.nmis).toBeGreaterThan(10);
    expect(seen.reclaimed).toBeGreaterThan(0);
    expect(seen.kswapd).toBeGreaterThan(0);
    expect(seen.deferred).toBeGreaterThan(0);
    expect(seen.failures).toBeGreaterThan(0);
  });
});
