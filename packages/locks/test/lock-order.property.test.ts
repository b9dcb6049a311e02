import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, kinds } from './fixtures/machine.js';

// Programs are lists of critical sections; each section takes a set of
// spinlocks nested in some order, on some CPU, in task or softirq-free
// context. Lockdep must stay silent for every program that respects one
// global order, and must report a circular dependency as soon as one
// section takes a pair in the opposite order.
const NLOCKS = 6;
const section = fc.record({
  cpu: fc.integer({ min: 0, max: 1 }),
  locks: fc.uniqueArray(fc.integer({ min: 0, max: NLOCKS - 1 }), { minLength: 1, maxLength: 4 }),
});

function run(program: { cpu: number; order: number[] }[]) {
  const { m, l } = boot('none', { locking: { lockdep: { keepGoing: false } } });
  const locks = Array.from({ length: NLOCKS }, (_, i) => l.spinLock(`&lock${i}`));
  for (const s of program) {
    m.runOn(s.cpu, () => {
      for (const i of s.order) locks[i]!.lock();
      for (let k = s.order.length - 1; k >= 0; k--) locks[s.order[k]!]!.unlock();
    });
  }
  return kinds(m);
}

describe('lockdep over random lock programs', () => {
  it('programs that respect the global order never report', () => {
    fc.assert(
      fc.property(fc.array(section, { minLength: 1, maxLength: 12 }), (sections) => {
        const program = sections.map((s) => ({
          cpu: s.cpu,
          order: [...s.locks].sort((a, b) => a - b),
        }));
        expect(run(program)).toEqual([]);
      }),
      { numRuns: 150, seed: 20261121 },
    );
  });

  it('adding one section that inverts an ordered pair always reports a circular dependency', () => {
    fc.assert(
      fc.property(
        fc.array(section, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 0, max: NLOCKS - 2 }),
        fc.integer({ min: 1, max: NLOCKS - 1 }),
        (sections, a, span) => {
          const lo = a;
          const hi = Math.min(NLOCKS - 1, a + span);
          fc.pre(lo < hi);
          const program = sections.map((s) => ({
            cpu: s.cpu,
            order: [...s.locks].sort((x, y) => x - y),
          }));
          // Establish lo -> hi, then take hi -> lo.
          program.push({ cpu: 0, order: [lo, hi] });
          program.push({ cpu: 1, order: [hi, lo] });
          const k = run(program);
          expect(k).toEqual(['lockdep-circular']);
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });
});
