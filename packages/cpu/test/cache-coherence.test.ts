import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CacheConfig,
  type CacheCounters,
  CacheModel,
  DEFAULT_CACHE_CONFIG,
  makeCacheConfig,
} from '../src/memory/index.js';

const LINE = 64;
// Tiny caches so that random sequences evict at every level:
// L1 4 lines (2 sets x 2), L2 8 lines (4 sets x 2), LLC 16 lines (8 sets x 2).
const TINY = makeCacheConfig({
  l1: { sizeBytes: 256, ways: 2 },
  l2: { sizeBytes: 512, ways: 2 },
  llc: { sizeBytes: 1024, ways: 2 },
});

type Kind = 'l1Hits' | 'l2Hits' | 'llcHits' | 'dramMisses' | 'transfers';

/**
 * A deliberately naive model of the same hierarchy, written for clarity: each
 * set is an array of lines from least to most recently used, and the
 * directory is a Map. Used as an oracle for the typed-array implementation.
 */
class ReferenceHierarchy {
  private readonly l1: number[][][];
  private readonly l2: number[][][];
  private readonly llc: number[][];
  private readonly owner = new Map<number, number>();
  private readonly sharers = new Map<number, Set<number>>();
  invalidations = 0;

  constructor(
    nrCpus: number,
    private readonly cfg: CacheConfig,
  ) {
    const sets = (l: { sizeBytes: number; ways: number }) => l.sizeBytes / (cfg.lineSize * l.ways);
    const make = (n: number) => Array.from({ length: n }, () => [] as number[]);
    this.l1 = Array.from({ length: nrCpus }, () => make(sets(cfg.l1)));
    this.l2 = Array.from({ length: nrCpus }, () => make(sets(cfg.l2)));
    this.llc = make(sets(cfg.llc));
  }

  private set(sets: number[][], line: number): number[] {
    return sets[line % sets.length]!;
  }

  private touch(set: number[], line: number): boolean {
    const i = set.indexOf(line);
    if (i < 0) return false;
    set.splice(i, 1);
    set.push(line);
    return true;
  }

  private remove(set: number[], line: number): void {
    const i = set.indexOf(line);
    if (i >= 0) set.splice(i, 1);
  }

  private dropCpu(c: number, line: number): void {
    this.remove(this.set(this.l1[c]!, line), line);
    this.remove(this.set(this.l2[c]!, line), line);
    this.sharers.get(line)?.delete(c);
    if (this.owner.get(line) === c) this.owner.set(line, -1);
  }

  inL1(c: number, line: number): boolean {
    return this.set(this.l1[c]!, line).includes(line);
  }

  inL2(c: number, line: number): boolean {
    return this.set(this.l2[c]!, line).includes(line);
  }

  access(c: number, line: number, write: boolean): { kind: Kind; lat: number } {
    const cfg = this.cfg;
    let kind: Kind;
    let lat: number;
    const l1Set = this.set(this.l1[c]!, line);
    const l2Set = this.set(this.l2[c]!, line);
    if (this.touch(l1Set, line)) {
      kind = 'l1Hits';
      lat = cfg.l1.latencyNs;
    } else if (this.touch(l2Set, line)) {
      kind = 'l2Hits';
      lat = cfg.l2.latencyNs;
      if (l1Set.length === cfg.l1.ways) l1Set.shift();
      l1Set.push(line);
    } else {
      const llcSet = this.set(this.llc, line);
      if (this.touch(llcSet, line)) {
        const o = this.owner.get(line) ?? -1;
        if (o >= 0) {
          kind = 'transfers';
          lat = cfg.transferLatencyNs;
          if (write) this.dropCpu(o, line);
          else this.owner.set(line, -1);
        } else {
          kind = 'llcHits';
          lat = cfg.llc.latencyNs;
        }
      } else {
        kind = 'dramMisses';
        lat = cfg.dramLatencyNs;
        if (llcSet.length === cfg.llc.ways) {
          const victim = llcSet.shift()!;
          for (const s of this.sharers.get(victim) ?? []) this.dropCpu(s, victim);
          this.sharers.delete(victim);
          this.owner.delete(victim);
        }
        llcSet.push(line);
        this.sharers.set(line, new Set());
        this.owner.set(line, -1);
      }
      if (l2Set.length === cfg.l2.ways) this.dropCpu(c, l2Set[0]!);
      l2Set.push(line);
      if (l1Set.length === cfg.l1.ways) l1Set.shift();
      l1Set.push(line);
      this.sharers.get(line)!.add(c);
    }
    if (write && this.owner.get(line) !== c) {
      const others = [...this.sharers.get(line)!].filter((s) => s !== c);
      for (const s of others) this.dropCpu(s, line);
      this.invalidations += others.length;
      if (others.length > 0) lat = Math.max(lat, cfg.invalidateLatencyNs);
      this.owner.set(line, c);
    }
    return { kind, lat };
  }
}

const op = (maxCpu: number, lines: number) =>
  fc.record({
    cpu: fc.integer({ min: 0, max: maxCpu }),
    line: fc.integer({ min: 0, max: lines - 1 }),
    word: fc.integer({ min: 0, max: 7 }),
    write: fc.boolean(),
    site: fc.integer({ min: 0, max: 2 }),
  });

