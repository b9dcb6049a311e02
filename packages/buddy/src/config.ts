import { MAX_NR_ZONES } from './constants.js';
import { BuddyError, show } from './errors.js';
import type { VmemmapCost } from './page-map.js';
import { DEFAULT_LOWMEM_RESERVE_RATIO } from './watermarks.js';

/**
 * How physical memory is split into zones:
 * - `'auto'` (default): DMA32 below 4 GiB and Normal above when memory is
 *   larger than 4 GiB, a single Normal zone otherwise (small configurations);
 * - `'normal'`: one Normal zone per node;
 * - `'dma32+normal'`: DMA32 up to `dma32LimitBytes`, Normal above;
 * - `'dma+dma32+normal'`: as x86_64: DMA below `dmaLimitBytes`, then DMA32, then Normal.
 * @public
 */
export type ZoneLayout = 'auto' | 'normal' | 'dma32+normal' | 'dma+dma32+normal';

/**
 * How `zone->lock` is taken for normal allocations and frees:
 * - `'trylock-first'` (default, v6.15): `spin_trylock_irqsave()` first and the
 *   full acquisition only if that fails, so an uncontended acquisition is a
 *   trylock, exempt from lockdep's wait-context check; per-CPU lists under
 *   their own `pcp->lock` taken by trylock; trylock-failed frees parked on
 *   `zone->trylock_free_pages`;
 * - `'full'` (2020, v5.9): `spin_lock_irqsave()` every time, per-CPU lists
 *   protected by `local_irq_save()`. The raw-lock nesting problem of the 2020
 *   `__GFP_NO_LOCKS` thread shows only with this.
 * The `*_nolock` APIs always use trylocks.
 * @public
 */
export type ZoneLockMode = 'trylock-first' | 'full';

/** Virtual-time costs of reclaim work, in ns per page. @public */
export interface ReclaimCosts {
  /** Isolating and checking one LRU page (`isolate_lru_folios()` + references). */
  readonly scanPage: number;
  /** Unmapping and freeing one clean page-cache page. */
  readonly freeFilePage: number;
  /** Writing one anonymous page to swap (`pageout()` + block IO submission). */
  readonly swapOutPage: number;
  /** `clear_page()` of one 4 KiB page for `__GFP_ZERO` (`rep stosb` at ~30 GB/s). */
  readonly clearPage: number;
}

/** Default {@link ReclaimCosts}. @public */
export const DEFAULT_RECLAIM_COSTS: ReclaimCosts = Object.freeze({
  scanPage: 40,
  freeFilePage: 250,
  swapOutPage: 4000,
  clearPage: 130,
});

/** Options of `createPageAllocator()`. @public */
export interface BuddyOptions {
  /** NUMA nodes, 1-64; memory is split evenly. Default 1. */
  readonly nodes?: number;
  /** Zone layout. Default `'auto'`. */
  readonly zoneLayout?: ZoneLayout;
  /** Top of ZONE_DMA32. Default 4 GiB. */
  readonly dma32LimitBytes?: number;
  /** Top of ZONE_DMA. Default 16 MiB. */
  readonly dmaLimitBytes?: number;
  /** `vm.min_free_kbytes`; default from memory size as the kernel computes it. */
  readonly minFreeKbytes?: number;
  /** `vm.watermark_scale_factor`, 1-3000. Default 10. */
  readonly watermarkScaleFactor?: number;
  /** `vm.lowmem_reserve_ratio` by zone slot (DMA, DMA32, Normal, Movable). Default [256, 256, 32, 0]. */
  readonly lowmemReserveRatio?: readonly number[];
  /** Per-CPU page lists; false sets high 0 / batch 1 as `zone_pcp_disable()`. Default true. */
  readonly pcp?: boolean;
  /** `vm.percpu_pagelist_high_fraction` (0 = auto-tuned, else at least 8). Default 0. */
  readonly percpuPagelistHighFraction?: number;
  /** `zone->lock` acquisition. Default `'trylock-first'`. */
  readonly zoneLock?: ZoneLockMode;
  /** Per-CPU lists for THP-order pages (`CONFIG_TRANSPARENT_HUGEPAGE`). Default true. */
  readonly thp?: boolean;
  /** Swap space in bytes (anonymous memory is reclaimable only with swap). Default 0. */
  readonly swapBytes?: number;
  /** `vm.swappiness`, 0-200. Default 60. */
  readonly swappiness?: number;
  /** Start a kswapd thread per node. Default true. */
  readonly kswapd?: boolean;
  /**
   * Bytes below the boot-time reserved region kept out of the buddy
   * allocator, so that locks and per-CPU data created later by other
   * subsystems (carved by `memblockAlloc()`) never overlap free pages.
   * Default min(1 MiB, memory/64).
   */
  readonly memblockSlackBytes?: number;
  /** What `struct page` traffic is charged through the cache model. Default `'page'`. */
  readonly vmemmapCost?: VmemmapCost;
  /** Reclaim costs. */
  readonly reclaimCosts?: Partial<ReclaimCosts>;
  /** `vm.panic_on_oom`: 0 kill a task (default), 1 or 2 panic. */
  readonly panicOnOom?: number;
}

