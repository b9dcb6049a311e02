import {
  __GFP_HIGH,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_NOMEMALLOC,
  __GFP_NOWARN,
  GFP_ATOMIC,
  GFP_KERNEL,
  GFP_NOWAIT,
} from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_PAGE, reserveAdjustedMark } from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

type K = ReturnType<typeof boot>;
const zone = (k: K) => k.a.zones().find((z) => z.managed > 0)!;

/** Allocate order-0 pages with `gfp` until it fails; returns them. */
function drain(k: K, gfp: number): number[] {
  const held: number[] = [];
  k.m.runOn(0, () => {
    for (let p = k.a.allocPages(gfp, 0); p >= 0; p = k.a.allocPages(gfp, 0)) held.push(p);
  });
  return held;
}

function release(k: K, held: number[]): void {
  k.m.runOn(0, () => {
    for (const p of held) k.a.freePages(p, 0);
  });
}

describe('watermarks under pressure', () => {
  it('GFP_NOWAIT stops at the min watermark: no sleep, no direct reclaim, no OOM, no warning, kswapd woken', () => {
    const k = boot({}, { pcp: false });
    const held = drain(k, GFP_NOWAIT);
    const z = zone(k);
    expect(z.free).toBe(z.min);
    const e = k.a.events();
    expect(e.allocstall.every((n) => n === 0)).toBe(true);
    expect(e.oomKill).toBe(0);
    expect(e.kswapdWakeups).toBeGreaterThan(0);
    expect(k.m.reports()).toHaveLength(0);
    expect(k.m.current.state).toBe(0);
    release(k, held);
  });

  it('GFP_ATOMIC dips below min down to 3/8 of it, then fails with the kernel report', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    const held = drain(k, GFP_NOWAIT);
    const z = zone(k);
    const atomic = drain(k, GFP_ATOMIC);
    // Order-0 __GFP_HIGH checks ignore the watermark boost (zone_watermark_fast()).
    const min = z.min - z.boost;
    const floor = reserveAdjustedMark(min, 0x20 | 0x10);
    expect(floor).toBe(min - Math.floor(min / 2) - Math.floor((min - Math.floor(min / 2)) / 4));
    expect(zone(k).free).toBe(floor);
    expect(atomic.length).toBe(z.free - floor);
    const r = k.m.reports({ kind: 'page-alloc-failure' });
    expect(r).toHaveLength(1);
    expect(r[0]!.comm).toBe('driver/0');
    expect(r[0]!.text.split('\n')[0]).toBe(
      `driver/0: page allocation failure: order:0, mode:0x820(GFP_ATOMIC), nodemask=(null),cpuset=/,mems_allowed=0`,
    );
    expect(r[0]!.text).toContain('Call Trace:');
    expect(r[0]!.text).toContain('warn_alloc');
    const dmesg = k.m.dmesg();
    expect(dmesg).toContain('Mem-Info:');
    expect(dmesg).toMatch(/Node 0 Normal free:\d+kB boost:\d+kB min:\d+kB low:\d+kB high:\d+kB/);
    expect(dmesg).toMatch(/Node 0 Normal: (\d+\*\d+kB (\([UMEH]+\) )?){11}= \d+kB/);
    release(k, atomic);
    release(k, held);
  });

  it('__GFP_HIGH without the non-blocking bonus may use half of min', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    const held = drain(k, GFP_NOWAIT);
    const z = zone(k);
    // __GFP_NOMEMALLOC drops ALLOC_NON_BLOCK, leaving ALLOC_MIN_RESERVE alone.
    const high = drain(k, __GFP_HIGH | 0x80000 | 0x2000);
    const min = z.min - z.boost;
    expect(zone(k).free).toBe(min - Math.floor(min / 2));
    release(k, high);
    release(k, held);
  });

  it('allocation failure reports are rate limited to one per 10 s, then "callbacks suppressed"', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    const held = drain(k, GFP_NOWAIT);
    const atomic = drain(k, GFP_ATOMIC);
    expect(k.m.runOn(0, () => k.a.allocPages(GFP_ATOMIC, 0))).toBe(NO_PAGE);
    expect(k.m.runOn(0, () => k.a.allocPages(__GFP_KSWAPD_RECLAIM, 0))).toBe(NO_PAGE);
    expect(k.m.reports({ kind: 'page-alloc-failure' })).toHaveLength(1);
    k.m.runOn(0, () => k.m.charge(10_001_000_000));
    expect(k.m.runOn(0, () => k.a.allocPages(__GFP_KSWAPD_RECLAIM, 0))).toBe(NO_PAGE);
    const r = k.m.reports({ kind: 'page-alloc-failure' });
    expect(r).toHaveLength(2);
    expect(r[1]!.text).toContain('mode:0x800(__GFP_KSWAPD_RECLAIM)');
    expect(k.m.dmesg()).toContain('warn_alloc: 2 callbacks suppressed');
    expect(k.a.events().allocFail).toBe(5);
    release(k, atomic);
    release(k, held);
  });

  it('PF_MEMALLOC and __GFP_MEMALLOC ignore the watermarks; __GFP_NOMEMALLOC forbids it', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    const held = drain(k, GFP_NOWAIT);
    const mine = k.m.runOn(0, () => {
      const scope = k.m.current.memalloc;
      const cookie = scope.noreclaimSave();
      const out: number[] = [];
      for (let i = 0; i < 50; i++) out.push(k.a.allocPages(GFP_KERNEL, 0)!);
      scope.noreclaimRestore(cookie);
      return out;
    });
    expect(mine.every((p) => p >= 0)).toBe(true);
    expect(k.a.pageInfo(mine[0]!).flags).toContain('pfmemalloc');
    const z = zone(k);
    expect(z.free).toBe(z.min - 50);
    const memalloc = drain(k, GFP_ATOMIC | __GFP_MEMALLOC | __GFP_NOWARN);
    expect(zone(k).free).toBe(0);
    // Nothing left at all: even the reserves are gone.
    expect(k.m.runOn(0, () => k.a.allocPages(GFP_ATOMIC | __GFP_MEMALLOC | __GFP_NOWARN, 0))).toBe(
      NO_PAGE,
    );
    release(k, memalloc);
    const denied = drain(k, GFP_ATOMIC | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_NOWARN);
    const min = zone(k).min - zone(k).boost;
    expect(zone(k).free).toBe(min - Math.floor(min / 2));
    release(k, denied);
    release(k, mine);
    release(k, held);
  });

  it('GFP_KERNEL from atomic context is "sleeping function called from invalid context"', () => {
    const k = boot({}, { kswapd: false });
    const p = k.m.runOn(0, () => {
      k.m.preemptDisable();
      const page = k.a.allocPages(GFP_KERNEL, 0);
      k.m.preemptEnable();
      return page;
    })!;
    const r = k.m.reports({ kind: 'might-sleep' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toContain(
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h',
    );
    k.m.runOn(0, () => k.a.freePages(p, 0));
  });
});
