import { describe, expect, it } from 'vitest';
import {
  Completion,
  createMachine,
  MachineError,
  TASK_DEAD,
  TASK_RUNNING,
  TASK_UNINTERRUPTIBLE,
  type Task,
  WaitQueueHead,
} from '../src/index.js';

const MS = 1_000_000;

describe('tasks sleep and wake', () => {
  it('a task waiting on a completion wakes when another task completes it', () => {
    const m = createMachine({ nrCpus: 2 });
    const done = new Completion(m);
    const log: string[] = [];
    const waiter = m.spawn(
      function* () {
        log.push('waiting');
        yield done.wait();
        log.push(`woken at ${m.now()}`);
      },
      { comm: 'waiter', cpu: 0 },
    );
    m.spawn(
      function* () {
        yield m.sleep(2 * MS);
        log.push('completing');
        done.complete();
      },
      { comm: 'completer', cpu: 1 },
    );
    m.run({ until: 1 * MS });
    expect(waiter.state).toBe(TASK_UNINTERRUPTIBLE);
    expect(log).toEqual(['waiting']);
    m.runUntilIdle();
    expect(waiter.state).toBe(TASK_DEAD);
    expect(log[1]).toBe('completing');
    const wokenAt = Number(log[2]!.split(' ')[2]);
    expect(wokenAt).toBeGreaterThanOrEqual(2 * MS);
    expect(wokenAt).toBeLessThan(2 * MS + 20_000);
  });

  it('complete() before wait() lets the waiter through without sleeping', () => {
    const m = createMachine();
    const c = new Completion(m);
    c.complete();
    const t = m.spawn(function* () {
      yield c.wait();
      return 'ok';
    });
    m.runUntilIdle();
    expect(t.result).toBe('ok');
    // The only voluntary switch is the one at exit.
    expect(t.nvcsw).toBe(1);
    expect(c.done).toBe(0);
  });

  it('complete_all() releases every waiter; reinit() re-arms it', () => {
    const m = createMachine({ nrCpus: 4 });
    const c = new Completion(m);
    const tasks = [0, 1, 2].map((i) =>
      m.spawn(
        function* () {
          yield c.wait();
        },
        { comm: `w${i}` },
      ),
    );
    m.runUntilIdle();
    expect(tasks.every((t) => t.state === TASK_UNINTERRUPTIBLE)).toBe(true);
    m.runOn(3, () => c.completeAll());
    m.runUntilIdle();
    expect(tasks.every((t) => t.dead)).toBe(true);
    expect(c.isDone()).toBe(true);
    c.reinit();
    expect(c.tryWait()).toBe(false);
  });

  it('wait_for_completion_timeout() returns 0 after the timeout and the jiffies left otherwise', () => {
    const m = createMachine({ hz: 250 });
    const never = new Completion(m);
    const soon = new Completion(m);
    const t1 = m.spawn(function* () {
      return yield* never.waitTimeout(10);
    });
    const t2 = m.spawn(function* () {
      return yield* soon.waitTimeout(100);
    });
    m.spawn(function* () {
      yield m.msleep(20);
      soon.complete();
    });
    m.runUntilIdle();
    expect(t1.result).toBe(0);
    expect(t2.result).toBeGreaterThan(80);
    expect(t2.result).toBeLessThan(100);
  });

  it('set_current_state() + schedule() sleeps until wake_up_process()', () => {
    const m = createMachine({ nrCpus: 2 });
    let flag = false;
    const sleeper = m.spawn(
      function* () {
        for (;;) {
          m.setCurrentState(TASK_UNINTERRUPTIBLE);
          if (flag) break;
          yield m.schedule();
        }
        m.setCurrentState(TASK_RUNNING);
        return m.now();
      },
      { comm: 'sleeper', cpu: 0 },
    );
    m.run({ until: 5 * MS });
    expect(sleeper.state).toBe(TASK_UNINTERRUPTIBLE);
    m.runOn(1, () => {
      flag = true;
      expect(m.wakeUpProcess(sleeper)).toBe(true);
      expect(m.wakeUpProcess(sleeper)).toBe(false);
    });
    m.runUntilIdle();
    expect(sleeper.dead).toBe(true);
    expect(sleeper.result).toBeGreaterThanOrEqual(5 * MS);
  });

  it('a wakeup between set_current_state() and schedule() is not lost', () => {
    const m = createMachine();
    const t = m.spawn(function* (self) {
      m.setCurrentState(TASK_UNINTERRUPTIBLE);
      m.wakeUpProcess(self); // e.g. an interrupt waking us before schedule()
      yield m.schedule();
      return 'ran through';
    });
    m.runUntilIdle();
    expect(t.result).toBe('ran through');
    expect(t.nvcsw).toBe(1);
  });

  it('wait_event() rechecks its condition on every wake_up()', () => {
    const m = createMachine({ nrCpus: 2 });
    const wq = new WaitQueueHead(m);
    let count = 0;
    const waiter = m.spawn(
      function* () {
        yield m.waitEvent(wq, () => count >= 3);
        return count;
      },
      { cpu: 0 },
    );
    m.spawn(
      function* () {
        for (let i = 0; i < 5; i++) {
          yield m.sleep(MS);
          count++;
          wq.wakeUp();
        }
      },
      { cpu: 1 },
    );
    m.runUntilIdle();
    expect(waiter.result).toBe(3);
    // Slept three times (woken at 1, 2 and 3), then exited.
    expect(waiter.nvcsw).toBe(4);
  });

  it('wait_event_timeout() returns 0 when the condition never holds', () => {
    const m = createMachine();
    const wq = new WaitQueueHead(m);
    const t = m.spawn(function* () {
      return yield* m.waitEventTimeout(wq, () => false, 5);
    });
    m.runUntilIdle();
    expect(t.result).toBe(0);
    expect(wq.active()).toBe(false);
  });

  it('msleep() rounds up to jiffies plus one and the wheel bucket, like the kernel', () => {
    const m = createMachine({ hz: 100 });
    const t = m.spawn(function* () {
      const start = m.jiffies;
      yield m.msleep(15);
      return m.jiffies - start;
    });
    m.runUntilIdle();
    // msecs_to_jiffies(15) = 2 at HZ=100, +1 → 3; the level-0 bucket expires one jiffy later.
    expect(t.result).toBe(4);
  });

  it('sleep(ns) wakes on an hrtimer after at least ns', () => {
    const m = createMachine();
    const t = m.spawn(function* () {
      const a = m.now();
      yield m.sleep(123_456);
      return m.now() - a;
    });
    m.runUntilIdle();
    expect(t.result).toBeGreaterThanOrEqual(123_456);
    expect(t.result).toBeLessThan(123_456 + 10_000);
  });

  it('nested generators compose with yield*', () => {
    const m = createMachine();
    const c = new Completion(m);
    function* inner(): Generator<ReturnType<typeof c.wait>, number, unknown> {
      yield m.sleep(1000);
      return 42;
    }
    const t = m.spawn(function* () {
      const x = yield* inner();
      c.complete();
      yield* c.wait();
      const switched = yield* m.condResched();
      return { x, switched };
    });
    m.runUntilIdle();
    expect(t.result).toEqual({ x: 42, switched: false });
  });

  it('exited completion lets one task wait for another; kthread_stop() stops a kthread', () => {
    const m = createMachine();
    const worker = m.spawn(
      function* () {
        let loops = 0;
        while (!m.kthreadShouldStop()) {
          loops++;
          yield m.msleep(1);
        }
        return loops;
      },
      { comm: 'kthread', kthread: true },
    );
    const stopper = m.spawn(function* () {
      yield m.msleep(10);
      return yield* m.kthreadStop(worker);
    });
    m.runUntilIdle();
    expect(worker.dead).toBe(true);
    expect(stopper.result).toBe(worker.result);
    expect(worker.result).toBeGreaterThan(2);
  });

  it('a task yielding something that is not a wait is a host error', () => {
    const m = createMachine();
    m.spawn(function* () {
      yield 5 as never;
    });
    expect(() => m.runUntilIdle()).toThrow(MachineError);
  });

  it('a plain-function body is a task that never sleeps', () => {
    const m = createMachine();
    const t = m.spawn((self) => `${self.comm} ran in ${m.context()} context`, { comm: 'plain' });
    expect(t.result).toBeUndefined();
    m.runUntilIdle();
    expect(t.result).toBe('plain ran in task context');
    expect(t.dead).toBe(true);
  });

  it('spawn validates its options', () => {
    const m = createMachine({ nrCpus: 2 });
    const body = function* () {};
    expect(() => m.spawn(body, { cpu: 2 })).toThrow(/cpu 2 is invalid/);
    expect(() => m.spawn(body, { prio: 140 })).toThrow(/prio/);
    expect(() => m.spawn(body, { affinity: [] })).toThrow(/affinity/);
    expect(() => m.spawn(body, { cpu: 0, affinity: [1] })).toThrow(/outside its affinity/);
    expect(() => m.sleep(-1)).toThrow(/sleep ns/);
  });
});

