import type { SlabAllocator, SlabPorts } from './contract.js';
import { SlubAllocator } from './internal/slub.js';
import type { SlubOptions } from './options.js';

/**
 * Boot SLUB as it was up to v6.19 (`slab=slub`): per-CPU slabs with lockless
 * freelists, per-CPU partial slabs, node partial lists under `list_lock`,
 * kmalloc_nolock() with per-bucket re-entrancy detection. Models mm/slub.c.
 * @throws {@link SlabError} for bad ports or options.
 * @public
 */
export function createSlub(ports: SlabPorts, options?: SlubOptions): SlabAllocator {
  return new SlubAllocator(ports, options);
}
