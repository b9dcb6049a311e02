import { describe, expect, it } from 'vitest';
import {
  CacheConfigError,
  type CacheCounters,
  CacheError,
  CacheModel,
  DEFAULT_CACHE_CONFIG,
  makeCacheConfig,
  missesOf,
} from '../src/memory/index.js';

const LINE = 64;
// 16 L1 lines (8 sets x 2), 64 L2 lines (16 sets x 4), 256 LLC lines (64 sets x 4).
const SMALL = makeCacheConfig({
  l1: { sizeBytes: 1024, ways: 2 },
  l2: { sizeBytes: 4096, ways: 4 },
  llc: { sizeBytes: 16 * 1024, ways: 4 },
});
const D = DEFAULT_CACHE_CONFIG;

function cacheCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CacheError || e instanceof CacheConfigError) return e.code;
    throw e;
  }
  return undefined;
}

describe('CacheModel: hits and misses of one CPU', () => {
  it('charges DRAM, then L1, with the configured latencies', () => {
    const cache = new CacheModel(1);
    expect(cache.access(0, 4096, false, 0)).toBe(D.dramLatencyNs);
    expect(cache.access(0, 4096 + 8, false, 0)).toBe(D.l1.latencyNs);
    expect(cache.access(0, 4096 + 56, true, 0)).toBe(D.l1.latencyNs);
    const t = cache.stats().totals;
    expect(t).toMatchObject({ accesses: 3, dramMisses: 1, l1Hits: 2, transfers: 0 });
  });

  it('a working set that fits in L1 hits L1 on every access of the second pass', () => {
    const cache = new CacheModel(1);
    const bytes = 32 * 1024; // within the 48 KiB L1d
    for (let a = 0; a < bytes; a += 8) cache.access(0, a, (a & 64) !== 0, 0);
    const first = cache.stats().totals;
    expect(first.dramMisses).toBe(bytes / LINE);
    cache.resetStats();
    for (let a = 0; a < bytes; a += 8) cache.access(0, a, (a & 128) !== 0, 0);
    const second = cache.stats().totals;
    expect(second.accesses).toBe(bytes / 8);
    expect(second.l1Hits).toBe(bytes / 8);
    expect(missesOf(second)).toBe(0);
  });

  it('a working set between L1 and L2 size hits L2 on the second pass', () => {
    const cache = new CacheModel(1, SMALL);
    const bytes = 2048; // 32 lines: twice L1, half of L2
    for (let a = 0; a < bytes; a += LINE) cache.access(0, a, false, 0);
    cache.resetStats();
    for (let a = 0; a < bytes; a += LINE) {
      expect(cache.access(0, a, false, 0)).toBe(SMALL.l2.latencyNs);
    }
    expect(cache.stats().totals.l2Hits).toBe(bytes / LINE);
  });

  it('streaming over 4x the LLC misses to DRAM exactly once per line, every pass', () => {
    const cache = new CacheModel(1, SMALL);
    const bytes = 4 * SMALL.llc.sizeBytes;
    const lines = bytes / LINE;
    for (let pass = 0; pass < 3; pass++) {
      cache.resetStats();
      for (let a = 0; a < bytes; a += 8) cache.access(0, a, pass === 1, 0);
      const t = cache.stats().totals;
      expect(t.dramMisses).toBe(lines);
      expect(t.l1Hits).toBe(lines * 7);
      expect(t.l2Hits + t.llcHits + t.transfers).toBe(0);
    }
  });

  it('streaming over 4x the default 32 MiB LLC misses once per line', () => {
    const cache = new CacheModel(2);
    const bytes = 4 * D.llc.sizeBytes;
    for (let pass = 0; pass < 2; pass++) {
      cache.resetStats();
      for (let a = 0; a < bytes; a += LINE) cache.access(pass, a, false, 0);
      const t = cache.stats().totals;
      expect(t.dramMisses).toBe(bytes / LINE);
      expect(t.accesses).toBe(bytes / LINE);
    }
  }, 30_000);

  it('evicts the least recently used line of a set', () => {
    // One CPU, L1 with 4 ways; lines 0, 8, 16, 24, 32 map to L1 set 0 (8 sets).
    const cfg = makeCacheConfig({
      l1: { sizeBytes: 2048, ways: 4 },
      l2: { sizeBytes: 8192, ways: 4 },
      llc: { sizeBytes: 16 * 1024, ways: 4 },
    });
    const cache = new CacheModel(1, cfg);
    const addr = (i: number) => i * 8 * LINE;
    for (const i of [0, 1, 2, 3]) cache.access(0, addr(i), false, 0);
    // Re-use lines 0 and 1: line 2 is now the least recently used.
    cache.access(0, addr(0), false, 0);
    cache.access(0, addr(1), false, 0);
    cache.access(0, addr(4), false, 0);
    expect(cache.privateLevel(0, addr(2))).toBe(2);
    for (const i of [0, 1, 3, 4]) expect(cache.privateLevel(0, addr(i))).toBe(1);
    // Next victim is line 3, then 0.
    cache.access(0, addr(2), false, 0);
    expect(cache.privateLevel(0, addr(3))).toBe(2);
    cache.access(0, addr(3), false, 0);
    expect(cache.privateLevel(0, addr(0))).toBe(2);
    expect(cache.checkCoherence()).toEqual([]);
  });

  it('L1 hits do not refresh L2; an L2 eviction frees the L1 way it held (inclusion)', () => {
    // L1: 8 sets x 2 ways; L2: 16 sets x 4 ways. Lines 0, 16, 32, 48, 64 share
    // L2 set 0 and L1 set 0.
    const cache = new CacheModel(1, SMALL);
    const at = (i: number) => i * 16 * LINE;
    cache.access(0, at(0), false, 0);
    for (const i of [1, 2, 3]) {
      cache.access(0, at(i), false, 0);
      cache.access(0, at(0), false, 0); // L1 hit: line 0 stays in L1, ages in L2
    }
    expect(cache.privateLevel(0, at(0))).toBe(1);
    expect(cache.privateLevel(0, at(3))).toBe(1);
    // Line 4 evicts line 0 from L2 (its LRU) and so from L1; line 3 keeps its L1 way.
    cache.access(0, at(4), false, 0);
    expect(cache.privateLevel(0, at(0))).toBe(0);
    expect(cache.privateLevel(0, at(3))).toBe(1);
    expect(cache.privateLevel(0, at(4))).toBe(1);
    expect(cache.checkCoherence()).toEqual([]);
  });

  it('back-invalidates private copies when the inclusive LLC evicts a line', () => {
    const cache = new CacheModel(2, SMALL);
    // Lines 64 KiB/... apart by the LLC set stride (64 sets x 64 B) share one LLC set.
    const stride = (SMALL.llc.sizeBytes / SMALL.llc.ways / LINE) * LINE;
    cache.access(0, 0, true, 0);
    for (let i = 1; i <= 4; i++) cache.access(1, i * stride, false, 0);
    expect(cache.lineState(0).inLlc).toBe(false);
    expect(cache.privateLevel(0, 0)).toBe(0);
    cache.resetStats();
    expect(cache.access(0, 0, false, 0)).toBe(SMALL.dramLatencyNs);
    expect(cache.checkCoherence()).toEqual([]);
  });

  it('handles physical addresses beyond 2^32', () => {
    const cache = new CacheModel(1, SMALL);
    const a = 2 ** 45 + 3 * LINE;
    cache.access(0, a, true, 0);
    expect(cache.access(0, a + 8, false, 0)).toBe(SMALL.l1.latencyNs);
    // Same set index, different tag: must not alias.
    expect(cache.access(0, 2 ** 44 + 3 * LINE, false, 0)).toBe(SMALL.dramLatencyNs);
    expect(cache.checkCoherence()).toEqual([]);
  });
});