/**
 * {@link BuddyOptions} with every default applied (same fields and meanings;
 * `minFreeKbytes` is null when the kernel's default is computed at boot).
 * @public
 */
export interface ResolvedBuddyOptions {
  /** NUMA nodes. */
  readonly nodes: number;
  /** Zone layout (before `'auto'` is resolved against the memory size). */
  readonly zoneLayout: ZoneLayout;
  /** Top of ZONE_DMA32 in bytes. */
  readonly dma32LimitBytes: number;
  /** Top of ZONE_DMA in bytes. */
  readonly dmaLimitBytes: number;
  /** `vm.min_free_kbytes`, or null for the kernel's default computed at boot. */
  readonly minFreeKbytes: number | null;
  /** `vm.watermark_scale_factor`. */
  readonly watermarkScaleFactor: number;
  /** `vm.lowmem_reserve_ratio` by zone slot. */
  readonly lowmemReserveRatio: readonly number[];
  /** Per-CPU page lists enabled. */
  readonly pcp: boolean;
  /** `vm.percpu_pagelist_high_fraction`. */
  readonly percpuPagelistHighFraction: number;
  /** `zone->lock` acquisition model. */
  readonly zoneLock: ZoneLockMode;
  /** Per-CPU lists for the THP order. */
  readonly thp: boolean;
  /** Swap space in bytes. */
  readonly swapBytes: number;
  /** `vm.swappiness`. */
  readonly swappiness: number;
  /** kswapd threads started. */
  readonly kswapd: boolean;
  /** Bytes kept out of the buddy below the boot-time reserved region. */
  readonly memblockSlackBytes: number;
  /** `struct page` traffic charged through the cache model. */
  readonly vmemmapCost: VmemmapCost;
  /** Reclaim costs in ns per page. */
  readonly reclaimCosts: ReclaimCosts;
  /** `vm.panic_on_oom`. */
  readonly panicOnOom: number;
}

const FIELDS = [
  'nodes',
  'zoneLayout',
  'dma32LimitBytes',
  'dmaLimitBytes',
  'minFreeKbytes',
  'watermarkScaleFactor',
  'lowmemReserveRatio',
  'pcp',
  'percpuPagelistHighFraction',
  'zoneLock',
  'thp',
  'swapBytes',
  'swappiness',
  'kswapd',
  'memblockSlackBytes',
  'vmemmapCost',
  'reclaimCosts',
  'panicOnOom',
] as const;

const LAYOUTS: readonly ZoneLayout[] = ['auto', 'normal', 'dma32+normal', 'dma+dma32+normal'];
const LOCK_MODES: readonly ZoneLockMode[] = ['trylock-first', 'full'];
const COSTS: readonly VmemmapCost[] = ['page', 'lists', 'none'];

function bad(field: string, value: unknown, accepted: string): never {
  throw new BuddyError(
    'BAD_CONFIG',
    field,
    `${field} = ${show(value)} is invalid: accepted ${accepted}`,
  );
}

function int(field: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    bad(field, v, `an integer in [${lo}, ${hi}]`);
  }
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') bad(field, v, 'true or false');
  return v;
}

/**
 * Validate {@link BuddyOptions} against a machine of `memBytes` and fill in
 * defaults. Throws {@link BuddyError} `BAD_CONFIG` naming the first bad field.
 * @public
 */
