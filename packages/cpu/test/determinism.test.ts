import { describe, expect, it } from 'vitest';
import {
  Completion,
  createMachine,
  IRQF_NO_THREAD,
  type Machine,
  NET_RX_SOFTIRQ,
  type PreemptModel,
  Work,
} from '../src/index.js';

/** A busy little scenario touching tasks, irqs, softirqs, timers, work, NMIs and injection. */
function scenario(seed: number, preempt: PreemptModel = 'full'): Machine {
  const m = createMachine({ nrCpus: 4, seed, preempt, trace: true });
  const rng = m.rng('scenario');
  const done = new Completion(m);
  m.openSoftirq(NET_RX_SOFTIRQ, () => m.charge(2000));
  const irq = m.requestIrq('nic', () => m.raiseSoftirq(NET_RX_SOFTIRQ), IRQF_NO_THREAD);
  const probe = m.defineProbe('alloc');
  m.injectNmi('alloc', { rate: 0.05 }, (mm) => mm.printk('warning', `nmi on cpu${mm.cpu}`));
  const work = new Work(() => m.printk('info', 'work ran'));
  for (let i = 0; i < 6; i++) {
    m.spawn(
      function* () {
        for (let k = 0; k < 20; k++) {
          m.probe(probe);
          yield m.busy(10_000 + rng.int(50_000));
          if (rng.chance(0.2)) m.raiseIrq(rng.int(4), irq);
          if (rng.chance(0.1)) m.queueWork(work, rng.int(4));
          yield m.sleep(rng.int(200_000));
        }
        done.complete();
      },
      { comm: `worker${i}` },
    );
  }
  m.spawn(
    function* () {
      for (let i = 0; i < 6; i++) yield done.wait();
      m.printk('info', 'all done');
    },
    { comm: 'waiter' },
  );
  m.runUntilIdle();
  return m;
}

describe('determinism', () => {
  it('the same seed gives byte-identical dmesg, reports and trace', () => {
    const a = scenario(42);
    const b = scenario(42);
    expect(a.dmesg()).toBe(b.dmesg());
    expect(a.exportChromeTrace()).toBe(b.exportChromeTrace());
    expect(a.reports()).toEqual(b.reports());
    expect(a.dmesg()).toContain('all done');
    expect(a.dmesg()).toContain('nmi on cpu');
  });

  it('another seed gives different injection points and a different log', () => {
    const a = scenario(42);
    const b = scenario(43);
    expect(a.dmesg()).not.toBe(b.dmesg());
  });

  it('is deterministic on every preemption model', () => {
    for (const p of ['none', 'voluntary', 'rt'] as const) {
      expect(scenario(7, p).exportChromeTrace()).toBe(scenario(7, p).exportChromeTrace());
    }
  });
});

describe('trace export', () => {
  it('is Chrome trace-event JSON with one named track per CPU and balanced slices', () => {
    const m = scenario(1);
    const doc = JSON.parse(m.exportChromeTrace()) as {
      traceEvents: {
        ph: string;
        pid: number;
        tid?: number;
        ts?: number;
        name?: string;
        args?: { name?: string };
      }[];
    };
    const ev = doc.traceEvents;
    const cpuNames = ev
      .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === 1)
      .map((e) => e.args!.name);
    expect(cpuNames).toEqual(['CPU 0', 'CPU 1', 'CPU 2', 'CPU 3']);
    // Per CPU track, B/E nest and timestamps never go backwards.
    for (let cpu = 0; cpu < 4; cpu++) {
      let depth = 0;
      let last = -1;
      for (const e of ev) {
        if (e.pid !== 1 || e.tid !== cpu || (e.ph !== 'B' && e.ph !== 'E')) continue;
        expect(e.ts!).toBeGreaterThanOrEqual(last);
        last = e.ts!;
        depth += e.ph === 'B' ? 1 : -1;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
    }
    const cats = new Set(ev.map((e) => (e as { cat?: string }).cat));
    expect(cats).toContain('task');
    expect(cats).toContain('hardirq');
    expect(cats).toContain('softirq');
    expect(cats).toContain('nmi');
  });

  it('records counters, instants and async spans; costs nothing and records nothing when off', () => {
    const m = createMachine({ trace: true });
    m.runOn(0, () => {
      m.traceCounter('slab_pages', 12);
      m.traceInstant('hello', { x: 1 });
      m.traceAsyncBegin('gp', 1);
    });
    m.run({ until: 1000 });
    m.runOn(0, () => m.traceAsyncEnd('gp', 1));
    const ev = JSON.parse(m.exportChromeTrace()).traceEvents as { ph: string; ts?: number }[];
    expect(ev.map((e) => e.ph).filter((p) => p !== 'M')).toEqual(['C', 'i', 'b', 'e']);
    expect(ev.find((e) => e.ph === 'e')!.ts).toBe(1);

    const off = createMachine();
    off.runOn(0, () => off.traceCounter('x', 1));
    const offEv = JSON.parse(off.exportChromeTrace()).traceEvents as { ph: string }[];
    expect(offEv.every((e) => e.ph === 'M')).toBe(true);
  });
});