describe('CacheModel: coherence between CPUs', () => {
  it('two CPUs writing one line in turn transfer it on every write after the first', () => {
    const cache = new CacheModel(2);
    const lock = 8192;
    const writes = 100;
    for (let i = 0; i < writes; i++) {
      const lat = cache.access(i & 1, lock, true, 0);
      expect(lat).toBe(i === 0 ? D.dramLatencyNs : D.transferLatencyNs);
    }
    const t = cache.stats().totals;
    expect(t.transfers).toBe(writes - 1);
    expect(t.dramMisses).toBe(1);
    expect(t.invalidations).toBe(0);
    expect(cache.lineState(lock)).toEqual({ inLlc: true, owner: 1, sharers: [1] });
    expect(cache.privateLevel(0, lock)).toBe(0);
  });

  it('a reader of a line Modified elsewhere counts a transfer, then hits', () => {
    const cache = new CacheModel(4);
    const x = 1 << 20;
    cache.access(0, x, true, 0);
    expect(cache.lineState(x).owner).toBe(0);
    expect(cache.access(1, x, false, 0)).toBe(D.transferLatencyNs);
    // The owner was downgraded to Shared and kept its copy.
    expect(cache.lineState(x)).toEqual({ inLlc: true, owner: -1, sharers: [0, 1] });
    expect(cache.access(1, x, false, 0)).toBe(D.l1.latencyNs);
    expect(cache.access(1, x + 8, false, 0)).toBe(D.l1.latencyNs);
    expect(cache.access(0, x, false, 0)).toBe(D.l1.latencyNs);
    const s = cache.stats();
    expect(s.perCpu[1]).toMatchObject({ accesses: 3, transfers: 1, l1Hits: 2 });
    expect(s.perCpu[0]).toMatchObject({ accesses: 2, dramMisses: 1, l1Hits: 1 });
  });

  it('a store to a Shared line invalidates every other copy and pays for it', () => {
    const cache = new CacheModel(4);
    const x = 3 * LINE;
    for (const cpu of [0, 1, 2]) cache.access(cpu, x, false, 0);
    expect(cache.lineState(x).sharers).toEqual([0, 1, 2]);
    // CPU 3 misses privately and must invalidate three copies.
    expect(cache.access(3, x, true, 0)).toBe(Math.max(D.llc.latencyNs, D.invalidateLatencyNs));
    expect(cache.stats().perCpu[3]).toMatchObject({ llcHits: 1, invalidations: 3 });
    expect(cache.lineState(x)).toEqual({ inLlc: true, owner: 3, sharers: [3] });
    for (const cpu of [0, 1, 2]) expect(cache.privateLevel(cpu, x)).toBe(0);
    // The next reader finds it Modified in CPU 3.
    expect(cache.access(0, x, false, 0)).toBe(D.transferLatencyNs);
    // A store by a sharer upgrades in place: an L1 hit that invalidates one copy.
    expect(cache.access(0, x, true, 0)).toBe(Math.max(D.l1.latencyNs, D.invalidateLatencyNs));
    expect(cache.stats().perCpu[0]).toMatchObject({ l1Hits: 1, invalidations: 1 });
    expect(cache.checkCoherence()).toEqual([]);
  });

  it('a sole sharer upgrades silently (no invalidation, L1 latency)', () => {
    const cache = new CacheModel(2);
    cache.access(0, 0, false, 0);
    expect(cache.access(0, 0, true, 0)).toBe(D.l1.latencyNs);
    expect(cache.stats().totals.invalidations).toBe(0);
    expect(cache.lineState(0).owner).toBe(0);
  });

  it('false sharing: two CPUs writing different words of one line still bounce it', () => {
    const cache = new CacheModel(2);
    for (let i = 0; i < 10; i++) {
      cache.access(0, 0, true, 0);
      cache.access(1, 8, true, 0);
    }
    expect(cache.stats().totals.transfers).toBe(19);
    // Padding each counter to its own line removes the bounces.
    cache.resetStats();
    for (let i = 0; i < 10; i++) {
      cache.access(0, 4096, true, 0);
      cache.access(1, 4096 + LINE, true, 0);
    }
    expect(cache.stats().totals.transfers).toBe(0);
  });

  it('flushCpu writes back and empties one CPU; flushAll empties everything', () => {
    const cache = new CacheModel(2);
    cache.access(0, 0, true, 0);
    cache.flushCpu(0);
    expect(cache.privateLevel(0, 0)).toBe(0);
    expect(cache.lineState(0)).toEqual({ inLlc: true, owner: -1, sharers: [] });
    // The other CPU now reads a clean line from the LLC, not a transfer.
    expect(cache.access(1, 0, false, 0)).toBe(D.llc.latencyNs);
    expect(cache.access(0, 0, false, 0)).toBe(D.llc.latencyNs);
    cache.flushAll();
    expect(cache.lineState(0).inLlc).toBe(false);
    expect(cache.access(1, 0, false, 0)).toBe(D.dramLatencyNs);
    expect(cache.checkCoherence()).toEqual([]);
  });
});