export function resolveBuddyOptions(
  options: BuddyOptions = {},
  memBytes: number,
): ResolvedBuddyOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    bad('options', options, 'an object');
  }
  for (const k of Object.keys(options)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      throw new BuddyError(
        'BAD_CONFIG',
        k,
        `${k} is not a page allocator option: accepted ${FIELDS.join(', ')}`,
      );
    }
  }
  const o = options;
  const nodes = o.nodes === undefined ? 1 : int('nodes', o.nodes, 1, 64);
  const zoneLayout = o.zoneLayout ?? 'auto';
  if (!LAYOUTS.includes(zoneLayout))
    bad('zoneLayout', o.zoneLayout, LAYOUTS.map((l) => `'${l}'`).join(', '));
  const GiB = 2 ** 30;
  const dma32LimitBytes =
    o.dma32LimitBytes === undefined
      ? 4 * GiB
      : int('dma32LimitBytes', o.dma32LimitBytes, 1 << 22, 2 ** 46);
  const dmaLimitBytes =
    o.dmaLimitBytes === undefined
      ? 16 * 2 ** 20
      : int('dmaLimitBytes', o.dmaLimitBytes, 1 << 22, 2 ** 46);
  if (zoneLayout === 'dma+dma32+normal' && dmaLimitBytes >= dma32LimitBytes) {
    bad('dmaLimitBytes', dmaLimitBytes, `a value below dma32LimitBytes (${dma32LimitBytes})`);
  }
  const minFreeKbytes =
    o.minFreeKbytes === undefined ? null : int('minFreeKbytes', o.minFreeKbytes, 128, 4 * 2 ** 30);
  const watermarkScaleFactor =
    o.watermarkScaleFactor === undefined
      ? 10
      : int('watermarkScaleFactor', o.watermarkScaleFactor, 1, 3000);
  let lowmemReserveRatio = DEFAULT_LOWMEM_RESERVE_RATIO;
  if (o.lowmemReserveRatio !== undefined) {
    const r = o.lowmemReserveRatio;
    if (
      !Array.isArray(r) ||
      r.length !== MAX_NR_ZONES ||
      r.some((x) => !Number.isInteger(x) || x < 0)
    ) {
      bad(
        'lowmemReserveRatio',
        r,
        `an array of ${MAX_NR_ZONES} integers >= 0 (DMA, DMA32, Normal, Movable)`,
      );
    }
    lowmemReserveRatio = Object.freeze([...r]);
  }
  const pcp = o.pcp === undefined ? true : bool('pcp', o.pcp);
  const percpuPagelistHighFraction =
    o.percpuPagelistHighFraction === undefined
      ? 0
      : int('percpuPagelistHighFraction', o.percpuPagelistHighFraction, 0, 2 ** 31 - 1);
  if (percpuPagelistHighFraction !== 0 && percpuPagelistHighFraction < 8) {
    bad('percpuPagelistHighFraction', percpuPagelistHighFraction, '0 or an integer >= 8');
  }
  const zoneLock = o.zoneLock ?? 'trylock-first';
  if (!LOCK_MODES.includes(zoneLock)) bad('zoneLock', o.zoneLock, "'trylock-first' or 'full'");
  const thp = o.thp === undefined ? true : bool('thp', o.thp);
  const swapBytes = o.swapBytes === undefined ? 0 : int('swapBytes', o.swapBytes, 0, 2 ** 46);
  if (swapBytes % 4096 !== 0) bad('swapBytes', swapBytes, 'a multiple of 4096');
  const swappiness = o.swappiness === undefined ? 60 : int('swappiness', o.swappiness, 0, 200);
  const kswapd = o.kswapd === undefined ? true : bool('kswapd', o.kswapd);
  const memblockSlackBytes =
    o.memblockSlackBytes === undefined
      ? Math.min(2 ** 20, Math.floor(memBytes / 64 / 4096) * 4096)
      : int('memblockSlackBytes', o.memblockSlackBytes, 0, memBytes);
  const vmemmapCost = o.vmemmapCost ?? 'page';
  if (!COSTS.includes(vmemmapCost)) bad('vmemmapCost', o.vmemmapCost, "'page', 'lists' or 'none'");
  let reclaimCosts = DEFAULT_RECLAIM_COSTS;
  if (o.reclaimCosts !== undefined) {
    const rc = o.reclaimCosts;
    if (typeof rc !== 'object' || rc === null) bad('reclaimCosts', rc, 'an object');
    const out: Record<string, number> = { ...DEFAULT_RECLAIM_COSTS };
    for (const [k, v] of Object.entries(rc)) {
      if (!(k in DEFAULT_RECLAIM_COSTS)) {
        bad(
          `reclaimCosts.${k}`,
          v,
          `one of the keys ${Object.keys(DEFAULT_RECLAIM_COSTS).join(', ')}`,
        );
      }
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        bad(`reclaimCosts.${k}`, v, 'a number of ns >= 0');
      out[k] = v;
    }
    reclaimCosts = Object.freeze(out) as unknown as ReclaimCosts;
  }
  const panicOnOom = o.panicOnOom === undefined ? 0 : int('panicOnOom', o.panicOnOom, 0, 2);
  return Object.freeze({
    nodes,
    zoneLayout,
    dma32LimitBytes,
    dmaLimitBytes,
    minFreeKbytes,
    watermarkScaleFactor,
    lowmemReserveRatio,
    pcp,
    percpuPagelistHighFraction,
    zoneLock,
    thp,
    swapBytes,
    swappiness,
    kswapd,
    memblockSlackBytes,
    vmemmapCost,
    reclaimCosts,
    panicOnOom,
  });
}
