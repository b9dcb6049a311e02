import { describe, expect, it } from 'vitest';
import {
  type CacheConfig,
  CacheConfigError,
  type CacheConfigOverrides,
  CacheModel,
  DEFAULT_CACHE_CONFIG,
  makeCacheConfig,
  validateCacheConfig,
} from '../src/memory/index.js';

function rejection(fn: () => unknown): CacheConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CacheConfigError) return e;
    throw e;
  }
  throw new Error('expected a CacheConfigError');
}

describe('cache configuration', () => {
  it('defaults describe a realistic x86_64 hierarchy and validate', () => {
    const d = DEFAULT_CACHE_CONFIG;
    expect(validateCacheConfig(d)).toBe(d);
    expect(d.lineSize).toBe(64);
    expect(d.l1).toEqual({ sizeBytes: 48 * 1024, ways: 12, latencyNs: 1 });
    expect(d.l2.sizeBytes).toBe(2 * 1024 * 1024);
    expect(d.llc.sizeBytes).toBe(32 * 1024 * 1024);
    // Latencies grow down the hierarchy; a bounce costs more than an LLC hit.
    expect(d.l1.latencyNs).toBeLessThan(d.l2.latencyNs);
    expect(d.l2.latencyNs).toBeLessThan(d.llc.latencyNs);
    expect(d.llc.latencyNs).toBeLessThan(d.transferLatencyNs);
    expect(d.transferLatencyNs).toBeLessThan(d.dramLatencyNs);
    expect(Object.isFrozen(d)).toBe(true);
  });

  it('makeCacheConfig merges overrides level by level', () => {
    const c = makeCacheConfig({ llc: { sizeBytes: 8 * 1024 * 1024 }, dramLatencyNs: 100 });
    expect(c.llc).toEqual({ ...DEFAULT_CACHE_CONFIG.llc, sizeBytes: 8 * 1024 * 1024 });
    expect(c.dramLatencyNs).toBe(100);
    expect(c.l1).toEqual(DEFAULT_CACHE_CONFIG.l1);
  });

  const bad: [string, CacheConfigOverrides, RegExp][] = [
    ['lineSize', { lineSize: 48 }, /lineSize = 48 .*power of two from 8 to 4096/],
    ['lineSize', { lineSize: 8192 }, /lineSize = 8192/],
    ['l1.ways', { l1: { ways: 0 } }, /l1\.ways = 0 .*integer in \[1, 256\]/],
    ['l2.ways', { l2: { ways: 2.5 } }, /l2\.ways = 2\.5/],
    [
      'llc.sizeBytes',
      { llc: { sizeBytes: 36 * 1024 * 1024 } },
      /llc\.sizeBytes = 37748736 .*power-of-two number of sets.*is 36864/,
    ],
    ['l1.sizeBytes', { l1: { sizeBytes: 1000 } }, /l1\.sizeBytes = 1000/],
    ['l1.sizeBytes', { l1: { sizeBytes: -1 } }, /l1\.sizeBytes = -1/],
    [
      'l2.sizeBytes',
      { l2: { sizeBytes: 16 * 1024, ways: 4 } },
      /l2\.sizeBytes = 16384 .*>= l1\.sizeBytes \(49152\)/,
    ],
    ['llc.latencyNs', { llc: { latencyNs: -1 } }, /llc\.latencyNs = -1 .*>= 0/],
    ['dramLatencyNs', { dramLatencyNs: Number.NaN }, /dramLatencyNs = NaN/],
    ['transferLatencyNs', { transferLatencyNs: Number.POSITIVE_INFINITY }, /transferLatencyNs/],
    ['invalidateLatencyNs', { invalidateLatencyNs: -5 }, /invalidateLatencyNs = -5/],
  ];
  for (const [field, overrides, message] of bad) {
    it(`rejects a bad ${field} and names it`, () => {
      const e = rejection(() => makeCacheConfig(overrides));
      expect(e.code).toBe('BAD_CONFIG');
      expect(e.field).toBe(field);
      expect(e.message).toMatch(message);
    });
  }

  it('rejects unknown fields (typos) by name', () => {
    const e = rejection(() =>
      makeCacheConfig({ l1: { way: 8 } } as unknown as CacheConfigOverrides),
    );
    expect(e.field).toBe('l1.way');
    expect(e.message).toMatch(/l1\.ways/);
    const top = rejection(() => makeCacheConfig({ llcSize: 1 } as unknown as CacheConfigOverrides));
    expect(top.field).toBe('llcSize');
  });

  it('validates a hand-built config passed to the model', () => {
    const broken = {
      ...DEFAULT_CACHE_CONFIG,
      l2: { sizeBytes: 2 * 1024 * 1024, ways: 0, latencyNs: 4 },
    };
    const e = rejection(() => new CacheModel(2, broken as CacheConfig));
    expect(e.field).toBe('l2.ways');
    const missing = { ...DEFAULT_CACHE_CONFIG, llc: undefined };
    expect(rejection(() => validateCacheConfig(missing as unknown as CacheConfig)).field).toBe(
      'llc',
    );
  });

  it('accepts a direct-mapped cache and zero latencies', () => {
    const c = makeCacheConfig({ l1: { sizeBytes: 1024, ways: 1, latencyNs: 0 } });
    const cache = new CacheModel(1, c);
    cache.access(0, 0, false, 0);
    expect(cache.access(0, 0, false, 0)).toBe(0);
    // Two lines 1 KiB apart collide in the single way of their set.
    cache.access(0, 1024, false, 0);
    expect(cache.privateLevel(0, 0)).toBe(2);
  });
});
