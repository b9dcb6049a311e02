import { createMachine } from '@sim/cpu';
import {
  __GFP_MEMALLOC,
  __GFP_NO_LOCKS,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  formatGfp,
  GFP_ATOMIC,
  GFP_KERNEL,
} from '@sim/gfp';
import { createLocking, LocksError } from '@sim/locks';
import { describe, expect, it } from 'vitest';
import {
  createRcu,
  KVFREE_BULK_MAX_ENTR,
  KVFREE_RCU_SHRINKER_NAME,
  RcuError,
  type RcuOptions,
  TestObjectPool,
  TestPagePool,
  TestShrinkerRegistry,
} from '../src/index.js';
import { boot, kinds, MS, task } from './boot.js';

const S = 1000 * MS;

describe('kvfree_rcu, batched (mm/slab_common.c)', { timeout: 60_000 }, () => {
  it('KVFREE_BULK_MAX_ENTR is what fits in a page after the header: 507 pointers on x86_64', () => {
    expect(KVFREE_BULK_MAX_ENTR).toBe(507);
  });

  it('with the page cache empty the object is chained through its rcu_head, and a refill is scheduled', () => {
    const { m, rcu, pool } = boot();
    const a = pool.alloc();
    const b = pool.alloc();
    let afterFirst = rcu.kvfreeStats();
    task(
      m,
      function* () {
        rcu.kfreeRcu(a, 16);
        afterFirst = rcu.kvfreeStats();
        // The refill runs from an hrtimer that queues fill_page_cache_func().
        yield m.sleep(2 * MS);
        rcu.kfreeRcu(b, 16);
      },
      { cpu: 1 },
    );
    m.run({ until: 3 * MS });
    expect(afterFirst.chained).toBe(1);
    expect(afterFirst.pagesInUse).toBe(0);
    const s = rcu.kvfreeStats();
    expect(s.chained).toBe(1);
    expect(s.pagesInUse).toBe(1);
    // rcu_min_cached_objs = 5 pages were cached; one now holds b's pointer.
    expect(s.pagesAllocated).toBe(5);
    expect(s.pagesCached).toBe(4);
    m.run({ until: 6 * S });
    expect(pool.isLive(a)).toBe(false);
    expect(pool.isLive(b)).toBe(false);
    expect(rcu.kvfreeStats().pending).toBe(0);
  });

  it('the monitor drains after KFREE_DRAIN_JIFFIES (5 s), or one jiffy once a page worth is pending', () => {
    const { m, rcu, pool } = boot();
    const one = pool.alloc();
    task(
      m,
      function* () {
        yield m.sleep(10 * MS); // let the page cache fill first
        rcu.kfreeRcu(one, 0);
      },
      { cpu: 0 },
    );
    m.run({ until: 4.9 * S });
    expect(pool.isLive(one)).toBe(true);
    m.run({ until: 5.2 * S });
    expect(pool.isLive(one)).toBe(false);

    const k = boot();
    const objs: number[] = [];
    let queuedAt = 0;
    task(
      k.m,
      function* () {
        yield k.m.sleep(10 * MS);
        // A slow trickle first (monitor armed for 5 s), then a burst: re-arming only shortens.
        objs.push(k.pool.alloc());
        k.rcu.kfreeRcu(objs[0]!, 0);
        yield k.m.sleep(100 * MS);
        for (let i = 0; i < KVFREE_BULK_MAX_ENTR; i++) {
          const o = k.pool.alloc();
          objs.push(o);
          k.rcu.kfreeRcu(o, 0);
        }
        queuedAt = k.m.now();
      },
      { cpu: 0 },
    );
    k.m.run({ until: 200 * MS });
    expect(queuedAt).toBeGreaterThan(0);
    expect(objs.every((o) => !k.pool.isLive(o))).toBe(true);
    expect(k.rcu.kvfreeStats().batchesQueued).toBe(1);
  });

  it('objects whose page snapshot already elapsed are freed by the monitor without another grace period', () => {
    const { m, rcu, pool } = boot();
    const o = pool.alloc();
    task(
      m,
      function* () {
        yield m.sleep(10 * MS);
        rcu.kfreeRcu(o, 0);
        // Someone else's grace period elapses long before the 5 s drain.
        yield* rcu.synchronizeRcu();
      },
      { cpu: 0 },
    );
    m.run({ until: 1 * S });
    const gps = rcu.stats().gpCompleted;
    m.run({ until: 6 * S });
    const s = rcu.kvfreeStats();
    expect(pool.isLive(o)).toBe(false);
    expect(s.freedWithoutExtraGp).toBe(1);
    expect(s.batchesQueued).toBe(0);
    expect(rcu.stats().gpCompleted).toBe(gps);
  });

  it('frees each page with one kfree_bulk() and recycles the page into the cache', () => {
    const m = createMachine({ nrCpus: 2 });
    const locking = createLocking(m);
    const pool = new TestObjectPool(m);
    let bulkCalls = 0;
    let bulkObjects = 0;
    const freer = {
      kfree: (a: number) => pool.kfree(a),
      kfreeBulk: (a: Float64Array | number[], n: number) => {
        bulkCalls++;
        bulkObjects += n;
        pool.kfreeBulk(a, n);
      },
    };
    const pages = new TestPagePool(m, locking);
    const rcu = createRcu({
      machine: m,
      locking,
      freer,
      pages,
      shrinkers: new TestShrinkerRegistry(),
    });
    m.spawn(
      function* () {
        // The first call finds the page cache empty (chained) and has it filled.
        rcu.kfreeRcu(pool.alloc(), 0);
        yield m.sleep(10 * MS);
        for (let i = 0; i < 1200; i++) rcu.kfreeRcu(pool.alloc(), 0);
      },
      { cpu: 1, affinity: [1] },
    );
    m.run({ until: 1 * S });
    expect(bulkObjects).toBe(1200);
    expect(bulkCalls).toBe(3); // 507 + 507 + 186
    const s = rcu.kvfreeStats();
    expect(s.pagesInUse).toBe(0);
    expect(s.pagesCached).toBe(5);
    expect(pages.inUse).toBe(5);
  });

  it('the headless form allocates a page inline where it may sleep', () => {
    const { m, rcu, pool, pages } = boot({ rcu: { rcuMinCachedObjs: 0 } });
    const o = pool.alloc();
    task(m, function* () {
      yield* rcu.kvfreeRcuMightsleep(o);
    });
    m.run({ until: 10 * MS });
    expect(rcu.kvfreeStats().pagesAllocated).toBe(1);
    expect(rcu.kvfreeStats().headlessInline).toBe(0);
    expect(pages.inUse).toBe(1);
    m.run({ until: 6 * S });
    expect(pool.isLive(o)).toBe(false);
  });

  it('headless with no page to be had: synchronize_rcu() and kvfree() inline before returning', () => {
    const { m, rcu, pool, pages } = boot({ rcu: { oracle: true } });
    pages.failAll = true;
    const o = pool.alloc();
    let took = 0;
    let liveOnReturn = true;
    task(m, function* () {
      const t0 = m.now();
      yield* rcu.kvfreeRcuMightsleep(o);
      took = m.now() - t0;
      liveOnReturn = pool.isLive(o);
    });
    m.run({ until: 100 * MS });
    expect(liveOnReturn).toBe(false);
    expect(took).toBeGreaterThan(2 * MS);
    expect(rcu.kvfreeStats().headlessInline).toBe(1);
    expect(rcu.oracle!.violations).toEqual([]);
  });

  it('headless from atomic context is a might_sleep() BUG, then scheduling while atomic when it does sleep', () => {
    const { m, rcu, pool, pages, locking } = boot();
    pages.failAll = true;
    const lock = locking.spinLock('&foo->lock');
    task(m, function* () {
      lock.lock();
      yield* rcu.kvfreeRcuMightsleep(pool.alloc());
      lock.unlock();
    });
    m.run({ until: 100 * MS });
    expect(kinds(m)[0]).toBe('might-sleep');
    expect(m.dmesg()).toContain(
      'BUG: sleeping function called from invalid context at mm/slab_common.c:1954',
    );
    expect(kinds(m)).toContain('scheduling-while-atomic');
  });

  it('a double kfree_rcu() of one object is reported and the object leaked, not freed twice', () => {
    const { m, rcu, pool } = boot();
    const o = pool.alloc();
    task(m, function* () {
      yield m.sleep(10 * MS);
      rcu.kfreeRcu(o, 8);
      rcu.kfreeRcu(o, 8);
    });
    m.run({ until: 6 * S });
    expect(kinds(m)).toEqual(['rcu-double-free']);
    expect(m.dmesg()).toMatch(/kvfree_call_rcu\(\): Double-freed call\. rcu_head [0-9a-f]{16}/);
    expect(pool.kasanReports).toBe(0);
    expect(rcu.kvfreeStats().leaked).toBe(1);
    expect(rcu.kvfreeStats().freed).toBe(1);
  });

  it('the shrinker count sets the refill back-off: the next refill waits 5000 ms and adds one page', () => {
    const { m, rcu, pool, shrinkers } = boot();
    const sh = shrinkers.find(KVFREE_RCU_SHRINKER_NAME)!;
    expect(sh).toBeDefined();
    expect(sh.countObjects({ nrToScan: 128 })).toBeLessThan(0); // SHRINK_EMPTY, back-off set everywhere
    task(
      m,
      function* () {
        rcu.kfreeRcu(pool.alloc(), 0); // empty cache: chained, refill scheduled with back-off
        yield m.sleep(1000);
      },
      { cpu: 0 },
    );
    m.run({ until: 4.9 * S });
    expect(rcu.kvfreeStats().pagesCached).toBe(0);
    m.run({ until: 5.2 * S });
    expect(rcu.kvfreeStats().pagesCached).toBe(1);
  });

  it('the shrinker scan gives the cached pages back and drains what it can', () => {
    const { m, rcu, pool, shrinkers, pages } = boot();
    task(
      m,
      function* () {
        rcu.kfreeRcu(pool.alloc(), 0);
        yield m.sleep(1000);
      },
      { cpu: 0 },
    );
    m.run({ until: 10 * MS });
    expect(rcu.kvfreeStats().pagesCached).toBe(5);
    const sh = shrinkers.find(KVFREE_RCU_SHRINKER_NAME)!;
    expect(sh.countObjects({ nrToScan: 128 })).toBe(1 + 5);
    const before = pages.inUse;
    expect(shrinkers.shrinkAll(1000)).toBeGreaterThanOrEqual(5);
    expect(pages.inUse).toBe(before - 5);
    expect(rcu.kvfreeStats().pagesCached).toBe(0);
    m.run({ until: 100 * MS });
    expect(rcu.kvfreeStats().pending).toBe(0);
  });

  it('kvfree_rcu_barrier() returns once every object queued so far is freed', () => {
    const { m, rcu, pool } = boot({ rcu: { oracle: true } });
    const objs: number[] = [];
    let liveAfter = -1;
    for (let c = 0; c < 4; c++) {
      task(
        m,
        function* () {
          yield m.sleep(10 * MS);
          for (let i = 0; i < 300; i++) {
            const o = pool.alloc();
            objs.push(o);
            rcu.kfreeRcu(o, 16);
          }
        },
        { cpu: c },
      );
    }
    task(
      m,
      function* () {
        yield m.sleep(20 * MS);
        yield* rcu.kvfreeRcuBarrier();
        liveAfter = objs.filter((o) => pool.isLive(o)).length;
      },
      { cpu: 0 },
    );
    m.run({ until: 2 * S });
    expect(objs).toHaveLength(1200);
    expect(liveAfter).toBe(0);
    expect(rcu.oracle!.violations).toEqual([]);
  });

  it('vmalloc objects go to the second channel and are freed one by one with kvfree()', () => {
    const m = createMachine({ nrCpus: 2 });
    const locking = createLocking(m);
    const pool = new TestObjectPool(m);
    const vmallocked = new Set<number>();
    const kvfreed: number[] = [];
    const freer = {
      kfree: (a: number) => pool.kfree(a),
      kfreeBulk: (a: Float64Array | number[], n: number) => pool.kfreeBulk(a, n),
      kvfree: (a: number) => {
        kvfreed.push(a);
        pool.kfree(a);
      },
      isVmallocAddr: (a: number) => vmallocked.has(a),
    };
    const rcu = createRcu({
      machine: m,
      locking,
      freer,
      pages: new TestPagePool(m, locking),
      shrinkers: new TestShrinkerRegistry(),
    });
    const v = pool.alloc();
    vmallocked.add(v);
    const k = pool.alloc();
    m.spawn(function* () {
      rcu.kfreeRcu(pool.alloc(), 0); // warm the page cache
      yield m.sleep(10 * MS);
      rcu.kvfreeRcu(v, 0);
      rcu.kfreeRcu(k, 0);
    });
    m.run({ until: 12 * S });
    expect(kvfreed).toContain(v);
    expect(kvfreed).not.toContain(k);
    expect(pool.isLive(k)).toBe(false);
    expect(rcu.kvfreeStats().freed).toBe(3);
  });

  it('rcu_min_cached_objs = 0 disables the cache: two-argument calls always chain', () => {
    const { m, rcu, pool } = boot({ rcu: { rcuMinCachedObjs: 0 } });
    task(m, function* () {
      yield m.sleep(10 * MS);
      for (let i = 0; i < 10; i++) rcu.kfreeRcu(pool.alloc(), 0);
    });
    m.run({ until: 6 * S });
    expect(rcu.kvfreeStats().chained).toBe(10);
    expect(rcu.kvfreeStats().pagesAllocated).toBe(0);
    expect(rcu.kvfreeStats().freed).toBe(10);
  });

  it("rcu_delay_page_cache_fill_msec is clamped to [0, 100000] with the kernel's message; bad offsets are refused", () => {
    const { m, rcu, pool } = boot({ rcu: { rcuDelayPageCacheFillMsec: 250_000 } });
    expect(rcu.options.rcuDelayPageCacheFillMsec).toBe(100_000);
    expect(m.dmesg()).toContain('Adjusting rcutree.rcu_delay_page_cache_fill_msec to 100000 ms.');
    const o = pool.alloc();
    expect(() => rcu.kfreeRcu(o, 4096)).toThrow(RcuError);
    expect(() => rcu.kfreeRcu(o, 12)).toThrow(/multiple of 8 below 4096/);
    expect(() => rcu.kfreeRcu(o + 4, 0)).toThrow(/8-byte aligned/);
    rcu.kfreeRcu(0, 0); // kfree_rcu(NULL, …) is a no-op
    expect(rcu.kvfreeStats().queued).toBe(0);
  });

  /**
   * The distinct masks a kvfree_rcu design allocates its pointer pages with,
   * for one kfree_rcu() and one kvfree_rcu_mightsleep() with no cached page.
   */
  function pageMasks(options: RcuOptions): string[] {
    const m = createMachine({ nrCpus: 2 });
    const locking = createLocking(m);
    const pool = new TestObjectPool(m);
    const inner = new TestPagePool(m, locking);
    const seen: number[] = [];
    const pages = {
      getFreePage: (gfp: number) => {
        seen.push(gfp);
        return inner.getFreePage(gfp);
      },
      freePage: (a: number) => inner.freePage(a),
    };
    const rcu = createRcu(
      { machine: m, locking, freer: pool, pages, shrinkers: new TestShrinkerRegistry() },
      { ...options, rcuMinCachedObjs: 0 },
    );
    m.spawn(function* () {
      rcu.kfreeRcu(pool.alloc(), 0);
      yield* rcu.kvfreeRcuMightsleep(pool.alloc());
    });
    m.run({ until: 6 * S });
    return [...new Set(seen.map((g) => formatGfp(g)))];
  }

  it("allocates pointer pages only with the kernel's masks: GFP_KERNEL|__GFP_NORETRY|__GFP_NOMEMALLOC|__GFP_NOWARN where it may sleep", () => {
    const sleepable = formatGfp(GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN);
    expect(pageMasks({ kfreeRcu: 'batched' })).toEqual([sleepable]);
    expect(pageMasks({ kfreeRcu: 'naive-atomic-alloc' })).toEqual([formatGfp(GFP_ATOMIC)]);
    // __GFP_NO_LOCKS fails with the CPU's page list empty; the headless form then sleeps for it.
    expect(pageMasks({ kfreeRcu: 'naive-atomic-alloc', naiveNoLocks: true })).toEqual([
      formatGfp(GFP_ATOMIC | __GFP_NO_LOCKS),
      sleepable,
    ]);
  });

  it('kvfreeMemalloc (the April 2020 RFC) asks for the reserves: __GFP_MEMALLOC instead of __GFP_NOMEMALLOC', () => {
    expect(pageMasks({ kfreeRcu: 'batched', kvfreeMemalloc: true })).toEqual([
      formatGfp(GFP_KERNEL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOWARN),
    ]);
    expect(pageMasks({ kfreeRcu: 'naive-atomic-alloc', kvfreeMemalloc: true })).toEqual([
      formatGfp(GFP_ATOMIC | __GFP_MEMALLOC),
    ]);
  });

  it("kfree_rcu() from an NMI that interrupted the same CPU's kfree_rcu() spins on krcp->lock for ever", () => {
    const { m, rcu, pool } = boot();
    m.injectNmi('kvfree_rcu.add', { nth: 1 }, () => rcu.kfreeRcu(pool.alloc(), 0));
    task(m, function* () {
      rcu.kfreeRcu(pool.alloc(), 0);
      yield m.sleep(1000);
    });
    expect(() => m.run({ until: 10 * MS })).toThrow(LocksError);
    expect(kinds(m)).toContain('spinlock-bug');
    expect(m.dmesg()).toMatch(/BUG: spinlock (cpu )?recursion on CPU#\d/);
  });

  it('reports the memory kvfree_rcu holds: pointer pages and pending objects', () => {
    const { m, rcu, pool } = boot();
    task(m, function* () {
      rcu.kfreeRcu(pool.alloc(), 0);
      yield m.sleep(10 * MS);
      for (let i = 0; i < 100; i++) rcu.kfreeRcu(pool.alloc(), 0);
    });
    m.run({ until: 20 * MS });
    const s = rcu.kvfreeStats();
    // The warm-up object (chained) and the 100 in a page.
    expect(s.pending).toBe(101);
    // Five pages (one in use, four cached) plus 101 objects of 64 bytes.
    expect(s.bytesHeld).toBe(5 * 4096 + 101 * 64);
    m.run({ until: 6 * S });
    expect(rcu.kvfreeStats().bytesHeld).toBe(5 * 4096);
  });
});
