import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RCU_BLIMIT, RcuError } from '../src/index.js';
import { boot, kinds, MS, task } from './boot.js';

describe('call_rcu() and callback invocation', { timeout: 30_000 }, () => {
  it('blimit: 25 ready callbacks on a busy CPU are invoked 10 at a time over 3 passes', () => {
    const { m, rcu } = boot({ machine: { preempt: 'voluntary' } });
    const heads = m.memory.memblockAlloc(25 * 16, 64);
    const passOf: number[] = [];
    const cb = rcu.defineCallback('count_cb', () => passOf.push(rcu.stats().batches));
    task(
      m,
      function* () {
        for (let i = 0; i < 25; i++) rcu.callRcu(heads + i * 16, cb);
        // Stay busy so rcu_do_batch() honours the limit (it does not on an idle CPU).
        yield m.busy(50 * MS);
      },
      { cpu: 1 },
    );
    m.run({ until: 60 * MS });
    expect(passOf).toHaveLength(25);
    const perPass = new Map<number, number>();
    for (const p of passOf) perPass.set(p, (perPass.get(p) ?? 0) + 1);
    expect([...perPass.values()]).toEqual([10, 10, 5]);
  });

  it('qhimark: a flood lifts the batch limit to DEFAULT_MAX_RCU_BLIMIT until the queue drains below qlowmark', () => {
    const { m, rcu } = boot({ rcu: { qhimark: 200, qlowmark: 20 } });
    const n = 1000;
    const heads = m.memory.memblockAlloc(n * 16, 64);
    let invoked = 0;
    const cb = rcu.defineCallback('flood_cb', () => invoked++);
    let blimitDuringFlood = 0;
    task(
      m,
      function* () {
        for (let i = 0; i < n; i++) {
          rcu.callRcu(heads + i * 16, cb);
          if (i % 100 === 99) yield m.busy(50_000);
        }
        blimitDuringFlood = rcu.stats().perCpu[1]!.blimit;
        yield m.busy(100 * MS);
      },
      { cpu: 1 },
    );
    m.run({ until: 200 * MS });
    expect(invoked).toBe(n);
    expect(blimitDuringFlood).toBe(DEFAULT_MAX_RCU_BLIMIT);
    expect(rcu.stats().perCpu[1]!.blimit).toBe(10);
  });

  it('on PREEMPT_RT callbacks run in rcuc/N kthreads (rcutree.use_softirq=0)', () => {
    const { m, rcu } = boot({ machine: { preempt: 'rt' } });
    expect(rcu.options.useSoftirq).toBe(false);
    expect(m.dmesg()).toContain('RCU_SOFTIRQ processing moved to rcuc kthreads.');
    expect(m.tasks().some((t) => t.comm === 'rcuc/0')).toBe(true);
    const head = m.memory.memblockAlloc(16, 16);
    let where = '';
    task(m, function* () {
      rcu.callRcu(head, () => {
        where = `${m.current.comm} ${m.context()} bh=${m.inSoftirq()}`;
      });
      yield m.busy(20 * MS);
    });
    m.run({ until: 50 * MS });
    expect(where).toMatch(/^rcuc\/\d task bh=true$/);
  });

  it('call_rcu() is legal from hardirq, with irqs off, and under a raw spinlock on PREEMPT_RT', () => {
    const { m, rcu, locking } = boot({ machine: { preempt: 'rt' } });
    const heads = m.memory.memblockAlloc(3 * 16, 64);
    let ran = 0;
    const cb = rcu.defineCallback('ok_cb', () => ran++);
    const raw = locking.rawSpinLock('&my->raw_lock');
    const irq = m.requestIrq('mydev', () => rcu.callRcu(heads, cb));
    task(m, function* () {
      const flags = m.localIrqSave();
      rcu.callRcu(heads + 16, cb);
      m.localIrqRestore(flags);
      raw.lock();
      rcu.callRcu(heads + 32, cb);
      raw.unlock();
      m.raiseIrq(2, irq);
      yield m.sleep(30 * MS);
    });
    m.run({ until: 60 * MS });
    expect(ran).toBe(3);
    expect(m.reports()).toEqual([]);
  });

  it('CONFIG_DEBUG_OBJECTS_RCU_HEAD: queueing the same rcu_head twice is reported and the second is dropped', () => {
    const { m, rcu } = boot();
    const head = m.memory.memblockAlloc(16, 16);
    let ran = 0;
    const cb = rcu.defineCallback('twice_cb', () => ran++);
    task(m, function* () {
      rcu.callRcu(head, cb);
      rcu.callRcu(head, cb);
      yield m.sleep(30 * MS);
    });
    m.run({ until: 60 * MS });
    expect(ran).toBe(1);
    expect(kinds(m)).toEqual(['rcu-double-free']);
    expect(m.dmesg()).toContain('Double-freed CB');
    expect(m.dmesg()).toContain('twice_cb+0x0/0x40()!!!');
  });

  it('rejects a misaligned rcu_head or a bad callback before touching anything', () => {
    const { m, rcu } = boot();
    const head = m.memory.memblockAlloc(32, 16);
    expect(() => rcu.callRcu(head + 4, () => {})).toThrow(RcuError);
    try {
      m.runOn(0, () => rcu.callRcu(head + 4, () => {}));
    } catch (e) {
      expect((e as RcuError).code).toBe('MISALIGNED_HEAD');
    }
    expect(() => rcu.callRcu(head, 42 as never)).toThrow(/accepted an RcuCallback or a function/);
    expect(() => rcu.callRcu(-8, () => {})).toThrow(/rcu_head address -8 is invalid/);
    expect(rcu.callbacksPending()).toBe(0);
  });

  it('callbacks are walked through the rcu_head words in memory: a cold list costs a miss per callback', () => {
    const { m, rcu } = boot({
      machine: {
        cache: {
          l1: { sizeBytes: 4096, ways: 4, latencyNs: 1 },
          l2: { sizeBytes: 16384, ways: 4, latencyNs: 4 },
          llc: { sizeBytes: 65536, ways: 8, latencyNs: 12 },
        },
      },
    });
    const n = 4000;
    const heads = m.memory.memblockAlloc(n * 128, 4096);
    const cb = rcu.defineCallback('cold_cb', () => {});
    task(
      m,
      function* () {
        for (let i = 0; i < n; i++) rcu.callRcu(heads + i * 128, cb);
        yield m.busy(100 * MS);
      },
      { cpu: 1 },
    );
    m.run({ until: 150 * MS });
    const invoke = rcu.stats().sites.find((s) => s.label === 'rcu.invoke')!;
    expect(rcu.stats().callbacksInvoked).toBe(n);
    // One line per rcu_head, evicted from this small cache before the grace period ended.
    expect(invoke.misses / n).toBeGreaterThan(0.9);
  });
});
