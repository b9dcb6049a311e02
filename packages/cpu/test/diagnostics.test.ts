import { describe, expect, it } from 'vitest';
import {
  Completion,
  createMachine,
  formatTimestamp,
  IRQF_NO_THREAD,
  KernelPanic,
  TASK_DEAD,
} from '../src/index.js';

describe('might_sleep()', () => {
  it('in a preempt-disabled task prints the kernel report with its follow-up lines', () => {
    const m = createMachine();
    const fn = m.fnId('my_driver_fn');
    const pid = m.runOn(0, () => {
      m.fnEnter(fn);
      m.preemptDisable();
      m.mightSleep('mm/slub.c:4242');
      m.preemptEnable();
      m.fnExit();
      return m.current.pid;
    });
    const [r] = m.reports({ kind: 'might-sleep' });
    expect(r).toBeDefined();
    const lines = r!.text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'BUG: sleeping function called from invalid context at mm/slub.c:4242',
      `in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: ${pid}, name: driver/0`,
      'preempt_count: 1, expected: 0',
      'Preemption disabled at:',
      expect.stringMatching(/^\[<ffffffff[0-9a-f]{8}>\] my_driver_fn$/),
    ]);
    expect(lines[5]).toBe(
      `CPU: 0 UID: 0 PID: ${pid} Comm: driver/0 Not tainted 6.18.0-sim #1 PREEMPT(voluntary) `,
    );
    expect(lines.slice(6)).toEqual([
      'Call Trace:',
      ' <TASK>',
      ' dump_stack_lvl',
      ' __might_resched',
      ' __might_sleep',
      ' my_driver_fn',
      ' </TASK>',
    ]);
    expect(r!.context).toBe('task');
    expect(r!.details).toMatchObject({ inAtomic: true, irqsDisabled: false, preemptCount: 1 });
    expect(m.tainted()).toBe('Tainted: G        W          ');
    expect(m.dmesg()).toContain(
      '] BUG: sleeping function called from invalid context at mm/slub.c:4242',
    );
  });

  it('is silent in a preemptible task and reports with irqs off, in hardirq, and in the idle task', () => {
    const m = createMachine({ nrCpus: 2 });
    m.runOn(0, () => m.mightSleep('ok.c:1'));
    expect(m.reports()).toHaveLength(0);

    m.runOn(0, () => {
      m.localIrqDisable();
      m.mightSleep('irqs-off.c:1');
      m.localIrqEnable();
    });
    let r = m.reports({ kind: 'might-sleep' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toContain('in_atomic(): 0, irqs_disabled(): 1');
    expect(r[0]!.text).not.toContain('Preemption disabled at:');

    // Rate limited to one report per HZ: move on a second.
    m.run({ until: 1_100_000_000 });
    const irq = m.requestIrq('dev', () => m.mightSleep('hardirq.c:1'), IRQF_NO_THREAD);
    m.raiseIrq(1, irq);
    m.run({ until: 1_200_000_000 });
    r = m.reports({ kind: 'might-sleep' });
    expect(r).toHaveLength(2);
    expect(r[1]!.context).toBe('hardirq');
    expect(r[1]!.text).toContain('preempt_count: 10000, expected: 0');
    expect(r[1]!.text).toContain(' <IRQ>');

    m.run({ until: 2_400_000_000 });
    m.queueEvent(2_500_000_000, 1, () => m.mightSleep('idle.c:1'));
    m.runUntilIdle();
    r = m.reports({ kind: 'might-sleep' });
    expect(r).toHaveLength(3);
    expect(r[2]!.comm).toBe('swapper/1');
    expect(r[2]!.pid).toBe(0);
  });

  it('is rate-limited to once per HZ like __might_resched()', () => {
    const m = createMachine({ hz: 250 });
    const t = m.spawn(function* () {
      for (let i = 0; i < 30; i++) {
        m.preemptDisable();
        m.mightSleep('loop.c:7');
        m.preemptEnable();
        yield m.msleep(100);
      }
    });
    m.runUntilIdle();
    expect(t.state).toBe(TASK_DEAD);
    // 30 calls spread over ~3 s of virtual time: one report per second.
    const n = m.reports({ kind: 'might-sleep' }).length;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThanOrEqual(4);
  });

  it('prints the RCU nest depth and held locks when providers are registered', () => {
    const m = createMachine({ preempt: 'full' });
    let depth = 0;
    m.setRcuNestDepthProvider(() => depth);
    m.setHeldLocksProvider((t) =>
      t.comm === 'driver/0'
        ? [' #0: ffff888000001000 (&zone->lock){....}-{3:3}, at: rmqueue_bulk']
        : [],
    );
    m.runOn(0, () => {
      depth = 1;
      m.mightSleep('kernel/locking/mutex.c:283');
      depth = 0;
    });
    const [r] = m.reports({ kind: 'might-sleep' });
    const lines = r!.text.split('\n');
    expect(lines[2]).toBe('preempt_count: 0, expected: 0');
    expect(lines[3]).toBe('RCU nest depth: 1, expected: 0');
    expect(lines[4]).toMatch(/^1 lock held by driver\/0\/\d+:$/);
    expect(lines[5]).toBe(' #0: ffff888000001000 (&zone->lock){....}-{3:3}, at: rmqueue_bulk');
    expect(r!.locks).toEqual([' #0: ffff888000001000 (&zone->lock){....}-{3:3}, at: rmqueue_bulk']);
  });

  it('mightResched() accepts the expected offsets (cond_resched_lock style)', () => {
    const m = createMachine();
    const reported = m.runOn(0, () => {
      m.preemptDisable();
      const r = m.mightResched('kernel/sched/core.c', 1, 0);
      m.preemptEnable();
      return r;
    });
    expect(reported).toBe(false);
    expect(m.reports()).toHaveLength(0);
  });
});

