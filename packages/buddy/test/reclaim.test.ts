import { KernelPanic, TASK_RUNNING } from '@sim/cpu';
import {
  __GFP_NOFAIL,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL,
  GFP_KERNEL,
  GFP_NOFS,
  GFP_NOWAIT,
} from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import { BuddyError, NO_PAGE, SHRINK_STOP, type ShrinkControl } from '../src/index.js';
import { doShrinkSlab, Shrinker } from '../src/shrinker.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

type K = ReturnType<typeof boot>;
const zone = (k: K) => k.a.zones().find((z) => z.managed > 0)!;

function allocN(k: K, gfp: number, n: number): number[] {
  return k.m.runOn(0, () => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = k.a.allocPages(gfp, 0);
      if (p < 0) break;
      out.push(p);
    }
    return out;
  });
}

function freeAll(k: K, pages: number[]): void {
  k.m.runOn(0, () => {
    for (const p of pages) k.a.freePages(p, 0);
  });
}

describe('kswapd', () => {
  it('is woken below the low watermark, reclaims page cache up to the high watermark, and sleeps', () => {
    const k = boot({}, { pcp: false });
    const managed = zone(k).managed;
    const reader = k.a.spawnWorkload({
      kind: 'file',
      pages: managed,
      pagesPerStep: 128,
      stepNs: 100_000,
      holdNs: 0,
    });
    k.m.run({ until: 2_000_000_000 });
    expect(reader.task!.dead).toBe(true);
    const e = k.a.events();
    expect(e.kswapdWakeups).toBeGreaterThan(0);
    expect(e.pgstealKswapd).toBeGreaterThan(0);
    expect(e.pageoutrun).toBeGreaterThan(0);
    expect(e.oomKill).toBe(0);
    // kswapd left the zone balanced and went back to sleep.
    const z = zone(k);
    expect(z.free).toBeGreaterThanOrEqual(z.high - z.boost);
    const kswapd = k.a.kswapdTask(0)!;
    expect(kswapd.comm).toBe('kswapd0');
    expect(kswapd.state).not.toBe(TASK_RUNNING);
    // The page cache it read stays cached after the reader exited, minus what was reclaimed.
    expect(k.a.meminfo()).toMatch(/Cached:\s+\d+ kB/);
  });
});

describe('direct reclaim', () => {
  it('GFP_KERNEL under exhaustion reclaims page cache in the allocating task and charges its time', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    const cache = k.a.createWorkload({ kind: 'file', comm: 'cat' });
    k.m.runOn(0, () => cache.fault(zone(k).managed));
    const t0 = k.m.clockOf(0);
    const got = allocN(k, GFP_KERNEL, 2000);
    expect(got).toHaveLength(2000);
    const e = k.a.events();
    expect(e.allocstall[2]).toBeGreaterThan(0);
    expect(e.pgstealDirect).toBeGreaterThanOrEqual(2000 - zone(k).free);
    expect(e.pgscanDirect).toBeGreaterThanOrEqual(e.pgstealDirect);
    expect(e.oomKill).toBe(0);
    expect(k.m.clockOf(0) - t0).toBeGreaterThan(2000 * 250);
    freeAll(k, got);
    k.m.runOn(0, () => cache.release());
  });

  it('referenced pages get a second chance on the active list', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    const hot = k.a.createWorkload({ kind: 'file', comm: 'hot' });
    const cold = k.a.createWorkload({ kind: 'file', comm: 'cold' });
    k.m.runOn(0, () => {
      hot.fault(2000);
      hot.touch(2000);
      hot.touch(2000);
      cold.fault(zone(k).free);
    });
    expect(k.a.events().pgactivate).toBe(2000);
    const got = allocN(k, GFP_KERNEL, 3000);
    expect(hot.filePages).toBe(2000);
    expect(cold.filePages).toBeLessThan(zone(k).managed - 2000 - 3000 + 1000);
    freeAll(k, got);
    k.m.runOn(0, () => {
      hot.release();
      cold.release();
    });
  });

  it('anonymous memory is swapped out when there is swap and the caller allows IO', () => {
    const k = boot({}, { pcp: false, kswapd: false, swapBytes: 32 * 2 ** 20 });
    const anon = k.a.createWorkload({ kind: 'anon', comm: 'heap' });
    k.m.runOn(0, () => anon.fault(zone(k).free));
    const got = allocN(k, GFP_KERNEL, 1000);
    expect(got).toHaveLength(1000);
    const e = k.a.events();
    expect(e.pswpout).toBeGreaterThan(0);
    expect(anon.swapents).toBe(e.pswpout);
    expect(k.a.meminfo()).toMatch(/SwapFree:\s+\d+ kB/);
    expect(e.oomKill).toBe(0);
    freeAll(k, got);
    k.m.runOn(0, () => anon.exit());
  });
});

