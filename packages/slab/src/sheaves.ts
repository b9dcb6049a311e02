import type { SlabAllocator, SlabPorts } from './contract.js';
import { SheavesAllocator } from './internal/sheaves.js';
import type { SheavesOptions } from './options.js';

/**
 * Boot the sheaves design of v7.0 (`slab=sheaves`): per-CPU main and spare
 * sheaves of object pointers, a per-node barn, bulk refill and flush, the
 * `rcu_free` sheaf for kfree_rcu() batching, and no per-CPU slabs. Models
 * mm/slub.c from v7.0.
 * @throws {@link SlabError} for bad ports or options.
 * @public
 */
export function createSheaves(ports: SlabPorts, options?: SheavesOptions): SlabAllocator {
  return new SheavesAllocator(ports, options);
}
