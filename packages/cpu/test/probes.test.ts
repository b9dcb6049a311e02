import { describe, expect, it } from 'vitest';
import { createMachine, type Machine, MachineError } from '../src/index.js';

/** A task that hits the probe `n` times, 1 µs apart. */
function hitter(m: Machine, probeName: string, n: number) {
  const id = m.defineProbe(probeName);
  return m.spawn(
    function* () {
      for (let i = 0; i < n; i++) {
        m.probe(id);
        yield m.busy(1000);
      }
    },
    { comm: 'hitter' },
  );
}

describe('probe injection', () => {
  it('the Nth-hit injector fires exactly once, on the Nth hit', () => {
    const m = createMachine();
    let hitNo = 0;
    const id = m.defineProbe('slab:alloc');
    const fired: number[] = [];
    const inj = m.attachProgram('slab:alloc', { nth: 7 }, () => fired.push(hitNo));
    m.spawn(function* () {
      for (hitNo = 1; hitNo <= 20; hitNo++) {
        m.probe(id);
        yield m.busy(100);
      }
    });
    m.runUntilIdle();
    expect(fired).toEqual([7]);
    expect(inj.hits).toBe(20);
    expect(inj.fires).toBe(1);
  });

  it('an injected NMI runs in NMI context on the probing CPU, interrupting whatever it was', () => {
    const m = createMachine({ nrCpus: 2 });
    const seen: string[] = [];
    m.injectNmi('lock:release', { nth: 2 }, (mm) =>
      seen.push(
        `${mm.context()} cpu${mm.cpu} pc=${mm.preemptCount().toString(16)} irqsOff=${mm.irqsDisabled()}`,
      ),
    );
    const id = m.defineProbe('lock:release');
    m.spawn(
      function* () {
        for (let i = 0; i < 3; i++) {
          const f = m.localIrqSave();
          m.probe(id);
          m.localIrqRestore(f);
          yield m.busy(10);
        }
      },
      { cpu: 1 },
    );
    m.runUntilIdle();
    expect(seen).toEqual(['nmi cpu1 pc=110000 irqsOff=true']);
  });

  it('rate triggers are deterministic per seed and differ across seeds', () => {
    const points = (seed: number) => {
      const m = createMachine({ seed });
      const inj = m.attachProgram('kmalloc', { rate: 0.1 }, () => {});
      hitter(m, 'kmalloc', 500);
      m.runUntilIdle();
      return inj.fireTimes;
    };
    const a1 = points(1);
    const a2 = points(1);
    const b = points(2);
    expect(a1).toEqual(a2);
    expect(a1.length).toBeGreaterThan(20);
    expect(a1.length).toBeLessThan(90);
    expect(b).not.toEqual(a1);
  });

  it('adding an unrelated rng consumer does not shift injection points', () => {
    const run = (extra: boolean) => {
      const m = createMachine({ seed: 9 });
      if (extra) m.rng('some-other-subsystem').nextU32();
      const inj = m.attachProgram('p', { rate: 0.2 }, () => {});
      hitter(m, 'p', 100);
      m.runUntilIdle();
      return inj.fireTimes;
    };
    expect(run(true)).toEqual(run(false));
  });

  it('a program does not re-enter itself (bpf_prog_active); every-hit and detach work', () => {
    const m = createMachine();
    const id = m.defineProbe('tp');
    let runs = 0;
    const inj = m.attachProgram('tp', { every: true }, (mm) => {
      runs++;
      mm.probe(id); // the program hits the same tracepoint
    });
    m.runOn(0, () => {
      m.probe(id);
      m.probe(id);
    });
    expect(runs).toBe(2);
    expect(inj.misses).toBe(2);
    inj.detach();
    m.runOn(0, () => m.probe(id));
    expect(runs).toBe(2);
  });

  it('a probe still sees every attach, detach and pending interrupt after the others came and went', () => {
    const m = createMachine({ nrCpus: 2 });
    const id = m.defineProbe('tp');
    const other = m.defineProbe('other');
    const seen: string[] = [];
    const a = m.attachProgram('tp', { every: true }, () => seen.push('a'));
    const b = m.attachProgram('other', { every: true }, () => seen.push('b'));
    a.detach();
    a.detach(); // a second detach changes nothing
    m.runOn(0, () => {
      m.probe(id); // nothing attached here any more, but 'other' still is
      m.probe(other);
    });
    b.detach();
    // An NMI raised with irqs off elsewhere is taken at this CPU's next probe.
    m.runOn(0, () => {
      m.localIrqDisable();
      m.raiseNmi(0, () => seen.push('nmi'));
      m.probe(id);
      seen.push('after the probe');
      m.localIrqEnable();
    });
    m.runOn(0, () => m.probe(id)); // nothing attached, nothing pending
    m.attachProgram('tp', { nth: 1 }, () => seen.push('c'));
    m.runOn(1, () => m.probe(id));
    expect(seen).toEqual(['b', 'nmi', 'after the probe', 'c']);
  });

  it('rejects bad triggers and handlers', () => {
    const m = createMachine();
    expect(() => m.attachProgram('x', { nth: 0 }, () => {})).toThrow(MachineError);
    expect(() => m.attachProgram('x', { rate: 2 }, () => {})).toThrow(/rate/);
    expect(() => m.injectNmi('x', {} as never, () => {})).toThrow(/trigger/);
    expect(() => m.injectNmi('x', { every: true }, 5 as never)).toThrow(/handler/);
    expect(() => m.defineProbe('')).toThrow(/probe name/);
  });

  it('defineProbe() returns the same id for the same name', () => {
    const m = createMachine();
    expect(m.defineProbe('a')).toBe(m.defineProbe('a'));
    expect(m.defineProbe('b')).not.toBe(m.defineProbe('a'));
  });
});
