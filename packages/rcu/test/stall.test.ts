import { KernelPanic } from '@sim/cpu';
import { describe, expect, it } from 'vitest';
import { boot, MS, task } from './boot.js';

const S = 1000 * MS;

describe('RCU CPU stall warnings (kernel/rcu/tree_stall.h)', { timeout: 60_000 }, () => {
  it('a CPU spinning with preemption disabled self-detects a stall after the default 21 s', () => {
    const { m, rcu } = boot({ machine: { preempt: 'voluntary' } });
    task(
      m,
      function* () {
        m.preemptDisable();
        yield m.busy(23 * S);
        m.preemptEnable();
      },
      { cpu: 1, comm: 'spinner' },
    );
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield* rcu.synchronizeRcu();
      },
      { cpu: 0 },
    );
    m.run({ until: 24 * S });
    const stalls = m.reports({ kind: 'rcu-stall' });
    expect(stalls).toHaveLength(1);
    const r = stalls[0]!;
    expect(r.details.type).toBe('self');
    expect(r.cpu).toBe(1);
    expect(r.time).toBeGreaterThanOrEqual(21 * S);
    expect(r.time).toBeLessThan(21.1 * S);
    expect(r.text).toContain('rcu: INFO: rcu_sched self-detected stall on CPU');
    expect(r.text).toMatch(
      /rcu: \t1-\.\.\.[.0-9!]: \(\d+ ticks this GP\) idle=[0-9a-f]{4}\/1\/0x4000000000000000 softirq=\d+\/\d+ fqs=\d+/,
    );
    expect(r.text).toMatch(/rcu: \t\(t=210\d\d jiffies g=\d+ q=\d+ ncpus=4\)/);
    expect(rcu.stats().stallWarnings).toBe(1);
  });

  it('another CPU reports a CPU whose irqs are off (its irq_work probe never ran)', () => {
    const { m, rcu } = boot({ machine: { preempt: 'full' }, rcu: { rcuCpuStallTimeout: 3 } });
    task(
      m,
      function* () {
        m.localIrqDisable();
        yield m.busy(5 * S);
        m.localIrqEnable();
      },
      { cpu: 3, comm: 'irqs-off' },
    );
    task(
      m,
      function* () {
        yield m.busy(5 * S);
      },
      { cpu: 2 },
    );
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield* rcu.synchronizeRcu();
      },
      { cpu: 0 },
    );
    m.run({ until: 4 * S });
    const stalls = m.reports({ kind: 'rcu-stall' });
    expect(stalls.length).toBeGreaterThanOrEqual(1);
    const r = stalls[0]!;
    expect(r.details.type).toBe('other');
    expect(r.details.cpus).toEqual([3]);
    expect(r.text).toContain('rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:');
    // The irq_work sent halfway to the timeout is still pending: '0'.
    expect(r.text).toMatch(/rcu: \t3-\.\.\.0: /);
    expect(r.text).toMatch(/rcu: \t\(detected by [0-2], t=30\d\d jiffies, g=\d+, q=\d+ ncpus=4\)/);
    expect(r.text).toContain('Task dump for CPU 3:');
    expect(r.text).toContain('task:irqs-off');
  });

  it('lists readers preempted inside their critical section as tasks blocking the grace period', () => {
    const { m } = boot({ machine: { preempt: 'full' }, rcu: { rcuCpuStallTimeout: 3 } });
    const k = { m };
    let readerPid = 0;
    const reader = task(
      k.m,
      function* () {
        const rcu = boot.last!.rcu;
        rcu.rcuReadLock();
        yield m.busy(6 * S);
        rcu.rcuReadUnlock();
      },
      { cpu: 1, comm: 'reader' },
    );
    readerPid = reader.pid;
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield m.busy(6 * S);
      },
      { cpu: 1, prio: 10, comm: 'rt-hog' },
    );
    task(
      m,
      function* () {
        yield m.sleep(2 * MS);
        yield* boot.last!.rcu.synchronizeRcu();
      },
      { cpu: 0 },
    );
    m.run({ until: 4 * S });
    const r = m.reports({ kind: 'rcu-stall' })[0]!;
    expect(r.details.type).toBe('other');
    expect(r.details.tasks).toEqual([readerPid]);
    expect(r.text).toContain(
      `rcu: \tTasks blocked on level-0 rcu_node (CPUs 0-3): P${readerPid}/1:b..l`,
    );
  });

  it('reports a starved grace-period kthread when real-time hogs leave it no CPU', () => {
    const { m, rcu } = boot({ machine: { preempt: 'voluntary' }, rcu: { rcuCpuStallTimeout: 3 } });
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield* rcu.synchronizeRcu();
      },
      { cpu: 0 },
    );
    for (let c = 0; c < 4; c++) {
      task(
        m,
        function* () {
          // Start once the grace period is running and its kthread waits for quiescent states.
          yield m.sleep(6 * MS);
          yield m.busy(4 * S);
        },
        { cpu: c, prio: 10, comm: `hog${c}` },
      );
    }
    m.run({ until: 3.5 * S });
    const r = m.reports({ kind: 'rcu-stall' })[0]!;
    expect(r.details.starved).toBe(true);
    expect(r.text).toMatch(/rcu: All QSes seen, last rcu_sched kthread activity \d+/);
    expect(r.text).toMatch(
      /rcu: rcu_sched kthread starved for \d+ jiffies! g\d+ f0x[0-9a-f]+ RCU_GP_\w+\(\d\) ->state=0x[0-9a-f]+ ->cpu=\d/,
    );
    expect(r.text).toContain(
      'rcu: \tUnless rcu_sched kthread gets sufficient CPU time, OOM is now expected behavior.',
    );
  });

  it('an expedited grace period held up by a CPU with irqs off reports an expedited stall', () => {
    const { m } = boot({ machine: { preempt: 'voluntary' }, rcu: { rcuExpCpuStallTimeout: 20 } });
    task(
      m,
      function* () {
        m.localIrqDisable();
        yield m.busy(100 * MS);
        m.localIrqEnable();
      },
      { cpu: 2 },
    );
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield* boot.last!.rcu.synchronizeRcuExpedited();
      },
      { cpu: 0 },
    );
    m.run({ until: 200 * MS });
    const r = m.reports({ kind: 'rcu-stall' })[0]!;
    expect(r.details.type).toBe('expedited');
    expect(r.text).toMatch(
      /rcu: INFO: rcu_sched detected expedited stalls on CPUs\/tasks: \{ 2-\.\.\.D \} 2\d jiffies s: \d+ root: 0x4\/\./,
    );
    expect(boot.last!.rcu.stats().expGpCompleted).toBe(1);
  });

  it('panic_on_rcu_stall turns the first stall into a panic; rcu_cpu_stall_suppress silences them', () => {
    for (const suppress of [false, true]) {
      const { m, rcu } = boot({
        machine: { preempt: 'none' },
        rcu: { rcuCpuStallTimeout: 3, panicOnRcuStall: !suppress, rcuCpuStallSuppress: suppress },
      });
      task(
        m,
        function* () {
          m.preemptDisable();
          yield m.busy(4 * S);
          m.preemptEnable();
        },
        { cpu: 1 },
      );
      task(
        m,
        function* () {
          yield* rcu.synchronizeRcu();
        },
        { cpu: 0 },
      );
      if (suppress) {
        m.run({ until: 5 * S });
        expect(m.reports({ kind: 'rcu-stall' })).toHaveLength(0);
      } else {
        expect(() => m.run({ until: 5 * S })).toThrow(KernelPanic);
        expect(m.dmesg()).toContain('Kernel panic - not syncing: RCU Stall');
      }
    }
  });
});
