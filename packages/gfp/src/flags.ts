/**
 * GFP bit values and composite masks, as in `include/linux/gfp_types.h`.
 *
 * Numbering follows the enum layout used since v6.10 for an x86_64 build with
 * `CONFIG_LOCKDEP=y` and `CONFIG_KASAN_HW_TAGS=n` (so `__GFP_SKIP_ZERO` and
 * `__GFP_SKIP_KASAN` are 0 and `__GFP_NOLOCKDEP` takes bit 24), after
 * `__GFP_NO_OBJ_EXT` was removed in 2026 (7.x). Other layouts are available as
 * dialects for printing and parsing (see `dialect.ts`).
 */

/** Zone modifier: allocate from ZONE_DMA. Models `__GFP_DMA`. @public */
export const __GFP_DMA = 0x1;
/** Zone modifier: ZONE_HIGHMEM allowed. Models `__GFP_HIGHMEM`. @public */
export const __GFP_HIGHMEM = 0x2;
/** Zone modifier: allocate from ZONE_DMA32. Models `__GFP_DMA32`. @public */
export const __GFP_DMA32 = 0x4;
/** Zone modifier and mobility hint: page can be migrated. Models `__GFP_MOVABLE`. @public */
export const __GFP_MOVABLE = 0x8;
/** Mobility hint: reclaimable slab memory. Models `__GFP_RECLAIMABLE`. @public */
export const __GFP_RECLAIMABLE = 0x10;
/** Watermark modifier: high priority, may use part of the min reserve. Models `__GFP_HIGH`. @public */
export const __GFP_HIGH = 0x20;
/** Reclaim modifier: reclaim may start physical IO. Models `__GFP_IO`. @public */
export const __GFP_IO = 0x40;
/** Reclaim modifier: reclaim may call into filesystems. Models `__GFP_FS`. @public */
export const __GFP_FS = 0x80;
/** Action modifier: return zeroed memory. Models `__GFP_ZERO`. @public */
export const __GFP_ZERO = 0x100;
/**
 * Historical: "caller cannot reclaim or sleep and is high priority", removed in
 * v6.3 together with `ALLOC_HARDER`. Bit 9 is unused in current kernels; the
 * constant exists so that splats from older kernels can be decoded with the
 * `'6.2'` dialect. Models the former `__GFP_ATOMIC`.
 * @deprecated Removed from Linux in v6.3; for decoding old reports only.
 * @public
 */
export const __GFP_ATOMIC = 0x200;
/** Reclaim modifier: caller may enter direct reclaim (may sleep). Models `__GFP_DIRECT_RECLAIM`. @public */
export const __GFP_DIRECT_RECLAIM = 0x400;
/** Reclaim modifier: wake kswapd at the low watermark. Models `__GFP_KSWAPD_RECLAIM`. @public */
export const __GFP_KSWAPD_RECLAIM = 0x800;
/** Placement hint: caller will dirty the page. Models `__GFP_WRITE`. @public */
export const __GFP_WRITE = 0x1000;
/** Action modifier: suppress allocation-failure reports. Models `__GFP_NOWARN`. @public */
export const __GFP_NOWARN = 0x2000;
/** Reclaim modifier: retry harder, may fail, never OOM-kills. Models `__GFP_RETRY_MAYFAIL`. @public */
export const __GFP_RETRY_MAYFAIL = 0x4000;
/** Reclaim modifier: never fail. Models `__GFP_NOFAIL`. @public */
export const __GFP_NOFAIL = 0x8000;
/** Reclaim modifier: one light attempt, no OOM killer. Models `__GFP_NORETRY`. @public */
export const __GFP_NORETRY = 0x10000;
/** Watermark modifier: ignore watermarks entirely. Models `__GFP_MEMALLOC`. @public */
export const __GFP_MEMALLOC = 0x20000;
/** Action modifier: compound page metadata. Models `__GFP_COMP`. @public */
export const __GFP_COMP = 0x40000;
/** Watermark modifier: forbid emergency reserves (beats `__GFP_MEMALLOC`). Models `__GFP_NOMEMALLOC`. @public */
export const __GFP_NOMEMALLOC = 0x80000;
/** Placement hint: enforce the cpuset memory policy. Models `__GFP_HARDWALL`. @public */
export const __GFP_HARDWALL = 0x100000;
/** Placement hint: requested node only, no fallback. Models `__GFP_THISNODE`. @public */
export const __GFP_THISNODE = 0x200000;
/** Placement hint: charge to kmemcg. Models `__GFP_ACCOUNT`. @public */
export const __GFP_ACCOUNT = 0x400000;
/** Action modifier: zero MTE tags while zeroing. Models `__GFP_ZEROTAGS`. @public */
export const __GFP_ZEROTAGS = 0x800000;
/** Skip zeroing (KASAN_HW_TAGS only; 0 in the modelled config). Models `__GFP_SKIP_ZERO`. @public */
export const __GFP_SKIP_ZERO = 0;
/** Skip KASAN unpoisoning (KASAN_HW_TAGS only; 0 in the modelled config). Models `__GFP_SKIP_KASAN`. @public */
export const __GFP_SKIP_KASAN = 0;
/** Opt out of lockdep's `fs_reclaim` tracking (LOCKDEP only). Models `__GFP_NOLOCKDEP`. @public */
export const __GFP_NOLOCKDEP = 0x1000000;

