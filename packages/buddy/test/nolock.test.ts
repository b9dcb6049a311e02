import { IRQF_NO_THREAD } from '@sim/cpu';
import { __GFP_ACCOUNT, GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT } from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_PAGE, NUMA_NO_NODE } from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

describe('alloc_pages_nolock()', () => {
  it('returns a zeroed page from any context; high orders get compound heads', () => {
    const { m, a } = boot({}, { kswapd: false });
    const victim = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    m.memory.write(a.pageAddress(victim), 77);
    m.runOn(0, () => a.freePages(victim, 0));
    const p = m.runOn(0, () => a.allocPagesNolock(0, NUMA_NO_NODE, 0))!;
    expect(p).toBe(victim);
    expect(m.memory.read(a.pageAddress(p))).toBe(0);
    const q = m.runOn(0, () => a.allocPagesNolock(__GFP_ACCOUNT, 0, 2))!;
    expect(a.pageInfo(q).flags).toContain('head');
    m.runOn(0, () => {
      a.freePagesNolock(p, 0);
      a.freePagesNolock(q, 2);
    });
    expect(m.reports()).toHaveLength(0);
  });

  it('orders the per-CPU lists do not hold are refused; the THP order is not', () => {
    const { m, a } = boot({}, { kswapd: false });
    expect(m.runOn(0, () => a.allocPagesNolock(0, NUMA_NO_NODE, 4))).toBe(NO_PAGE);
    const thp = m.runOn(0, () => a.allocPagesNolock(0, NUMA_NO_NODE, 9))!;
    expect(thp).not.toBe(NO_PAGE);
    m.runOn(0, () => a.freePagesNolock(thp, 9));
    expect(a.events().nolockFail).toBe(1);
  });

  it('a GFP mask other than __GFP_ACCOUNT is a VM_WARN_ON_ONCE', () => {
    const { m, a } = boot({}, { kswapd: false });
    const p = m.runOn(0, () => a.allocPagesNolock(GFP_KERNEL, NUMA_NO_NODE, 0))!;
    const q = m.runOn(0, () => a.allocPagesNolock(GFP_KERNEL, NUMA_NO_NODE, 0))!;
    const w = m.reports({ kind: 'page-alloc-warn' });
    expect(w).toHaveLength(1);
    expect(w[0]!.text).toContain('VM_WARN_ON_ONCE(gfp_flags & ~__GFP_ACCOUNT)');
    m.runOn(0, () => {
      a.freePages(p, 0);
      a.freePages(q, 0);
    });
  });

  it('from an NMI that interrupted the allocator holding zone->lock: NULL, no report, no kswapd', () => {
    const { m, a } = boot({}, {});
    let inNmi = false;
    let got = 1;
    const inj = m.injectNmi('mm_page_alloc_zone_locked', { nth: 1 }, () => {
      inNmi = m.inNmi();
      got = a.allocPagesNolock(0, NUMA_NO_NODE, 0);
    });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(inj.fires).toBe(1);
    expect(inNmi).toBe(true);
    expect(got).toBe(NO_PAGE);
    expect(m.reports()).toHaveLength(0);
    expect(a.events().kswapdWakeups).toBe(0);
    m.runOn(0, () => a.freePages(p, 0));
  });

  it('re-entry from a program on a tracepoint inside the allocator cannot deadlock', () => {
    const { m, a } = boot({}, { kswapd: false });
    let got = 1;
    m.attachProgram('mm_page_alloc_zone_locked', { nth: 1 }, () => {
      got = a.allocPagesNolock(0, NUMA_NO_NODE, 0);
    });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(got).toBe(NO_PAGE);
    expect(m.reports()).toHaveLength(0);
    m.runOn(0, () => a.freePages(p, 0));
  });

  it('PREEMPT_RT: NULL at once in NMI and hardirq context', () => {
    const { m, a } = boot({ preempt: 'rt' }, { kswapd: false });
    let fromNmi = 1;
    m.injectNmi('mm_page_alloc', { nth: 1 }, () => {
      fromNmi = a.allocPagesNolock(0, NUMA_NO_NODE, 0);
    });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(fromNmi).toBe(NO_PAGE);
    let fromIrq = 1;
    const irq = m.requestIrq(
      'test',
      () => {
        fromIrq = a.allocPagesNolock(0, NUMA_NO_NODE, 0);
      },
      IRQF_NO_THREAD,
    );
    m.runOn(0, () => m.raiseIrq(0, irq));
    m.runUntilIdle();
    expect(m.irqCount(irq)).toBe(1);
    expect(fromIrq).toBe(NO_PAGE);
    // In task context it works.
    const q = m.runOn(0, () => a.allocPagesNolock(0, NUMA_NO_NODE, 0));
    expect(q).not.toBe(NO_PAGE);
    m.runOn(0, () => {
      a.freePages(p, 0);
      a.freePagesNolock(q!, 0);
    });
  });

  it('uses no reserve: fails at the min watermark where GFP_ATOMIC still succeeds', () => {
    const { m, a } = boot({}, { kswapd: false, pcp: false });
    const z = () => a.zones().find((x) => x.managed > 0)!;
    const held: number[] = [];
    m.runOn(0, () => {
      for (let p = a.allocPages(GFP_NOWAIT, 0); p >= 0; p = a.allocPages(GFP_NOWAIT, 0))
        held.push(p);
    });
    // GFP_NOWAIT stops exactly at the min watermark.
    expect(z().free).toBe(z().min);
    expect(m.runOn(0, () => a.allocPagesNolock(0, NUMA_NO_NODE, 0))).toBe(NO_PAGE);
    const atomic = m.runOn(0, () => a.allocPages(GFP_ATOMIC, 0));
    expect(atomic).not.toBe(NO_PAGE);
    expect(m.reports()).toHaveLength(0);
    m.runOn(0, () => {
      for (const p of held) a.freePages(p, 0);
      a.freePages(atomic!, 0);
    });
  });
});