describe('scheduling', () => {
  it('runs runnable tasks by priority, then FIFO within a priority', () => {
    const m = createMachine();
    const order: string[] = [];
    const mk = (name: string, prio: number) =>
      m.spawn(
        () => {
          order.push(name);
        },
        { comm: name, prio, cpu: 0 },
      );
    mk('normal-a', 120);
    mk('rt-50', 49);
    mk('normal-b', 120);
    mk('nice-19', 139);
    mk('rt-1', 98);
    m.runUntilIdle();
    expect(order).toEqual(['rt-50', 'rt-1', 'normal-a', 'normal-b', 'nice-19']);
  });

  it('context switches and idle entry/exit call the hooks', () => {
    const m = createMachine({ nrCpus: 1 });
    const ev: string[] = [];
    m.onContextSwitch((cpu, prev, next) => ev.push(`cs${cpu}:${prev.comm}->${next.comm}`));
    m.onIdleEnter((cpu) => ev.push(`idle-enter${cpu}`));
    const off = m.onIdleExit((cpu) => ev.push(`idle-exit${cpu}`));
    m.spawn(
      function* () {
        yield m.sleep(1000);
      },
      { comm: 'a' },
    );
    m.runUntilIdle();
    off();
    expect(ev).toEqual([
      'cs0:swapper/0->a',
      'idle-exit0',
      'cs0:a->swapper/0',
      'idle-enter0',
      'cs0:swapper/0->a',
      'idle-exit0',
      'cs0:a->swapper/0',
      'idle-enter0',
    ]);
  });

  it('a context switch charges contextSwitch to the CPU', () => {
    const m = createMachine({ costs: { contextSwitch: 5000 } });
    const t = m.spawn(() => m.now());
    m.runUntilIdle();
    expect(t.result).toBe(5000);
  });

  it('a woken higher-priority task preempts a busy task on preempt=full but not on preempt=none', () => {
    for (const preempt of ['full', 'none'] as const) {
      const m = createMachine({ preempt });
      const log: string[] = [];
      m.spawn(
        function* () {
          yield m.busy(10 * MS);
          log.push(`hog done ${m.now()}`);
        },
        { comm: 'hog', cpu: 0 },
      );
      m.spawn(
        function* () {
          yield m.sleep(MS);
          log.push(`rt ran ${m.now()}`);
        },
        { comm: 'rt', cpu: 0, prio: 10 },
      );
      m.runUntilIdle();
      const rtAt = Number(log.find((l) => l.startsWith('rt'))!.split(' ')[2]);
      if (preempt === 'full') {
        expect(log[0]).toMatch(/^rt ran/);
        expect(rtAt).toBeLessThan(1.1 * MS);
        // The hog still burns its full 10 ms, shifted by the time it lost.
        const hogAt = Number(log[1]!.split(' ')[2]);
        expect(hogAt).toBeGreaterThan(10 * MS);
      } else {
        expect(log[0]).toMatch(/^hog done/);
        expect(rtAt).toBeGreaterThan(10 * MS);
      }
    }
  });

  it('equal-priority normal tasks share a CPU by time slice under preempt=full', () => {
    const m = createMachine({ preempt: 'full' });
    const seen: string[] = [];
    for (const name of ['a', 'b']) {
      m.spawn(
        function* () {
          for (let i = 0; i < 20; i++) {
            seen.push(name);
            yield m.busy(250_000);
          }
        },
        { comm: name, cpu: 0 },
      );
    }
    m.runUntilIdle();
    // Both made progress before either finished: the tick preempted at slice expiry.
    const firstB = seen.indexOf('b');
    expect(firstB).toBeGreaterThan(0);
    expect(firstB).toBeLessThan(20);
    expect(m.findTask(m.tasks().find((t) => t.comm === 'a')!.pid)!.nivcsw).toBeGreaterThan(0);
  });

  it('cond_resched() lets an equal-priority task run on preempt=voluntary once the slice is used', () => {
    const m = createMachine({ preempt: 'voluntary' });
    const seen: string[] = [];
    for (const name of ['a', 'b']) {
      m.spawn(
        function* () {
          for (let i = 0; i < 10; i++) {
            seen.push(name);
            yield m.busy(500_000);
            yield m.condResched();
          }
        },
        { comm: name, cpu: 0 },
      );
    }
    m.runUntilIdle();
    expect(seen.indexOf('b')).toBeLessThan(10);
  });

  it('wakeups prefer the previous CPU when idle, else another idle allowed CPU', () => {
    const m = createMachine({ nrCpus: 4 });
    const cpus: number[] = [];
    const t = m.spawn(
      function* () {
        for (let i = 0; i < 3; i++) {
          cpus.push(m.cpu);
          yield m.sleep(1000);
        }
      },
      { affinity: [2, 3] },
    );
    m.runUntilIdle();
    expect(t.dead).toBe(true);
    expect(cpus.every((c) => c === cpus[0])).toBe(true);
    expect([2, 3]).toContain(cpus[0]);
  });

  it('spawn places new tasks on idle CPUs first', () => {
    const m = createMachine({ nrCpus: 3 });
    const tasks: Task[] = [];
    for (let i = 0; i < 3; i++) {
      tasks.push(
        m.spawn(function* () {
          yield m.busy(MS);
        }),
      );
    }
    expect(new Set(tasks.map((t) => t.cpu)).size).toBe(3);
    m.runUntilIdle();
  });

  it('busy() time is extended by the interrupts that land meanwhile', () => {
    const m = createMachine({ costs: { irqEntry: 10_000, timerTick: 0, timerExpiry: 0 } });
    let ticks = 0;
    m.onTick(() => ticks++);
    const irq = m.requestIrq('dev', () => m.charge(40_000));
    const t = m.spawn(function* () {
      const a = m.now();
      yield m.busy(MS);
      return m.now() - a;
    });
    m.run({ until: 100_000 });
    m.raiseIrq(0, irq);
    m.runUntilIdle();
    // The device irq (entry + handler) and every tick that landed are stolen time.
    expect(ticks).toBeGreaterThan(0);
    expect(t.result).toBe(MS + 50_000 + ticks * 10_000);
    expect(m.irqCount(irq, 0)).toBe(1);
  });
});

