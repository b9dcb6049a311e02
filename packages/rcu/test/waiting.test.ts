import { describe, expect, it } from 'vitest';
import { RCU_GET_STATE_COMPLETED } from '../src/index.js';
import { boot, kinds, MS, task } from './boot.js';

describe('waiting for grace periods', { timeout: 30_000 }, () => {
  it('poll_state_synchronize_rcu(cookie) is false until a full grace period after the cookie, then true forever', () => {
    const { m, rcu } = boot({ rcu: { oracle: true } });
    const log: string[] = [];
    task(m, function* () {
      const cookie = rcu.getStateSynchronizeRcu();
      log.push(`poll0=${rcu.pollStateSynchronizeRcu(cookie)}`);
      // get_state_synchronize_rcu() starts nothing: without other activity, still false later.
      yield m.sleep(50 * MS);
      log.push(`poll1=${rcu.pollStateSynchronizeRcu(cookie)} gps=${rcu.stats().gpCompleted}`);
      yield* rcu.synchronizeRcu();
      log.push(`poll2=${rcu.pollStateSynchronizeRcu(cookie)}`);
      yield m.sleep(100 * MS);
      log.push(`poll3=${rcu.pollStateSynchronizeRcu(cookie)}`);
      log.push(`completed=${rcu.pollStateSynchronizeRcu(RCU_GET_STATE_COMPLETED)}`);
    });
    m.run({ until: 400 * MS });
    expect(log).toEqual([
      'poll0=false',
      'poll1=false gps=0',
      'poll2=true',
      'poll3=true',
      'completed=true',
    ]);
    expect(rcu.oracle!.violations).toEqual([]);
  });

  it('a cookie taken during a grace period needs the next full one', () => {
    const { m, rcu } = boot();
    const seen: boolean[] = [];
    let cookie = 0;
    task(m, function* () {
      const first = rcu.startPollSynchronizeRcu();
      // Wait until that grace period is running, then take a cookie.
      while (!rcu.gpInProgress()) yield m.sleep(100_000);
      cookie = rcu.getStateSynchronizeRcu();
      expect(cookie).toBe(first + 4);
      while (!rcu.pollStateSynchronizeRcu(first)) yield m.sleep(100_000);
      seen.push(rcu.pollStateSynchronizeRcu(cookie));
    });
    m.run({ until: 200 * MS });
    expect(seen).toEqual([false]);
  });

  it('start_poll_synchronize_rcu() makes sure a grace period starts; cond_synchronize_rcu() then returns without waiting', () => {
    const { m, rcu } = boot();
    let waited = -1;
    task(m, function* () {
      const cookie = rcu.startPollSynchronizeRcu();
      yield m.sleep(50 * MS);
      expect(rcu.pollStateSynchronizeRcu(cookie)).toBe(true);
      const t0 = m.now();
      yield* rcu.condSynchronizeRcu(cookie);
      waited = m.now() - t0;
    });
    m.run({ until: 200 * MS });
    // Only the poll itself (a load of rcu_state.gp_seq) is charged.
    expect(waited).toBeLessThan(1000);
    expect(rcu.stats().gpCompleted).toBe(1);
  });

  it('the _full cookies complete on either a normal or an expedited grace period', () => {
    const { m, rcu } = boot();
    const log: boolean[] = [];
    task(m, function* () {
      const s = rcu.getStateSynchronizeRcuFull();
      log.push(rcu.pollStateSynchronizeRcuFull(s));
      yield* rcu.synchronizeRcuExpedited();
      log.push(rcu.pollStateSynchronizeRcuFull(s));
      log.push(rcu.pollStateSynchronizeRcu(s.rgosNorm));
    });
    m.run({ until: 200 * MS });
    expect(log).toEqual([false, true, false]);
  });

  it('rcu_barrier() returns only after every earlier callback on every CPU ran; later ones may still be pending', () => {
    const { m, rcu } = boot({ machine: { nrCpus: 4 } });
    const heads = m.memory.memblockAlloc(64 * 16, 64);
    const ran = new Set<number>();
    let afterBarrier: number[] = [];
    let late = 0;
    const cb = rcu.defineCallback('barrier_test_cb', (h) => ran.add(h));
    for (let c = 0; c < 4; c++) {
      task(
        m,
        function* () {
          for (let i = 0; i < 8; i++) {
            rcu.callRcu(heads + (c * 8 + i) * 16, cb);
            yield m.busy(300_000);
          }
          yield m.busy(20 * MS);
        },
        { cpu: c },
      );
    }
    task(
      m,
      function* () {
        yield m.sleep(3 * MS);
        yield* rcu.rcuBarrier();
        afterBarrier = [...ran];
        for (let i = 0; i < 32; i++) expect(ran.has(heads + i * 16)).toBe(true);
        rcu.callRcu(heads + 40 * 16, cb);
        late = rcu.callbacksPending();
      },
      { cpu: 0 },
    );
    m.run({ until: 300 * MS });
    expect(afterBarrier.length).toBeGreaterThanOrEqual(32);
    expect(late).toBe(1);
    expect(rcu.stats().barriers).toBe(1);
  });

  it('concurrent rcu_barrier() callers share one barrier', () => {
    const { m, rcu } = boot();
    const heads = m.memory.memblockAlloc(4 * 16, 64);
    const done: number[] = [];
    for (let c = 0; c < 4; c++) {
      task(
        m,
        function* () {
          rcu.callRcu(heads + c * 16, () => {});
          yield* rcu.rcuBarrier();
          done.push(c);
        },
        { cpu: c },
      );
    }
    m.run({ until: 200 * MS });
    expect(done).toHaveLength(4);
    expect(rcu.stats().barriers).toBeLessThan(4);
  });

  it('an empty rcu_barrier() sends no IPI and returns at once', () => {
    const { m, rcu } = boot();
    let took = -1;
    task(m, function* () {
      const t0 = m.now();
      yield* rcu.rcuBarrier();
      took = m.now() - t0;
    });
    m.run({ until: 10 * MS });
    expect(took).toBeGreaterThanOrEqual(0);
    expect(took).toBeLessThan(100_000);
  });

  it('synchronize_rcu() inside a reader is illegal: lockdep says so, and preemptible RCU says it may not sleep', () => {
    const { m, rcu } = boot({ machine: { preempt: 'full' } });
    task(m, function* () {
      rcu.rcuReadLock();
      yield* rcu.synchronizeRcu();
      rcu.rcuReadUnlock();
    });
    m.run({ until: 100 * MS });
    expect(kinds(m)).toContain('lockdep-rcu-suspicious');
    expect(m.dmesg()).toContain('Illegal synchronize_rcu() in RCU read-side critical section!');
    expect(kinds(m)).toContain('might-sleep');
    expect(m.dmesg()).toContain('RCU nest depth: 1, expected: 0');
  });
});
