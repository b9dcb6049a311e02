import { type GfpDialectId, gfpDialect } from './dialect.js';
import { GfpError } from './errors.js';
import {
  __GFP_ATOMIC,
  __GFP_BITS_MASK,
  __GFP_DIRECT_RECLAIM,
  __GFP_HIGH,
  __GFP_MEMALLOC,
  __GFP_NO_LOCKS,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL,
  __GFP_ZERO,
  PAGE_ALLOC_COSTLY_ORDER,
} from './flags.js';
import { formatGfp } from './format.js';
import {
  gfpflagsAllowBlocking,
  gfpflagsAllowSpinning,
  gfpHasFs,
  gfpHasIo,
  gfpMigratetype,
  gfpWakesKswapd,
} from './helpers.js';
import { gfpZone, ZONE_NAMES, type ZoneConfig } from './zone.js';

/** How far below the min watermark an allocation may go. @public */
export type GfpReserveAccess = 'none' | 'min-reserve' | 'min-reserve-nonblock' | 'no-watermarks';

/** What a GFP mask allows, as a kernel developer reads it. @public */
export interface GfpDescription {
  /** The mask as an unsigned number. */
  readonly mask: number;
  /** `0x…` form. */
  readonly hex: string;
  /** `%pGg` form. */
  readonly text: string;
  /** Dialect used for `text`. */
  readonly dialect: GfpDialectId;
  /** `gfpflags_allow_blocking()`: may sleep. */
  readonly mayBlock: boolean;
  /** `gfpflags_allow_spinning()`: may spin on non-raw locks (false means trylock only). */
  readonly maySpin: boolean;
  /** Wakes kswapd at the low watermark. */
  readonly wakesKswapd: boolean;
  /** May enter direct reclaim. */
  readonly mayDirectReclaim: boolean;
  /** Reclaim may start IO. */
  readonly mayIo: boolean;
  /** Reclaim may call into filesystems. */
  readonly mayFs: boolean;
  /** Reserve access derived as `gfp_to_alloc_flags()` and `__gfp_pfmemalloc_flags()` do. */
  readonly reserves: GfpReserveAccess;
  /** Fraction of the min watermark that must stay free (1, 0.5, 0.375 or 0). */
  readonly minWatermarkFraction: number;
  /** Retry policy when reclaim makes no progress. */
  readonly retry: 'default' | 'noretry' | 'retry-mayfail' | 'nofail';
  /** Returns zeroed memory. */
  readonly zero: boolean;
  /** Warns on failure (no `__GFP_NOWARN`). */
  readonly warns: boolean;
  /** Highest usable zone name, or null for an invalid zone combination. */
  readonly zone: string | null;
  /** Migrate type name. */
  readonly migratetype: 'Unmovable' | 'Movable' | 'Reclaimable' | 'invalid';
  /** Caveats worth knowing. */
  readonly notes: readonly string[];
}

/** Options for {@link describeGfp}. @public */
export interface DescribeGfpOptions {
  /** Dialect for the printed form; default `'7.x'`. */
  readonly dialect?: GfpDialectId;
  /** Allocation order, for notes on costly orders; default 0. */
  readonly order?: number;
  /** Zones present; default x86_64. */
  readonly zones?: ZoneConfig;
}

const MIGRATE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'invalid'] as const;

/**
 * Explain what a mask allows: blocking, spinning, kswapd, reclaim, reserves,
 * zone and mobility, with caveats. Reserve access follows
 * `gfp_to_alloc_flags()` and `__zone_watermark_ok()` (mm/page_alloc.c).
 * @public
 */