describe('scheduling while atomic', () => {
  it('reports, resets the preempt count, and the task still sleeps', () => {
    const m = createMachine();
    const t = m.spawn(
      function* () {
        m.preemptDisable();
        m.preemptDisable();
        yield m.sleep(1000);
        return m.preemptCount();
      },
      { comm: 'bad-sleeper' },
    );
    m.runUntilIdle();
    const [r] = m.reports({ kind: 'scheduling-while-atomic' });
    expect(r).toBeDefined();
    const lines = r!.text.split('\n');
    expect(lines[0]).toBe(`BUG: scheduling while atomic: bad-sleeper/${t.pid}/0x00000002`);
    expect(lines).toContain('Modules linked in:');
    expect(lines).toContain(' schedule');
    expect(r!.details).toMatchObject({ preemptCount: 2 });
    expect(t.result).toBe(0);
    expect(t.state).toBe(TASK_DEAD);
    expect(m.tainted()).toContain('W');
  });

  it('waiting for a completion in atomic context gives both BUG reports', () => {
    const m = createMachine({ nrCpus: 2 });
    const c = new Completion(m);
    m.spawn(
      function* () {
        m.localBhDisable();
        yield c.wait();
        m.localBhEnable();
      },
      { cpu: 0 },
    );
    m.spawn(
      function* () {
        yield m.msleep(5);
        c.complete();
      },
      { cpu: 1 },
    );
    m.runUntilIdle();
    // schedule_debug() reset the count, so the later local_bh_enable() is
    // unbalanced, as on a real kernel.
    expect(m.reports().map((r) => r.kind)).toEqual([
      'might-sleep',
      'scheduling-while-atomic',
      'preempt-imbalance',
    ]);
    expect(m.reports({ kind: 'scheduling-while-atomic' })[0]!.text).toMatch(/\/0x00000200\n/);
  });

  it('panic_on_warn turns the first report into a KernelPanic after logging it', () => {
    const m = createMachine({ panicOnWarn: true });
    m.spawn(function* () {
      m.preemptDisable();
      yield m.sleep(10);
    });
    expect(() => m.runUntilIdle()).toThrow(KernelPanic);
    expect(m.dmesg()).toContain('BUG: scheduling while atomic');
    expect(m.dmesg()).toContain(
      'Kernel panic - not syncing: scheduling-while-atomic: panic_on_warn set ...',
    );
  });
});

