import { describe, expect, it } from 'vitest';
import { RcuError } from '../src/index.js';
import { boot, kinds, MS, task } from './boot.js';

describe('module lifecycle (seed 003)', { timeout: 30_000 }, () => {
  it('unloading a module with call_rcu() callbacks pending, then invoking one, is an Oops', () => {
    const { m, rcu, pool } = boot({ machine: { preempt: 'voluntary' } });
    const mod = rcu.loadModule('foo_mod');
    let ran = 0;
    const cb = mod.defineCallback('foo_free_rcu', (h) => {
      ran++;
      pool.kfree(h);
    });
    task(
      m,
      function* () {
        rcu.callRcu(pool.alloc(), cb);
        mod.unload(); // module_exit() without rcu_barrier()
        yield m.sleep(50 * MS);
      },
      { cpu: 1 },
    );
    m.run({ until: 60 * MS });
    expect(ran).toBe(0);
    expect(kinds(m)).toEqual(['oops']);
    const r = m.reports({ kind: 'oops' })[0]!;
    expect(r.text).toContain('BUG: unable to handle page fault for address: ffffffffc0200000');
    expect(r.text).toContain('#PF: supervisor instruction fetch in kernel mode');
    expect(r.text).toContain('#PF: error_code(0x0010) - not-present page');
    expect(r.text).toContain('Oops: Oops: 0010 [#1] SMP PTI');
    expect(r.text).toContain('Modules linked in: [last unloaded: foo_mod]');
    expect(r.text).toContain('RIP: 0010:0xffffffffc0200000');
    expect(r.text).toMatch(/rcu_do_batch[\s\S]*rcu_core/);
    expect(r.details.symbol).toBe('foo_free_rcu');
    expect(r.context).toBe('softirq');
    expect(m.tainted()).toContain('D');
    expect(rcu.stats().callbacksLost).toBe(1);
  });

  it('rcu_barrier() in the exit path before freeing the module text prevents it', () => {
    const { m, rcu, pool } = boot({ machine: { preempt: 'full' } });
    const mod = rcu.loadModule('foo_mod');
    let ran = 0;
    const cb = mod.defineCallback('foo_free_rcu', (h) => {
      ran++;
      pool.kfree(h);
    });
    task(m, function* () {
      for (let i = 0; i < 10; i++) rcu.callRcu(pool.alloc(), cb);
      yield* rcu.rcuBarrier();
      mod.unload();
      yield m.sleep(20 * MS);
    });
    m.run({ until: 100 * MS });
    expect(ran).toBe(10);
    expect(m.reports()).toEqual([]);
    expect(() => mod.defineCallback('late', () => {})).toThrow(RcuError);
  });

  it('a module that only uses kfree_rcu() leaves no function of its own behind: no barrier needed', () => {
    for (const strategy of ['offset-2008', 'per-object', 'batched'] as const) {
      const { m, rcu, pool } = boot({ rcu: { kfreeRcu: strategy } });
      const mod = rcu.loadModule('bar_mod');
      task(m, function* () {
        for (let i = 0; i < 10; i++) rcu.kfreeRcu(pool.alloc(), 16);
        mod.unload();
        yield m.sleep(10 * MS);
      });
      m.run({ until: 6 * 1000 * MS });
      expect(m.reports()).toEqual([]);
      expect(pool.live).toBe(0);
    }
  });

  it('Oops on PREEMPT_RT says so in its header and happens in the rcuc kthread', () => {
    const { m, rcu, pool } = boot({ machine: { preempt: 'rt' } });
    const mod = rcu.loadModule('rt_mod');
    const cb = mod.defineCallback('rt_mod_cb', () => {});
    task(m, function* () {
      rcu.callRcu(pool.alloc(), cb);
      mod.unload();
      yield m.sleep(30 * MS);
    });
    m.run({ until: 50 * MS });
    const r = m.reports({ kind: 'oops' })[0]!;
    expect(r.text).toContain('Oops: Oops: 0010 [#1] PREEMPT_RT SMP PTI');
    expect(r.comm).toMatch(/^rcuc\//);
  });

  it('rejects a bad module name', () => {
    const { rcu } = boot();
    expect(() => rcu.loadModule('bad name')).toThrow(/letters, digits and '_'/);
  });
});