describe('CacheModel: sites and counters', () => {
  it('interns site labels; id 0 is unlabelled', () => {
    const cache = new CacheModel(1);
    expect(cache.siteLabel(0)).toBe('unlabelled');
    const a = cache.siteId('slab.freelist');
    expect(a).toBeGreaterThan(0);
    expect(cache.siteId('rcu.invoke')).not.toBe(a);
    expect(cache.siteId('slab.freelist')).toBe(a);
    expect(cache.siteId('unlabelled')).toBe(0);
    // Many sites grow the counter table without losing counts.
    cache.access(0, 0, false, a);
    for (let i = 0; i < 200; i++) cache.siteId(`site.${i}`);
    const last = cache.siteId('site.199');
    cache.access(0, 64, false, last);
    const stats = cache.siteStats();
    expect(stats[a]).toMatchObject({ label: 'slab.freelist', accesses: 1, dramMisses: 1 });
    expect(stats[last]).toMatchObject({ label: 'site.199', accesses: 1 });
  });

  it('per-site counters add up to the totals', () => {
    const cache = new CacheModel(4, SMALL);
    const sites = [0, cache.siteId('slab.freelist'), cache.siteId('rcu.invoke')];
    let x = 12345;
    for (let i = 0; i < 20000; i++) {
      // xorshift32: every bit is well mixed, unlike a power-of-two LCG's low bits.
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      // Independent bit fields for CPU, address, store-or-load and site.
      const cpu = x & 3;
      const addr = ((x >>> 4) & 2047) * 8;
      cache.access(cpu, addr, ((x >>> 20) & 3) === 0, sites[(x >>> 24) % 3]!);
    }
    const totals = cache.stats().totals;
    const keys: (keyof CacheCounters)[] = [
      'accesses',
      'l1Hits',
      'l2Hits',
      'llcHits',
      'dramMisses',
      'transfers',
      'invalidations',
    ];
    const siteStats = cache.siteStats();
    for (const k of keys) {
      expect(siteStats.reduce((s, r) => s + r[k], 0)).toBe(totals[k]);
    }
    const perCpu = cache.stats().perCpu;
    for (const k of keys) expect(perCpu.reduce((s, r) => s + r[k], 0)).toBe(totals[k]);
    expect(totals.accesses).toBe(20000);
    expect(totals.transfers).toBeGreaterThan(0);
    expect(totals.invalidations).toBeGreaterThan(0);
    expect(cache.checkCoherence()).toEqual([]);
  });

  it('resetStats zeroes counters but keeps cache contents', () => {
    const cache = new CacheModel(1);
    cache.access(0, 0, false, 0);
    cache.resetStats();
    expect(cache.stats().totals.accesses).toBe(0);
    expect(cache.access(0, 0, false, 0)).toBe(D.l1.latencyNs);
  });

  it('missesOf counts DRAM misses and transfers only', () => {
    expect(
      missesOf({
        accesses: 10,
        l1Hits: 3,
        l2Hits: 2,
        llcHits: 1,
        dramMisses: 3,
        transfers: 1,
        invalidations: 5,
      }),
    ).toBe(4);
  });

  it('is deterministic: the same access sequence gives the same counters', () => {
    const run = () => {
      const cache = new CacheModel(3, SMALL);
      let x = 7;
      let lat = 0;
      for (let i = 0; i < 5000; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        lat += cache.access(x % 3, ((x >>> 8) % 4096) * 8, (x & 16) !== 0, 0);
      }
      return { lat, stats: cache.stats() };
    };
    expect(run()).toEqual(run());
  });

  it('accessLine() by line number and accessAddr() give what access() gives for the same address', () => {
    // Three models fed the same accesses, addresses of 2^31 and above included.
    const byAddr = new CacheModel(3, SMALL);
    const byLine = new CacheModel(3, SMALL);
    const fast = new CacheModel(3, SMALL);
    const site = byAddr.siteId('x');
    byLine.siteId('x');
    fast.siteId('x');
    let x = 11;
    for (let i = 0; i < 5000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const cpu = x % 3;
      const addr = ((x >>> 8) % 4096) * 8 + (i % 7 === 0 ? 2 ** 33 : 0);
      const write = (x & 16) !== 0;
      const lat = byAddr.access(cpu, addr, write, site);
      expect(byLine.accessLine(cpu, byLine.lineNumber(addr), write, site)).toBe(lat);
      expect(fast.accessAddr(cpu, addr, write, site)).toBe(lat);
    }
    for (const other of [byLine, fast]) {
      expect(other.stats()).toEqual(byAddr.stats());
      expect(other.siteStats()).toEqual(byAddr.siteStats());
    }
  });
});

