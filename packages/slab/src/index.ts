/**
 * The slab allocator, twice: classic SLUB and the newer sheaves design behind
 * one {@link SlabAllocator} contract, with kmalloc, kmalloc_nolock and the
 * bulk APIs, SLUB's debugging and a KASAN-like checker, /proc/slabinfo, and
 * the page-allocator and RCU ports the allocator is built on. The
 * conformance suite for other implementations is the `@sim/slab/conformance`
 * subpath.
 *
 * @packageDocumentation
 */
export * from './cache-layout.js';
export * from './contract.js';
export * from './errors.js';
export * from './flags.js';
export * from './kmalloc-index.js';
export * from './manual-rcu.js';
export * from './options.js';
export * from './page-allocator.js';
export * from './poison.js';
export * from './registry.js';
export * from './sheaves.js';
export * from './simple-page-allocator.js';
export * from './slub.js';
export * from './stat-items.js';