describe('free_pages_nolock()', () => {
  it('while zone->lock is held the block is parked on trylock_free_pages, then merged by the next locked free', () => {
    const { m, a } = boot({}, { kswapd: false });
    const big = m.runOn(0, () => a.allocPages(GFP_KERNEL, 4))!;
    const other = m.runOn(0, () => a.allocPages(GFP_KERNEL, 4))!;
    m.injectNmi('mm_page_alloc_zone_locked', { nth: 1 }, () => {
      a.freePagesNolock(big, 4);
    });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(a.pageInfo(big).state).toBe('deferred');
    expect(a.events().deferredFrees).toBe(16);
    expect(m.reports()).toHaveLength(0);
    // The next free that takes zone->lock normally drains the parked block first.
    m.runOn(0, () => a.freePages(other, 4));
    expect(a.pageInfo(big).state).not.toBe('deferred');
    m.runOn(0, () => a.freePages(p, 0));
  });

  it('an order-0 free in NMI while the per-CPU list and zone->lock are held is parked too', () => {
    const { m, a } = boot({}, { kswapd: false });
    const page = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    const other = m.runOn(0, () => a.allocPages(GFP_KERNEL, 5))!;
    // Empty this CPU's list so the next allocation refills it under both locks.
    m.runOn(0, () => a.drainAllPages());
    m.injectNmi('mm_page_alloc_zone_locked', { nth: 1 }, () => a.freePagesNolock(page, 0));
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(a.pageInfo(page).state).toBe('deferred');
    m.runOn(0, () => a.freePages(other, 5));
    expect(a.pageInfo(page).state).not.toBe('deferred');
    m.runOn(0, () => a.freePages(p, 0));
  });

  it('PREEMPT_RT: from a hardirq the block goes straight to trylock_free_pages', () => {
    const { m, a } = boot({ preempt: 'rt' }, { kswapd: false });
    const page = m.runOn(0, () => a.allocPages(GFP_ATOMIC, 0))!;
    const irq = m.requestIrq('test', () => a.freePagesNolock(page, 0), IRQF_NO_THREAD);
    m.runOn(0, () => m.raiseIrq(0, irq));
    m.runUntilIdle();
    expect(a.pageInfo(page).state).toBe('deferred');
  });
});
