import { GFP_KERNEL } from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { NR_PAGE_ORDERS } from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

describe('/proc/buddyinfo (frag_show_print)', () => {
  it('prints one line per populated zone: "Node %d, zone %8s " then 11 "%6lu " counts', () => {
    const { a } = boot({ memBytes: 5 * 2 ** 30 }, { kswapd: false });
    const lines = a.buddyinfo().split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Node 0, zone {4}DMA32( +\d+ ){11}$/);
    expect(lines[1]).toMatch(/^Node 0, zone {3}Normal( +\d+ ){11}$/);
    const counts = lines[1]!.slice('Node 0, zone   Normal '.length).trim().split(/ +/).map(Number);
    expect(counts).toEqual(a.zones().find((z) => z.name === 'Normal')!.nrFree);
    expect(lines[0]!.length).toBe('Node 0, zone    DMA32 '.length + NR_PAGE_ORDERS * 7);
  });
});

describe('/proc/zoneinfo (zoneinfo_show_print)', () => {
  it('prints per-node stats, free pages and watermarks, protection and the pagesets of every zone', () => {
    const { m, a } = boot({}, { kswapd: false });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 0))!;
    const z = a.zones().find((x) => x.managed > 0)!;
    const text = a.zoneinfo();
    expect(text).toContain('Node 0, zone      DMA\n  pages free     0\n');
    expect(text).toContain(
      `Node 0, zone   Normal\n  per-node stats\n      nr_inactive_anon 0\n      nr_active_anon 0\n`,
    );
    expect(text).toContain(
      `\n  pages free     ${z.free}\n        boost    ${z.boost}\n        min      ${z.min}\n        low      ${z.low}\n        high     ${z.high}\n        promo    ${z.promo}\n        spanned  ${z.spanned}\n        present  ${z.present}\n        managed  ${z.managed}\n        cma      0\n        protection: (0, 0, 0, 0)\n      nr_free_pages ${z.free}\n`,
    );
    expect(text).toContain(
      `\n  pagesets\n    cpu: 0\n              count:    ${z.pcpCount}\n              high:     `,
    );
    expect(text).toMatch(
      / {14}batch: {4}3\n {14}high_min: \d+\n {14}high_max: \d+\n {2}vm stats threshold: \d+\n/,
    );
    expect(text).toContain('\n  node_unreclaimable:  0\n  start_pfn:           0\n');
    m.runOn(0, () => a.freePages(p, 0));
  });
});

describe('/proc/meminfo (meminfo_proc_show)', () => {
  it('prints "%-16s%8lu kB" lines from MemTotal to PageTables', () => {
    const { m, a } = boot({}, { kswapd: false });
    const cache = a.createWorkload({ kind: 'file', comm: 'reader' });
    m.runOn(0, () => cache.fault(100));
    const text = a.meminfo();
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`MemTotal:       ${String(a.totalramPages() * 4).padStart(8)} kB`);
    expect(lines[1]).toBe(`MemFree:        ${String(a.nrFreePages() * 4).padStart(8)} kB`);
    expect(lines[2]!.startsWith('MemAvailable:   ')).toBe(true);
    expect(text).toContain(`Cached:         ${String(400).padStart(8)} kB`);
    expect(text).toContain(`Inactive(file): ${String(400).padStart(8)} kB`);
    expect(lines.at(-1)).toMatch(/^PageTables: +\d+ kB$/);
    for (const l of lines) expect(l).toMatch(/^[A-Za-z()]+: +\d+ kB$/);
    m.runOn(0, () => cache.release());
  });

  it('slab counters other subsystems report show up in meminfo and Mem-Info', () => {
    const { a } = boot({}, { kswapd: false });
    a.modNodePageState(0, 'slab_unreclaimable', 25);
    a.modNodePageState(0, 'slab_reclaimable', 5);
    expect(a.meminfo()).toContain(`Slab:           ${String(120).padStart(8)} kB`);
    expect(a.showMem()).toContain(' slab_reclaimable:5 slab_unreclaimable:25');
    a.modNodePageState(0, 'slab_unreclaimable', -25);
    a.modNodePageState(0, 'slab_reclaimable', -5);
    expect(() => a.modNodePageState(0, 'bogus' as 'pagetables', 1)).toThrow(
      /accepted slab_reclaimable/,
    );
  });
});

describe('/proc/vmstat and the event counters', () => {
  it('names the counters as the kernel does', () => {
    const { m, a } = boot({}, { kswapd: false, pcp: false });
    const p = m.runOn(0, () => a.allocPages(GFP_KERNEL, 2))!;
    m.runOn(0, () => a.freePages(p, 2));
    const text = a.vmstat();
    expect(text).toContain('\npgalloc_normal 4\n');
    expect(text).toContain('\npgfree 4\n');
    for (const name of [
      'allocstall_normal',
      'pgscan_kswapd',
      'pgscan_direct',
      'pgsteal_kswapd',
      'pgsteal_direct',
      'oom_kill',
      'pageoutrun',
      'slabs_scanned',
    ]) {
      expect(text).toMatch(new RegExp(`\\n${name} \\d+\\n`));
    }
    expect(a.events().pgalloc[2]).toBe(4);
  });
});
