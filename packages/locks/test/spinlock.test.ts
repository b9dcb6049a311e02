import { describe, expect, it } from 'vitest';
import { LocksError } from '../src/index.js';
import { boot, holdLock, kinds, MODELS } from './fixtures/machine.js';

describe('raw_spinlock_t and spinlock_t', () => {
  for (const model of MODELS) {
    it(`spin_lock() under raw_spin_lock() is an Invalid wait context on ${model}`, () => {
      const { m, l } = boot(model);
      const krcp = l.rawSpinLock('&krcp->lock');
      const zone = l.spinLock('&zone->lock');
      m.runOn(0, () => {
        krcp.lock();
        zone.lock();
        zone.unlock();
        krcp.unlock();
      });
      expect(kinds(m)).toContain('lockdep-invalid-wait-context');
      const text = m.dmesg();
      expect(text).toContain('[ BUG: Invalid wait context ]');
      expect(text).toContain('(&zone->lock){....}-{3:3}');
      expect(text).toContain('context-{5:5}');
      expect(text).toMatch(/#0: ffff888[0-9a-f]+ \(&krcp->lock\)\{\+\.\+\.\}-\{2:2\}/);
      // Only PREEMPT_RT makes spinlock_t a sleeping lock.
      const sleeps = kinds(m).includes('might-sleep');
      expect(sleeps).toBe(model === 'rt');
      if (model === 'rt') {
        expect(text).toContain(
          'BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c',
        );
      }
    });
  }

  it('spin_trylock() under a raw spinlock is never a wait-context violation', () => {
    const { m, l } = boot('full');
    const raw = l.rawSpinLock('&rq->__lock');
    const pcp = l.spinLock('&pcp->lock');
    m.runOn(0, () => {
      raw.lock();
      expect(pcp.trylock()).toBe(true);
      pcp.unlock();
      raw.unlock();
    });
    expect(kinds(m)).toEqual([]);
  });

  it('spin_lock() disables preemption off RT and only migration on RT', () => {
    for (const model of ['full', 'rt'] as const) {
      const { m, l } = boot(model);
      const s = l.spinLock('&s->lock');
      m.runOn(0, () => {
        s.lock();
        expect(m.preemptCount()).toBe(model === 'rt' ? 0 : 1);
        expect(m.migrateDisabled()).toBe(model === 'rt' ? 1 : 0);
        s.unlock();
        expect(m.preemptCount()).toBe(0);
      });
    }
  });

  it('pcpu_spin_trylock() pins with preemption off RT and with migration on RT', () => {
    for (const model of ['full', 'rt'] as const) {
      const { m, l } = boot(model);
      const pcp = l.spinLock('&pcp->lock');
      m.runOn(0, () => {
        expect(pcp.pinTrylock()).toBe(true);
        // The pin plus spin_trylock()'s own: two levels off RT; on RT both are migrate_disable().
        expect(m.preemptCount()).toBe(model === 'rt' ? 0 : 2);
        expect(m.migrateDisabled()).toBe(model === 'rt' ? 2 : 0);
        expect(l.lockdep.lockIsHeld(pcp.map)).toBe(true);
        pcp.unlockUnpin();
        expect(m.preemptCount()).toBe(0);
        expect(m.migrateDisabled()).toBe(0);
        expect(pcp.isLocked()).toBe(false);
      });
      expect(kinds(m)).toEqual([]);
    }
  });

  it('pcpu_spin_trylock() costs and counts what preempt_disable() + spin_trylock() do', () => {
    const run = (fused: boolean) => {
      const { m, l } = boot('none');
      const pcp = l.spinLock('&pcp->lock');
      const t = m.runOn(0, () => {
        const t0 = m.now();
        if (fused) {
          pcp.pinTrylock();
          pcp.unlockUnpin();
        } else {
          m.preemptDisable();
          pcp.trylock();
          pcp.unlock();
          m.preemptEnable();
        }
        return m.now() - t0;
      });
      const row = l.lockStat().find((r) => r.name === '&pcp->lock')!;
      return { t, acquisitions: row.acquisitions, hold: row.holdTimeTotal, cache: m.cache.stats() };
    };
    expect(run(true)).toEqual(run(false));
  });

  it('a failed pcpu_spin_trylock() leaves the CPU unpinned', () => {
    for (const model of ['none', 'rt'] as const) {
      const { m, l } = boot(model);
      const pcp = l.spinLock('&pcp->lock');
      holdLock(m, 1, 10_000, 5_000, pcp);
      m.runOn(0, () => {
        expect(pcp.pinTrylock()).toBe(false);
        expect(m.preemptCount()).toBe(0);
        expect(m.migrateDisabled()).toBe(0);
      });
      expect(l.lockStat().find((r) => r.name === '&pcp->lock')!.trylockFailures).toBe(1);
    }
  });

  it('spin_lock_irqsave() leaves irqs enabled on RT (flags 0) and disables them elsewhere', () => {
    for (const model of ['none', 'rt'] as const) {
      const { m, l } = boot(model);
      const s = l.spinLock('&s->lock');
      m.runOn(0, () => {
        const flags = s.lockIrqsave();
        expect(m.irqsDisabled()).toBe(model !== 'rt');
        if (model === 'rt') expect(flags).toBe(0);
        s.unlockIrqrestore(flags);
        expect(m.irqsDisabled()).toBe(false);
      });
    }
  });

  it('raw_spin_lock_irqsave() disables irqs on RT too', () => {
    const { m, l } = boot('rt');
    const r = l.rawSpinLock('&r->lock');
    m.runOn(0, () => {
      const flags = r.lockIrqsave();
      expect(m.irqsDisabled()).toBe(true);
      expect(m.preemptCount()).toBe(1);
      r.unlockIrqrestore(flags);
    });
    expect(kinds(m)).toEqual([]);
  });

  it('a CPU whose clock is behind the last release spins until it, counted by lock_stat', () => {
    const { m, l } = boot('none');
    const s = l.spinLock('&zone->lock');
    // Released at ~15 us on CPU 1's clock.
    holdLock(m, 1, 10_000, 5_000, s);
    const before = m.clockOf(0);
    m.runOn(0, () => {
      s.lock();
      s.unlock();
    });
    expect(m.clockOf(0)).toBeGreaterThanOrEqual(15_000);
    expect(before).toBeLessThan(15_000);
    const row = l.lockStat().find((r) => r.name === '&zone->lock')!;
    expect(row.acquisitions).toBe(2);
    expect(row.contentions).toBe(1);
    expect(row.waitTimeTotal).toBeGreaterThan(9_000);
    expect(row.holdTimeMax).toBeGreaterThanOrEqual(5_000);
  });

  it('a trylock fails while another CPU holds the lock in virtual time', () => {
    const { m, l } = boot('none');
    const s = l.spinLock('&pcp->lock');
    holdLock(m, 1, 10_000, 5_000, s);
    m.runOn(0, () => {
      expect(s.trylock()).toBe(false);
    });
    expect(l.lockStat().find((r) => r.name === '&pcp->lock')!.trylockFailures).toBe(1);
  });

  it('taking the lock on alternating CPUs bounces its cache line', () => {
    const { m, l } = boot('none');
    const s = l.spinLock('&shared->lock');
    const site = m.siteId('lock:&shared->lock');
    for (let i = 0; i < 10; i++) {
      m.runOn(i % 2, () => {
        s.lock();
        s.unlock();
      });
    }
    const row = m.cache.siteStats().find((r) => r.label === 'lock:&shared->lock');
    expect(site).toBeGreaterThan(0);
    expect(row!.transfers).toBeGreaterThanOrEqual(9);
  });

  it('re-taking a held spinlock on the same CPU reports and stops the simulation', () => {
    const { m, l } = boot('none');
    const s = l.spinLock('&s->lock');
    expect(() =>
      m.runOn(0, () => {
        s.lock();
        s.lock();
      }),
    ).toThrow(LocksError);
    expect(kinds(m)).toEqual(['lockdep-recursive', 'spinlock-bug']);
    expect(m.dmesg()).toContain('BUG: spinlock recursion on CPU#0');
  });

  it('unlocking an unlocked spinlock reports bad unlock balance', () => {
    const { m, l } = boot('none');
    const s = l.spinLock('&s->lock');
    m.runOn(0, () => s.unlock());
    expect(kinds(m)).toContain('lockdep-bad-unlock');
    expect(kinds(m)).toContain('spinlock-bug');
  });

  it('a spinlock taken with irqs on, then in a hardirq, is inconsistent lock state', () => {
    const { m, l } = boot('none');
    const s = l.spinLock('&dev->lock');
    const irq = m.requestIrq('dev', () => {
      s.lock();
      s.unlock();
    });
    m.runOn(0, () => {
      s.lock();
      s.unlock();
      m.raiseIrq(0, irq);
    });
    m.runUntilIdle();
    expect(kinds(m)).toEqual(['lockdep-inconsistent']);
    expect(m.dmesg()).toContain('inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.');
  });

  it('a spinlock taken in a hardirq, then with irqs on, is inconsistent the other way', () => {
    const { m, l } = boot('none');
    const s = l.spinLock('&dev->lock');
    const irq = m.requestIrq('dev', () => {
      s.lock();
      s.unlock();
    });
    m.runOn(0, () => m.raiseIrq(0, irq));
    m.runUntilIdle();
    m.runOn(0, () => {
      s.lock();
      s.unlock();
    });
    expect(kinds(m)).toEqual(['lockdep-inconsistent']);
    expect(m.dmesg()).toContain('inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.');
  });

  it('spin_lock_irqsave() in task context and spin_lock() in the hardirq is consistent', () => {
    const { m, l } = boot('none');
    const s = l.spinLock('&dev->lock');
    const irq = m.requestIrq('dev', () => {
      s.lock();
      s.unlock();
    });
    m.runOn(0, () => m.raiseIrq(0, irq));
    m.runUntilIdle();
    m.runOn(0, () => {
      const flags = s.lockIrqsave();
      s.unlockIrqrestore(flags);
    });
    expect(kinds(m)).toEqual([]);
  });

  describe('a contended spinlock_t taken with preemption disabled', () => {
    // CPU 1 holds &pool->lock until 60 us; CPU 0 asks for it at ~0 us.
    function contend(model: 'full' | 'rt', atomic: boolean) {
      const { m, l } = boot(model, { locking: { lockdep: false } });
      const pool = l.spinLock('&pool->lock');
      holdLock(m, 1, 50_000, 10_000, pool);
      m.runOn(0, () => {
        if (atomic) m.preemptDisable();
        pool.lock();
        pool.unlock();
        if (atomic) m.preemptEnable();
      });
      return m;
    }

    it('on PREEMPT_RT blocks in the rtmutex: "BUG: scheduling while atomic"', () => {
      const m = contend('rt', true);
      expect(kinds(m)).toEqual(['might-sleep', 'scheduling-while-atomic']);
      expect(m.dmesg()).toContain(' schedule_rtlock\n');
      expect(m.dmesg()).toMatch(/BUG: scheduling while atomic: driver\/0\/\d+\/0x00000001/);
      // The waiter still gets the lock once the holder's release time is reached.
      expect(m.clockOf(0)).toBeGreaterThanOrEqual(60_000);
    });

    it('on PREEMPT_RT from preemptible code sleeps quietly', () => {
      expect(kinds(contend('rt', false))).toEqual([]);
    });

    it('off PREEMPT_RT spins, which is allowed in atomic context', () => {
      expect(kinds(contend('full', true))).toEqual([]);
    });
  });

  it('rejects an empty lock name before creating anything', () => {
    const { l } = boot('none');
    expect(() => l.spinLock('')).toThrow(/accepted: a non-empty string/);
  });
});
