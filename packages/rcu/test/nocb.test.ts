import { describe, expect, it } from 'vitest';
import { boot, MS, task } from './boot.js';

describe('NOCB callback offloading (rcu_nocbs=, kernel/rcu/tree_nocb.h)', {
  timeout: 30_000,
}, () => {
  it('spawns rcuog/rcuo kthreads and invokes offloaded callbacks there, never in softirq', () => {
    const { m, rcu } = boot({
      machine: { preempt: 'full' },
      rcu: { rcuNocbs: '1-3', oracle: true },
    });
    expect(m.dmesg()).toContain('rcu: \tOffload RCU callbacks from CPUs: 1-3.');
    const comms = m.tasks().map((t) => t.comm);
    expect(comms).toEqual(
      expect.arrayContaining(['rcuog/0', 'rcuog/2', 'rcuop/1', 'rcuop/2', 'rcuop/3']),
    );
    const heads = m.memory.memblockAlloc(2 * 16, 64);
    const where: string[] = [];
    const cb = rcu.defineCallback('where_cb', () =>
      where.push(`${m.current.comm}:${m.context()}:${m.inSoftirq()}`),
    );
    task(
      m,
      function* () {
        rcu.callRcu(heads, cb);
        yield m.busy(30 * MS);
      },
      { cpu: 2 },
    );
    task(
      m,
      function* () {
        rcu.callRcu(heads + 16, cb);
        yield m.busy(30 * MS);
      },
      { cpu: 0 },
    );
    m.run({ until: 50 * MS });
    expect(where).toHaveLength(2);
    expect(where).toContain('rcuop/2:task:true');
    expect(where.some((w) => w.endsWith(':softirq:true'))).toBe(true);
    expect(rcu.stats().perCpu[2]!.offloaded).toBe(true);
    expect(rcu.oracle!.violations).toEqual([]);
  });

  it('an offloaded CPU does not keep its tick for callbacks', () => {
    const { m, rcu } = boot({ rcu: { rcuNocbs: [1] } });
    const head = m.memory.memblockAlloc(16, 16);
    let done = false;
    m.runOn(1, () => rcu.callRcu(head, () => (done = true)));
    expect(m.tickRunning(1)).toBe(false);
    m.run({ until: 50 * MS });
    expect(done).toBe(true);
  });

  it('a flood goes through the bypass list and every callback still runs; rcu_barrier() covers the bypass', () => {
    const { m, rcu } = boot({ rcu: { rcuNocbs: 'all', oracle: true } });
    const n = 2000;
    const heads = m.memory.memblockAlloc(n * 16, 64);
    let ran = 0;
    let atBarrier = -1;
    const cb = rcu.defineCallback('flood_cb', () => ran++);
    task(
      m,
      function* () {
        for (let i = 0; i < n; i++) {
          rcu.callRcu(heads + i * 16, cb);
          if (i % 64 === 63) yield m.busy(20_000);
        }
        yield* rcu.rcuBarrier();
        atBarrier = ran;
      },
      { cpu: 3 },
    );
    m.run({ until: 500 * MS });
    expect(rcu.stats().nocbBypassed).toBeGreaterThan(0);
    expect(atBarrier).toBe(n);
    expect(ran).toBe(n);
    expect(rcu.oracle!.violations).toEqual([]);
  });
});
