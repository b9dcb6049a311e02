import { describe, expect, it } from 'vitest';
import {
  createMachine,
  IRQF_NO_THREAD,
  IrqWork,
  TASK_DEAD,
  TASK_INTERRUPTIBLE,
  TIMER_IRQSAFE,
  TimerList,
  Work,
} from '../src/index.js';

describe('more waits', () => {
  it('schedule_timeout() returns the jiffies left when woken early, 0 on expiry', () => {
    const m = createMachine({ nrCpus: 2 });
    const early = m.spawn(
      function* () {
        m.setCurrentState(TASK_INTERRUPTIBLE);
        return yield* m.scheduleTimeout(100);
      },
      { cpu: 0 },
    );
    const late = m.spawn(
      function* () {
        m.setCurrentState(TASK_INTERRUPTIBLE);
        return yield* m.scheduleTimeout(3);
      },
      { cpu: 1 },
    );
    m.run({ until: 10_000_000 });
    m.runOn(1, () => m.wakeUpProcess(early));
    m.runUntilIdle();
    expect(early.result).toBeGreaterThan(85);
    expect(early.result).toBeLessThanOrEqual(91);
    expect(late.result).toBe(0);
  });

  it('spinUntil() keeps the task on its CPU until the condition holds', () => {
    const m = createMachine({ nrCpus: 2 });
    let flag = false;
    const spinner = m.spawn(
      function* () {
        m.preemptDisable();
        yield* m.spinUntil(() => flag);
        m.preemptEnable();
        return m.now();
      },
      { cpu: 0 },
    );
    m.spawn(
      function* () {
        yield m.sleep(200_000);
        flag = true;
      },
      { cpu: 1 },
    );
    m.runUntilIdle();
    expect(spinner.result).toBeGreaterThanOrEqual(200_000);
    // Woken sleeper + its switch, then one backoff poll (at most 500 ns) later.
    expect(spinner.result).toBeLessThan(205_000);
    expect(spinner.nvcsw).toBe(1);
    expect(m.reports()).toHaveLength(0);
  });

  it('smp_call_function_single(wait=1) spins until the remote call ran', () => {
    const m = createMachine({ nrCpus: 2 });
    const order: string[] = [];
    m.spawn(
      function* () {
        yield* m.smpCallFunctionSingleSync(1, () => order.push(`remote on ${m.cpu}`));
        order.push('caller continues');
      },
      { cpu: 0 },
    );
    m.runUntilIdle();
    expect(order).toEqual(['remote on 1', 'caller continues']);
  });

  it('irq_work_sync() waits for a queued work to finish', () => {
    const m = createMachine({ preempt: 'rt' });
    let ran = false;
    const w = new IrqWork(() => {
      ran = true;
    });
    const t = m.spawn(function* () {
      m.irqWorkQueue(w);
      yield* m.irqWorkSync(w);
      return ran;
    });
    m.runUntilIdle();
    expect(t.result).toBe(true);
  });

  it('runFor() advances every CPU clock', () => {
    const m = createMachine({ nrCpus: 3 });
    m.runFor(5_000);
    expect([0, 1, 2].map((c) => m.clockOf(c))).toEqual([5_000, 5_000, 5_000]);
  });
});

describe('task lifecycle', () => {
  it('an exception in a task body propagates out of run() and kills the task', () => {
    const m = createMachine();
    const t = m.spawn(function* () {
      yield m.sleep(10);
      throw new Error('oops in task');
    });
    expect(() => m.runUntilIdle()).toThrow('oops in task');
    expect(t.state).toBe(TASK_DEAD);
  });

  it('a task exiting with preemption or irqs disabled is noted and cleaned up', () => {
    const m = createMachine();
    m.spawn(
      function* () {
        yield m.sleep(10);
        m.preemptDisable();
        m.localIrqDisable();
      },
      { comm: 'sloppy' },
    );
    m.runUntilIdle();
    expect(m.dmesg()).toMatch(/note: sloppy\[\d+\] exited with irqs disabled/);
    expect(m.dmesg()).toMatch(/note: sloppy\[\d+\] exited with preempt_count 1/);
    expect(m.runOn(0, () => m.preemptCount())).toBe(0);
  });

  it('setCurrentState() validates its state', () => {
    const m = createMachine();
    expect(() => m.runOn(0, () => m.setCurrentState(7))).toThrow(/setCurrentState/);
  });
});

describe('more workqueue and timer API', () => {
  it('cancel_work() un-queues; cancel_work_sync() waits for the running instance', () => {
    const m = createMachine({ nrCpus: 2 });
    let runs = 0;
    const w = new Work(function* () {
      runs++;
      yield m.msleep(3);
    });
    m.runOn(0, () => m.queueWork(w, 1));
    expect(m.cancelWork(w)).toBe(true);
    m.runUntilIdle();
    expect(runs).toBe(0);
    const t = m.spawn(
      function* () {
        m.queueWork(w, 1);
        yield m.sleep(100_000);
        const was = yield* m.cancelWorkSync(w);
        return { was, running: w.running !== null, runs };
      },
      { cpu: 0 },
    );
    m.runUntilIdle();
    expect(t.result).toEqual({ was: false, running: false, runs: 1 });
  });

  it('timer_delete_sync() in hardirq warns unless the timer is TIMER_IRQSAFE', () => {
    const m = createMachine();
    const plain = new TimerList(() => {});
    const safe = new TimerList(() => {}, TIMER_IRQSAFE);
    const irq = m.requestIrq(
      'dev',
      () => {
        m.timerDeleteSync(plain);
        m.timerDeleteSync(safe);
      },
      IRQF_NO_THREAD,
    );
    m.raiseIrq(0, irq);
    m.runUntilIdle();
    const r = m.reports({ kind: 'timer-misuse' });
    expect(r).toHaveLength(1);
    expect(r[0]!.details.message).toBe('WARN_ON(in_hardirq() && !(timer->flags & TIMER_IRQSAFE))');
  });

  it('warn() formats a WARN() splat and taints W', () => {
    const m = createMachine();
    m.runOn(0, () =>
      m.warn({
        kind: 'custom',
        site: 'mm/slub.c:1234',
        fn: 'kmem_cache_free',
        message: 'cache mismatch',
      }),
    );
    const text = m.reports({ kind: 'custom' })[0]!.text.split('\n');
    expect(text[0]).toBe('------------[ cut here ]------------');
    expect(text[1]).toBe('cache mismatch');
    expect(text[2]).toMatch(/^WARNING: CPU: 0 PID: \d+ at mm\/slub\.c:1234 kmem_cache_free$/);
    expect(text[3]).toBe('Modules linked in:');
    expect(text.at(-1)).toBe('---[ end trace 0000000000000000 ]---');
    expect(m.dmesgRecords().some((r) => r.level === 4 && r.text === 'cache mismatch')).toBe(true);
  });
});
