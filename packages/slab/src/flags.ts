import { SlabError } from './errors.js';
import { show } from './internal/show.js';

/*
 * Cache flags (slab_flags_t), one bit each in the order of include/linux/slab.h's
 * `enum _slab_flag_bits` for an x86_64 build with CONFIG_SLUB_DEBUG, CONFIG_MEMCG
 * and without CONFIG_DEBUG_OBJECTS, CONFIG_FAILSLAB, CONFIG_KASAN_GENERIC and
 * CONFIG_KFENCE.
 */

/** Check object and slab metadata on every operation (`slab_debug=F`). @public */
export const SLAB_CONSISTENCY_CHECKS = 1 << 0;
/** Red zones around each object (`slab_debug=Z`). @public */
export const SLAB_RED_ZONE = 1 << 1;
/** Poison free objects with 0x6b and 0xa5 (`slab_debug=P`). @public */
export const SLAB_POISON = 1 << 2;
/** A kmalloc cache (set by the kmalloc setup, not by users). @public */
export const SLAB_KMALLOC = 1 << 3;
/** Align objects to cache lines when they are large enough. @public */
export const SLAB_HWCACHE_ALIGN = 1 << 4;
/** Allocate slabs from ZONE_DMA. @public */
export const SLAB_CACHE_DMA = 1 << 5;
/** Allocate slabs from ZONE_DMA32. @public */
export const SLAB_CACHE_DMA32 = 1 << 6;
/** Record the last alloc and free call site of each object (`slab_debug=U`). @public */
export const SLAB_STORE_USER = 1 << 7;
/** Panic if the cache cannot be created. @public */
export const SLAB_PANIC = 1 << 8;
/** Object memory may be reused at once; only slab pages wait for an RCU grace period. @public */
export const SLAB_TYPESAFE_BY_RCU = 1 << 9;
/** Print every alloc and free (`slab_debug=T`). @public */
export const SLAB_TRACE = 1 << 10;
/** Exclude the cache from kmemleak. @public */
export const SLAB_NOLEAKTRACE = 1 << 11;
/** Never merge the cache with another. @public */
export const SLAB_NO_MERGE = 1 << 12;
/** Charge objects to the allocating memcg. @public */
export const SLAB_ACCOUNT = 1 << 13;
/** Ignore `slab_debug=` for this cache. @public */
export const SLAB_NO_USER_FLAGS = 1 << 14;
/** Objects are reclaimable (`__GFP_RECLAIMABLE` slabs). @public */
export const SLAB_RECLAIM_ACCOUNT = 1 << 15;

/** The debug flags: any of them makes a cache a debug cache (`SLAB_DEBUG_FLAGS`). @public */
export const SLAB_DEBUG_FLAGS =
  SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS;

/** What `slab_debug` with no options turns on (`DEBUG_DEFAULT_FLAGS`). @public */
export const DEBUG_DEFAULT_FLAGS =
  SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;

/** Flags a caller of kmemCacheCreate() may pass (`SLAB_FLAGS_PERMITTED`). @public */
export const SLAB_FLAGS_PERMITTED =
  SLAB_CONSISTENCY_CHECKS |
  SLAB_RED_ZONE |
  SLAB_POISON |
  SLAB_HWCACHE_ALIGN |
  SLAB_CACHE_DMA |
  SLAB_CACHE_DMA32 |
  SLAB_STORE_USER |
  SLAB_PANIC |
  SLAB_TYPESAFE_BY_RCU |
  SLAB_TRACE |
  SLAB_NOLEAKTRACE |
  SLAB_NO_MERGE |
  SLAB_ACCOUNT |
  SLAB_NO_USER_FLAGS |
  SLAB_RECLAIM_ACCOUNT;

const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [SLAB_CONSISTENCY_CHECKS, 'SLAB_CONSISTENCY_CHECKS'],
  [SLAB_RED_ZONE, 'SLAB_RED_ZONE'],
  [SLAB_POISON, 'SLAB_POISON'],
  [SLAB_KMALLOC, 'SLAB_KMALLOC'],
  [SLAB_HWCACHE_ALIGN, 'SLAB_HWCACHE_ALIGN'],
  [SLAB_CACHE_DMA, 'SLAB_CACHE_DMA'],
  [SLAB_CACHE_DMA32, 'SLAB_CACHE_DMA32'],
  [SLAB_STORE_USER, 'SLAB_STORE_USER'],
  [SLAB_PANIC, 'SLAB_PANIC'],
  [SLAB_TYPESAFE_BY_RCU, 'SLAB_TYPESAFE_BY_RCU'],
  [SLAB_TRACE, 'SLAB_TRACE'],
  [SLAB_NOLEAKTRACE, 'SLAB_NOLEAKTRACE'],
  [SLAB_NO_MERGE, 'SLAB_NO_MERGE'],
  [SLAB_ACCOUNT, 'SLAB_ACCOUNT'],
  [SLAB_NO_USER_FLAGS, 'SLAB_NO_USER_FLAGS'],
  [SLAB_RECLAIM_ACCOUNT, 'SLAB_RECLAIM_ACCOUNT'],
];