describe('cache coherence invariants (property)', () => {
  it('random accesses on 1-4 CPUs never leave a Modified line cached elsewhere', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(op(n - 1, 48), { minLength: 1, maxLength: 300, size: 'max' }),
            ),
          ),
        ([nrCpus, ops]) => {
          const cache = new CacheModel(nrCpus, TINY);
          const sites = [0, cache.siteId('a'), cache.siteId('b')];
          for (const o of ops) {
            const addr = o.line * LINE + o.word * 8;
            cache.access(o.cpu, addr, o.write, sites[o.site]!);
            // The accessed line: if Modified by someone, nobody else caches it,
            // and the sharer set is exactly the CPUs that cache it privately.
            const st = cache.lineState(addr);
            expect(st.inLlc).toBe(true);
            if (o.write) expect(st.owner).toBe(o.cpu);
            for (let c = 0; c < nrCpus; c++) {
              const cached = cache.privateLevel(c, addr) !== 0;
              expect(cached).toBe(st.sharers.includes(c));
              if (st.owner >= 0 && c !== st.owner) expect(cached).toBe(false);
            }
            expect(cache.privateLevel(o.cpu, addr)).toBe(1);
          }
          expect(cache.checkCoherence()).toEqual([]);
          const { totals, perCpu } = cache.stats();
          expect(totals.accesses).toBe(ops.length);
          for (const c of [totals, ...perCpu, ...cache.siteStats()]) {
            expect(c.l1Hits + c.l2Hits + c.llcHits + c.dramMisses + c.transfers).toBe(c.accesses);
          }
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);

  it('without evictions, every access is classified as an MSI directory predicts', () => {
    const D = DEFAULT_CACHE_CONFIG;
    // Default L1 geometry and latencies, smaller L2/LLC so each run builds quickly.
    const NO_EVICT = makeCacheConfig({
      l2: { sizeBytes: 64 * 1024 },
      llc: { sizeBytes: 256 * 1024 },
    });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.array(op(n - 1, 16), { maxLength: 200, size: 'max' })),
          ),
        ([nrCpus, ops]) => {
          // 16 consecutive lines take one way each of the L1's 64 sets: no evictions.
          const cache = new CacheModel(nrCpus, NO_EVICT);
          const owner = new Map<number, number>();
          const sharers = new Map<number, Set<number>>();
          let expectedInval = 0;
          for (const o of ops) {
            let kind: 'l1' | 'llc' | 'dram' | 'transfer';
            const holders = sharers.get(o.line);
            const own = owner.get(o.line) ?? -1;
            if (holders === undefined) kind = 'dram';
            else if (holders.has(o.cpu)) kind = 'l1';
            else if (own >= 0) kind = 'transfer';
            else kind = 'llc';
            let killed = 0;
            const set = holders ?? new Set<number>();
            if (o.write) {
              if (kind !== 'transfer') killed = [...set].filter((c) => c !== o.cpu).length;
              set.clear();
              set.add(o.cpu);
              owner.set(o.line, o.cpu);
            } else {
              set.add(o.cpu);
              if (own !== o.cpu) owner.set(o.line, -1);
            }
            sharers.set(o.line, set);
            expectedInval += killed;
            const base = {
              l1: D.l1.latencyNs,
              llc: D.llc.latencyNs,
              dram: D.dramLatencyNs,
              transfer: D.transferLatencyNs,
            }[kind];
            const expectedLat = killed > 0 ? Math.max(base, D.invalidateLatencyNs) : base;
            const before = cache.stats().perCpu[o.cpu]!;
            const lat = cache.access(o.cpu, o.line * LINE + o.word * 8, o.write, 0);
            const after = cache.stats().perCpu[o.cpu]!;
            expect(lat).toBe(expectedLat);
            const field = {
              l1: 'l1Hits',
              llc: 'llcHits',
              dram: 'dramMisses',
              transfer: 'transfers',
            }[kind] as 'l1Hits' | 'llcHits' | 'dramMisses' | 'transfers';
            expect(after[field] - before[field]).toBe(1);
          }
          expect(cache.stats().totals.invalidations).toBe(expectedInval);
          expect(cache.checkCoherence()).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);

  it('matches a naive LRU/inclusive/MSI reference on random accesses with evictions', () => {
    const cfg = makeCacheConfig({
      l1: { sizeBytes: 256, ways: 2 },
      l2: { sizeBytes: 1024, ways: 4 },
      llc: { sizeBytes: 2048, ways: 4 },
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            // Few lines: sets overflow at every level and lines recur often.
            fc.array(op(n - 1, 40), { minLength: 1, maxLength: 400, size: 'max' }),
          ),
        ),
        ([nrCpus, ops]) => {
          const cache = new CacheModel(nrCpus, cfg);
          const ref = new ReferenceHierarchy(nrCpus, cfg);
          for (const o of ops) {
            const want = ref.access(o.cpu, o.line, o.write);
            const before: CacheCounters = cache.stats().perCpu[o.cpu]!;
            const lat = cache.access(o.cpu, o.line * LINE + o.word * 8, o.write, 0);
            const after: CacheCounters = cache.stats().perCpu[o.cpu]!;
            expect({ lat, counted: after[want.kind] - before[want.kind] }).toEqual({
              lat: want.lat,
              counted: 1,
            });
          }
          for (let line = 0; line < 40; line++) {
            for (let c = 0; c < nrCpus; c++) {
              const level = ref.inL1(c, line) ? 1 : ref.inL2(c, line) ? 2 : 0;
              expect(cache.privateLevel(c, line * LINE)).toBe(level);
            }
          }
          expect(cache.stats().totals.invalidations).toBe(ref.invalidations);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);
});
