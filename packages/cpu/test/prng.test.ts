import { describe, expect, it } from 'vitest';
import { createMachine, Rng } from '../src/index.js';

describe('PRNG streams', () => {
  it('are a function of seed and stream name only', () => {
    const a = new Rng(42, 'x');
    const b = new Rng(42, 'x');
    const seqA = Array.from({ length: 10 }, () => a.nextU32());
    const seqB = Array.from({ length: 10 }, () => b.nextU32());
    expect(seqA).toEqual(seqB);
    expect(Array.from({ length: 10 }, () => new Rng(42, 'y').nextU32())).not.toEqual(seqA);
    expect(Array.from({ length: 10 }, () => new Rng(43, 'x').nextU32())).not.toEqual(seqA);
  });

  it('machine.rng() returns the same stream object per name; streams are independent', () => {
    const m1 = createMachine({ seed: 5 });
    const m2 = createMachine({ seed: 5 });
    expect(m1.rng('a')).toBe(m1.rng('a'));
    m2.rng('b').nextU32();
    m2.rng('b').nextU32();
    expect(m1.rng('a').nextU32()).toBe(m2.rng('a').nextU32());
  });

  it('int() and float() stay in range and look uniform', () => {
    const r = new Rng(1, 'u');
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const f = r.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      buckets[r.int(10)]!++;
    }
    for (const b of buckets) {
      expect(b).toBeGreaterThan(850);
      expect(b).toBeLessThan(1150);
    }
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it('handles large seeds', () => {
    const a = new Rng(2 ** 53 - 1, 's');
    const b = new Rng(2 ** 52, 's');
    expect(a.nextU32()).not.toBe(b.nextU32());
  });
});