/**
 * Names of the flags set in `flags`, joined with `|` (`''` for 0), as the
 * kernel's `slab_flags` documentation spells them.
 * @public
 */
export function formatSlabFlags(flags: number): string {
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if ((flags & bit) !== 0) out.push(name);
  return out.join('|');
}

/** One block of a parsed `slab_debug=` parameter. @public */
export interface SlabDebugBlock {
  /** Flags the block turns on. */
  readonly flags: number;
  /** Cache names (a trailing `*` is a prefix glob) the block applies to; empty for all caches. */
  readonly caches: readonly string[];
}

/** A parsed `slab_debug=` boot parameter. @public */
export interface SlabDebugSpec {
  /** Flags applied to every cache not named by a block. */
  readonly global: number;
  /** Blocks restricted to named caches. */
  readonly blocks: readonly SlabDebugBlock[];
}

function parseOptions(text: string, where: string): number {
  let flags = 0;
  for (const ch of text) {
    switch (ch.toLowerCase()) {
      case '-':
        flags = 0;
        break;
      case 'f':
        flags |= SLAB_CONSISTENCY_CHECKS;
        break;
      case 'z':
        flags |= SLAB_RED_ZONE;
        break;
      case 'p':
        flags |= SLAB_POISON;
        break;
      case 'u':
        flags |= SLAB_STORE_USER;
        break;
      case 't':
        flags |= SLAB_TRACE;
        break;
      default:
        throw new SlabError(
          'BAD_OPTION',
          `slab_debug option ${show(ch)} in ${show(where)} is unknown: accepted F, Z, P, U, T or -`,
        );
    }
  }
  return flags;
}

/**
 * Parse a `slab_debug=` boot parameter: `''` (everything), `'FZPU'`,
 * `'FZ,kmalloc-64,dentry'`, `',kmalloc-*'` or several `;`-separated blocks.
 * Models `setup_slub_debug()`/`parse_slub_debug_flags()` (mm/slub.c); unlike
 * the kernel, which skips unknown letters, an unknown letter throws.
 * @throws {@link SlabError} `BAD_OPTION` for an unknown option letter.
 * @public
 */
export function parseSlabDebug(param: string): SlabDebugSpec {
  if (typeof param !== 'string') {
    throw new SlabError(
      'BAD_OPTION',
      `slab_debug ${show(param)} is invalid: accepted a string such as 'FZPU' or 'FZ,kmalloc-64'`,
    );
  }
  if (param === '') return { global: DEBUG_DEFAULT_FLAGS, blocks: [] };
  let global = DEBUG_DEFAULT_FLAGS;
  let globalSet = false;
  const blocks: SlabDebugBlock[] = [];
  for (const raw of param.split(';')) {
    if (raw === '') continue;
    const comma = raw.indexOf(',');
    const opts = comma < 0 ? raw : raw.slice(0, comma);
    const flags = comma === 0 ? DEBUG_DEFAULT_FLAGS : parseOptions(opts, raw);
    if (comma < 0) {
      global = flags;
      globalSet = true;
      continue;
    }
    const caches = raw
      .slice(comma + 1)
      .split(',')
      .filter((c) => c.length > 0);
    blocks.push({ flags, caches });
  }
  // A list of caches alone leaves the global setting off, as in the kernel.
  if (!globalSet && blocks.length > 0) global = 0;
  return { global, blocks };
}

/**
 * The debug flags `slab_debug=` adds to the cache `name` created with
 * `flags`. Models `kmem_cache_flags()` (mm/slub.c).
 * @public
 */
export function slabDebugFlagsFor(spec: SlabDebugSpec, name: string, flags: number): number {
  if ((flags & SLAB_NO_USER_FLAGS) !== 0) return flags;
  let global = spec.global;
  if ((flags & SLAB_NOLEAKTRACE) !== 0) global &= ~SLAB_STORE_USER;
  for (const block of spec.blocks) {
    for (const pat of block.caches) {
      const star = pat.indexOf('*');
      const hit = star >= 0 ? name.startsWith(pat.slice(0, star)) : name === pat;
      if (hit) return flags | block.flags;
    }
  }
  return flags | global;
}
