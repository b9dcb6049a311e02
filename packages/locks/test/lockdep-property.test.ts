import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LockClassDescs, type LockdepMap, LockdepReportKind } from '../src/lockdep/index.js';
import { FakeMachine, type FakeTask } from './fixtures/fake-host.js';

// Random lock programs on several tasks. Locks are ranked; mutexes rank
// lowest, then spinlocks, then raw spinlocks, so a program that only takes
// locks above everything it holds respects both the global lock order and
// the wait-type nesting rules.

const N_LOCKS = 10;
const N_TASKS = 3;

interface World {
  m: FakeMachine;
  locks: LockdepMap[];
  tasks: FakeTask[];
  held: number[][];
}

function world(): World {
  const m = new FakeMachine({ keepGoing: true });
  const locks: LockdepMap[] = [];
  for (let i = 0; i < N_LOCKS; i++) {
    const desc =
      i < 3 ? LockClassDescs.mutex : i < 7 ? LockClassDescs.spinlock : LockClassDescs.rawSpinlock;
    locks.push(m.ld.initMap(m.ld.registerClass(`L${i}`, desc), 0x1000 + i * 0x40));
  }
  const tasks = Array.from({ length: N_TASKS }, (_, i) => m.addTask(100 + i, `t${i}`));
  return { m, locks, tasks, held: tasks.map(() => []) };
}

const step = fc.record({
  task: fc.nat(N_TASKS - 1),
  op: fc.constantFrom('acquire', 'acquire', 'acquire', 'release', 'irq', 'bh'),
  pick: fc.nat(1000),
  trylock: fc.boolean(),
  read: fc.constantFrom(0, 0, 1, 2),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/** Interpret steps as a valid program: acquire only above the highest held rank. */
function runOrdered(w: World, steps: readonly Step[]): void {
  const { m, locks, tasks, held } = w;
  for (const s of steps) {
    const t = s.task;
    m.switchTo(tasks[t] as FakeTask);
    const h = held[t] as number[];
    if (s.op === 'acquire') {
      const lo = h.length === 0 ? 0 : Math.max(...h) + 1;
      if (lo >= N_LOCKS) continue;
      const r = lo + (s.pick % (N_LOCKS - lo));
      m.call(`f${r}+0x0/0x10`, () =>
        m.ld.lockAcquire(locks[r] as LockdepMap, { trylock: s.trylock, read: s.read as 0 | 1 | 2 }),
      );
      h.push(r);
    } else if (s.op === 'release') {
      if (h.length === 0) continue;
      // Out-of-order release exercises the re-acquire path.
      const [r] = h.splice(s.pick % h.length, 1);
      m.ld.lockRelease(locks[r as number] as LockdepMap);
    } else if (s.op === 'irq') {
      // local_irq_disable()/enable() around held locks: marks them HARDIRQ-ON.
      m.irqDisable();
      m.irqEnable();
    } else {
      m.bhDisable();
      m.bhEnable();
    }
  }
  for (let t = 0; t < N_TASKS; t++) {
    m.switchTo(tasks[t] as FakeTask);
    for (const r of (held[t] as number[]).splice(0).reverse())
      m.ld.lockRelease(locks[r] as LockdepMap);
  }
}

describe('lockdep properties', () => {
  it('programs that respect a global lock order never report', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const w = world();
        runOrdered(w, steps);
        expect(w.m.reports).toEqual([]);
        expect(w.m.ld.depth()).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('inserting one inverted pair always reports a circular dependency', () => {
    const pair = fc
      .tuple(fc.nat(N_LOCKS - 1), fc.nat(N_LOCKS - 1), fc.nat(N_LOCKS - 1))
      .filter(([i, j]) => i < j);
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 120 }),
        pair,
        fc.boolean(),
        (steps, [i, j, k], indirect) => {
          const w = world();
          const { m, locks } = w;
          runOrdered(w, steps);
          const ld = m.ld;
          const [a, b] = [locks[i] as LockdepMap, locks[j] as LockdepMap];
          m.switchTo(w.tasks[0] as FakeTask);
          if (indirect && i < k && k < j) {
            // i -> k -> j, so j -> i closes a longer cycle.
            const c = locks[k] as LockdepMap;
            ld.lockAcquire(a);
            ld.lockAcquire(c);
            ld.lockRelease(c);
            ld.lockRelease(a);
            ld.lockAcquire(c);
            ld.lockAcquire(b);
            ld.lockRelease(b);
            ld.lockRelease(c);
          } else {
            ld.lockAcquire(a);
            ld.lockAcquire(b);
            ld.lockRelease(b);
            ld.lockRelease(a);
          }
          expect(m.reports).toEqual([]);
          // The inversion: take the lower-ranked lock under the higher one.
          m.switchTo(w.tasks[1] as FakeTask);
          ld.lockAcquire(b);
          ld.lockAcquire(a);
          const kinds = m.kinds();
          // A mutex (rank < 3) taken under a spinlock is also an invalid wait context.
          expect(kinds).toContain(LockdepReportKind.CIRCULAR);
          const circ = m.reports.find((r) => r.kind === LockdepReportKind.CIRCULAR);
          expect(circ?.lines[5]).toContain(`(L${i})`);
          expect(circ?.lines[8]).toContain(`(L${j})`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the same program gives byte-identical reports (determinism)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const run = () => {
          const w = world();
          runOrdered(w, steps);
          w.m.switchTo(w.tasks[0] as FakeTask);
          w.m.ld.lockAcquire(w.locks[9] as LockdepMap);
          w.m.ld.lockAcquire(w.locks[3] as LockdepMap);
          return JSON.stringify(w.m.reports);
        };
        expect(run()).toBe(run());
      }),
      { numRuns: 50 },
    );
  });
});
