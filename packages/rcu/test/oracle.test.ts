import { describe, expect, it } from 'vitest';
import { boot, kinds, MS, task } from './boot.js';

describe('the grace-period oracle and KASAN-checked readers', { timeout: 30_000 }, () => {
  it('stays silent while RCU keeps its promise', () => {
    const { m, rcu, pool } = boot({ rcu: { oracle: true } });
    const gp = m.memory.memblockAlloc(8, 8);
    for (let c = 0; c < 4; c++) {
      task(
        m,
        function* () {
          for (let i = 0; i < 50; i++) {
            rcu.rcuReadLock();
            const p = rcu.rcuDereference(gp);
            yield m.busy(300_000);
            if (p !== 0) pool.load(p);
            rcu.rcuReadUnlock();
            const o = pool.alloc();
            const old = m.xchg(gp, o);
            if (old !== 0) rcu.callRcu(old, (h) => pool.kfree(h));
            yield m.sleep(100_000);
          }
        },
        { cpu: c },
      );
    }
    m.run({ until: 500 * MS });
    expect(rcu.oracle!.checks).toBeGreaterThan(150);
    expect(rcu.oracle!.violations).toEqual([]);
    expect(pool.kasanReports).toBe(0);
  });

  it('catches a grace period that ended under a reader: synchronize_rcu() inside a non-preemptible reader', () => {
    const k = boot({
      machine: { preempt: 'voluntary' },
      rcu: { oracle: true },
      lockdep: false,
    });
    const { m, rcu } = k;
    k.allow.oracle = true;
    task(m, function* () {
      rcu.rcuReadLock();
      // Illegal: sleeping here loses the preempt count ("scheduling while atomic"),
      // so the CPU looks quiescent and the grace period ends under the reader.
      yield* rcu.synchronizeRcu();
      rcu.rcuReadUnlock();
    });
    m.run({ until: 100 * MS });
    expect(kinds(m)).toContain('scheduling-while-atomic');
    expect(kinds(m)).toContain('rcu-gp-oracle');
    // The wakeme_after_rcu() callback ran under the reader, and synchronize_rcu() returned under it.
    expect(rcu.oracle!.violations.map((v) => v.what)).toEqual(['callback', 'synchronize_rcu']);
    expect(m.dmesg()).toContain('rcu: grace-period oracle: synchronize_rcu');
  });

  it('a reader touching an object freed without waiting for readers gets a KASAN slab-use-after-free report', () => {
    const k = boot();
    const { m, rcu, pool } = k;
    k.allow.kasan = true;
    const gp = m.memory.memblockAlloc(8, 8);
    const o = pool.alloc();
    m.memory.write(gp, o);
    task(
      m,
      function* () {
        rcu.rcuReadLock();
        const p = rcu.rcuDereference(gp);
        yield m.busy(5 * MS);
        pool.load(p + 8);
        rcu.rcuReadUnlock();
      },
      { cpu: 1, comm: 'reader' },
    );
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        m.memory.write(gp, 0);
        pool.kfree(o); // bug: should have been kfree_rcu()
      },
      { cpu: 2, comm: 'buggy-updater' },
    );
    m.run({ until: 20 * MS });
    const r = m.reports({ kind: 'kasan-slab-use-after-free' })[0]!;
    expect(r.comm).toBe('reader');
    expect(r.text).toContain('BUG: KASAN: slab-use-after-free in');
    expect(r.text).toMatch(/Read of size 8 at addr ffff8880[0-9a-f]+ by task reader\/\d+/);
    expect(r.text).toContain('which belongs to the cache kmalloc-64 of size 64');
  });

  it('checks callbacks, frees and polled cookies against readers that began earlier', () => {
    const k = boot({ rcu: { oracle: true } });
    const { m, rcu } = k;
    k.allow.oracle = true;
    const oracle = rcu.oracle!;
    task(m, function* () {
      rcu.rcuReadLock();
      oracle.onQueue(0x1000);
      oracle.onRetire(0x2000);
      oracle.onCookie(44);
      // Pretend each completed now, inside the reader: three violations.
      oracle.onInvoke(0x1000);
      oracle.onFree(0x2000);
      oracle.onCookieDone(44);
      rcu.rcuReadUnlock();
      // After the reader: nothing to complain about.
      oracle.onQueue(0x3000);
      oracle.onInvoke(0x3000);
      yield m.sleep(1000);
    });
    m.run({ until: 10 * MS });
    expect(oracle.violations.map((v) => v.what)).toEqual(['callback', 'free', 'poll']);
  });
});
