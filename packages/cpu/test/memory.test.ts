import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_PHYS_BYTES,
  MemoryError,
  PAGE_SHIFT,
  PAGE_SIZE,
  PhysicalMemory,
  SMP_CACHE_BYTES,
} from '../src/memory/index.js';

const MiB = 1024 * 1024;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof MemoryError) return e.code;
    throw e;
  }
  return undefined;
}

describe('PhysicalMemory: words in sparse pages', () => {
  it('uses 4 KiB pages like x86_64', () => {
    expect(PAGE_SIZE).toBe(4096);
    expect(1 << PAGE_SHIFT).toBe(PAGE_SIZE);
  });

  it('reads back what was written, including the largest safe value', () => {
    const mem = new PhysicalMemory(16 * MiB);
    mem.write(0, 1);
    mem.write(8, 2 ** 53 - 1);
    mem.write(4096, 0xdeadbeef);
    mem.write(16 * MiB - 8, 42);
    expect(mem.read(0)).toBe(1);
    expect(mem.read(8)).toBe(2 ** 53 - 1);
    expect(mem.read(4096)).toBe(0xdeadbeef);
    expect(mem.read(16 * MiB - 8)).toBe(42);
    mem.write(8, 7);
    expect(mem.read(8)).toBe(7);
  });

  it('reads untouched memory as zero without materialising pages', () => {
    const mem = new PhysicalMemory(64 * MiB);
    for (let a = 0; a < 64 * MiB; a += 1 * MiB) expect(mem.read(a)).toBe(0);
    expect(mem.touchedPages()).toBe(0);
  });

  it('materialises one page per first touch and counts it', () => {
    const mem = new PhysicalMemory(64 * MiB);
    mem.write(4096 * 3 + 16, 5);
    expect(mem.touchedPages()).toBe(1);
    expect(mem.isPageTouched(3)).toBe(true);
    expect(mem.isPageTouched(2)).toBe(false);
    mem.write(4096 * 3 + 24, 6);
    expect(mem.touchedPages()).toBe(1);
    mem.write(4096 * 9, 6);
    expect(mem.touchedPages()).toBe(2);
    // Words next to a written one in the same page are still zero.
    expect(mem.read(4096 * 3 + 8)).toBe(0);
  });

  it('supports the largest physical address space sparsely', () => {
    const mem = new PhysicalMemory(MAX_PHYS_BYTES);
    const top = MAX_PHYS_BYTES - 8;
    mem.write(top, 123);
    mem.write(2 ** 40, 9);
    expect(mem.read(top)).toBe(123);
    expect(mem.read(2 ** 40)).toBe(9);
    expect(mem.read(2 ** 40 + 8)).toBe(0);
    expect(mem.touchedPages()).toBe(2);
  });

  it('rejects bad sizes', () => {
    for (const bad of [0, -4096, 4095, 4096 + 8, 1.5, MAX_PHYS_BYTES + 4096, Number.NaN]) {
      expect(codeOf(() => new PhysicalMemory(bad))).toBe('BAD_SIZE');
    }
    expect(() => new PhysicalMemory(100)).toThrow(/100.*multiple of 4096/);
  });

  it('rejects misaligned, out-of-range and non-integer addresses', () => {
    const mem = new PhysicalMemory(1 * MiB);
    expect(codeOf(() => mem.read(4))).toBe('MISALIGNED');
    expect(codeOf(() => mem.write(12, 1))).toBe('MISALIGNED');
    expect(codeOf(() => mem.read(8.5))).toBe('MISALIGNED');
    expect(codeOf(() => mem.read(-8))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => mem.read(1 * MiB))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => mem.write(1 * MiB, 1))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => mem.read(Number.NaN))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => mem.read(Number.POSITIVE_INFINITY))).toBe('OUT_OF_RANGE');
    expect(() => mem.read(4)).toThrow(/4 is misaligned/);
    expect(mem.touchedPages()).toBe(0);
  });

  it('checks addresses just as strictly inside the page it touched last', () => {
    // The last page read or written is cached for speed; the cache must not
    // let a bad address through.
    const mem = new PhysicalMemory(1 * MiB);
    mem.write(4096, 7);
    expect(mem.read(4096)).toBe(7);
    expect(codeOf(() => mem.read(4100))).toBe('MISALIGNED');
    expect(codeOf(() => mem.read(4096.5))).toBe('MISALIGNED');
    expect(codeOf(() => mem.write(4104.25, 1))).toBe('MISALIGNED');
    expect(codeOf(() => mem.write(4104, -1))).toBe('BAD_VALUE');
    expect(mem.read(4104)).toBe(0);
    mem.write(4096 + 4088, 9);
    expect(mem.read(8184)).toBe(9);
    expect(mem.read(8192)).toBe(0);
    expect(codeOf(() => mem.read(-8))).toBe('OUT_OF_RANGE');
    expect(mem.touchedPages()).toBe(1);
    mem.write(0, -0);
    expect(Object.is(mem.read(0), 0)).toBe(true);
  });

  it('rejects values that are not non-negative safe integers, before touching memory', () => {
    const mem = new PhysicalMemory(1 * MiB);
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(codeOf(() => mem.write(64, bad))).toBe('BAD_VALUE');
    }
    expect(mem.touchedPages()).toBe(0);
    mem.write(64, 3);
    expect(codeOf(() => mem.write(64, -5))).toBe('BAD_VALUE');
    expect(mem.read(64)).toBe(3);
  });

  it('pageWords() hands out the page a lock word lives in, shared with read() and write()', () => {
    const mem = new PhysicalMemory(16 * MiB);
    const addr = 3 * PAGE_SIZE + 0x48;
    const words = mem.pageWords(addr);
    expect(mem.touchedPages()).toBe(1);
    words[(addr / 8) & 511] = 7;
    expect(mem.read(addr)).toBe(7);
    mem.write(addr, 9);
    expect(words[(addr / 8) & 511]).toBe(9);
    // The same array every time: pages are never released.
    expect(mem.pageWords(addr + 8)).toBe(words);
    expect(codeOf(() => mem.pageWords(addr + 4))).toBe('MISALIGNED');
    expect(codeOf(() => mem.pageWords(16 * MiB))).toBe('OUT_OF_RANGE');
    expect(mem.touchedPages()).toBe(1);
  });

  it('stores -0 as +0', () => {
    const mem = new PhysicalMemory(1 * MiB);
    mem.write(0, -0);
    expect(Object.is(mem.read(0), 0)).toBe(true);
  });

  it('zeroRange clears only the range, across a page boundary, without materialising', () => {
    const mem = new PhysicalMemory(1 * MiB);
    for (let a = 4096 - 32; a < 4096 + 32; a += 8) mem.write(a, a);
    mem.zeroRange(4096 - 16, 32);
    expect(mem.read(4096 - 24)).toBe(4096 - 24);
    expect(mem.read(4096 - 16)).toBe(0);
    expect(mem.read(4096 - 8)).toBe(0);
    expect(mem.read(4096)).toBe(0);
    expect(mem.read(4096 + 8)).toBe(0);
    expect(mem.read(4096 + 16)).toBe(4096 + 16);
    const touched = mem.touchedPages();
    mem.zeroRange(0, 1 * MiB);
    expect(mem.touchedPages()).toBe(touched);
    expect(mem.read(4096 + 16)).toBe(0);
    expect(codeOf(() => mem.zeroRange(4, 8))).toBe('MISALIGNED');
    expect(codeOf(() => mem.zeroRange(0, 12))).toBe('BAD_SIZE');
    expect(codeOf(() => mem.zeroRange(1 * MiB - 8, 16))).toBe('OUT_OF_RANGE');
  });

  it('behaves like a map from word address to value (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            word: fc.integer({ min: 0, max: (4 * MiB) / 8 - 1 }),
            value: fc.maxSafeNat(),
            isWrite: fc.boolean(),
          }),
          { maxLength: 200, size: 'max' },
        ),
        (ops) => {
          const mem = new PhysicalMemory(4 * MiB);
          const ref = new Map<number, number>();
          for (const op of ops) {
            const addr = op.word * 8;
            if (op.isWrite) {
              mem.write(addr, op.value);
              ref.set(addr, op.value);
            } else {
              expect(mem.read(addr)).toBe(ref.get(addr) ?? 0);
            }
          }
          const pages = new Set([...ref.keys()].map((a) => Math.floor(a / PAGE_SIZE)));
          expect(mem.touchedPages()).toBe(pages.size);
        },
      ),
    );
  });
});

