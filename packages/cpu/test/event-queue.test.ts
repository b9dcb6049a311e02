import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMachine, EventQueue, MachineError, NO_EVENT } from '../src/index.js';

describe('EventQueue', () => {
  it('pops by time, then by insertion order', () => {
    const q = new EventQueue(4);
    const out: string[] = [];
    const fn = (a: unknown) => out.push(a as string);
    q.push(30, 0, fn, 'c');
    q.push(10, 0, fn, 'a1');
    q.push(20, 1, fn, 'b');
    q.push(10, 1, fn, 'a2');
    q.push(10, 0, fn, 'a3');
    while (q.pop()) q.outFn!(q.outArg);
    expect(out).toEqual(['a1', 'a2', 'a3', 'b', 'c']);
  });

  it('cancels by handle; stale handles stay invalid after slot reuse', () => {
    const q = new EventQueue();
    const fn = () => {};
    const h1 = q.push(5, 0, fn, 1);
    const h2 = q.push(6, 0, fn, 2);
    expect(q.isPending(h1)).toBe(true);
    expect(q.timeOf(h2)).toBe(6);
    expect(q.cancel(h1)).toBe(true);
    expect(q.cancel(h1)).toBe(false);
    const h3 = q.push(7, 0, fn, 3); // reuses h1's slot
    expect(q.isPending(h1)).toBe(false);
    expect(q.isPending(h3)).toBe(true);
    // Times follow the entries as the heap reorders them.
    expect(q.timeOf(h2)).toBe(6);
    expect(q.timeOf(h3)).toBe(7);
    expect(q.timeOf(h1)).toBeNaN();
    expect(q.cancel(NO_EVENT)).toBe(false);
    expect(q.size).toBe(2);
    q.pop();
    expect(q.outArg).toBe(2);
    expect(q.isPending(h2)).toBe(false);
  });

  it('matches a sorted reference under random pushes, pops and cancels (property)', () => {
    type Op = { kind: 'push'; t: number } | { kind: 'pop' } | { kind: 'cancel'; i: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), t: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
      fc.record({ kind: fc.constant('cancel' as const), i: fc.nat(100) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops: Op[]) => {
        const q = new EventQueue(2);
        const ref: { t: number; seq: number; h: number }[] = [];
        const handles: number[] = [];
        let seq = 0;
        const fn = () => {};
        for (const o of ops) {
          if (o.kind === 'push') {
            const s = seq++;
            const h = q.push(o.t, 0, fn, s);
            ref.push({ t: o.t, seq: s, h });
            handles.push(h);
          } else if (o.kind === 'pop') {
            ref.sort((a, b) => a.t - b.t || a.seq - b.seq);
            const e = ref.shift();
            const got = q.pop();
            if (e === undefined) {
              if (got) return false;
            } else if (!got || q.outTime !== e.t || q.outArg !== e.seq) {
              return false;
            }
          } else if (handles.length > 0) {
            const h = handles[o.i % handles.length]!;
            const k = ref.findIndex((r) => r.h === h);
            if (q.cancel(h) !== k >= 0) return false;
            if (k >= 0) ref.splice(k, 1);
          }
          if (q.size !== ref.length) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });
});

describe('machine event dispatch', () => {
  it('runs events in (time, insertion) order; the CPU clock becomes max(clock, time)', () => {
    const m = createMachine({ nrCpus: 2 });
    const log: string[] = [];
    m.queueEvent(200, 1, () => {
      log.push(`B cpu${m.cpu} t=${m.now()}`);
      m.charge(1000);
    });
    m.queueEvent(100, 0, () => log.push(`A cpu${m.cpu} t=${m.now()}`));
    m.queueEvent(200, 1, () => log.push(`C cpu${m.cpu} t=${m.now()}`));
    m.queueEvent(200, 0, () => log.push(`D cpu${m.cpu} t=${m.now()}`));
    const r = m.runUntilIdle();
    expect(log).toEqual(['A cpu0 t=100', 'B cpu1 t=200', 'C cpu1 t=1200', 'D cpu0 t=200']);
    expect(r).toMatchObject({ events: 4, reason: 'idle' });
  });

  it('honours until and maxEvents, and stop()', () => {
    const m = createMachine();
    let n = 0;
    for (let i = 1; i <= 10; i++) m.queueEvent(i * 100, 0, () => n++);
    expect(m.run({ until: 350 })).toMatchObject({ events: 3, reason: 'until' });
    expect(m.now()).toBe(350);
    expect(m.run({ maxEvents: 2 })).toMatchObject({ events: 2, reason: 'maxEvents' });
    m.queueEvent(0, 0, () => m.stop());
    expect(m.run()).toMatchObject({ events: 1, reason: 'stopped' });
    m.runUntilIdle();
    expect(n).toBe(10);
  });

  it('refuses run() from simulated code and bad arguments', () => {
    const m = createMachine();
    m.queueEvent(1, 0, () => {
      expect(() => m.run()).toThrow(MachineError);
    });
    m.runUntilIdle();
    expect(() => m.queueEvent(-1, 0, () => {})).toThrow(/time/);
    expect(() => m.queueEvent(1, 5, () => {})).toThrow(/cpu 5/);
    expect(() => m.run({ until: Number.NaN })).toThrow(/until/);
  });

  it('a cancelled raw event does not run', () => {
    const m = createMachine();
    let ran = false;
    const h = m.queueEvent(10, 0, () => (ran = true));
    expect(m.cancelEvent(h)).toBe(true);
    m.runUntilIdle();
    expect(ran).toBe(false);
  });
});