/**
 * Experimental, never merged: the `__GFP_NO_LOCKS` flag proposed by Uladzislau
 * Rezki in August 2020 ("[RFC-PATCH 1/2] mm: Add __GFP_NO_LOCKS flag") so that
 * kvfree_rcu() could take a page from the per-CPU lists without `zone->lock`.
 * The simulated page allocator honours it by returning NULL rather than taking
 * a non-raw lock. It occupies bit 29, which no kernel layout has used.
 * @public
 */
export const __GFP_NO_LOCKS = 0x20000000;

/** Both reclaim bits. Models `__GFP_RECLAIM`. @public */
export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;

/** Number of GFP bits in the modelled layout. Models `__GFP_BITS_SHIFT`. @public */
export const __GFP_BITS_SHIFT = 25;
/** All bits of the modelled layout. Models `__GFP_BITS_MASK`. @public */
export const __GFP_BITS_MASK = (1 << __GFP_BITS_SHIFT) - 1;

/** Cannot sleep, must succeed, may use atomic reserves. Models `GFP_ATOMIC`. @public */
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
/** Typical kernel-internal allocation; may reclaim. Models `GFP_KERNEL`. @public */
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
/** `GFP_KERNEL` charged to kmemcg. Models `GFP_KERNEL_ACCOUNT`. @public */
export const GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
/**
 * No direct reclaim, IO or FS; wakes kswapd; silent on failure (`__GFP_NOWARN`
 * joined it in 2025). Models `GFP_NOWAIT`.
 * @public
 */
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
/** Direct reclaim without IO. Models `GFP_NOIO`. @public */
export const GFP_NOIO = __GFP_RECLAIM;
/** Direct reclaim without filesystem calls. Models `GFP_NOFS`. @public */
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
/** Userspace-visible kernel allocation under cpuset policy. Models `GFP_USER`. @public */
export const GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
/** Lowest zone. Models `GFP_DMA`. @public */
export const GFP_DMA = __GFP_DMA;
/** 32-bit addressable zone. Models `GFP_DMA32`. @public */
export const GFP_DMA32 = __GFP_DMA32;
/** Userspace pages that may live in highmem. Models `GFP_HIGHUSER`. @public */
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
/** Movable userspace pages. Models `GFP_HIGHUSER_MOVABLE`. @public */
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN;
/** THP fault-path allocation: no reclaim at all. Models `GFP_TRANSHUGE_LIGHT`. @public */
export const GFP_TRANSHUGE_LIGHT =
  (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
/** khugepaged allocation: light plus direct reclaim. Models `GFP_TRANSHUGE`. @public */
export const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

/** The four zone-modifier bits. Models `GFP_ZONEMASK`. @public */
export const GFP_ZONEMASK = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE;
/** The mobility bits. Models `GFP_MOVABLE_MASK`. @public */
export const GFP_MOVABLE_MASK = __GFP_RECLAIMABLE | __GFP_MOVABLE;
/** Bits that tell the page allocator how to reclaim. Models `GFP_RECLAIM_MASK` (mm/internal.h). @public */
export const GFP_RECLAIM_MASK =
  __GFP_RECLAIM |
  __GFP_HIGH |
  __GFP_IO |
  __GFP_FS |
  __GFP_NOWARN |
  __GFP_RETRY_MAYFAIL |
  __GFP_NOFAIL |
  __GFP_NORETRY |
  __GFP_MEMALLOC |
  __GFP_NOMEMALLOC |
  __GFP_NOLOCKDEP;
/** Placement constraint bits. Models `GFP_CONSTRAINT_MASK` (mm/internal.h). @public */
export const GFP_CONSTRAINT_MASK = __GFP_HARDWALL | __GFP_THISNODE;
/** Bits that `kmalloc()` fixes up with a warning. Models `GFP_SLAB_BUG_MASK` (mm/internal.h). @public */
export const GFP_SLAB_BUG_MASK = (__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK) >>> 0;
/** Mask applied during early boot: no reclaim, IO or FS. Models `GFP_BOOT_MASK` (mm/internal.h). @public */
export const GFP_BOOT_MASK = __GFP_BITS_MASK & ~(__GFP_RECLAIM | __GFP_IO | __GFP_FS);

/** Orders above this are "costly". Models `PAGE_ALLOC_COSTLY_ORDER`. @public */
export const PAGE_ALLOC_COSTLY_ORDER = 3;