export function describeGfp(mask: number, options: DescribeGfpOptions = {}): GfpDescription {
  const gfp = mask >>> 0;
  const dialect = gfpDialect(options.dialect).id;
  const order = options.order ?? 0;
  const mayBlock = gfpflagsAllowBlocking(gfp);
  const notes: string[] = [];

  let reserves: GfpReserveAccess = 'none';
  let fraction = 1;
  if ((gfp & __GFP_MEMALLOC) !== 0 && (gfp & __GFP_NOMEMALLOC) === 0) {
    reserves = 'no-watermarks';
    fraction = 0;
  } else if ((gfp & __GFP_HIGH) !== 0) {
    const nonBlock = !mayBlock && (gfp & __GFP_NOMEMALLOC) === 0;
    reserves = nonBlock ? 'min-reserve-nonblock' : 'min-reserve';
    fraction = nonBlock ? 0.375 : 0.5;
  }
  if ((gfp & __GFP_MEMALLOC) !== 0 && (gfp & __GFP_NOMEMALLOC) !== 0) {
    notes.push('__GFP_NOMEMALLOC overrides __GFP_MEMALLOC: no emergency reserves');
  }

  let retry: GfpDescription['retry'] = 'default';
  if ((gfp & __GFP_NOFAIL) !== 0) retry = 'nofail';
  else if ((gfp & __GFP_RETRY_MAYFAIL) !== 0) retry = 'retry-mayfail';
  else if ((gfp & __GFP_NORETRY) !== 0) retry = 'noretry';
  if (!mayBlock && retry !== 'default' && retry !== 'nofail') {
    notes.push('reclaim modifiers are ignored by allocations that cannot block');
  }
  if (!mayBlock && (gfp & __GFP_NOFAIL) !== 0) {
    notes.push('__GFP_NOFAIL without __GFP_DIRECT_RECLAIM cannot be honoured (WARN in the kernel)');
  }
  if ((gfp & __GFP_NOFAIL) !== 0 && order > PAGE_ALLOC_COSTLY_ORDER) {
    notes.push(`__GFP_NOFAIL for order ${order} > PAGE_ALLOC_COSTLY_ORDER is strongly discouraged`);
  }

  let zone: string | null = null;
  try {
    zone = ZONE_NAMES[gfpZone(gfp, options.zones)] ?? null;
  } catch (e) {
    if (!(e instanceof GfpError)) throw e;
    notes.push(e.message);
  }
  const mt = gfpMigratetype(gfp);
  if (mt === 3) notes.push('__GFP_MOVABLE and __GFP_RECLAIMABLE together are a VM_WARN');

  const maySpin = gfpflagsAllowSpinning(gfp);
  if (!maySpin) {
    notes.push(
      'no reclaim bit: trylock-only semantics, as the *_nolock APIs use (never spins, never wakes kswapd)',
    );
  } else if (!mayBlock) {
    notes.push(
      'atomic mask: not usable from NMI, nor under raw_spinlock_t on PREEMPT_RT where zone->lock sleeps',
    );
  }
  if ((gfp & __GFP_NO_LOCKS) !== 0) {
    notes.push(
      '__GFP_NO_LOCKS is the 2020 RFC that was never merged: the simulated page allocator returns NULL rather than take zone->lock',
    );
  }
  if (dialect !== '6.2' && (gfp & __GFP_ATOMIC) !== 0) {
    notes.push('bit 0x200 was __GFP_ATOMIC, removed in v6.3; decode with the 6.2 dialect');
  }
  const unknown = gfp & ~__GFP_BITS_MASK & ~__GFP_NO_LOCKS;
  if (unknown !== 0) {
    notes.push(`bits 0x${(unknown >>> 0).toString(16)} are outside __GFP_BITS_MASK`);
  }

  return {
    mask: gfp,
    hex: `0x${gfp.toString(16)}`,
    text: formatGfp(gfp, { dialect }),
    dialect,
    mayBlock,
    maySpin,
    wakesKswapd: gfpWakesKswapd(gfp),
    mayDirectReclaim: (gfp & __GFP_DIRECT_RECLAIM) !== 0,
    mayIo: gfpHasIo(gfp),
    mayFs: gfpHasFs(gfp),
    reserves,
    minWatermarkFraction: fraction,
    retry,
    zero: (gfp & __GFP_ZERO) !== 0,
    warns: (gfp & __GFP_NOWARN) === 0,
    zone,
    migratetype: MIGRATE_NAMES[mt],
    notes,
  };
}
