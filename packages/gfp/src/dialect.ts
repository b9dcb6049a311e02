/**
 * Naming tables for `%pGg`, one per kernel layout. The kernel walks
 * `__def_gfpflag_names` (include/trace/events/mmflags.h) in order, so the
 * order of each table below is part of the output format.
 */

import { GfpError } from './errors.js';
import {
  __GFP_ACCOUNT,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_FS,
  __GFP_HARDWALL,
  __GFP_HIGH,
  __GFP_HIGHMEM,
  __GFP_IO,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NO_LOCKS,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  __GFP_RECLAIMABLE,
  __GFP_RETRY_MAYFAIL,
  __GFP_THISNODE,
  __GFP_WRITE,
  __GFP_ZERO,
  __GFP_ZEROTAGS,
} from './flags.js';

/** One `{ mask, name }` entry of a `%pGg` naming table. @public */
export interface GfpName {
  /** The bits the name stands for. */
  readonly mask: number;
  /** The name as the kernel prints it. */
  readonly name: string;
}

/**
 * A kernel version's GFP layout and `%pGg` naming table.
 * @public
 */
export interface GfpDialect {
  /** Dialect id, e.g. `'7.x'`. */
  readonly id: GfpDialectId;
  /** What kernels print masks this way. */
  readonly description: string;
  /** Names in the order the kernel tries them. */
  readonly names: readonly GfpName[];
  /** Names accepted when parsing but never printed (e.g. `__GFP_RECLAIM` aliases). */
  readonly aliases: readonly GfpName[];
}

/**
 * Known dialects: `'7.x'` (default, current kernels), `'6.18'` (v6.15 to mid
 * 2026, with `__GFP_NO_OBJ_EXT`), `'6.2'` (before v6.3: `__GFP_ATOMIC`, old
 * print order, `GFP_NOWAIT` without `__GFP_NOWARN`).
 * @public
 */
export type GfpDialectId = '7.x' | '6.18' | '6.2';

const n = (mask: number, name: string): GfpName => ({ mask, name });

