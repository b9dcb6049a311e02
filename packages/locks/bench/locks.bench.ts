import { createMachine } from '@sim/cpu';
import { createLocking } from '@sim/locks';
import { bench, describe } from 'vitest';

// Each iteration runs 1000 lock+unlock pairs inside one runOn(), so pairs per
// second = hz x 1000.
const PAIRS = 1000;

function setup(lockdep: boolean) {
  const m = createMachine({ nrCpus: 2, preempt: 'full', seed: 1 });
  const l = createLocking(m, { lockdep });
  return { m, l };
}

describe('uncontended spin_lock()+spin_unlock() x1000', () => {
  {
    const { m, l } = setup(false);
    const s = l.spinLock('&bench->lock');
    bench('lockdep off', () => {
      m.runOn(0, () => {
        for (let i = 0; i < PAIRS; i++) {
          s.lock();
          s.unlock();
        }
      });
    });
  }
  {
    const { m, l } = setup(true);
    const s = l.spinLock('&bench->lock');
    bench('lockdep on', () => {
      m.runOn(0, () => {
        for (let i = 0; i < PAIRS; i++) {
          s.lock();
          s.unlock();
        }
      });
    });
  }
  {
    const { m, l } = setup(false);
    const s = l.spinLock('&pcp->lock');
    bench('lockdep off, pcpu_spin_trylock()+pcpu_spin_unlock() (pinTrylock)', () => {
      m.runOn(0, () => {
        for (let i = 0; i < PAIRS; i++) {
          s.pinTrylock();
          s.unlockUnpin();
        }
      });
    });
  }
  {
    const { m, l } = setup(true);
    const a = l.rawSpinLock('&a');
    const b = l.spinLock('&b');
    bench('lockdep on, nested raw+spin (2 pairs)', () => {
      m.runOn(0, () => {
        for (let i = 0; i < PAIRS / 2; i++) {
          a.lock();
          b.trylock();
          b.unlock();
          a.unlock();
        }
      });
    });
  }
});

describe('contended spin_lock() between two CPUs x1000', () => {
  for (const lockdep of [false, true]) {
    const { m, l } = setup(lockdep);
    const s = l.spinLock('&shared->lock');
    bench(`lockdep ${lockdep ? 'on' : 'off'}, alternating CPUs with overlapping clocks`, () => {
      for (let i = 0; i < PAIRS / 100; i++) {
        const cpu = i & 1;
        m.runOn(cpu, () => {
          for (let j = 0; j < 100; j++) {
            s.lock();
            m.charge(50);
            s.unlock();
          }
        });
      }
    });
  }
});
