// The example of README.md, kept runnable.
import { createMachine } from '@sim/cpu';
import { createLocking } from '@sim/locks';
import { describe, expect, it } from 'vitest';
import { createRcu, TestObjectPool, TestPagePool, TestShrinkerRegistry } from '../src/index.js';

describe('README example', { timeout: 30_000 }, () => {
  it('runs', () => {
    const m = createMachine({ nrCpus: 4, preempt: 'rt', seed: 1 });
    const locking = createLocking(m);
    const slab = new TestObjectPool(m); // a slab stand-in; @sim/slab plugs in the same way
    const rcu = createRcu(
      {
        machine: m,
        locking,
        freer: slab,
        pages: new TestPagePool(m, locking),
        shrinkers: new TestShrinkerRegistry(),
      },
      { kfreeRcu: 'batched' },
    );

    const gp = m.memory.memblockAlloc(8, 8); // a global RCU-protected pointer
    const raw = locking.rawSpinLock('&foo->lock');
    m.spawn(function* updater() {
      for (let i = 0; i < 1000; i++) {
        const obj = slab.alloc();
        raw.lock(); // PREEMPT_RT, raw spinlock held: kfree_rcu() is still fine
        const old = m.xchg(gp, obj);
        if (old !== 0) rcu.kfreeRcu(old, 16); // rcu_head at offset 16
        raw.unlock();
        yield m.sleep(100_000);
      }
      yield* rcu.kvfreeRcuBarrier();
    });
    m.spawn(function* reader() {
      for (let i = 0; i < 2000; i++) {
        rcu.rcuReadLock();
        const p = rcu.rcuDereference(gp);
        yield m.busy(30_000); // may be preempted: preemptible RCU
        if (p !== 0) slab.load(p + 8); // KASAN-checked
        rcu.rcuReadUnlock();
        yield m.sleep(20_000);
      }
    });
    m.run({ until: 10e9 });

    const s = rcu.stats();
    expect(s.kvfree.freed).toBe(999);
    expect(slab.kasanReports).toBe(0);
    expect(m.reports()).toEqual([]);
    expect(s.gpCompleted).toBeGreaterThan(0);
    expect(s.gpCompleted).toBeLessThan(20);
  });
});
