import { IRQF_NO_THREAD } from '@sim/cpu';
import { describe, expect, it } from 'vitest';
import { boot, kinds } from './fixtures/machine.js';

describe('local_lock_t / local_trylock_t', () => {
  it('off RT, an NMI that interrupts the holder sees it locked and its trylock fails', () => {
    const { m, l } = boot('full');
    const ll = l.localLock('&s->cpu_slab->lock');
    const inside = m.defineProbe('test.inside-local-lock');
    let seen: boolean | undefined;
    let tried: boolean | undefined;
    m.injectNmi('test.inside-local-lock', { nth: 1 }, () => {
      seen = ll.isLocked();
      tried = ll.trylock();
    });
    m.runOn(0, () => {
      const flags = ll.lockIrqsave();
      m.probe(inside);
      ll.unlockIrqrestore(flags);
    });
    expect(seen).toBe(true);
    expect(tried).toBe(false);
    expect(kinds(m)).toEqual([]);
  });

  it('each CPU has its own instance', () => {
    const { m, l } = boot('full');
    const ll = l.localLock('&pcp->lock');
    m.runOn(0, () => {
      ll.lock();
      expect(ll.isLocked()).toBe(true);
      ll.unlock();
    });
    m.runOn(1, () => {
      expect(ll.isLocked()).toBe(false);
      expect(ll.trylock()).toBe(true);
      ll.unlock();
    });
    expect(kinds(m)).toEqual([]);
  });

  it('off RT, local_lock() disables preemption and local_lock_irqsave() irqs', () => {
    const { m, l } = boot('voluntary');
    const ll = l.localLock('&ll');
    m.runOn(0, () => {
      ll.lock();
      expect(m.preemptCount()).toBe(1);
      ll.unlock();
      const f = ll.lockIrqsave();
      expect(m.irqsDisabled()).toBe(true);
      ll.unlockIrqrestore(f);
      expect(m.irqsDisabled()).toBe(false);
    });
  });

  it('on RT it only disables migration, and a hardirq trylock fails at once', () => {
    const { m, l } = boot('rt');
    const ll = l.localLock('&ll');
    let inIrq: boolean | undefined;
    const irq = m.requestIrq(
      'hard',
      () => {
        inIrq = ll.trylock();
      },
      IRQF_NO_THREAD,
    );
    m.runOn(0, () => {
      ll.lock();
      expect(m.preemptCount()).toBe(0);
      expect(m.migrateDisabled()).toBeGreaterThan(0);
      expect(ll.isLocked()).toBe(true);
      ll.unlock();
      m.raiseIrq(0, irq);
    });
    m.runUntilIdle();
    expect(inIrq).toBe(false);
  });

  it('under a raw spinlock local_lock() is an Invalid wait context', () => {
    const { m, l } = boot('full');
    const raw = l.rawSpinLock('&raw');
    const ll = l.localLock('&ll');
    m.runOn(0, () => {
      raw.lock();
      ll.lock();
      ll.unlock();
      raw.unlock();
    });
    expect(kinds(m)).toEqual(['lockdep-invalid-wait-context']);
  });

  it('unlocking a local lock that is not held warns', () => {
    const { m, l } = boot('full', { locking: { lockdep: false } });
    const ll = l.localLock('&ll');
    m.runOn(0, () => {
      m.preemptDisable();
      ll.unlock();
    });
    expect(kinds(m)).toEqual(['local-lock-imbalance']);
  });
});