describe('priority changes', () => {
  it('boosting a queued task lets it preempt; deboosting the running one yields', () => {
    const m = createMachine({ preempt: 'full' });
    const order: string[] = [];
    const low = m.spawn(
      function* () {
        yield m.busy(100_000);
        order.push('low');
      },
      { comm: 'low', cpu: 0, prio: 130 },
    );
    m.spawn(
      function* () {
        yield m.busy(100_000);
        order.push('mid');
      },
      { comm: 'mid', cpu: 0, prio: 120 },
    );
    m.run({ until: 10_000 });
    // mid runs; boost low above it (priority inheritance).
    m.runOn(0, () => m.setTaskPrio(low, 110));
    m.runUntilIdle();
    expect(order).toEqual(['low', 'mid']);
    expect(() => m.setTaskPrio(low, 200)).toThrow(/prio/);
  });
});

describe('runOn', () => {
  it('runs in a driver task on an idle CPU and in the current task otherwise', () => {
    const m = createMachine({ nrCpus: 2 });
    const idleComm = m.runOn(1, () => `${m.current.comm} ${m.cpu}`);
    expect(idleComm).toBe('driver/1 1');
    expect(m.cpu).toBe(0);
    const t = m.spawn(
      function* () {
        yield m.busy(MS);
      },
      { cpu: 1 },
    );
    m.run({ until: 1000 });
    expect(m.runOn(1, () => m.current)).toBe(t);
    expect(m.currentOn(1)).toBe(t);
    m.runUntilIdle();
    expect(m.cpuIsIdle(1)).toBe(true);
  });
});

describe('task slots', () => {
  it('give each task its own lazily created state', () => {
    const m = createMachine();
    let made = 0;
    const slot = m.defineTaskSlot((t) => {
      made++;
      return { owner: t.pid, depth: 0 };
    });
    const a = m.spawn(function* () {});
    const b = m.spawn(function* () {});
    slot.get(a).depth = 3;
    expect(slot.get(a)).toEqual({ owner: a.pid, depth: 3 });
    expect(slot.get(b)).toEqual({ owner: b.pid, depth: 0 });
    expect(made).toBe(2);
    const other = m.defineTaskSlot(() => 'x');
    expect(other.get(a)).toBe('x');
    expect(slot.get(a).depth).toBe(3);
    m.runUntilIdle();
  });
});

describe('task flags', () => {
  it('each task carries its own PF_MEMALLOC* scope (current->flags)', () => {
    const m = createMachine();
    const a = m.spawn(() => m.current.memalloc.noioSave());
    const b = m.spawn(() => m.current.memalloc.flags);
    m.runUntilIdle();
    expect(a.memalloc.flags).not.toBe(0);
    expect(b.result).toBe(0);
  });
});
