import { afterEach, describe, expect, it } from 'vitest';
import {
  calculateMinFreeKbytes,
  computeLowmemReserve,
  computeWatermarks,
  DEFAULT_LOWMEM_RESERVE_RATIO,
  pcpHighBounds,
  zoneBatchsize,
} from '../src/index.js';
import { boot, checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

describe('min_free_kbytes = sqrt(16 x lowmem kB), clamped (calculate_min_free_kbytes)', () => {
  // The table in the comment above calculate_min_free_kbytes() in mm/page_alloc.c
  // (whose 8 GiB entry, 11584, is one below what int_sqrt() really returns).
  it.each([
    [16, 512],
    [32, 724],
    [64, 1024],
    [128, 1448],
    [256, 2048],
    [512, 2896],
    [1024, 4096],
    [2048, 5792],
    [4096, 8192],
    [8192, 11585],
    [16384, 16384],
  ])('%i MiB of lowmem gives %i kB', (mib, kb) => {
    expect(calculateMinFreeKbytes(mib * 1024)).toBe(kb);
  });

  it('is clamped to [128, 262144] kB', () => {
    expect(calculateMinFreeKbytes(100)).toBe(128);
    expect(calculateMinFreeKbytes(2 ** 40)).toBe(262144);
  });
});

describe('watermarks (__setup_per_zone_wmarks)', () => {
  it('splits min over lowmem zones by managed pages; low/high/promo step by max(min/4, managed*wsf/10000)', () => {
    const [dma32, normal] = computeWatermarks(
      [
        { managed: 1_000_000, movable: false },
        { managed: 3_000_000, movable: false },
      ],
      16384,
      10,
    );
    // pages_min = 16384 kB / 4 = 4096 pages, split 1:3.
    expect(dma32).toEqual({ min: 1024, low: 2024, high: 3024, promo: 4024 });
    expect(normal).toEqual({ min: 3072, low: 6072, high: 9072, promo: 12072 });
  });

  it('uses min/4 as the distance on small zones where the scale factor gives less', () => {
    const [z] = computeWatermarks([{ managed: 15870, movable: false }], 1007, 10);
    expect(z).toEqual({ min: 251, low: 313, high: 375, promo: 437 });
  });

  it('watermark_scale_factor widens the kswapd band', () => {
    const [z] = computeWatermarks([{ managed: 1_000_000, movable: false }], 4096, 100);
    expect(z!.low - z!.min).toBe(10_000);
    expect(z!.high - z!.low).toBe(10_000);
  });

  it('movable zones get a small fixed min', () => {
    const [, mov] = computeWatermarks(
      [
        { managed: 100_000, movable: false },
        { managed: 200_000, movable: true },
      ],
      4096,
      10,
    );
    expect(mov!.min).toBe(128);
  });
});

describe('lowmem_reserve (setup_per_zone_lowmem_reserve)', () => {
  it('reserves upper-zone pages / ratio in the lower zones', () => {
    const r = computeLowmemReserve([4000, 1_000_000, 3_000_000, 0], DEFAULT_LOWMEM_RESERVE_RATIO);
    expect(r[0]).toEqual([
      0,
      Math.floor(1_000_000 / 256),
      Math.floor(4_000_000 / 256),
      Math.floor(4_000_000 / 256),
    ]);
    expect(r[1]).toEqual([0, 0, Math.floor(3_000_000 / 256), Math.floor(3_000_000 / 256)]);
    expect(r[2]).toEqual([0, 0, 0, 0]);
  });
  it('an empty lower zone reserves nothing', () => {
    expect(computeLowmemReserve([0, 0, 1000, 0], DEFAULT_LOWMEM_RESERVE_RATIO)[0]).toEqual([
      0, 0, 0, 0,
    ]);
  });
});

describe('per-CPU list sizing (zone_batchsize, zone_highsize)', () => {
  it('batch is ~0.1% of the zone or 1 MiB, /4, clamped to 2^n - 1', () => {
    expect(zoneBatchsize(1 << 20)).toBe(63);
    expect(zoneBatchsize(65536)).toBe(15);
    expect(zoneBatchsize(15870)).toBe(3);
    expect(zoneBatchsize(100)).toBe(1);
  });
  it('high is the low watermark split over the node CPUs, at least 4 batches; high_max is managed/8', () => {
    expect(pcpHighBounds(1 << 20, 20_000, 63, 4, 0)).toEqual({
      highMin: 5000,
      highMax: (1 << 20) / 8 / 4,
    });
    expect(pcpHighBounds(15870, 313, 3, 2, 0).highMin).toBe(156);
    expect(pcpHighBounds(1 << 20, 20_000, 63, 4, 16)).toEqual({ highMin: 16384, highMax: 16384 });
  });
});

describe('zones of the booted allocator', () => {
  it('a small machine has one Normal zone whose watermarks follow min_free_kbytes', () => {
    const { a } = boot();
    const zs = a.zones().filter((z) => z.managed > 0);
    expect(zs.map((z) => z.name)).toEqual(['Normal']);
    const z = zs[0]!;
    expect(a.minFreeKbytes).toBe(calculateMinFreeKbytes(z.managed * 4));
    const [w] = computeWatermarks([{ managed: z.managed, movable: false }], a.minFreeKbytes, 10);
    expect([z.min, z.low, z.high]).toEqual([w!.min, w!.low, w!.high]);
  });

  it('memory above 4 GiB is split into DMA32 and Normal with lowmem reserves', () => {
    const { a } = boot({ memBytes: 5 * 2 ** 30 });
    const zs = a.zones().filter((z) => z.managed > 0);
    expect(zs.map((z) => z.name)).toEqual(['DMA32', 'Normal']);
    const [dma32, normal] = zs;
    expect(dma32!.startPfn).toBe(0);
    expect(normal!.startPfn).toBe(2 ** 20);
    expect(dma32!.lowmemReserve[2]).toBe(Math.floor(normal!.managed / 256));
    expect(dma32!.min + normal!.min).toBeLessThanOrEqual(Math.floor(a.minFreeKbytes / 4));
  });

  it('the x86_64 layout has DMA below 16 MiB', () => {
    const { a } = boot(
      { memBytes: 128 * 2 ** 20 },
      { zoneLayout: 'dma+dma32+normal', dma32LimitBytes: 64 * 2 ** 20 },
    );
    const zs = a.zones().filter((z) => z.present > 0);
    expect(zs.map((z) => [z.name, z.startPfn])).toEqual([
      ['DMA', 0],
      ['DMA32', 4096],
      ['Normal', 16384],
    ]);
  });

  it('setMinFreeKbytes recomputes the watermarks', () => {
    const { a } = boot();
    const before = a.zones()[2]!.min;
    a.setMinFreeKbytes(4096);
    expect(a.zones()[2]!.min).toBe(1024);
    expect(before).not.toBe(1024);
  });
});