describe('shrinkers', () => {
  it('do_shrink_slab() scans freeable >> priority x 4 / seeks, in batches, and defers the rest', () => {
    const scans: number[] = [];
    let objects = 1000;
    const s = new Shrinker(
      {
        name: 'test',
        countObjects: () => objects,
        scanObjects: (sc: ShrinkControl) => {
          scans.push(sc.nrToScan);
          objects -= sc.nrToScan;
          return sc.nrToScan;
        },
      },
      1,
      () => {},
    );
    expect(doShrinkSlab(s, GFP_KERNEL, 0, 12, () => {})).toBe(0);
    expect(scans).toEqual([]);
    // priority 2: (1000 >> 2) * 4 / 2 = 500 objects, batches of 128.
    expect(doShrinkSlab(s, GFP_KERNEL, 0, 2, () => {})).toBe(384);
    expect(scans).toEqual([128, 128, 128]);
    expect(s.nrDeferred[0]).toBe(116);
  });

  it('reclaim calls registered shrinkers; pages they free count as progress', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    // A cache of kernel pages filling memory down to the min watermark.
    const cached = allocN(k, GFP_NOWAIT, zone(k).managed);
    let counted = 0;
    let scanned = 0;
    const shrinker = k.a.registerShrinker({
      name: 'test-cache',
      countObjects: () => {
        counted++;
        return cached.length;
      },
      scanObjects: (sc) => {
        let n = 0;
        while (n < sc.nrToScan && cached.length > 0) {
          k.a.freePages(cached.pop()!, 0);
          n++;
        }
        scanned += n;
        return n === 0 ? SHRINK_STOP : n;
      },
    });
    const got = allocN(k, GFP_KERNEL, 500);
    expect(got).toHaveLength(500);
    expect(counted).toBeGreaterThan(0);
    expect(scanned).toBeGreaterThan(0);
    expect(shrinker.freed).toBe(scanned);
    expect(k.a.events().slabsScanned).toBeGreaterThan(0);
    expect(k.a.events().oomKill).toBe(0);
    shrinker.unregister();
    expect(k.a.shrinkers()).toHaveLength(0);
    freeAll(k, got);
    freeAll(k, cached);
  });

  it('counts a shrinker as progress only for slab pages it accounts (mm_account_reclaimed_pages)', () => {
    // Memory is full of kernel pages a shrinker can free. A __GFP_NORETRY
    // allocation gets one direct-reclaim pass: it succeeds only if reclaim saw
    // progress, which flush_reclaim_state() takes from reclaim_state, fed by
    // __free_slab(). A shrinker that frees plain pages (kfree_rcu's page
    // cache does) makes none, however much it frees.
    const attempt = (accountAsSlab: boolean) => {
      const k = boot({}, { pcp: false, kswapd: false });
      const cached = allocN(k, GFP_NOWAIT | __GFP_NOWARN, zone(k).managed);
      k.a.registerShrinker({
        name: 'test-cache',
        countObjects: () => cached.length,
        scanObjects: (sc) => {
          let n = 0;
          while (n < sc.nrToScan && cached.length > 0) {
            k.a.freePages(cached.pop()!, 0);
            n++;
          }
          if (accountAsSlab) k.a.accountReclaimedPages(n);
          return n === 0 ? SHRINK_STOP : n;
        },
      });
      const got = allocN(k, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 1);
      freeAll(k, [...got, ...cached]);
      return got.length;
    };
    expect(attempt(true)).toBe(1);
    expect(attempt(false)).toBe(0);
  });

  it('rejects a negative reclaimed-page count', () => {
    const k = boot({}, { kswapd: false });
    expect(() => k.a.accountReclaimedPages(-1)).toThrow(/accountReclaimedPages\(-1\)/);
  });

  it('rejects malformed shrinkers', () => {
    const k = boot({}, { kswapd: false });
    expect(() =>
      k.a.registerShrinker({ name: '', countObjects: () => 0, scanObjects: () => 0 }),
    ).toThrow(BuddyError);
    expect(() =>
      k.a.registerShrinker({ name: 'x', countObjects: () => 0, scanObjects: () => 0, seeks: -1 }),
    ).toThrow(/seeks -1/);
  });
});

