import { describe, expect, it } from 'vitest';
import { KVFREE_RCU_STRATEGIES, type KvfreeRcuStrategyName } from '../src/index.js';
import { boot, kinds, MS, task } from './boot.js';

const S = 1000 * MS;

/** A machine with small private caches, so 20000 objects of 256 B go cold during a grace period. */
const SMALL_CACHES = {
  l1: { sizeBytes: 32768, ways: 8, latencyNs: 1 },
  l2: { sizeBytes: 262144, ways: 8, latencyNs: 4 },
  llc: { sizeBytes: 4194304, ways: 16, latencyNs: 12 },
};

describe('kvfree_rcu designs side by side', { timeout: 60_000 }, () => {
  for (const strategy of KVFREE_RCU_STRATEGIES) {
    it(`${strategy}: every object is freed after a grace period, never before (oracle and KASAN-checked readers)`, () => {
      const { m, rcu, pool } = boot({ rcu: { kfreeRcu: strategy, oracle: true } });
      const gp = m.memory.memblockAlloc(8, 8);
      for (let c = 0; c < 4; c++) {
        // Writers replace the published object and kfree_rcu() the old one.
        task(
          m,
          function* () {
            for (let i = 0; i < 200; i++) {
              const o = pool.alloc();
              pool.store(o + 8, i);
              const old = m.xchg(gp, o);
              if (old !== 0) rcu.kfreeRcu(old, 16);
              yield m.sleep(200_000);
            }
          },
          { cpu: c, comm: `writer${c}` },
        );
        // Readers dereference it and keep using it for a while.
        task(
          m,
          function* () {
            for (let i = 0; i < 200; i++) {
              rcu.rcuReadLock();
              const p = rcu.rcuDereference(gp);
              yield m.busy(150_000);
              if (p !== 0) pool.load(p + 8);
              rcu.rcuReadUnlock();
              yield m.sleep(50_000);
            }
          },
          { cpu: c, comm: `reader${c}` },
        );
      }
      m.run({ until: 12 * S });
      task(m, function* () {
        yield* rcu.kvfreeRcuBarrier();
      });
      m.run({ until: 14 * S });
      expect(pool.kasanReports).toBe(0);
      expect(rcu.oracle!.violations).toEqual([]);
      expect(pool.live).toBe(1);
      expect(
        kinds(m).filter((k) => k !== 'lockdep-invalid-wait-context' && k !== 'might-sleep'),
      ).toEqual([]);
    });
  }

  it('per-object: one call_rcu() callback per object, walked through its rcu_head', () => {
    const { m, rcu, pool } = boot({ rcu: { kfreeRcu: 'per-object' } });
    task(m, function* () {
      for (let i = 0; i < 100; i++) rcu.kfreeRcu(pool.alloc(), 16);
      yield m.sleep(1 * MS);
    });
    m.run({ until: 100 * MS });
    expect(rcu.stats().callbacksQueued).toBe(100);
    expect(rcu.stats().callbacksInvoked).toBe(100);
    expect(pool.live).toBe(0);
  });

  it('offset-2008: ->func holds the offset in pointer units and the RCU core frees head - offset', () => {
    const { m, rcu, pool } = boot({ rcu: { kfreeRcu: 'offset-2008' } });
    const o = pool.alloc();
    let funcWord = -1;
    task(m, function* () {
      rcu.kfreeRcu(o, 48);
      funcWord = m.memory.read(o + 48 + 8);
      yield m.sleep(1 * MS);
    });
    m.run({ until: 50 * MS });
    expect(funcWord).toBe(6);
    expect(pool.isLive(o)).toBe(false);
    expect(rcu.stats().callbacksInvoked).toBe(1);
  });

  it('sheaf: objects go into the slab rcu_free sheaf; PREEMPT_RT and a failed trylock fall back to batched', () => {
    const a = boot({ rcu: { kfreeRcu: 'sheaf' } });
    task(a.m, function* () {
      for (let i = 0; i < 64; i++) a.rcu.kfreeRcu(a.pool.alloc(), 0);
      a.sheaf.failNext = 1;
      a.rcu.kfreeRcu(a.pool.alloc(), 0);
      yield* a.rcu.kvfreeRcuBarrier();
    });
    a.m.run({ until: 1 * S });
    const s = a.rcu.kvfreeStats();
    expect(s.sheafQueued).toBe(64);
    expect(a.sheaf.submitted).toBe(2);
    expect(a.sheaf.freedSheaves).toBe(2);
    expect(s.queued).toBe(65);
    expect(a.pool.live).toBe(0);

    const b = boot({ machine: { preempt: 'rt' }, rcu: { kfreeRcu: 'sheaf' } });
    task(b.m, function* () {
      for (let i = 0; i < 10; i++) b.rcu.kfreeRcu(b.pool.alloc(), 0);
      yield m0(b);
    });
    b.m.run({ until: 6 * S });
    expect(b.rcu.kvfreeStats().sheafQueued).toBe(0);
    expect(b.rcu.kvfreeStats().freed).toBe(10);
  });

  it('kvfree_rcu_barrier() with sheaves flushes the partially filled sheaf too', () => {
    const { m, rcu, pool, sheaf } = boot({ rcu: { kfreeRcu: 'sheaf' } });
    let live = -1;
    task(m, function* () {
      for (let i = 0; i < 5; i++) rcu.kfreeRcu(pool.alloc(), 0);
      yield* rcu.kvfreeRcuBarrier();
      live = pool.live;
    });
    m.run({ until: 1 * S });
    expect(sheaf.submitted).toBe(1);
    expect(live).toBe(0);
  });

  it('PREEMPT_RT, raw spinlock held: batched kfree_rcu() is silent; naive-atomic-alloc is an Invalid wait context', () => {
    const results: Record<string, string[]> = {};
    for (const strategy of ['batched', 'naive-atomic-alloc'] as const) {
      const { m, rcu, pool, locking } = boot({
        machine: { preempt: 'rt' },
        rcu: { kfreeRcu: strategy },
      });
      const raw = locking.rawSpinLock('&foo->raw_lock');
      task(m, function* () {
        raw.lock();
        rcu.kfreeRcu(pool.alloc(), 0);
        raw.unlock();
        yield m.sleep(1 * MS);
      });
      m.run({ until: 6 * S });
      results[strategy] = kinds(m);
      if (strategy === 'naive-atomic-alloc') {
        expect(m.dmesg()).toContain('[ BUG: Invalid wait context ]');
        expect(m.dmesg()).toMatch(/&zone->lock\S*-\{3:3\}/);
        expect(m.dmesg()).toMatch(/&krcp->lock\S*-\{2:2\}/);
        expect(m.dmesg()).toContain(
          'BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c',
        );
      }
      expect(pool.live).toBe(0);
    }
    expect(results.batched).toEqual([]);
    expect(results['naive-atomic-alloc']).toContain('lockdep-invalid-wait-context');
  });

  it('naive-atomic-alloc with __GFP_NO_LOCKS: the allocator fails instead of taking zone->lock, kfree_rcu() falls back', () => {
    const { m, rcu, pool, locking, pages } = boot({
      machine: { preempt: 'rt' },
      rcu: { kfreeRcu: 'naive-atomic-alloc', naiveNoLocks: true },
    });
    const raw = locking.rawSpinLock('&foo->raw_lock');
    task(m, function* () {
      raw.lock();
      rcu.kfreeRcu(pool.alloc(), 0);
      raw.unlock();
      yield m.sleep(1 * MS);
    });
    m.run({ until: 6 * S });
    expect(m.reports()).toEqual([]);
    expect(pages.zoneLockTaken).toBeGreaterThan(0); // only later, by the sleepable refill worker
    expect(rcu.kvfreeStats().pageAllocFailures).toBe(1);
    expect(rcu.kvfreeStats().chained).toBe(1);
    expect(pool.live).toBe(0);
  });

  it('batched vs per-object: far fewer grace periods per thousand frees', () => {
    const per1000: Record<string, number> = {};
    for (const strategy of ['batched', 'per-object'] as const) {
      const { m, rcu, pool } = boot({ rcu: { kfreeRcu: strategy }, lockdep: false });
      for (let c = 0; c < 4; c++) {
        task(
          m,
          function* () {
            for (let i = 0; i < 500; i++) {
              rcu.kfreeRcu(pool.alloc(), 0);
              yield m.sleep(1 * MS);
            }
          },
          { cpu: c },
        );
      }
      m.run({ until: 12 * S });
      const s = rcu.stats();
      expect(s.kvfree.freed).toBe(2000);
      per1000[strategy] = (s.gpCompleted * 1000) / s.kvfree.freed;
    }
    expect(per1000['per-object']! / per1000.batched!).toBeGreaterThan(20);
  });

  it('batched vs per-object: fewer cache misses per object freed (pointer arrays vs rcu_head chains)', () => {
    const perObject: Record<string, { walk: number; total: number }> = {};
    const strategies: KvfreeRcuStrategyName[] = ['batched', 'per-object'];
    for (const strategy of strategies) {
      const { m, rcu, pool } = boot({
        machine: { nrCpus: 1, cache: SMALL_CACHES },
        rcu: { kfreeRcu: strategy },
        pool: { objectSize: 256 },
        lockdep: false,
      });
      const n = 20000;
      task(m, function* () {
        rcu.kfreeRcu(pool.alloc(), 0); // warm the page cache
        yield m.sleep(5 * MS);
        for (let i = 0; i < n; i++) {
          const o = pool.alloc();
          pool.store(o + 64, i);
          rcu.kfreeRcu(o, 0);
          if (i % 100 === 99) {
            yield m.busy(10_000);
            yield m.sleep(20_000);
          }
        }
      });
      m.cache.resetStats();
      m.run({ until: 8 * S });
      expect(rcu.kvfreeStats().freed).toBe(n + 1);
      // Misses of the private caches, per object, at the sites RCU walks and the slab frees at.
      const sites = m.cache.siteStats();
      const missesAt = (pred: (l: string) => boolean) =>
        sites
          .filter((s) => pred(s.label))
          .reduce((a, s) => a + s.accesses - s.l1Hits - s.l2Hits, 0) / n;
      const walk = missesAt(
        (l) => l === 'rcu.invoke' || l === 'kvfree_rcu.bulk' || l === 'kvfree_rcu.chain',
      );
      const total = walk + missesAt((l) => l === 'slab.free');
      perObject[strategy] = { walk, total };
    }
    expect(perObject['per-object']!.walk).toBeGreaterThan(0.9);
    expect(perObject['per-object']!.walk / perObject.batched!.walk).toBeGreaterThan(5);
    expect(perObject['per-object']!.total / perObject.batched!.total).toBeGreaterThan(1.5);
  });
});

/** Let a batched monitor run its 5 s drain. */
function m0(k: ReturnType<typeof boot>) {
  return k.m.sleep(5.5 * S);
}