describe('smp_processor_id() and this_cpu_ptr()', () => {
  it('report in preemptible code that can migrate', () => {
    const m = createMachine({ nrCpus: 2 });
    const counters = m.definePerCpu((cpu) => ({ cpu, hits: 0 }));
    const user = m.spawn(
      () => {
        counters.thisCpuPtr().hits++;
      },
      { comm: 'user-task' },
    );
    m.runUntilIdle();
    const r = m.reports({ kind: 'smp-processor-id-preemptible' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text.split('\n')[0]).toBe(
      `BUG: using smp_processor_id() in preemptible [00000000] code: user-task/${user.pid}`,
    );
    expect(r[0]!.text.split('\n')[1]).toMatch(/^caller is /);
  });

  it('are silent with preemption, irqs or migration disabled, and in per-CPU kthreads', () => {
    const m = createMachine({ nrCpus: 2 });
    const v = m.definePerCpu((cpu) => cpu * 10);
    m.spawn(() => {
      m.preemptDisable();
      expect(v.thisCpuPtr()).toBe(m.cpu * 10);
      m.preemptEnable();
      m.migrateDisable();
      v.thisCpuPtr();
      m.migrateEnable();
      const f = m.localIrqSave();
      m.smpProcessorId();
      m.localIrqRestore(f);
      expect(v.rawCpuPtr()).toBe(m.cpu * 10);
      expect(v.perCpuPtr(1)).toBe(10);
    });
    m.spawn(
      () => {
        v.thisCpuPtr();
      },
      { kthread: true, affinity: [1] },
    );
    m.runUntilIdle();
    expect(m.reports()).toHaveLength(0);
    expect(() => v.perCpuPtr(2)).toThrow(/cpu 2 is invalid/);
  });
});

describe('log and reports', () => {
  it('dmesg stamps lines with the printing CPU virtual time', () => {
    const m = createMachine({ nrCpus: 2 });
    m.queueEvent(1_234_567_890, 1, () => m.printk('info', 'hello from cpu1'));
    m.runUntilIdle();
    expect(m.dmesg()).toContain('[    1.234567] hello from cpu1\n');
    expect(formatTimestamp(98_765_432_100_000)).toBe('[98765.432100] ');
    expect(m.dmesg({ level: 'err' })).not.toContain('hello');
    expect(m.dmesg({ noTimestamps: true })).toContain('\nhello from cpu1\n');
  });

  it('report() stores structured records and filters by kind', () => {
    const m = createMachine();
    m.runOn(0, () => {
      m.report({
        kind: 'page-alloc-failure',
        lines: ['a: page allocation failure: order:3'],
        details: { order: 3 },
      });
      m.report({ kind: 'other', lines: ['x'], taint: 'B' });
    });
    expect(m.reports().map((r) => r.seq)).toEqual([0, 1]);
    const [r] = m.reports({ kind: 'page-alloc-failure' });
    expect(r).toMatchObject({
      kind: 'page-alloc-failure',
      cpu: 0,
      context: 'task',
      details: { order: 3 },
    });
    expect(m.tainted()).toBe('Tainted: G    B              ');
    expect(m.kernelIdent()).toBe('6.18.0-sim #1 Tainted: G    B              ');
    expect(() => m.report({ kind: '', lines: [] })).toThrow(/report/);
  });

  it('call traces mark interrupt stacks innermost first', () => {
    const m = createMachine({ preempt: 'full' });
    const irq = m.requestIrq(
      'dev',
      function dev_handler() {
        m.report({ kind: 'x', lines: ['X'], withStack: true });
      },
      IRQF_NO_THREAD,
    );
    m.runOn(0, () => {
      m.fnEnter(m.fnId('outer_fn'));
      m.fnEnter(m.fnId('inner_fn'));
      m.raiseIrq(0, irq);
      m.probe(m.defineProbe('p'));
      m.fnExit();
      m.fnExit();
    });
    const text = m.reports({ kind: 'x' })[0]!.text;
    const trace = text.slice(text.indexOf('Call Trace:')).split('\n');
    expect(trace).toEqual([
      'Call Trace:',
      ' <IRQ>',
      ' dump_stack_lvl',
      ' dev_handler',
      ' </IRQ>',
      ' <TASK>',
      ' inner_fn',
      ' outer_fn',
      ' </TASK>',
    ]);
    expect(m.callChain()).toEqual([]);
  });
});
