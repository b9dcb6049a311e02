import { describe, expect, it } from 'vitest';
import { createMachine } from '../src/index.js';

describe('machine load/store over memory and the cache model', () => {
  it('charges the current CPU with the cache latency; repeated loads hit L1', () => {
    const m = createMachine({ nrCpus: 2 });
    const addr = m.memory.memblockAlloc(64, 64);
    const site = m.siteId('test.word');
    const t = m.runOn(0, () => {
      const t0 = m.now();
      m.store(addr, 7, site);
      const t1 = m.now();
      const v = m.load(addr, site);
      const t2 = m.now();
      return { v, miss: t1 - t0, hit: t2 - t1 };
    });
    expect(t.v).toBe(7);
    expect(t.miss).toBe(m.config.cache.dramLatencyNs);
    expect(t.hit).toBe(m.config.cache.l1.latencyNs);
    const s = m.cache.siteStats().find((x) => x.label === 'test.word')!;
    expect(s.accesses).toBe(2);
    expect(s.l1Hits).toBe(1);
  });

  it('cmpxchg/xchg/fetchAdd have their kernel semantics and cost an atomic RMW', () => {
    const m = createMachine();
    const a = m.memory.memblockAlloc(8, 8);
    m.runOn(0, () => {
      m.store(a, 1);
      const before = m.now();
      expect(m.cmpxchg(a, 2, 9)).toBe(1);
      expect(m.now() - before).toBe(m.config.cache.l1.latencyNs + m.costs.atomicRmw);
      expect(m.load(a)).toBe(1);
      expect(m.cmpxchg(a, 1, 9)).toBe(1);
      expect(m.xchg(a, 4)).toBe(9);
      expect(m.fetchAdd(a, 3)).toBe(4);
      expect(m.load(a)).toBe(7);
    });
  });

  it('two CPUs writing one word in turn bounce its line on every write after the first', () => {
    const m = createMachine({ nrCpus: 2 });
    const a = m.memory.memblockAlloc(64, 64);
    const site = m.siteId('pingpong');
    for (let i = 0; i < 10; i++) m.runOn(i % 2, () => m.store(a, i, site));
    const s = m.cache.siteStats().find((x) => x.label === 'pingpong')!;
    expect(s.transfers).toBe(9);
    expect(m.clockOf(1)).toBeGreaterThan(5 * m.config.cache.transferLatencyNs - 1);
  });

  it('misaligned access throws before anything is charged', () => {
    const m = createMachine();
    m.runOn(0, () => {
      const t0 = m.now();
      expect(() => m.store(3, 1)).toThrow();
      expect(m.now()).toBe(t0);
    });
  });
});
