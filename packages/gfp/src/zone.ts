import { GfpError } from './errors.js';
import { __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, __GFP_MOVABLE, GFP_ZONEMASK } from './flags.js';
import { formatGfp } from './format.js';

/**
 * Zone indices in the kernel's order (`enum zone_type`, include/linux/mmzone.h)
 * for a configuration with every optional zone present.
 * @public
 */
export const ZoneType = {
  DMA: 0,
  DMA32: 1,
  NORMAL: 2,
  HIGHMEM: 3,
  MOVABLE: 4,
} as const;
/** A zone index. @public */
export type ZoneType = (typeof ZoneType)[keyof typeof ZoneType];

/** Zone names as `/proc/zoneinfo` and `show_mem()` print them, indexed by zone type. @public */
export const ZONE_NAMES: readonly string[] = ['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable'];

/**
 * Which optional zones the simulated machine has. Missing zones collapse to
 * ZONE_NORMAL, as `OPT_ZONE_*` do in `GFP_ZONE_TABLE`.
 * @public
 */
export interface ZoneConfig {
  /** CONFIG_ZONE_DMA; default true (x86_64). */
  readonly dma?: boolean;
  /** CONFIG_ZONE_DMA32; default true (x86_64). */
  readonly dma32?: boolean;
  /** CONFIG_HIGHMEM; default false (64-bit). */
  readonly highmem?: boolean;
}

/**
 * The highest zone an allocation may use. Models `gfp_zone()`
 * (include/linux/gfp.h) and its `GFP_ZONE_TABLE`; a combination in
 * `GFP_ZONE_BAD` is the kernel's `VM_BUG_ON`.
 * @throws {@link GfpError} `BAD_ZONE` for two of DMA, DMA32 and HIGHMEM at once.
 * @public
 */
export function gfpZone(gfp: number, config: ZoneConfig = {}): ZoneType {
  const bits = gfp & GFP_ZONEMASK;
  const hasDma = config.dma ?? true;
  const hasDma32 = config.dma32 ?? true;
  const hasHighmem = config.highmem ?? false;
  const exclusive = bits & (__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM);
  if ((exclusive & (exclusive - 1)) !== 0) {
    throw new GfpError(
      'BAD_ZONE',
      `gfp_zone(${formatGfp(gfp)}): at most one of __GFP_DMA, __GFP_DMA32 and __GFP_HIGHMEM may be set (GFP_ZONE_BAD)`,
    );
  }
  const movable = (bits & __GFP_MOVABLE) !== 0;
  if (exclusive === __GFP_DMA) return hasDma ? ZoneType.DMA : ZoneType.NORMAL;
  if (exclusive === __GFP_DMA32) return hasDma32 ? ZoneType.DMA32 : ZoneType.NORMAL;
  if (exclusive === __GFP_HIGHMEM) {
    if (movable) return ZoneType.MOVABLE;
    return hasHighmem ? ZoneType.HIGHMEM : ZoneType.NORMAL;
  }
  return ZoneType.NORMAL;
}