describe('the OOM killer', () => {
  function hog(k: K, pages: number, comm = 'anon-hog', oomScoreAdj = 0) {
    const w = k.a.spawnWorkload({
      kind: 'anon',
      pages,
      comm,
      oomScoreAdj,
      pagesPerStep: 512,
      stepNs: 10_000,
    });
    k.m.runFor(1_000_000_000);
    return w;
  }

  it('GFP_KERNEL under exhaustion reclaims, then kills the biggest task, with the kernel messages', () => {
    const k = boot({}, { pcp: false });
    const h = hog(k, zone(k).managed - 2000);
    expect(h.anonPages).toBe(zone(k).managed - 2000);
    const got = allocN(k, GFP_KERNEL, 3000);
    expect(got).toHaveLength(3000);
    expect(k.a.events().oomKill).toBe(1);
    expect(k.a.events().allocstall[2]).toBeGreaterThan(0);
    const dmesg = k.m.dmesg({ noTimestamps: true });
    const pid = h.pid;
    expect(dmesg).toContain(
      'driver/0 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
    );
    expect(dmesg).toContain('Mem-Info:');
    expect(dmesg).toContain(
      'Tasks state (memory values in pages):\n[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name',
    );
    expect(dmesg).toMatch(
      new RegExp(`\\[ +${pid}\\] +0 +${pid} +\\d+ +\\d+ +\\d+ +0 +0 +\\d+ +0 +0 anon-hog`),
    );
    expect(dmesg).toContain(
      `oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=anon-hog,pid=${pid},uid=0`,
    );
    expect(dmesg).toMatch(
      new RegExp(
        `Out of memory: Killed process ${pid} \\(anon-hog\\) total-vm:\\d+kB, anon-rss:\\d+kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:\\d+kB oom_score_adj:0`,
      ),
    );
    expect(dmesg).toContain(
      `oom_reaper: reaped process ${pid} (anon-hog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB`,
    );
    const kill = k.m.reports({ kind: 'oom-kill' });
    expect(kill).toHaveLength(1);
    expect(kill[0]!.details).toMatchObject({ pid, comm: 'anon-hog', oomScoreAdj: 0 });
    expect(k.m.reports({ kind: 'oom-invoked' })[0]!.text).toContain('Call Trace:');
    // The victim exits when it next runs.
    k.m.runFor(1_000_000_000);
    expect(h.task!.dead).toBe(true);
    expect(h.task!.result).toBe('killed');
    freeAll(k, got);
  });

  it('oom_score_adj steers the choice; -1000 is never killed', () => {
    const k = boot({}, { pcp: false });
    const big = hog(k, 8000, 'protected', -1000);
    const small = hog(k, 4000, 'preferred', 500);
    const got = allocN(k, GFP_KERNEL, zone(k).free + 3000);
    expect(k.a.oomKills().map((x) => x.comm)).toEqual(['preferred']);
    expect(big.oomVictim).toBe(false);
    expect(small.oomVictim).toBe(true);
    freeAll(k, got);
    k.m.runOn(0, () => big.exit());
  });

  it('__GFP_NORETRY, __GFP_RETRY_MAYFAIL and costly orders fail without killing', () => {
    const k = boot({}, { pcp: false });
    const h = hog(k, zone(k).managed - 300);
    const held = allocN(k, GFP_NOWAIT, 1000);
    expect(k.m.runOn(0, () => k.a.allocPages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0))).toBe(
      NO_PAGE,
    );
    expect(
      k.m.runOn(0, () => k.a.allocPages(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN, 0)),
    ).toBe(NO_PAGE);
    expect(k.m.runOn(0, () => k.a.allocPages(GFP_KERNEL | __GFP_NOWARN, 6))).toBe(NO_PAGE);
    expect(k.a.events().oomKill).toBe(0);
    expect(k.m.reports({ kind: 'page-alloc-failure' })).toHaveLength(0);
    expect(k.m.runOn(0, () => k.a.allocPages(GFP_KERNEL | __GFP_RETRY_MAYFAIL, 0))).toBe(NO_PAGE);
    const r = k.m.reports({ kind: 'page-alloc-failure' });
    expect(r[0]!.text).toContain('mode:0x4cc0(GFP_KERNEL|__GFP_RETRY_MAYFAIL)');
    k.m.runOn(0, () => h.exit());
    freeAll(k, held);
  });

  it('__GFP_NOFAIL does not fail: the OOM killer makes room', () => {
    const k = boot({}, { pcp: false });
    hog(k, zone(k).managed - 300);
    const got = allocN(k, GFP_KERNEL | __GFP_NOFAIL, 600);
    expect(got).toHaveLength(600);
    expect(k.a.events().oomKill).toBe(1);
    freeAll(k, got);
  });

  it('with nothing to kill the kernel panics: "System is deadlocked on memory"', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    let err: unknown;
    const held: number[] = [];
    try {
      k.m.runOn(0, () => {
        for (;;) held.push(k.a.allocPages(GFP_KERNEL, 0)!);
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelPanic);
    const dmesg = k.m.dmesg({ noTimestamps: true });
    expect(dmesg).toContain('Out of memory and no killable processes...');
    expect(dmesg).toContain('Kernel panic - not syncing: System is deadlocked on memory');
    freeAll(k, held);
  });

  it('vm.panic_on_oom panics instead of killing', () => {
    const k = boot({}, { pcp: false, panicOnOom: 1 });
    hog(k, zone(k).managed - 300);
    expect(() => allocN(k, GFP_KERNEL, 1000)).toThrow(KernelPanic);
    expect(k.m.dmesg()).toContain(
      'Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled',
    );
  });

  it('GFP_NOFS may not kill: with nothing reclaimable it loops, and the simulation stops with a soft lockup', () => {
    const k = boot({}, { pcp: false, kswapd: false });
    const h = hog(k, zone(k).managed - 300);
    let err: unknown;
    try {
      allocN(k, GFP_NOFS, 1000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BuddyError);
    expect((err as BuddyError).code).toBe('NO_MEMORY');
    expect(k.m.reports({ kind: 'soft-lockup' })).toHaveLength(1);
    expect(k.a.events().oomKill).toBe(0);
    k.m.runOn(0, () => h.exit());
  });
});
