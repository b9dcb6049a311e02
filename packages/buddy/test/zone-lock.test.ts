import {
  __GFP_NO_LOCKS,
  __GFP_NOWARN,
  GFP_ATOMIC,
  GFP_DMA32,
  GFP_KERNEL,
  GFP_NOWAIT,
} from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_PAGE } from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

const ATOMIC = GFP_ATOMIC | __GFP_NOWARN;

type Kernel = ReturnType<typeof boot>;

/** kfree_rcu()'s 2020 shape: allocate a page on CPU 0 while holding the raw `krcp->lock`. */
function allocUnderKrcpLock({ m, locking, a }: Kernel, gfp: number): number {
  const raw = locking.rawSpinLock('krcp->lock');
  return m.runOn(0, () => {
    raw.lock();
    const page = a.allocPages(gfp, 0);
    raw.unlock();
    return page;
  });
}

describe('zone->lock taken under a raw spinlock (the 2020 kfree_rcu problem)', () => {
  it('2020 locking: GFP_ATOMIC with an empty per-CPU list takes zone->lock: BUG: Invalid wait context', () => {
    const k = boot({}, { zoneLock: 'full', kswapd: false });
    const { m, a } = k;
    const p = allocUnderKrcpLock(k, ATOMIC);
    expect(p).not.toBe(NO_PAGE);
    const r = m.reports({ kind: 'lockdep-invalid-wait-context' });
    expect(r).toHaveLength(1);
    const text = r[0]!.text;
    expect(text).toContain('[ BUG: Invalid wait context ]');
    expect(text).toMatch(/\(&zone->lock\)\{....\}-\{3:3\}, at: rmqueue_bulk/);
    expect(text).toMatch(/#0: \w+ \(krcp->lock\)\{....\}-\{2:2\}/);
    m.runOn(0, () => a.freePages(p!, 0));
  });

  it('2020 locking: with pages already on the per-CPU list there is no zone->lock and no report', () => {
    const k = boot({}, { zoneLock: 'full', kswapd: false });
    const { m, a } = k;
    const warm = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    m.runOn(0, () => a.freePages(warm, 0));
    const p = allocUnderKrcpLock(k, ATOMIC);
    expect(m.reports({ kind: 'lockdep-invalid-wait-context' })).toHaveLength(0);
    m.runOn(0, () => a.freePages(p, 0));
  });

  it('v6.15 locking: an uncontended zone->lock is a trylock, exempt from the wait-context check', () => {
    const k = boot({}, { kswapd: false });
    const { m, a } = k;
    const p = allocUnderKrcpLock(k, ATOMIC);
    expect(p).not.toBe(NO_PAGE);
    expect(m.reports({ kind: 'lockdep-invalid-wait-context' })).toHaveLength(0);
    m.runOn(0, () => a.freePages(p, 0));
  });

  it('v6.15 locking: when the trylock fails (contention) the full acquisition is reported', () => {
    const k = boot({}, { kswapd: false });
    const { m, a } = k;
    // CPU 1 holds zone->lock later in virtual time than CPU 0's clock reads.
    const q = m.runOn(1, () => {
      m.charge(1_000_000);
      return a.allocPages(GFP_KERNEL, 0)!;
    });
    const t0 = m.clockOf(0);
    const p = allocUnderKrcpLock(k, ATOMIC);
    const r = m.reports({ kind: 'lockdep-invalid-wait-context' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toContain('rmqueue_bulk');
    // CPU 0 spun until CPU 1 released the lock.
    expect(m.clockOf(0)).toBeGreaterThan(t0 + 900_000);
    m.runOn(0, () => a.freePages(p, 0));
    m.runOn(1, () => a.freePages(q, 0));
  });

  it('__GFP_NO_LOCKS (RFC, 2020) returns NULL rather than take zone->lock, and uses the per-CPU list', () => {
    const k = boot({}, { zoneLock: 'full', kswapd: false });
    const { m, a } = k;
    const none = allocUnderKrcpLock(k, GFP_NOWAIT | __GFP_NO_LOCKS);
    expect(none).toBe(NO_PAGE);
    expect(m.reports()).toHaveLength(0);
    const warm = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    m.runOn(0, () => a.freePages(warm, 0));
    const got = allocUnderKrcpLock(k, GFP_NOWAIT | __GFP_NO_LOCKS);
    expect(got).not.toBe(NO_PAGE);
    expect(m.reports()).toHaveLength(0);
    m.runOn(0, () => a.freePages(got!, 0));
  });

  it('__GFP_NO_LOCKS with an empty Normal list takes the next zone of the zonelist, DMA32, from its list', () => {
    const k = boot(
      { memBytes: 128 * 2 ** 20 },
      { zoneLayout: 'dma32+normal', dma32LimitBytes: 64 * 2 ** 20, kswapd: false },
    );
    const { m, a } = k;
    const [dma32, normal] = a.zones().filter((z) => z.managed > 0);
    expect([dma32!.name, normal!.name]).toEqual(['DMA32', 'Normal']);
    // Only DMA32's list has pages; Normal's is empty and would need zone->lock.
    const warm = m.runOn(0, () => a.allocPages(GFP_DMA32, 0))!;
    m.runOn(0, () => a.freePages(warm, 0));
    const got = allocUnderKrcpLock(k, GFP_NOWAIT | __GFP_NO_LOCKS);
    expect(got).not.toBe(NO_PAGE);
    expect(got!).toBeLessThan(dma32!.startPfn + dma32!.spanned);
    expect(m.reports()).toHaveLength(0);
    m.runOn(0, () => a.freePages(got!, 0));
  });

  it('PREEMPT_RT, 2020 locking: zone->lock sleeps, so taking it under a raw spinlock is a might-sleep BUG', () => {
    const k = boot({ preempt: 'rt' }, { zoneLock: 'full', kswapd: false });
    const { m, a } = k;
    const p = allocUnderKrcpLock(k, ATOMIC);
    const r = m.reports({ kind: 'might-sleep' });
    expect(r.length).toBeGreaterThanOrEqual(1);
    expect(r[0]!.text).toContain(
      'BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c',
    );
    m.runOn(0, () => a.freePages(p, 0));
  });

  it('PREEMPT_RT, 2020 locking: the per-CPU lists sit under the pa_lock local lock, not irqs off', () => {
    // The RT patchset replaced local_irq_save() around the lists with a
    // per-CPU sleeping lock, so ordinary use prints nothing on RT either.
    const irqsOffAtLists = (preempt: 'full' | 'rt'): boolean[] => {
      const { m, a } = boot({ preempt }, { zoneLock: 'full', kswapd: false });
      const seen: boolean[] = [];
      m.attachProgram('mm.pcp_locked', { every: true }, (mm) => seen.push(mm.irqsDisabled()));
      m.runOn(0, () => a.freePages(a.allocPages(GFP_KERNEL, 0), 0));
      expect(m.reports()).toHaveLength(0);
      return seen;
    };
    expect(irqsOffAtLists('rt')).toEqual([false, false]);
    expect(irqsOffAtLists('full')).toEqual([true, true]);
  });
});

describe('normal use from every context raises no lockdep report', () => {
  it('task, softirq-free hardirq and NMI users of the allocator coexist', () => {
    const { m, a } = boot({ nrCpus: 2 }, {});
    const held: number[] = [];
    const irq = m.requestIrq('nic', () => {
      const p = a.allocPages(ATOMIC, 0);
      if (p >= 0) a.freePages(p, 0);
      const q = a.allocPages(ATOMIC, 2);
      if (q >= 0) held.push(q);
    });
    // The handler hits the probe itself; a rate below 1 keeps the chain finite.
    const nmi = m.injectNmi('mm_page_free', { rate: 0.2 }, () => {
      const p = a.allocPagesNolock(0, -1, 0);
      if (p >= 0) a.freePagesNolock(p, 0);
    });
    m.runOn(0, () => {
      for (let i = 0; i < 2000; i++) {
        const p = a.allocPages(GFP_KERNEL, i % 4);
        if (i % 7 === 0) m.raiseIrq(0, irq);
        a.freePages(p, i % 4);
      }
    });
    m.runUntilIdle();
    m.runOn(0, () => a.drainAllPages());
    m.runOn(1, () => {
      for (const q of held) a.freePages(q, 2);
    });
    expect(m.irqCount(irq)).toBeGreaterThan(100);
    expect(nmi.fires).toBeGreaterThan(100);
    expect(m.reports()).toEqual([]);
  });
});
