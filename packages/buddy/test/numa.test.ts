import { __GFP_NOWARN, __GFP_THISNODE, GFP_KERNEL, GFP_NOWAIT } from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_PAGE } from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

describe('NUMA nodes', () => {
  it('memory and CPUs are split over the nodes, each with a kswapd', () => {
    const { a } = boot({ nrCpus: 4, memBytes: 128 * 2 ** 20 }, { nodes: 2 });
    const zs = a.zones().filter((z) => z.managed > 0);
    expect(zs.map((z) => [z.nid, z.name])).toEqual([
      [0, 'Normal'],
      [1, 'Normal'],
    ]);
    expect(zs[1]!.startPfn).toBe(16384);
    expect(a.kswapdTask(0)!.comm).toBe('kswapd0');
    expect(a.kswapdTask(1)!.comm).toBe('kswapd1');
    expect(a.buddyinfo()).toMatch(/^Node 0, zone {3}Normal .*\nNode 1, zone {3}Normal /);
  });

  it('allocations come from the local node and fall back to the other one when it is low', () => {
    const k = boot({ nrCpus: 4, memBytes: 128 * 2 ** 20 }, { nodes: 2, kswapd: false, pcp: false });
    const { m, a } = k;
    const p0 = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    const p3 = m.runOn(3, () => a.allocPages(GFP_KERNEL, 0))!;
    expect(a.pageToNid(p0)).toBe(0);
    expect(a.pageToNid(p3)).toBe(1);
    const held: number[] = [];
    m.runOn(0, () => {
      for (;;) {
        const p = a.allocPages(GFP_NOWAIT, 0);
        if (p < 0) break;
        held.push(p);
        if (a.pageToNid(p) === 1) break;
      }
    });
    expect(a.pageToNid(held.at(-1)!)).toBe(1);
    // __GFP_THISNODE does not fall back.
    expect(m.runOn(0, () => a.allocPages(GFP_NOWAIT | __GFP_THISNODE | __GFP_NOWARN, 0))).toBe(
      NO_PAGE,
    );
    const remote = m.runOn(0, () => a.allocPagesNode(1, GFP_NOWAIT, 0))!;
    expect(a.pageToNid(remote)).toBe(1);
    m.runOn(0, () => {
      for (const p of [...held, p0, p3, remote]) a.freePages(p, 0);
    });
    expect(a.showMem()).toContain('Node 1 Normal:');
  });

  it('allocation failures print mems_allowed=0-1', () => {
    const { m, a } = boot(
      { nrCpus: 2, memBytes: 64 * 2 ** 20 },
      { nodes: 2, kswapd: false, pcp: false },
    );
    const held: number[] = [];
    m.runOn(0, () => {
      for (let p = a.allocPages(GFP_NOWAIT, 0); p >= 0; p = a.allocPages(GFP_NOWAIT, 0))
        held.push(p);
      a.allocPages(0x800, 0);
    });
    expect(m.reports({ kind: 'page-alloc-failure' })[0]!.text).toContain(
      'nodemask=(null),cpuset=/,mems_allowed=0-1',
    );
    m.runOn(0, () => {
      for (const p of held) a.freePages(p, 0);
    });
  });
});
