import { createMachine } from '@sim/cpu';
import { createLocking } from '@sim/locks';
import { describe, expect, it } from 'vitest';
import {
  createRcu,
  parseCpuList,
  RcuError,
  resolveRcuOptions,
  startRcuTorture,
  TestObjectPool,
  TestPagePool,
  TestShrinkerRegistry,
} from '../src/index.js';
import { boot, MS } from './boot.js';

const M = { nrCpus: 4, hz: 1000, rt: false };

function expectCode(fn: () => unknown, code: string, text: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RcuError);
    expect((e as RcuError).code).toBe(code);
    expect((e as Error).message).toMatch(text);
    return;
  }
  throw new Error('expected an RcuError');
}

describe('options and ports', { timeout: 60_000 }, () => {
  it('fills in the kernel defaults for the machine', () => {
    const o = resolveRcuOptions({}, M);
    expect(o).toMatchObject({
      fanout: 64,
      fanoutLeaf: 16,
      blimit: 10,
      qhimark: 10000,
      qlowmark: 100,
      qovld: 20000,
      rcuDivisor: 7,
      rcuReschedNs: 3_000_000,
      jiffiesTillFirstFqs: 3,
      jiffiesTillNextFqs: 3,
      jiffiesTillSchedQs: 100,
      useSoftirq: true,
      rcuCpuStallTimeout: 21,
      rcuNormal: false,
      kfreeRcu: 'batched',
      rcuMinCachedObjs: 5,
      rcuDelayPageCacheFillMsec: 5000,
      kfreeDrainJiffies: 5000,
    });
    const rt = resolveRcuOptions({}, { nrCpus: 4, hz: 250, rt: true });
    expect(rt.useSoftirq).toBe(false);
    expect(rt.rcuNormal).toBe(true);
    expect(rt.jiffiesTillFirstFqs).toBe(1);
    expect(rt.kfreeDrainJiffies).toBe(1250);
  });

  it('rejects bad and unknown options naming the value and what is accepted', () => {
    expectCode(
      () => resolveRcuOptions({ fanoutLeaf: 1 }, M),
      'BAD_OPTION',
      /fanoutLeaf = 1 is invalid: accepted an integer in \[2, 64\]/,
    );
    expectCode(
      () => resolveRcuOptions({ kfreeRcu: 'lazy' as never }, M),
      'BAD_OPTION',
      /'batched', 'per-object', 'offset-2008', 'sheaf', 'naive-atomic-alloc'/,
    );
    expectCode(
      () => resolveRcuOptions({ blimt: 3 } as never, M),
      'UNKNOWN_OPTION',
      /blimt is not an rcu option/,
    );
    expectCode(
      () => resolveRcuOptions({ useSoftirq: 1 as never }, M),
      'BAD_OPTION',
      /true or false/,
    );
    expectCode(
      () => resolveRcuOptions({ rcuNocbs: '1-9' }, M),
      'BAD_OPTION',
      /CPU numbers in \[0, 3\]/,
    );
    expectCode(() => resolveRcuOptions({ rcuNocbs: 'x' }, M), 'BAD_OPTION', /cpulist/);
    // The stall timeout is clamped to 3-300 s as the kernel does.
    expect(resolveRcuOptions({ rcuCpuStallTimeout: 1 }, M).rcuCpuStallTimeout).toBe(3);
  });

  it('parses cpulists as rcu_nocbs= does', () => {
    expect(parseCpuList('0-2,5', 8)).toEqual([0, 1, 2, 5]);
    expect(parseCpuList('all', 3)).toEqual([0, 1, 2]);
    expect(parseCpuList('', 3)).toEqual([]);
    expect(parseCpuList([3, 1, 1], 4)).toEqual([1, 3]);
  });

  it('validates ports before building anything, and allows one RCU per machine', () => {
    const m = createMachine({ nrCpus: 2 });
    const locking = createLocking(m);
    const pool = new TestObjectPool(m);
    const pages = new TestPagePool(m, locking);
    const shrinkers = new TestShrinkerRegistry();
    expectCode(
      () => createRcu({ machine: m, locking, freer: {} as never, pages, shrinkers }),
      'BAD_PORT',
      /freer lacks kfree\(\)/,
    );
    expectCode(
      () =>
        createRcu({ machine: m, locking, freer: pool, pages, shrinkers }, { kfreeRcu: 'sheaf' }),
      'BAD_PORT',
      /needs ports.sheaf/,
    );
    expectCode(
      () => createRcu({ machine: m, locking, freer: pool, pages, shrinkers }, { fanout: 99 }),
      'BAD_OPTION',
      /fanout = 99/,
    );
    expect(m.tasks().some((t) => t.comm === 'rcu_sched')).toBe(false);
    createRcu({ machine: m, locking, freer: pool, pages, shrinkers });
    expectCode(
      () => createRcu({ machine: m, locking, freer: pool, pages, shrinkers }),
      'ALREADY_CREATED',
      /one createRcu\(\) per machine/,
    );
  });

  it('rejects bad rcutorture options', () => {
    const { rcu } = boot();
    expectCode(() => startRcuTorture(rcu, { nmiRate: 2 }), 'BAD_OPTION', /probability/);
    expectCode(() => startRcuTorture(rcu, { durationNs: -1 }), 'BAD_OPTION', /durationNs = -1/);
  });
});

describe('determinism', { timeout: 60_000 }, () => {
  it('the same configuration and seed give byte-identical logs and statistics', () => {
    const run = () => {
      const { m, rcu } = boot({
        machine: { nrCpus: 4, preempt: 'full', seed: 42 },
        rcu: { oracle: true },
      });
      const t = startRcuTorture(rcu, { durationNs: 200 * MS });
      m.run({ until: 300 * MS });
      t.finish();
      return { log: m.dmesg(), stats: JSON.stringify(rcu.stats()) };
    };
    const a = run();
    const b = run();
    expect(a.log).toBe(b.log);
    expect(a.stats).toBe(b.stats);
  });
});