describe('memblockAlloc: boot-time allocations from the top of memory', () => {
  it('carves top-down, honours alignment, and never overlaps', () => {
    const mem = new PhysicalMemory(8 * MiB);
    const requests: [number, number][] = [
      [8, 8],
      [100, 64],
      [4096, 4096],
      [24, 8],
      [64 * 1024, 2 * MiB],
      [1, 64],
    ];
    const regions: [number, number][] = [];
    let prevStart = 8 * MiB;
    for (const [bytes, align] of requests) {
      const start = mem.memblockAlloc(bytes, align);
      expect(start % align).toBe(0);
      expect(start + bytes).toBeLessThanOrEqual(prevStart);
      prevStart = start;
      regions.push([start, start + bytes]);
    }
    for (let i = 0; i < regions.length; i++) {
      for (let j = i + 1; j < regions.length; j++) {
        const [a0, a1] = regions[i]!;
        const [b0, b1] = regions[j]!;
        expect(a1 <= b0 || b1 <= a0).toBe(true);
      }
    }
    const reserved = mem.memblockReserved();
    expect(reserved.end).toBe(8 * MiB);
    expect(reserved.start).toBe(Math.min(...regions.map((r) => r[0])));
    // The 2 MiB-aligned request landed on a 2 MiB boundary below the others.
    expect(regions[4]![0]).toBe(6 * MiB);
  });

  it('defaults to SMP_CACHE_BYTES alignment so lock words get their own line', () => {
    const mem = new PhysicalMemory(1 * MiB);
    const a = mem.memblockAlloc(8);
    const b = mem.memblockAlloc(8);
    expect(a % SMP_CACHE_BYTES).toBe(0);
    expect(b % SMP_CACHE_BYTES).toBe(0);
    expect(a - b).toBe(SMP_CACHE_BYTES);
  });

  it('reserves nothing until asked', () => {
    const mem = new PhysicalMemory(1 * MiB);
    expect(mem.memblockReserved()).toEqual({ start: 1 * MiB, end: 1 * MiB });
  });

  it('returns zeroed memory even if the range was written before', () => {
    const mem = new PhysicalMemory(1 * MiB);
    mem.write(1 * MiB - 64, 77);
    const p = mem.memblockAlloc(64, 64);
    expect(p).toBe(1 * MiB - 64);
    expect(mem.read(p)).toBe(0);
  });

  it('fails with NO_MEMORY when exhausted, leaving the reservation unchanged', () => {
    const mem = new PhysicalMemory(64 * 1024);
    mem.memblockAlloc(60 * 1024, 4096);
    const before = mem.memblockReserved();
    expect(codeOf(() => mem.memblockAlloc(8 * 1024, 8))).toBe('NO_MEMORY');
    expect(mem.memblockReserved()).toEqual(before);
    // What is left can still be had, down to address 0.
    expect(mem.memblockAlloc(4 * 1024, 4096)).toBe(0);
    expect(codeOf(() => mem.memblockAlloc(8, 8))).toBe('NO_MEMORY');
  });

  it('rejects bad sizes and alignments', () => {
    const mem = new PhysicalMemory(1 * MiB);
    expect(codeOf(() => mem.memblockAlloc(0))).toBe('BAD_SIZE');
    expect(codeOf(() => mem.memblockAlloc(-8))).toBe('BAD_SIZE');
    expect(codeOf(() => mem.memblockAlloc(1.5))).toBe('BAD_SIZE');
    expect(codeOf(() => mem.memblockAlloc(8, 3))).toBe('BAD_ALIGN');
    expect(codeOf(() => mem.memblockAlloc(8, 4))).toBe('BAD_ALIGN');
    expect(codeOf(() => mem.memblockAlloc(8, 96))).toBe('BAD_ALIGN');
    expect(() => mem.memblockAlloc(8, 96)).toThrow(/96.*power of two/);
    expect(mem.memblockReserved().start).toBe(1 * MiB);
  });
});