// Composites in the v6.15+ print order, parameterised by what differs.
function composites(atomic: number, nowait: number, highuserMovable: number): GfpName[] {
  const user = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
  const kernel = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
  const thpLight =
    (highuserMovable | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
  return [
    n(thpLight | __GFP_DIRECT_RECLAIM, 'GFP_TRANSHUGE'),
    n(thpLight, 'GFP_TRANSHUGE_LIGHT'),
    n(highuserMovable, 'GFP_HIGHUSER_MOVABLE'),
    n(user | __GFP_HIGHMEM, 'GFP_HIGHUSER'),
    n(user, 'GFP_USER'),
    n(kernel | __GFP_ACCOUNT, 'GFP_KERNEL_ACCOUNT'),
    n(kernel, 'GFP_KERNEL'),
    n(__GFP_RECLAIM | __GFP_IO, 'GFP_NOFS'),
    n(atomic, 'GFP_ATOMIC'),
    n(__GFP_RECLAIM, 'GFP_NOIO'),
    n(nowait, 'GFP_NOWAIT'),
  ];
}

const SINGLE_BITS_6_15: GfpName[] = [
  n(__GFP_DMA, '__GFP_DMA'),
  n(__GFP_HIGHMEM, '__GFP_HIGHMEM'),
  n(__GFP_DMA32, '__GFP_DMA32'),
  n(__GFP_MOVABLE, '__GFP_MOVABLE'),
  n(__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'),
  n(__GFP_HIGH, '__GFP_HIGH'),
  n(__GFP_IO, '__GFP_IO'),
  n(__GFP_FS, '__GFP_FS'),
  n(__GFP_ZERO, '__GFP_ZERO'),
  n(__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'),
  n(__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'),
  n(__GFP_WRITE, '__GFP_WRITE'),
  n(__GFP_NOWARN, '__GFP_NOWARN'),
  n(__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'),
  n(__GFP_NOFAIL, '__GFP_NOFAIL'),
  n(__GFP_NORETRY, '__GFP_NORETRY'),
  n(__GFP_MEMALLOC, '__GFP_MEMALLOC'),
  n(__GFP_COMP, '__GFP_COMP'),
  n(__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'),
  n(__GFP_HARDWALL, '__GFP_HARDWALL'),
  n(__GFP_THISNODE, '__GFP_THISNODE'),
  n(__GFP_ACCOUNT, '__GFP_ACCOUNT'),
  n(__GFP_ZEROTAGS, '__GFP_ZEROTAGS'),
];

// The simulator's experiment is named in every dialect so reports show it.
const EXPERIMENTAL: GfpName[] = [n(__GFP_NO_LOCKS, '__GFP_NO_LOCKS')];

const HIGHUSER_MOVABLE = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL | __GFP_HIGHMEM;

const CURRENT: GfpDialect = {
  id: '7.x',
  description: 'Linux 7.x (2026): enum bit layout, LOCKDEP=y, KASAN_HW_TAGS=n, no __GFP_NO_OBJ_EXT',
  names: [
    ...composites(
      __GFP_HIGH | __GFP_KSWAPD_RECLAIM,
      __GFP_KSWAPD_RECLAIM | __GFP_NOWARN,
      HIGHUSER_MOVABLE | __GFP_MOVABLE,
    ),
    n(__GFP_DMA, 'GFP_DMA'),
    n(__GFP_DMA32, 'GFP_DMA32'),
    n(__GFP_RECLAIM, '__GFP_RECLAIM'),
    ...SINGLE_BITS_6_15,
    n(0x1000000, '__GFP_NOLOCKDEP'),
    ...EXPERIMENTAL,
  ],
  aliases: [],
};

const V6_18: GfpDialect = {
  id: '6.18',
  description:
    'Linux 6.15 to 7.0: enum bit layout, LOCKDEP=y, SLAB_OBJ_EXT=y, KASAN_HW_TAGS=n (with __GFP_NO_OBJ_EXT)',
  names: [...CURRENT.names.slice(0, -1), n(0x2000000, '__GFP_NO_OBJ_EXT'), ...EXPERIMENTAL],
  aliases: [],
};

const ATOMIC_6_2 = 0x200;
const V6_2: GfpDialect = {
  id: '6.2',
  description:
    'Linux before 6.3: __GFP_ATOMIC (0x200) in GFP_ATOMIC, GFP_NOWAIT = __GFP_KSWAPD_RECLAIM, hand-ordered names, NOLOCKDEP 0x8000000',
  names: [
    ...composites(
      __GFP_HIGH | ATOMIC_6_2 | __GFP_KSWAPD_RECLAIM,
      __GFP_KSWAPD_RECLAIM,
      HIGHUSER_MOVABLE | __GFP_MOVABLE,
    ),
    n(__GFP_DMA, 'GFP_DMA'),
    n(__GFP_HIGHMEM, '__GFP_HIGHMEM'),
    n(__GFP_DMA32, 'GFP_DMA32'),
    n(__GFP_HIGH, '__GFP_HIGH'),
    n(ATOMIC_6_2, '__GFP_ATOMIC'),
    n(__GFP_IO, '__GFP_IO'),
    n(__GFP_FS, '__GFP_FS'),
    n(__GFP_NOWARN, '__GFP_NOWARN'),
    n(__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'),
    n(__GFP_NOFAIL, '__GFP_NOFAIL'),
    n(__GFP_NORETRY, '__GFP_NORETRY'),
    n(__GFP_COMP, '__GFP_COMP'),
    n(__GFP_ZERO, '__GFP_ZERO'),
    n(__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'),
    n(__GFP_MEMALLOC, '__GFP_MEMALLOC'),
    n(__GFP_HARDWALL, '__GFP_HARDWALL'),
    n(__GFP_THISNODE, '__GFP_THISNODE'),
    n(__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'),
    n(__GFP_MOVABLE, '__GFP_MOVABLE'),
    n(__GFP_ACCOUNT, '__GFP_ACCOUNT'),
    n(__GFP_WRITE, '__GFP_WRITE'),
    n(__GFP_RECLAIM, '__GFP_RECLAIM'),
    n(__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'),
    n(__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'),
    n(__GFP_ZEROTAGS, '__GFP_ZEROTAGS'),
    ...EXPERIMENTAL,
  ],
  // __GFP_NOLOCKDEP sat at bit 27 then; the old table never printed it.
  aliases: [n(0x8000000, '__GFP_NOLOCKDEP')],
};

const DIALECTS: Readonly<Record<GfpDialectId, GfpDialect>> = {
  '7.x': CURRENT,
  '6.18': V6_18,
  '6.2': V6_2,
};

/** Ids of every dialect, default first. @public */
export const GFP_DIALECT_IDS: readonly GfpDialectId[] = ['7.x', '6.18', '6.2'];

/**
 * Look up a dialect by id.
 * @throws {@link GfpError} with code `UNKNOWN_DIALECT` for an unknown id.
 * @public
 */
export function gfpDialect(id: GfpDialectId = '7.x'): GfpDialect {
  const d = (DIALECTS as Record<string, GfpDialect | undefined>)[id];
  if (d === undefined) {
    throw new GfpError(
      'UNKNOWN_DIALECT',
      `unknown GFP dialect '${String(id)}'; accepted: ${GFP_DIALECT_IDS.join(', ')}`,
    );
  }
  return d;
}
