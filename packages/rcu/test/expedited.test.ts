import { describe, expect, it } from 'vitest';
import { boot, MS, task, US } from './boot.js';

function busyCpus(m: ReturnType<typeof boot>['m'], cpus: number[], ms: number): void {
  for (const c of cpus) {
    task(
      m,
      function* () {
        yield m.busy(ms * MS);
      },
      { cpu: c },
    );
  }
}

describe('expedited grace periods (kernel/rcu/tree_exp.h)', { timeout: 30_000 }, () => {
  it('IPIs the busy CPUs and completes far sooner than a normal grace period', () => {
    const { m, rcu } = boot({ machine: { preempt: 'voluntary' } });
    busyCpus(m, [1, 2, 3], 100);
    let exp = 0;
    let norm = 0;
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        let t0 = m.now();
        yield* rcu.synchronizeRcuExpedited();
        exp = m.now() - t0;
        t0 = m.now();
        yield* rcu.synchronizeRcu();
        norm = m.now() - t0;
      },
      { cpu: 0 },
    );
    m.run({ until: 100 * MS });
    expect(rcu.stats().expGpCompleted).toBe(1);
    expect(exp).toBeLessThan(100 * US);
    expect(norm).toBeGreaterThan(10 * exp);
  });

  it('a non-preemptible reader delays the expedited grace period until it ends', () => {
    const { m, rcu } = boot({ machine: { preempt: 'none' }, rcu: { oracle: true } });
    let readerEnd = 0;
    let expEnd = 0;
    task(
      m,
      function* () {
        rcu.rcuReadLock();
        yield m.busy(5 * MS);
        readerEnd = m.now();
        rcu.rcuReadUnlock();
        yield m.busy(20 * MS);
      },
      { cpu: 2 },
    );
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield* rcu.synchronizeRcuExpedited();
        expEnd = m.now();
      },
      { cpu: 0 },
    );
    m.run({ until: 50 * MS });
    expect(expEnd).toBeGreaterThan(readerEnd);
    expect(expEnd - readerEnd).toBeLessThan(2 * MS);
    expect(rcu.oracle!.violations).toEqual([]);
  });

  it("preemptible RCU: the reader's unlock reports for its CPU; a preempted reader blocks until it unlocks", () => {
    const { m, rcu } = boot({ machine: { preempt: 'full' }, rcu: { oracle: true } });
    let unlockAt = 0;
    let expEnd = 0;
    task(
      m,
      function* () {
        rcu.rcuReadLock();
        yield m.busy(4 * MS);
        unlockAt = m.now();
        rcu.rcuReadUnlock();
      },
      { cpu: 1 },
    );
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield m.busy(10 * MS);
      },
      { cpu: 1, prio: 10 },
    );
    task(
      m,
      function* () {
        yield m.sleep(2 * MS);
        yield* rcu.synchronizeRcuExpedited();
        expEnd = m.now();
      },
      { cpu: 0 },
    );
    m.run({ until: 50 * MS });
    expect(unlockAt).toBeGreaterThan(11 * MS);
    expect(expEnd).toBeGreaterThanOrEqual(unlockAt);
    expect(expEnd - unlockAt).toBeLessThan(100 * US);
    expect(rcu.oracle!.violations).toEqual([]);
  });

  it('PREEMPT_RT turns expedited requests into normal grace periods (rcu_normal), unless told otherwise', () => {
    const a = boot({ machine: { preempt: 'rt' } });
    task(a.m, function* () {
      yield* a.rcu.synchronizeRcuExpedited();
    });
    a.m.run({ until: 50 * MS });
    expect(a.rcu.stats().expGpCompleted).toBe(0);
    expect(a.rcu.stats().gpCompleted).toBe(1);
    const b = boot({ machine: { preempt: 'rt' }, rcu: { rcuNormal: false } });
    task(b.m, function* () {
      yield* b.rcu.synchronizeRcuExpedited();
    });
    b.m.run({ until: 50 * MS });
    expect(b.rcu.stats().expGpCompleted).toBe(1);
  });

  it('rcupdate.rcu_expedited makes synchronize_rcu() expedited', () => {
    const { m, rcu } = boot({ rcu: { rcuExpedited: true } });
    task(m, function* () {
      yield* rcu.synchronizeRcu();
    });
    m.run({ until: 50 * MS });
    expect(rcu.stats().expGpCompleted).toBe(1);
    expect(rcu.stats().gpCompleted).toBe(0);
  });

  it('concurrent expedited requests are folded into one grace period when one covers the other', () => {
    const { m, rcu } = boot();
    busyCpus(m, [3], 30);
    const ends: number[] = [];
    for (const c of [0, 1, 2]) {
      task(
        m,
        function* () {
          yield m.sleep(1 * MS);
          yield* rcu.synchronizeRcuExpedited();
          ends.push(m.now());
        },
        { cpu: c },
      );
    }
    m.run({ until: 50 * MS });
    expect(ends).toHaveLength(3);
    // A request whose snapshot predates the running one is covered by it;
    // one that arrived while it ran needs exactly one more.
    expect(rcu.stats().expGpCompleted).toBe(2);
  });
});
