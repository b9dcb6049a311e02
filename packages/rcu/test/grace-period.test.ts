import { PREEMPT_MODELS } from '@sim/cpu';
import { describe, expect, it } from 'vitest';
import { rcuNodeGeometry } from '../src/index.js';
import { boot, MS, task } from './boot.js';

describe('Tree RCU grace periods', { timeout: 30_000 }, () => {
  it('names the grace-period kthread after the flavour and counts gp_seq in steps of 4', () => {
    const a = boot({ machine: { preempt: 'voluntary' } });
    const b = boot({ machine: { preempt: 'full' } });
    expect(a.rcu.gpKthread.comm).toBe('rcu_sched');
    expect(b.rcu.gpKthread.comm).toBe('rcu_preempt');
    expect(a.m.dmesg()).toContain('rcu: Hierarchical RCU implementation.');
    expect(b.m.dmesg()).toContain('rcu: Preemptible hierarchical RCU implementation.');
    const { m, rcu } = b;
    task(m, function* () {
      for (let i = 0; i < 3; i++) yield* rcu.synchronizeRcu();
    });
    m.run({ until: 200 * MS });
    const s = rcu.stats();
    expect(s.gpCompleted).toBeGreaterThanOrEqual(3);
    expect(rcu.gpSeq).toBe(4 * s.gpCompleted);
    expect(s.gpState).toBe('RCU_GP_WAIT_GPS');
  });

  for (const preempt of PREEMPT_MODELS) {
    it(`${preempt}: a callback runs only after every CPU passed a quiescent state, in softirq with BH disabled`, () => {
      const { m, rcu } = boot({ machine: { preempt }, rcu: { oracle: true } });
      const seen: { time: number; softirq: boolean; bh: boolean; ctx: string }[] = [];
      const cb = rcu.defineCallback('record_cb', () => {
        seen.push({
          time: m.now(),
          softirq: m.inServingSoftirq(),
          bh: m.inSoftirq(),
          ctx: m.context(),
        });
      });
      const head = m.memory.memblockAlloc(16, 16);
      let unlockAt = 0;
      // A reader on CPU 2 that began before call_rcu() and lasts 12 ms.
      task(
        m,
        function* () {
          rcu.rcuReadLock();
          yield m.busy(12 * MS);
          unlockAt = m.now();
          rcu.rcuReadUnlock();
        },
        { cpu: 2 },
      );
      task(
        m,
        function* () {
          yield m.sleep(1 * MS);
          rcu.callRcu(head, cb);
        },
        { cpu: 1 },
      );
      m.run({ until: 100 * MS });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.time).toBeGreaterThan(unlockAt);
      expect(seen[0]!.bh).toBe(true);
      if (preempt === 'rt') {
        // PREEMPT_RT: rcuc kthreads with bottom halves disabled.
        expect(seen[0]!.ctx).toBe('task');
      } else {
        expect(seen[0]!.softirq).toBe(true);
      }
      expect(rcu.oracle!.violations).toEqual([]);
      expect(rcu.stats().callbacksInvoked).toBe(1);
    });
  }

  it('idle CPUs are reported by the force-quiescent-state scan, not by their (stopped) ticks', () => {
    const { m, rcu } = boot({ machine: { nrCpus: 8 } });
    let took = 0;
    task(
      m,
      function* () {
        const t0 = m.now();
        yield* rcu.synchronizeRcu();
        took = m.now() - t0;
      },
      { cpu: 0 },
    );
    m.run({ until: 100 * MS });
    const s = rcu.stats();
    expect(s.fqsScans).toBeGreaterThan(0);
    // jiffies_till_first_fqs is 3 at HZ=1000: a grace period on an idle machine takes a few jiffies.
    expect(took).toBeGreaterThanOrEqual(3 * MS);
    expect(took).toBeLessThan(15 * MS);
    for (let c = 1; c < 8; c++) expect(m.tickRunning(c)).toBe(false);
  });

  it('none/voluntary: a preempt-disabled region blocks the grace period, a preemptible busy loop does not', () => {
    for (const preempt of ['none', 'voluntary'] as const) {
      const { m, rcu } = boot({ machine: { preempt } });
      let gpEnd = 0;
      let regionEnd = 0;
      task(
        m,
        function* () {
          m.preemptDisable();
          yield m.busy(30 * MS);
          regionEnd = m.now();
          m.preemptEnable();
          // PREEMPT_COUNT: with nothing held, the tick itself is a quiescent state.
          yield m.busy(200 * MS);
        },
        { cpu: 3 },
      );
      task(
        m,
        function* () {
          yield m.sleep(1 * MS);
          yield* rcu.synchronizeRcu();
          gpEnd = m.now();
          const t0 = m.now();
          yield* rcu.synchronizeRcu();
          expect(m.now() - t0).toBeLessThan(15 * MS);
        },
        { cpu: 0 },
      );
      m.run({ until: 300 * MS });
      expect(gpEnd).toBeGreaterThan(regionEnd);
    }
  });

  it('preemptible RCU: a reader preempted inside its critical section is queued on blkd_tasks and blocks the grace period', () => {
    for (const preempt of ['full', 'rt'] as const) {
      const { m, rcu } = boot({ machine: { preempt }, rcu: { oracle: true } });
      let unlockAt = 0;
      let gpEnd = 0;
      let blockedWhilePreempted = 0;
      task(
        m,
        function* () {
          rcu.rcuReadLock();
          yield m.busy(10 * MS);
          unlockAt = m.now();
          rcu.rcuReadUnlock();
        },
        { cpu: 1, comm: 'reader' },
      );
      // A real-time task preempts the reader for 40 ms.
      task(
        m,
        function* () {
          yield m.sleep(2 * MS);
          yield m.busy(40 * MS);
        },
        { cpu: 1, prio: 10, comm: 'rt-hog' },
      );
      task(
        m,
        function* () {
          yield m.sleep(4 * MS);
          yield* rcu.synchronizeRcu();
          gpEnd = m.now();
        },
        { cpu: 0 },
      );
      m.run({ until: 20 * MS });
      blockedWhilePreempted = rcu.stats().blockedTasks;
      m.run({ until: 200 * MS });
      expect(blockedWhilePreempted).toBe(1);
      expect(unlockAt).toBeGreaterThan(40 * MS);
      expect(gpEnd).toBeGreaterThan(unlockAt);
      expect(rcu.stats().blockedTasks).toBe(0);
      expect(rcu.oracle!.violations).toEqual([]);
    }
  });

  it('a reader that starts after its CPU reported does not block the grace period, even when preempted', () => {
    const { m, rcu } = boot({ machine: { preempt: 'full' } });
    let gpEnd = 0;
    let lateReaderEnd = 0;
    // CPU 2 holds the grace period open until 30 ms.
    task(
      m,
      function* () {
        rcu.rcuReadLock();
        yield m.busy(30 * MS);
        rcu.rcuReadUnlock();
      },
      { cpu: 2 },
    );
    // CPU 1 runs outside any reader (its tick reports), then enters a reader at 8 ms.
    task(
      m,
      function* () {
        yield m.busy(8 * MS);
        rcu.rcuReadLock();
        yield m.busy(5 * MS);
        rcu.rcuReadUnlock();
        lateReaderEnd = m.now();
      },
      { cpu: 1 },
    );
    // ... and is preempted inside it for 60 ms.
    task(
      m,
      function* () {
        yield m.sleep(10 * MS);
        yield m.busy(60 * MS);
      },
      { cpu: 1, prio: 10 },
    );
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield* rcu.synchronizeRcu();
        gpEnd = m.now();
      },
      { cpu: 0 },
    );
    m.run({ until: 200 * MS });
    expect(lateReaderEnd).toBeGreaterThan(70 * MS);
    expect(gpEnd).toBeGreaterThan(30 * MS);
    expect(gpEnd).toBeLessThan(lateReaderEnd);
  });

  it('builds the rcu_node tree with the configured fanout and propagates quiescent states through it', () => {
    expect(rcuNodeGeometry(4, 64, 16)).toEqual({ levels: 1, levelSizes: [1], nodes: 1 });
    expect(rcuNodeGeometry(256, 64, 16)).toEqual({ levels: 2, levelSizes: [1, 16], nodes: 17 });
    expect(rcuNodeGeometry(8, 2, 2)).toEqual({ levels: 3, levelSizes: [1, 2, 4], nodes: 7 });
    const { m, rcu } = boot({
      machine: { nrCpus: 8 },
      rcu: { fanout: 2, fanoutLeaf: 2, oracle: true },
    });
    expect(rcu.geometry.levels).toBe(3);
    expect(m.dmesg()).toContain('rcu: Adjusting geometry for rcu_fanout_leaf=2, nr_cpu_ids=8');
    const heads = m.memory.memblockAlloc(8 * 16, 64);
    let ran = 0;
    for (let c = 0; c < 8; c++) {
      task(
        m,
        function* () {
          rcu.rcuReadLock();
          yield m.busy((c + 1) * MS);
          rcu.rcuReadUnlock();
          rcu.callRcu(heads + c * 16, () => ran++);
          yield m.busy(2 * MS);
        },
        { cpu: c },
      );
    }
    m.run({ until: 200 * MS });
    expect(ran).toBe(8);
    expect(rcu.oracle!.violations).toEqual([]);
  });

  it('keeps the tick of a CPU with pending callbacks and lets idle CPUs stop theirs', () => {
    const { m, rcu } = boot();
    const head = m.memory.memblockAlloc(16, 16);
    let ran = false;
    // From an interrupt-free driver call on an idle CPU: the tick is off there.
    m.runOn(2, () => rcu.callRcu(head, () => (ran = true)));
    m.run({ until: 100 * MS });
    expect(ran).toBe(true);
    expect(rcu.callbacksPending()).toBe(0);
  });
});
