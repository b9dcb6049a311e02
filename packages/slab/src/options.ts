import type { SlabOrderParams } from './cache-layout.js';
import type { DeferPlacement } from './contract.js';

/** Options of the KASAN-like mode. @public */
export interface KasanOptions {
  /**
   * Hold freed objects back before reuse, up to this many bytes (the generic
   * KASAN quarantine; the kernel's default is 1/32 of memory). 0 disables it.
   */
  readonly quarantineBytes?: number;
}

/** Options both built-in allocators take. @public */
export interface SlabOptions {
  /** The `slab_debug=` boot parameter, e.g. `'FZPU'` or `'FZ,kmalloc-64'`; absent for none. */
  readonly slabDebug?: string;
  /** KASAN-like checked accesses (`checkedLoad`/`checkedStore`), with an optional quarantine. */
  readonly kasan?: boolean | KasanOptions;
  /** Where kfree_nolock() parks deferred frees: per CPU (what landed, default) or per cache (first proposal). */
  readonly deferPlacement?: DeferPlacement;
  /** `slab_min_order=`, `slab_max_order=`, `slab_min_objects=`. */
  readonly orders?: SlabOrderParams;
}

/** Options of {@link createSlub}. @public */
export type SlubOptions = SlabOptions;

/** Options of {@link createSheaves}. @public */
export interface SheavesOptions extends SlabOptions {
  /** Sheaf capacity for every cache instead of the size-based default. */
  readonly sheafCapacity?: number;
}