describe('CacheModel: API misuse', () => {
  it('rejects a bad CPU count', () => {
    for (const n of [0, -1, 1.5, 1025]) {
      expect(() => new CacheModel(n)).toThrow(CacheConfigError);
    }
    try {
      new CacheModel(2000);
    } catch (e) {
      expect((e as CacheConfigError).field).toBe('nrCpus');
      expect((e as Error).message).toMatch(/2000.*\[1, 1024\]/);
    }
  });

  it('rejects bad CPU, address and site without changing any state', () => {
    const cache = new CacheModel(2);
    expect(cacheCode(() => cache.access(2, 0, false, 0))).toBe('BAD_CPU');
    expect(cacheCode(() => cache.access(-1, 0, false, 0))).toBe('BAD_CPU');
    expect(cacheCode(() => cache.access(0.5, 0, false, 0))).toBe('BAD_CPU');
    expect(cacheCode(() => cache.access(0, -64, false, 0))).toBe('BAD_ADDRESS');
    expect(cacheCode(() => cache.access(0, 1.5, false, 0))).toBe('BAD_ADDRESS');
    expect(cacheCode(() => cache.access(0, Number.NaN, false, 0))).toBe('BAD_ADDRESS');
    expect(cacheCode(() => cache.access(0, 0, false, 1))).toBe('BAD_SITE');
    expect(cacheCode(() => cache.siteId(''))).toBe('BAD_LABEL');
    expect(cacheCode(() => cache.flushCpu(5))).toBe('BAD_CPU');
    expect(cacheCode(() => cache.lineNumber(-8))).toBe('BAD_ADDRESS');
    expect(cacheCode(() => cache.lineNumber(2 ** 53))).toBe('BAD_ADDRESS');
    expect(cache.lineNumber(3 * LINE + 8)).toBe(3);
    expect(cacheCode(() => cache.accessLine(2, 3, false, 0))).toBe('BAD_CPU');
    expect(cacheCode(() => cache.accessLine(-1, 3, true, 0))).toBe('BAD_CPU');
    expect(cacheCode(() => cache.accessLine(0, 3, false, 9))).toBe('BAD_SITE');
    expect(cacheCode(() => cache.accessAddr(0, -64, true, 0))).toBe('BAD_ADDRESS');
    expect(cacheCode(() => cache.accessAddr(0, 8.5, false, 0))).toBe('BAD_ADDRESS');
    expect(() => cache.access(7, 0, false, 0)).toThrow(/cpu 7 .*\[0, 2\)/);
    expect(cache.stats().totals.accesses).toBe(0);
    expect(cache.lineState(0).inLlc).toBe(false);
  });
});
