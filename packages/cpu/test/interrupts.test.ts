import { describe, expect, it } from 'vitest';
import {
  createMachine,
  HRTIMER_MODE_HARD,
  HRTIMER_MODE_REL,
  HRTIMER_MODE_SOFT,
  HRTIMER_NORESTART,
  Hrtimer,
  IRQ_WORK_HARD_IRQ,
  IRQF_NO_THREAD,
  IRQF_ONESHOT,
  IrqWork,
  type Machine,
  NET_TX_SOFTIRQ,
  RCU_SOFTIRQ,
  TIMER_SOFTIRQ,
} from '../src/index.js';
import { snapshot } from './snapshot.js';

describe('hardirqs', () => {
  it('wait for their CPU to enable irqs', () => {
    const m = createMachine({ nrCpus: 2 });
    const taken: number[] = [];
    const irq = m.requestIrq('dev', () => taken.push(m.now()), IRQF_NO_THREAD);
    m.spawn(
      function* () {
        m.localIrqDisable();
        yield m.busy(100_000);
        m.localIrqEnable();
        yield m.busy(100_000);
      },
      { cpu: 1 },
    );
    m.run({ until: 10_000 });
    m.runOn(0, () => m.raiseIrq(1, irq));
    m.run({ until: 50_000 });
    expect(taken).toEqual([]);
    m.runUntilIdle();
    expect(taken).toHaveLength(1);
    expect(taken[0]).toBeGreaterThanOrEqual(100_000);
    expect(m.irqCount(irq)).toBe(1);
  });

  it('raised on the executing CPU are taken at the next probe point with irqs on', () => {
    const m = createMachine();
    const order: string[] = [];
    const irq = m.requestIrq('dev', () => order.push('irq'), IRQF_NO_THREAD);
    const p = m.defineProbe('test:point');
    m.runOn(0, () => {
      m.raiseIrq(0, irq);
      order.push('before probe');
      m.probe(p);
      order.push('after probe');
    });
    expect(order).toEqual(['before probe', 'irq', 'after probe']);
  });

  it('a line raised twice before it is taken is delivered once (edge latch)', () => {
    const m = createMachine();
    let n = 0;
    const irq = m.requestIrq('dev', () => n++, IRQF_NO_THREAD);
    m.runOn(0, () => {
      m.localIrqDisable();
      m.raiseIrq(0, irq);
      m.raiseIrq(0, irq);
      m.localIrqEnable();
    });
    expect(n).toBe(1);
  });

  it('mark threadable handlers for lockdep (hardirq_threaded) on !RT', () => {
    const m = createMachine();
    const seen: Record<string, boolean> = {};
    const a = m.requestIrq('threadable', () => (seen.threadable = m.hardirqThreaded()));
    const b = m.requestIrq('nothread', () => (seen.nothread = m.hardirqThreaded()), IRQF_NO_THREAD);
    const c = m.requestIrq('oneshot', () => (seen.oneshot = m.hardirqThreaded()), IRQF_ONESHOT);
    m.runOn(0, () => {
      m.raiseIrq(0, a);
      m.raiseIrq(0, b);
      m.raiseIrq(0, c);
      m.localIrqDisable();
      m.localIrqEnable();
      expect(m.hardirqThreaded()).toBe(false);
    });
    expect(seen).toEqual({ threadable: true, nothread: false, oneshot: false });
  });

  it('are force-threaded on PREEMPT_RT unless registered IRQF_NO_THREAD', () => {
    const m = createMachine({ preempt: 'rt' });
    const seen: Record<string, ReturnType<typeof snapshot> & { comm: string }> = {};
    const threaded = m.requestIrq(
      'eth0',
      () => (seen.threaded = { ...snapshot(m), comm: m.current.comm }),
    );
    const hard = m.requestIrq(
      'timer-ish',
      () => (seen.hard = { ...snapshot(m), comm: m.current.comm }),
      IRQF_NO_THREAD,
    );
    m.raiseIrq(0, threaded);
    m.raiseIrq(0, hard);
    m.runUntilIdle();
    expect(seen.hard!.context).toBe('hardirq');
    expect(seen.threaded!.comm).toBe(`irq/${threaded}-eth0`);
    // irq_forced_thread_fn(): task context with bottom halves disabled, preemptible.
    expect(seen.threaded).toMatchObject({
      context: 'task',
      inTask: true,
      inSoftirq: true,
      inAtomic: false,
      preemptible: true,
      pc: 0,
    });
  });
});

