import { MAX_NR_ZONES, MIN_PERCPU_PAGELIST_HIGH_FRACTION, ZoneIndex } from './constants.js';

/** `int_sqrt()`: the integer square root, exact for safe integers. @internal */
export function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/**
 * The default `min_free_kbytes` for a machine with `lowmemKbytes` of lowmem:
 * sqrt(16 x lowmem kB), clamped to [128, 262144]. Models
 * `calculate_min_free_kbytes()` (mm/page_alloc.c), which reads the lowmem
 * pages above the high watermark when it first runs (all of them: no
 * watermark is set yet).
 * @public
 */
export function calculateMinFreeKbytes(lowmemKbytes: number): number {
  const v = intSqrt(lowmemKbytes * 16);
  return Math.min(262144, Math.max(128, v));
}

/** The four watermarks of a zone, in pages (`zone->_watermark[]`). @public */
export interface ZoneWatermarks {
  /** WMARK_MIN. */
  readonly min: number;
  /** WMARK_LOW: kswapd is woken below it. */
  readonly low: number;
  /** WMARK_HIGH: kswapd reclaims up to it. */
  readonly high: number;
  /** WMARK_PROMO (memory tiering). */
  readonly promo: number;
}

/** A zone as the watermark setup sees it. @public */
export interface WatermarkInput {
  /** Managed pages. */
  readonly managed: number;
  /** ZONE_MOVABLE (or highmem): min is capped instead of proportional. */
  readonly movable: boolean;
}

/**
 * Split `min_free_kbytes` over the lowmem zones in proportion to their
 * managed pages to get WMARK_MIN; the kswapd distance is
 * max(min/4, managed x watermark_scale_factor / 10000), added once for LOW,
 * twice for HIGH and three times for PROMO. Movable zones get a small
 * fixed min (managed/1024 clamped to [32, 128]). Models
 * `__setup_per_zone_wmarks()` (mm/page_alloc.c).
 * @public
 */
export function computeWatermarks(
  zones: readonly WatermarkInput[],
  minFreeKbytes: number,
  watermarkScaleFactor: number,
): ZoneWatermarks[] {
  const pagesMin = Math.floor(minFreeKbytes / 4);
  let lowmem = 0;
  for (const z of zones) if (!z.movable) lowmem += z.managed;
  return zones.map((z) => {
    const tmp = lowmem === 0 ? 0 : Math.floor((pagesMin * z.managed) / lowmem);
    let min: number;
    if (z.movable) {
      min = Math.min(128, Math.max(32, Math.floor(z.managed / 1024)));
    } else {
      min = tmp;
    }
    const dist = Math.max(
      Math.floor(tmp / 4),
      Math.floor((z.managed * watermarkScaleFactor) / 10000),
    );
    const low = min + dist;
    const high = low + dist;
    return { min, low, high, promo: high + dist };
  });
}

/**
 * `lowmem_reserve[j]` of each zone of a node: for a lower zone i and a
 * higher zone j, the managed pages of zones i+1..j divided by
 * `sysctl_lowmem_reserve_ratio[i]` (0 or an empty zone disables it). Models
 * `setup_per_zone_lowmem_reserve()` (mm/page_alloc.c). Input and output are
 * indexed by `ZoneIndex`.
 * @public
 */
export function computeLowmemReserve(
  managedBySlot: readonly number[],
  ratio: readonly number[],
): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < MAX_NR_ZONES; i++) out.push(new Array<number>(MAX_NR_ZONES).fill(0));
  for (let i = 0; i < MAX_NR_ZONES - 1; i++) {
    const r = ratio[i] ?? 0;
    const clear = r === 0 || (managedBySlot[i] ?? 0) === 0;
    let managed = 0;
    for (let j = i + 1; j < MAX_NR_ZONES; j++) {
      managed += managedBySlot[j] ?? 0;
      out[i]![j] = clear ? 0 : Math.floor(managed / r);
    }
  }
  return out;
}

/** Default `sysctl_lowmem_reserve_ratio` by zone slot: DMA 256, DMA32 256, Normal 32, Movable 0. @public */
export const DEFAULT_LOWMEM_RESERVE_RATIO: readonly number[] = [256, 256, 32, 0];

function rounddownPowOfTwo(n: number): number {
  return n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
}

/**
 * Per-CPU list batch of a zone: ~0.1% of the zone or 1 MiB, whichever is
 * smaller, divided by 4 and clamped to 2^n - 1. Models `zone_batchsize()`.
 * @public
 */
export function zoneBatchsize(managed: number): number {
  let batch = Math.min(Math.floor(managed / 1024), 256);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  batch = rounddownPowOfTwo(batch + Math.floor(batch / 2)) - 1;
  return Math.max(1, batch);
}

/**
 * Per-CPU list `high` of a zone: the low watermark (or managed/fraction) split
 * over the CPUs of the zone's node, at least 4 batches. Models
 * `zone_highsize()`.
 * @public
 */
export function zoneHighsize(
  managed: number,
  lowWmark: number,
  batch: number,
  nrSplitCpus: number,
  highFraction: number,
): number {
  const total = highFraction === 0 ? lowWmark : Math.floor(managed / highFraction);
  const high = Math.floor(total / Math.max(1, nrSplitCpus));
  return Math.max(high, batch * 4);
}

/**
 * `high_min` and `high_max` of the per-CPU lists: with automatic tuning
 * (fraction 0) from the low watermark up to managed/8; with a fixed
 * `percpu_pagelist_high_fraction` both equal managed/fraction. Models
 * `zone_set_pageset_high_and_batch()`.
 * @public
 */
export function pcpHighBounds(
  managed: number,
  lowWmark: number,
  batch: number,
  nrSplitCpus: number,
  highFraction: number,
): { readonly highMin: number; readonly highMax: number } {
  if (highFraction !== 0) {
    const h = zoneHighsize(managed, lowWmark, batch, nrSplitCpus, highFraction);
    return { highMin: h, highMax: h };
  }
  return {
    highMin: zoneHighsize(managed, lowWmark, batch, nrSplitCpus, 0),
    highMax: zoneHighsize(managed, lowWmark, batch, nrSplitCpus, MIN_PERCPU_PAGELIST_HIGH_FRACTION),
  };
}

/** Zone slots whose pages count as lowmem for `min_free_kbytes`. @internal */
export function isLowmemSlot(slot: number): boolean {
  return slot !== ZoneIndex.MOVABLE;
}