describe('NMIs', () => {
  it('are taken at the next probe point whatever the irq state', () => {
    const m = createMachine();
    const order: string[] = [];
    const p = m.defineProbe('test:nmi-point');
    m.runOn(0, () => {
      const f = m.localIrqSave();
      m.preemptDisable();
      m.raiseNmi(0, () =>
        order.push(`nmi pc=${m.preemptCount().toString(16)} irqsOff=${m.irqsDisabled()}`),
      );
      order.push('raised');
      m.probe(p);
      order.push('after');
      m.preemptEnable();
      m.localIrqRestore(f);
    });
    expect(order).toEqual(['raised', 'nmi pc=110001 irqsOff=true', 'after']);
    expect(m.runOn(0, () => m.preemptCount())).toBe(0);
  });

  it('are taken at once on a CPU that is not executing, even with irqs disabled', () => {
    const m = createMachine({ nrCpus: 2 });
    const seen: string[] = [];
    m.spawn(
      function* () {
        m.localIrqDisable();
        yield m.busy(1_000_000);
        m.localIrqEnable();
      },
      { cpu: 1, comm: 'irqs-off' },
    );
    m.run({ until: 100_000 });
    m.runOn(0, () =>
      m.raiseNmi(1, () => seen.push(`${m.current.comm} at ${m.now()} ${m.context()}`)),
    );
    m.run({ until: 200_000 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^irqs-off at 10\d{4} nmi$/);
  });

  it('do not nest: an NMI raised inside an NMI waits until it returns', () => {
    const m = createMachine();
    const order: string[] = [];
    const p = m.defineProbe('p');
    m.runOn(0, () => {
      m.raiseNmi(0, () => {
        order.push('nmi1 start');
        m.raiseNmi(0, () => order.push('nmi2'));
        m.probe(p);
        order.push('nmi1 end');
      });
      m.probe(p);
      order.push('task');
    });
    expect(order).toEqual(['nmi1 start', 'nmi1 end', 'nmi2', 'task']);
  });
});

describe('softirqs', () => {
  it('run on irq exit, in softirq context with irqs enabled, on !RT', () => {
    const m = createMachine();
    const seen: ReturnType<typeof snapshot>[] = [];
    m.openSoftirq(NET_TX_SOFTIRQ, () => seen.push(snapshot(m)));
    const irq = m.requestIrq('nic', () => m.raiseSoftirq(NET_TX_SOFTIRQ), IRQF_NO_THREAD);
    m.raiseIrq(0, irq);
    m.runUntilIdle();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      pc: 0x100,
      context: 'softirq',
      irqsDisabled: false,
      inServingSoftirq: true,
    });
  });

  it('raised from task context wake ksoftirqd', () => {
    const m = createMachine();
    const comms: string[] = [];
    m.openSoftirq(RCU_SOFTIRQ, () => comms.push(`${m.current.comm} ${m.context()}`));
    m.runOn(0, () => m.raiseSoftirq(RCU_SOFTIRQ));
    expect(comms).toEqual([]);
    m.runUntilIdle();
    expect(comms).toEqual(['ksoftirqd/0 softirq']);
  });

  it('on PREEMPT_RT run in ksoftirqd (task context, preemptible) when raised from hardirq', () => {
    const m = createMachine({ preempt: 'rt' });
    const seen: (ReturnType<typeof snapshot> & { comm: string })[] = [];
    m.openSoftirq(NET_TX_SOFTIRQ, () => seen.push({ ...snapshot(m), comm: m.current.comm }));
    const irq = m.requestIrq('nic', () => m.raiseSoftirq(NET_TX_SOFTIRQ), IRQF_NO_THREAD);
    m.raiseIrq(0, irq);
    m.runUntilIdle();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      comm: 'ksoftirqd/0',
      pc: 0,
      context: 'softirq',
      inAtomic: false,
      preemptible: true,
    });
  });

  it('count per CPU and vector, and refuse a second handler for a vector', () => {
    const m = createMachine();
    expect(() => m.openSoftirq(TIMER_SOFTIRQ, () => {})).toThrow(/already has a handler/);
    expect(() => m.openSoftirq(10, () => {})).toThrow(/vector/);
    expect(() => m.raiseSoftirq(-1)).toThrow(/vector/);
  });
});

describe('irq_work', () => {
  function runWork(
    m: Machine,
    flags: number,
  ): { ctx: string; comm: string; config: boolean; queued: boolean[] } {
    const out = { ctx: '', comm: '', config: false, queued: [] as boolean[] };
    const w = new IrqWork(() => {
      out.ctx = m.context();
      out.comm = m.current.comm;
      out.config = m.irqConfig();
    }, flags);
    // Queue from NMI context: irq_work is NMI-safe.
    m.runOn(0, () =>
      m.raiseNmi(0, () => {
        out.queued.push(m.irqWorkQueue(w));
        out.queued.push(m.irqWorkQueue(w));
      }),
    );
    m.runUntilIdle();
    return out;
  }

  it('runs in hardirq on !RT (irq_config set unless IRQ_WORK_HARD_IRQ); second queue returns false', () => {
    const m = createMachine();
    expect(runWork(m, 0)).toEqual({
      ctx: 'hardirq',
      comm: 'swapper/0',
      config: true,
      queued: [true, false],
    });
    expect(runWork(createMachine(), IRQ_WORK_HARD_IRQ).config).toBe(false);
  });

  it('runs in irq_work/N on PREEMPT_RT unless IRQ_WORK_HARD_IRQ', () => {
    expect(runWork(createMachine({ preempt: 'rt' }), 0)).toMatchObject({
      ctx: 'task',
      comm: 'irq_work/0',
    });
    expect(runWork(createMachine({ preempt: 'rt' }), IRQ_WORK_HARD_IRQ)).toMatchObject({
      ctx: 'hardirq',
      config: false,
    });
  });
});

describe('cross-CPU calls (IPIs)', () => {
  it('run the function on the target CPU in hardirq after the IPI latency', () => {
    const m = createMachine({ nrCpus: 4 });
    const seen: string[] = [];
    m.runOn(0, () =>
      m.smpCallFunctionSingle(2, () => seen.push(`cpu${m.cpu} ${m.context()} t=${m.now()}`)),
    );
    m.runUntilIdle();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^cpu2 hardirq t=\d+$/);
    expect(Number(seen[0]!.split('=')[1])).toBeGreaterThanOrEqual(m.costs.ipi);
  });

  it('on_each_cpu() runs everywhere, locally with irqs off; the sync form spins until done', () => {
    const m = createMachine({ nrCpus: 3 });
    const seen = new Set<string>();
    const t = m.spawn(
      function* () {
        yield* m.onEachCpuSync(() => seen.add(`${m.cpu}:${m.irqsDisabled()}`));
        return m.now();
      },
      { cpu: 1 },
    );
    m.runUntilIdle();
    expect([...seen].sort()).toEqual(['0:true', '1:true', '2:true']);
    expect(t.result).toBeGreaterThan(m.costs.ipi);
    expect(m.reports()).toHaveLength(0);
  });
});

describe('hrtimers', () => {
  function expiryContext(preempt: 'voluntary' | 'rt', mode: number) {
    const m = createMachine({ preempt });
    const out: { ctx: string; config: boolean; comm: string }[] = [];
    const hr = new Hrtimer(() => {
      out.push({ ctx: m.context(), config: m.irqConfig(), comm: m.current.comm });
      return HRTIMER_NORESTART;
    }, mode);
    m.runOn(0, () => m.hrtimerStart(hr, 50_000, mode | HRTIMER_MODE_REL));
    m.runUntilIdle();
    return out[0]!;
  }

  it('HARD timers expire in hardirq everywhere; plain ones in hardirq with irq_config on !RT', () => {
    expect(expiryContext('voluntary', HRTIMER_MODE_HARD)).toMatchObject({
      ctx: 'hardirq',
      config: false,
    });
    expect(expiryContext('rt', HRTIMER_MODE_HARD)).toMatchObject({ ctx: 'hardirq', config: false });
    expect(expiryContext('voluntary', 0)).toMatchObject({ ctx: 'hardirq', config: true });
  });

  it('SOFT timers expire in HRTIMER_SOFTIRQ; on RT non-HARD timers are soft, in ktimers', () => {
    expect(expiryContext('voluntary', HRTIMER_MODE_SOFT)).toMatchObject({ ctx: 'softirq' });
    expect(expiryContext('rt', 0)).toEqual({ ctx: 'softirq', config: false, comm: 'ktimers/0' });
  });

  it('restart when the callback forwards and returns HRTIMER_RESTART; cancel stops them', () => {
    const m = createMachine();
    const at: number[] = [];
    const hr = new Hrtimer((t) => {
      at.push(m.now());
      t.forward(m.now(), 100_000);
      return at.length < 5 ? 1 : 0;
    }, HRTIMER_MODE_HARD);
    m.runOn(0, () => m.hrtimerStart(hr, 100_000));
    m.runUntilIdle();
    expect(at).toHaveLength(5);
    expect(m.hrtimerActive(hr)).toBe(false);
    m.runOn(0, () => m.hrtimerStart(hr, 100_000, HRTIMER_MODE_REL));
    expect(m.hrtimerCancel(hr)).toBe(true);
    expect(m.hrtimerCancel(hr)).toBe(false);
    m.runUntilIdle();
    expect(at).toHaveLength(5);
  });
});
